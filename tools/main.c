/*
 * main.c: the otelc command-line tool: reads the file exporter's log
 * directory (exporters/file/FORMAT.md) to tail, query and summarise logs,
 * show a trace, and clean up or compress old rotated files.
 *
 * This file parses the command line into tool_opts_t and runs a command
 * (cmd.h). The tool links libc, libm and zlib only: it does not use the
 * SDK, so it reads files written by any version of it, or by another
 * program that writes the same format.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

#ifndef OTELC_VERSION
#define OTELC_VERSION "unknown"
#endif

/* tail -n is bounded so that its table of records stays reasonable. */
#define MAX_TAIL_LINES 10000000u

enum {
    C_TAIL = 1u << 0,
    C_QUERY = 1u << 1,
    C_TRACE = 1u << 2,
    C_STATS = 1u << 3,
    C_STATUS = 1u << 4,
    C_HEALTH = 1u << 5,
    C_CLEANUP = 1u << 6,
    C_COMPRESS = 1u << 7,
    C_EXPORT = 1u << 8,
    C_ALL = 0x1ffu,
    C_FILTERS = C_TAIL | C_QUERY | C_EXPORT | C_STATS,
};

typedef struct command {
    const char *name;
    unsigned bit;
    int min_args, max_args;
    int (*run)(tool_opts_t *o);
} command_t;

static const command_t commands[] = {
    { "tail", C_TAIL, 0, 1, cmd_tail },          { "query", C_QUERY, 0, 0, cmd_query },
    { "trace", C_TRACE, 1, 1, cmd_trace },       { "stats", C_STATS, 0, 1, cmd_stats },
    { "status", C_STATUS, 0, 1, cmd_status },    { "health", C_HEALTH, 0, 1, cmd_health },
    { "cleanup", C_CLEANUP, 0, 0, cmd_cleanup }, { "compress", C_COMPRESS, 0, 0, cmd_compress },
    { "export", C_EXPORT, 1, 1, cmd_export },
};

enum option_id {
    O_DIR,
    O_NOW,
    O_COLOR,
    O_HELP,
    O_VERSION,
    O_TRACE_ID,
    O_CORRELATION_ID,
    O_LEVEL,
    O_LOGGER,
    O_EVENT,
    O_SINCE,
    O_UNTIL,
    O_GREP,
    O_CHANNEL,
    O_FORMAT,
    O_OUTPUT,
    O_LINES,
    O_FOLLOW,
    O_DAYS,
    O_DRY_RUN,
    O_MAX_ERROR_RATE,
    O_COUNT
};

typedef struct option_def {
    const char *name; /* long name, without "--" */
    char short_name;
    bool takes_value;
    unsigned commands; /* where it may be used */
} option_def_t;

static const option_def_t options[O_COUNT] = {
    [O_DIR] = { "dir", 0, true, C_ALL },
    [O_NOW] = { "now", 0, true, C_ALL },
    [O_COLOR] = { "color", 0, true, C_ALL },
    [O_HELP] = { "help", 'h', false, C_ALL },
    [O_VERSION] = { "version", 0, false, C_ALL },
    [O_TRACE_ID] = { "trace-id", 0, true, C_FILTERS },
    [O_CORRELATION_ID] = { "correlation-id", 0, true, C_FILTERS },
    [O_LEVEL] = { "level", 0, true, C_FILTERS },
    [O_LOGGER] = { "logger", 0, true, C_FILTERS },
    [O_EVENT] = { "event", 0, true, C_FILTERS },
    [O_SINCE] = { "since", 0, true, C_FILTERS | C_TRACE },
    [O_UNTIL] = { "until", 0, true, C_FILTERS | C_TRACE },
    [O_GREP] = { "grep", 0, true, C_FILTERS },
    [O_CHANNEL] = { "channel", 0, true,
                    C_TAIL | C_QUERY | C_STATS | C_STATUS | C_HEALTH | C_CLEANUP | C_COMPRESS },
    [O_FORMAT] = { "format", 0, true, C_QUERY | C_EXPORT },
    [O_OUTPUT] = { "output", 'o', true, C_EXPORT },
    [O_LINES] = { "lines", 'n', true, C_TAIL },
    [O_FOLLOW] = { "follow", 'f', false, C_TAIL },
    [O_DAYS] = { "days", 0, true, C_CLEANUP | C_COMPRESS },
    [O_DRY_RUN] = { "dry-run", 0, false, C_CLEANUP | C_COMPRESS },
    [O_MAX_ERROR_RATE] = { "max-error-rate", 0, true, C_HEALTH },
};

static const char usage_text[] =
    "usage: otelc [OPTIONS] COMMAND [ARGS]\n"
    "\n"
    "Reads the JSON-lines files of otelc's file exporter (flat or otlp, rotated\n"
    "and .gz files included) in DIR.\n"
    "\n"
    "Commands:\n"
    "  tail [-f] [-n N] [CHANNEL]   the last N records (default 10) of CHANNEL\n"
    "                               (default application); -f follows the file,\n"
    "                               across rotations\n"
    "  query [FILTERS]              the log records that pass the filters, from\n"
    "                               every channel (or --channel C), in time order\n"
    "  trace TRACE_ID               the trace's spans as a tree, then its logs\n"
    "  stats [CHANNEL]              files, size, records by level and event; the\n"
    "                               slowest operations from the spans\n"
    "  status [CHANNEL]             files, size, newest record and its age\n"
    "  health [CHANNEL]             error rates of the last hour; exit status 1 when\n"
    "                               a rate is above --max-error-rate (default 0.05),\n"
    "                               a file is unreadable or a line is corrupt\n"
    "  cleanup --days N [--dry-run] delete rotated files more than N days old\n"
    "  compress --days N [--dry-run] gzip rotated files more than N days old\n"
    "  export CHANNEL [--format json|csv] [--output FILE]\n"
    "                               write a channel's records (default json)\n"
    "  pg init|status|retention ...  the PostgreSQL exporter's schema (otelc pg --help)\n"
    "  replay FILE... [--endpoint URL] [--protocol P] [--header K=V]...\n"
    "                               send OTLP spool files and otlp-format files\n"
    "                               to an OTLP endpoint (otelc replay --help)\n"
    "\n"
    "Filters (tail, query, export, stats):\n"
    "  --trace-id ID  --correlation-id ID  --event NAME\n"
    "  --level L        DEBUG, INFO, WARN, ERROR, FATAL (WARNING, CRITICAL): at least L\n"
    "  --logger PREFIX  loggers named PREFIX or PREFIX followed by . _ - : /\n"
    "  --since T, --until T\n"
    "                   2026-11-21T10:00:00Z, 2026-11-21 (local midnight; as --until the\n"
    "                   end of that day), or before now: 90s, 30m, 1h, 2d, 1w\n"
    "  --grep TEXT      TEXT in the message or the record's line\n"
    "\n"
    "Options:\n"
    "  --dir DIR              the log directory (default $OTELC_FILE_DIR, else logs)\n"
    "  --channel C            one channel only\n"
    "  --format text|json|csv output of query (default text) and export (default json)\n"
    "  --color auto|always|never\n"
    "  --now T                the time taken as now (for --since 1h, health, ages)\n"
    "  -h, --help             this text\n"
    "  --version              the version\n"
    "\n"
    "Exit status: 0 done, 1 a file could not be read or written, or unhealthy,\n"
    "2 a wrong command line.\n";

static int usage_error(const char *fmt, ...) TOOL_PRINTF(1, 2);

static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("otelc: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'otelc --help'.\n", stderr);
    return 2;
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s[0] < '0' || s[0] > '9')
        return false;
    v = strtoull(s, &end, 10);
    if (*end != '\0' || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_level(const char *s, int *out)
{
    uint64_t n;

    if (parse_u64(s, 24, &n) && n >= 1) {
        *out = (int)n;
        return true;
    }
    *out = severity_from_text(s, strlen(s));
    return *out > 0;
}

static bool resolve_color(const char *when, bool *out)
{
    const char *term = getenv("TERM");
    const char *no_color = getenv("NO_COLOR");

    if (strcmp(when, "always") == 0) {
        *out = true;
    } else if (strcmp(when, "never") == 0) {
        *out = false;
    } else if (strcmp(when, "auto") == 0) {
        /* https://no-color.org: a non-empty NO_COLOR turns colours off. */
        *out = isatty(STDOUT_FILENO) == 1 && (term == NULL || strcmp(term, "dumb") != 0) &&
               (no_color == NULL || no_color[0] == '\0');
    } else {
        return false;
    }
    return true;
}

/* The option `arg` (with its leading dashes) names, or O_COUNT. */
static int find_option(const char *arg, const char **inline_value)
{
    *inline_value = NULL;
    if (arg[1] == '-') {
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t n = eq != NULL ? (size_t)(eq - name) : strlen(name);

        for (int i = 0; i < O_COUNT; i++) {
            if (strlen(options[i].name) == n && memcmp(options[i].name, name, n) == 0) {
                if (eq != NULL)
                    *inline_value = eq + 1;
                return i;
            }
        }
        return O_COUNT;
    }
    for (int i = 0; i < O_COUNT; i++) {
        if (options[i].short_name != 0 && options[i].short_name == arg[1]) {
            if (arg[2] != '\0')
                *inline_value = arg + 2;
            return i;
        }
    }
    return O_COUNT;
}

typedef struct parsed {
    const command_t *command;
    const char *values[O_COUNT];
    bool seen[O_COUNT];
    const char *positional[8];
    int n_positional;
} parsed_t;

static int parse_args(int argc, char **argv, parsed_t *p)
{
    bool options_done = false;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value;
        int id;

        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        }
        if (options_done || arg[0] != '-' || arg[1] == '\0') {
            if (p->command == NULL) {
                for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
                    if (strcmp(commands[c].name, arg) == 0)
                        p->command = &commands[c];
                }
                if (p->command == NULL && strcmp(arg, "help") == 0) {
                    p->seen[O_HELP] = true;
                    continue;
                }
                if (p->command == NULL)
                    return usage_error("unknown command '%s'", arg);
                continue;
            }
            if (p->n_positional == (int)(sizeof(p->positional) / sizeof(p->positional[0])))
                return usage_error("too many arguments at '%s'", arg);
            p->positional[p->n_positional++] = arg;
            continue;
        }
        id = find_option(arg, &value);
        if (id == O_COUNT)
            return usage_error("unknown option '%s'", arg);
        if (options[id].takes_value && value == NULL) {
            if (i + 1 >= argc)
                return usage_error("option '%s' needs a value", arg);
            value = argv[++i];
        } else if (!options[id].takes_value && value != NULL) {
            return usage_error("option '%s' takes no value", arg);
        }
        p->seen[id] = true;
        p->values[id] = value;
    }
    return 0;
}

/* Turns the parsed options into `o`; returns 0 or the exit status. */
static int apply_options(const parsed_t *p, tool_opts_t *o)
{
    const command_t *c = p->command;
    const char *v;

    for (int i = 0; i < O_COUNT; i++) {
        if (p->seen[i] && (options[i].commands & c->bit) == 0) {
            fprintf(stderr, "otelc: %s: option --%s does not apply\nTry 'otelc --help'.\n", c->name,
                    options[i].name);
            return 2;
        }
    }
    if (p->n_positional < c->min_args)
        return usage_error("%s: missing argument", c->name);
    if (p->n_positional > c->max_args)
        return usage_error("unexpected argument '%s'", p->positional[c->max_args]);
    for (int i = 0; i < p->n_positional; i++)
        o->args[i] = p->positional[i];
    o->n_args = p->n_positional;

    v = getenv("OTELC_FILE_DIR");
    o->dir = p->seen[O_DIR] ? p->values[O_DIR] : (v != NULL && v[0] != '\0' ? v : "logs");
    o->now = time_now();
    if (p->seen[O_NOW] && !time_parse_iso(p->values[O_NOW], strlen(p->values[O_NOW]), &o->now))
        return usage_error("--now: '%s' is not an ISO 8601 time", p->values[O_NOW]);
    if (!resolve_color(p->seen[O_COLOR] ? p->values[O_COLOR] : "auto", &o->color))
        return usage_error("--color: '%s' is not auto, always or never", p->values[O_COLOR]);

    o->filter.trace_id = p->values[O_TRACE_ID];
    o->filter.correlation_id = p->values[O_CORRELATION_ID];
    o->filter.logger = p->values[O_LOGGER];
    o->filter.event = p->values[O_EVENT];
    o->filter.grep = p->values[O_GREP];
    if (p->seen[O_LEVEL] && !parse_level(p->values[O_LEVEL], &o->filter.min_severity))
        return usage_error("--level: unknown level '%s'", p->values[O_LEVEL]);
    if (p->seen[O_SINCE] && !time_parse_arg(p->values[O_SINCE], o->now, false, &o->filter.since))
        return usage_error("--since: '%s' is not a time", p->values[O_SINCE]);
    if (p->seen[O_UNTIL] && !time_parse_arg(p->values[O_UNTIL], o->now, true, &o->filter.until))
        return usage_error("--until: '%s' is not a time", p->values[O_UNTIL]);
    o->channel = p->values[O_CHANNEL];
    if (o->channel != NULL && !channel_name_valid(o->channel))
        return usage_error("--channel: invalid channel name '%s'", o->channel);

    o->format = c->bit == C_EXPORT ? OUT_JSON : OUT_TEXT;
    if ((v = p->values[O_FORMAT]) != NULL) {
        if (strcmp(v, "text") == 0)
            o->format = OUT_TEXT;
        else if (strcmp(v, "json") == 0)
            o->format = OUT_JSON;
        else if (strcmp(v, "csv") == 0)
            o->format = OUT_CSV;
        else
            return usage_error("--format: '%s' is not text, json or csv", v);
    }
    o->output = p->values[O_OUTPUT];
    o->lines = 10;
    if (p->seen[O_LINES] && !parse_u64(p->values[O_LINES], MAX_TAIL_LINES, &o->lines))
        return usage_error("-n: '%s' is not a number of lines (0 to 10000000)", p->values[O_LINES]);
    o->follow = p->seen[O_FOLLOW];
    o->days = -1;
    if (p->seen[O_DAYS]) {
        uint64_t d;

        if (!parse_u64(p->values[O_DAYS], 1000000u, &d))
            return usage_error("--days: '%s' is not a number of days", p->values[O_DAYS]);
        o->days = (int64_t)d;
    }
    if ((c->bit & (C_CLEANUP | C_COMPRESS)) && o->days < 0)
        return usage_error("%s: --days N is required", c->name);
    o->dry_run = p->seen[O_DRY_RUN];
    o->max_error_rate = 0.05;
    if ((v = p->values[O_MAX_ERROR_RATE]) != NULL) {
        char *end;
        double r = strtod(v, &end);

        if (end == v || *end != '\0' || !(r >= 0.0 && r <= 1.0))
            return usage_error("--max-error-rate: '%s' is not a rate from 0 to 1", v);
        o->max_error_rate = r;
    }
    if (c->bit == C_EXPORT && !channel_name_valid(o->args[0]))
        return usage_error("export: invalid channel name '%s'", o->args[0]);
    return 0;
}

/*
 * `otelc replay ...` runs otelc-replay, which links the OTLP exporter and
 * its transports (libcurl, gRPC), and `otelc pg ...` runs otelc-pg, which
 * links libpq: dependencies this tool does without. The helper in this
 * program's directory, else the one on PATH.
 */
static int run_helper(const char *helper, const char *installed_with, char **argv)
{
    char self[4096], path[4200], name[32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    snprintf(name, sizeof(name), "%s", helper);
    argv[0] = name;
    if (n > 0) {
        char *slash;

        self[n] = '\0';
        slash = strrchr(self, '/');
        if (slash != NULL) {
            *slash = '\0';
            snprintf(path, sizeof(path), "%s/%s", self, helper);
            execv(path, argv);
        }
    }
    execvp(helper, argv);
    fprintf(stderr, "otelc: %s needs %s (installed with %s), which is not next to this program "
                    "nor on PATH\n",
            argv[1] != NULL ? "this command" : helper, helper, installed_with);
    return 2;
}

int main(int argc, char **argv)
{
    parsed_t p;
    tool_opts_t o;
    int status;

    if (argc > 1 && strcmp(argv[1], "replay") == 0)
        return run_helper("otelc-replay", "the OTLP exporter", argv + 1);
    if (argc > 1 && strcmp(argv[1], "pg") == 0)
        return run_helper("otelc-pg", "the PostgreSQL exporter", argv + 1);
    memset(&p, 0, sizeof(p));
    memset(&o, 0, sizeof(o));
    filter_init(&o.filter);
    status = parse_args(argc, argv, &p);
    if (status != 0)
        return status;
    if (p.seen[O_HELP]) {
        fputs(usage_text, stdout);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (p.seen[O_VERSION]) {
        puts("otelc " OTELC_VERSION);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (p.command == NULL) {
        fputs(usage_text, stderr);
        return 2;
    }
    status = apply_options(&p, &o);
    if (status == 0)
        status = p.command->run(&o);
    tool_report_summary();
    filter_deinit(&o.filter);
    return status;
}
