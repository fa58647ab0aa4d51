/*
 * file.c: the file exporter. JSON lines, one file per channel, rotation by
 * size and by local day, retention in days, gzip of rotated files.
 *
 * An instance is called by one thread at a time: its worker thread
 * (workers.c), or, for the component's instance that serves both signals
 * of a directory, either signal's worker under the instance's lock (see
 * signal_handle_t). Nothing else needs a lock. Each export call
 * formats the whole batch into one buffer per channel and ends with one
 * write(2) per channel that received records: a crash can lose the batch
 * being written, and leave at most one partial line, which the readers skip.
 *
 * Rotation renames the current file to <name>.log.<YYYY-MM-DD>[.N]; N counts
 * the pieces of a day from 1, so that names sort in time order with no
 * renaming of older pieces. Both the day and the size decide per record,
 * from the record's own timestamp: a record of the next day starts the next
 * file, whatever the clock of the machine says when it is written. The
 * exporter's clock serves only retention ("today").
 *
 * Failure to open or write a file drops the records whose lines it held
 * (the rest of the batch counts as exported, see file_export()) and is
 * reported once, with the path and the cause. A write that fails part way
 * is cut back with ftruncate(), so that a disk that fills up leaves whole
 * lines only.
 */
#include "file.h"

#include "compress.h"
#include "format.h"
#include "json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHANNELS 48
#define MAX_ROUTES 256
#define ROUTE_CACHE 256 /* a power of two */
#define NAME_MAX_LEN 63

/* A line buffered for a channel: the record it holds (its index in the
 * batch) and where the line ends in the buffer. An otlp request line
 * holds many records: each has an entry with the same end. */
typedef struct line_ref {
    size_t record;
    size_t end;
} line_ref_t;

/* One channel: one current file and its rotated pieces. */
typedef struct channel {
    char name[NAME_MAX_LEN + 1];
    char *path; /* <dir>/<name>.log */
    int fd;     /* -1 until the first record */
    uint64_t size;
    /* The file may end in a cut line (a crash, a write that failed and
     * could not be cut back): the next write looks at its last byte. */
    bool tail_unknown;
    /* This batch has looked whether the open file was deleted. */
    bool checked;
    /* The local day of the current file, as yyyymmdd (0: not known yet),
     * and the Unix seconds where that day begins and ends. */
    int32_t day;
    int64_t day_begin, day_end;
    int level;
    uint32_t retention_days;
    otelc__fbuf_t buf;
    /* The records whose lines are in `buf`, in order. */
    line_ref_t *refs;
    size_t n_refs, cap_refs;
    /* otlp format: the records of this batch that go to this channel. */
    const void **picks;
    size_t n_picks, cap_picks;
    bool failed;
} channel_t;

typedef struct route {
    char *prefix;
    size_t len;
    uint16_t channel;
} route_t;

/* Logger scope → channel, so that routing costs one probe per record. */
typedef struct route_cache {
    const otelc_scope_info_t *scope;
    const char *name;
    uint16_t channel;
} route_cache_t;

typedef struct file_exporter {
    otelc_exporter_t base;
    char *dir;
    otelc_file_format_t format;
    int level;
    uint64_t max_bytes;
    uint32_t max_files;
    bool daily, compress;
    uint32_t default_retention;
    uint64_t (*clock_fn)(void *);
    void *clock_arg;
    channel_t ch[MAX_CHANNELS];
    size_t n_ch;
    size_t app_ch, errors_ch, traces_ch;
    size_t perf_ch; /* "performance": performance spans' lines too, or SIZE_MAX */
    route_t routes[MAX_ROUTES];
    size_t n_routes;
    route_cache_t cache[ROUTE_CACHE];
    /* Per record of the batch being exported: its line is missing from
     * some channel it goes to, so it counts as dropped. */
    bool *lost;
    size_t cap_lost;
    int32_t retention_done_day; /* the day retention last ran */
    bool mask_set;
    otelc__compressor_t compressor; /* gzip of rotated pieces, its own thread */
} file_exporter_t;

/* ---- the built-in channels (after the users' seed 003) -------------------- */

static const struct {
    const char *name;
    const char *loggers;
    uint32_t retention_days; /* 0: the exporter's default */
} builtin_channels[] = {
    { "application", "app,application,main,startup,shutdown", 14 },
    { "trading",
      "trading,trade,trades,strategy,strategies,order,orders,execution,position,positions,risk,"
      "portfolio",
      60 },
    { "market_data", "market_data,marketdata,market,feed,feeds,ticks,quotes,data_quality", 7 },
    { "database", "database,db,sql,postgres,postgresql,clickhouse,redis,storage", 7 },
    { "audit", "audit,compliance", 365 },
    { "performance", "performance,perf,metrics,profiling,latency", 30 },
    { "errors", "errors", 90 },
    { "monitoring", "monitoring,monitor,health,alerts,alerting", 30 },
    { "api", "api,server,middleware,router,routers,http,rest", 30 },
    { "traces", "", 0 },
};

/* ---- small helpers --------------------------------------------------------- */

static uint64_t now_ns(const file_exporter_t *fe)
{
    struct timespec ts;

    if (fe->clock_fn != NULL)
        return fe->clock_fn(fe->clock_arg);
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool valid_channel_name(const char *s, size_t n)
{
    if (n == 0 || n > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    /* "." and ".." would name the directory itself or its parent. */
    return !(s[0] == '.' && (n == 1 || (n == 2 && s[1] == '.')));
}

/* The local day of Unix time `t` as yyyymmdd, with the day's bounds. */
static int32_t local_day(int64_t t, int64_t *begin, int64_t *end)
{
    time_t tt = (time_t)t;
    struct tm tm, b;

    if (localtime_r(&tt, &tm) == NULL) {
        *begin = t;
        *end = t + 1;
        return 19700101;
    }
    b = (struct tm){
        .tm_year = tm.tm_year, .tm_mon = tm.tm_mon, .tm_mday = tm.tm_mday, .tm_isdst = -1
    };
    *begin = (int64_t)mktime(&b);
    b = (struct tm){
        .tm_year = tm.tm_year, .tm_mon = tm.tm_mon, .tm_mday = tm.tm_mday + 1, .tm_isdst = -1
    };
    *end = (int64_t)mktime(&b);
    if (*end <= t)
        *end = t + 1;
    return (int32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
}

/* yyyymmdd of the day `days` before the local day of `t`. */
static int32_t day_minus(int64_t t, uint32_t days)
{
    time_t tt = (time_t)t;
    struct tm tm, b;

    if (localtime_r(&tt, &tm) == NULL)
        return 0;
    b = (struct tm){ .tm_year = tm.tm_year,
                     .tm_mon = tm.tm_mon,
                     .tm_mday = tm.tm_mday - (int)(days > 100000 ? 100000 : days),
                     .tm_hour = 12,
                     .tm_isdst = -1 };
    tt = mktime(&b);
    if (localtime_r(&tt, &tm) == NULL)
        return 0;
    return (int32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
}

/* Parses "YYYY-MM-DD" (exactly 10 characters) into yyyymmdd. */
static int32_t parse_day(const char *s)
{
    int32_t v = 0;

    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            if (s[i] != '-')
                return 0;
        } else if (s[i] >= '0' && s[i] <= '9') {
            v = v * 10 + (s[i] - '0');
        } else {
            return 0;
        }
    }
    return v;
}

/*
 * Recognises a rotated piece of channel `name`: "<name>.log.<date>[.N][.gz]".
 * Stores the day and N (0 for the first piece) and returns true.
 */
static bool parse_piece(const char *file, const char *name, int32_t *day, uint32_t *piece)
{
    size_t n = strlen(name);
    const char *p;
    uint64_t num = 0;

    if (strncmp(file, name, n) != 0 || strncmp(file + n, ".log.", 5) != 0)
        return false;
    p = file + n + 5;
    if (strlen(p) < 10 || (*day = parse_day(p)) == 0)
        return false;
    p += 10;
    *piece = 0;
    if (p[0] == '.' && p[1] >= '1' && p[1] <= '9') {
        p++;
        while (*p >= '0' && *p <= '9' && num < 1000000)
            num = num * 10 + (uint64_t)(*p++ - '0');
        *piece = (uint32_t)num;
    }
    return p[0] == '\0' || strcmp(p, ".gz") == 0;
}

static char *join_path(const char *dir, const char *name, const char *suffix)
{
    size_t n = strlen(dir) + strlen(name) + strlen(suffix) + 2;
    char *p = malloc(n);

    if (p != NULL)
        snprintf(p, n, "%s/%s%s", dir, name, suffix);
    return p;
}

/* mkdir -p with mode 0750 for what it creates. */
static bool make_dirs(const char *dir)
{
    char path[4096];
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof(path))
        return false;
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] == '/' || path[i] == '\0') {
            char c = path[i];
            path[i] = '\0';
            if (mkdir(path, 0750) != 0 && errno != EEXIST)
                return false;
            path[i] = c;
        }
    }
    return true;
}

/* What follows a failure, for the diagnostic: the reader must learn
 * whether records were lost. */
#define LOST "records dropped"
#define KEPT_GROWING "the file keeps growing; no record is lost"
#define KEPT_FILE "the file stays; no record is lost"
#define LOST_UNTIL "records are dropped until it can be made"

static void report_errno(const char *what, const char *path, int err, const char *outcome)
{
    char key[96];

    snprintf(key, sizeof(key), "exporter.file.%s", what);
    otelc_diag(OTELC_DIAG_ERROR, key, "file exporter: cannot %s %s: %s; %s", what, path,
               strerror(err), outcome);
}

/* ---- channel setup ---------------------------------------------------------- */

static size_t channel_find(file_exporter_t *fe, const char *name, size_t n)
{
    for (size_t i = 0; i < fe->n_ch; i++) {
        if (strlen(fe->ch[i].name) == n && memcmp(fe->ch[i].name, name, n) == 0)
            return i;
    }
    return SIZE_MAX;
}

/* The channel `name`, added when new; SIZE_MAX when the name is not valid
 * or the table is full. */
static size_t channel_get(file_exporter_t *fe, const char *name, size_t n)
{
    size_t i = channel_find(fe, name, n);
    channel_t *c;

    if (i != SIZE_MAX)
        return i;
    if (!valid_channel_name(name, n) || fe->n_ch == MAX_CHANNELS)
        return SIZE_MAX;
    c = &fe->ch[fe->n_ch];
    memset(c, 0, sizeof(*c));
    memcpy(c->name, name, n);
    c->name[n] = '\0';
    c->fd = -1;
    c->level = 0;
    c->retention_days = fe->default_retention;
    return fe->n_ch++;
}

static void routes_clear(file_exporter_t *fe, size_t channel)
{
    size_t j = 0;

    for (size_t i = 0; i < fe->n_routes; i++) {
        if (fe->routes[i].channel == channel)
            free(fe->routes[i].prefix);
        else
            fe->routes[j++] = fe->routes[i];
    }
    fe->n_routes = j;
}

/* Adds the prefixes of a list separated by any of `seps` to `channel`. */
static bool routes_add(file_exporter_t *fe, size_t channel, const char *list, size_t len,
                       const char *seps)
{
    size_t i = 0;

    while (i < len) {
        size_t b, e;

        while (i < len && (strchr(seps, list[i]) != NULL || list[i] == ' '))
            i++;
        b = i;
        while (i < len && strchr(seps, list[i]) == NULL)
            i++;
        e = i;
        while (e > b && list[e - 1] == ' ')
            e--;
        if (e == b)
            continue;
        if (fe->n_routes == MAX_ROUTES)
            return false;
        fe->routes[fe->n_routes].prefix = strndup(list + b, e - b);
        if (fe->routes[fe->n_routes].prefix == NULL)
            return false;
        fe->routes[fe->n_routes].len = e - b;
        fe->routes[fe->n_routes].channel = (uint16_t)channel;
        fe->n_routes++;
    }
    return true;
}

static void report_item(const char *var, const char *item, size_t n, const char *expected)
{
    char key[96];

    /* One key per item, so that each bad item is reported (once). */
    snprintf(key, sizeof(key), "config.%s.%.*s", var, (int)(n > 48 ? 48 : n), item);
    otelc_diag(OTELC_DIAG_WARN, key, "invalid item '%.*s' in %s: expected %s; item ignored",
               (int)(n > 80 ? 80 : n), item, var, expected);
}

/*
 * Applies one of the OTELC_FILE_CHANNEL* lists: comma-separated
 * "name=value" items. `kind` 0: routes (prefixes separated by '|'),
 * 1: levels, 2: retention days.
 */
static void apply_env_list(file_exporter_t *fe, const char *var, const char *list, int kind)
{
    const char *p = list;

    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, ',');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        const char *eq;
        const char *b = p, *v;
        size_t nl, vl, ch;
        char value[64];

        p = end != NULL ? end + 1 : NULL;
        while (n > 0 && (*b == ' ' || *b == '\t')) {
            b++;
            n--;
        }
        while (n > 0 && (b[n - 1] == ' ' || b[n - 1] == '\t'))
            n--;
        if (n == 0)
            continue;
        eq = memchr(b, '=', n);
        if (eq == NULL) {
            report_item(var, b, n, "name=value");
            continue;
        }
        nl = (size_t)(eq - b);
        while (nl > 0 && b[nl - 1] == ' ')
            nl--;
        v = eq + 1;
        vl = n - (size_t)(v - b);
        while (vl > 0 && *v == ' ') {
            v++;
            vl--;
        }
        ch = channel_get(fe, b, nl);
        if (ch == SIZE_MAX) {
            report_item(var, b, n, "a channel name of letters, digits, '_', '-' and '.'");
            continue;
        }
        if (kind == 0) {
            routes_clear(fe, ch);
            if (!routes_add(fe, ch, v, vl, "|"))
                report_item(var, b, n, "fewer prefixes (at most 256 in all)");
            continue;
        }
        if (vl >= sizeof(value)) {
            report_item(var, b, n, kind == 1 ? "name=LEVEL" : "name=DAYS");
            continue;
        }
        memcpy(value, v, vl);
        value[vl] = '\0';
        if (kind == 1) {
            int level;
            if (otelc_severity_parse(value, &level))
                fe->ch[ch].level = level;
            else
                report_item(var, b, n, "name=LEVEL (TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF)");
        } else {
            uint64_t days;
            char *e2 = NULL;
            days = strtoull(value, &e2, 10);
            if (vl > 0 && value[0] >= '0' && value[0] <= '9' && e2 != NULL && *e2 == '\0' &&
                days <= UINT32_MAX)
                fe->ch[ch].retention_days = (uint32_t)days;
            else
                report_item(var, b, n, "name=DAYS (0 keeps forever)");
        }
    }
}

static otelc_status_t channels_setup(file_exporter_t *fe, const otelc_file_options_t *o)
{
    size_t i;

    for (i = 0; i < sizeof(builtin_channels) / sizeof(builtin_channels[0]); i++) {
        size_t c = channel_get(fe, builtin_channels[i].name, strlen(builtin_channels[i].name));
        if (c == SIZE_MAX)
            return OTELC_ERR_NOMEM;
        if (builtin_channels[i].retention_days != 0 && fe->default_retention != 0)
            fe->ch[c].retention_days = builtin_channels[i].retention_days;
        if (!routes_add(fe, c, builtin_channels[i].loggers, strlen(builtin_channels[i].loggers),
                        ","))
            return OTELC_ERR_NOMEM;
    }
    for (i = 0; i < o->n_channels && o->channels != NULL; i++) {
        const otelc_file_channel_t *u = &o->channels[i];
        size_t c = u->name != NULL ? channel_get(fe, u->name, strlen(u->name)) : SIZE_MAX;

        if (c == SIZE_MAX) {
            char key[64];

            snprintf(key, sizeof(key), "config.file.channel.%zu", i);
            otelc_diag(OTELC_DIAG_WARN, key,
                       "file exporter: channel %zu: name '%s' is not valid (letters, digits, "
                       "'_', '-', '.'; at most %d channels); ignored",
                       i, u->name != NULL ? u->name : "(null)", MAX_CHANNELS);
            continue;
        }
        if (u->loggers != NULL) {
            routes_clear(fe, c);
            if (!routes_add(fe, c, u->loggers, strlen(u->loggers), ","))
                return OTELC_ERR_NOMEM;
        }
        if (u->level > 0)
            fe->ch[c].level = u->level;
        if (u->retention_days > 0)
            fe->ch[c].retention_days = u->retention_days;
    }
    if (o->channel_routes != NULL)
        apply_env_list(fe, "OTELC_FILE_CHANNELS", o->channel_routes, 0);
    if (o->channel_levels != NULL)
        apply_env_list(fe, "OTELC_FILE_CHANNEL_LEVELS", o->channel_levels, 1);
    if (o->channel_retention != NULL)
        apply_env_list(fe, "OTELC_FILE_CHANNEL_RETENTION", o->channel_retention, 2);

    for (i = 0; i < fe->n_ch; i++) {
        if (fe->ch[i].level <= 0)
            fe->ch[i].level = fe->level;
        fe->ch[i].path = join_path(fe->dir, fe->ch[i].name, ".log");
        if (fe->ch[i].path == NULL)
            return OTELC_ERR_NOMEM;
    }
    fe->app_ch = channel_find(fe, "application", 11);
    fe->errors_ch = channel_find(fe, "errors", 6);
    fe->traces_ch = channel_find(fe, "traces", 6);
    fe->perf_ch = channel_find(fe, "performance", 11);
    return OTELC_OK;
}

/* The channel of a logger: the longest prefix that matches the name up to a
 * separator ('.', '_', '-', ':', '/') or its end; the application channel
 * when none does. */
static size_t route_name(const file_exporter_t *fe, const char *name, size_t n)
{
    size_t best = fe->app_ch, best_len = 0;

    for (size_t i = 0; i < fe->n_routes; i++) {
        const route_t *r = &fe->routes[i];
        char next;

        if (r->len > n || r->len < best_len || memcmp(r->prefix, name, r->len) != 0)
            continue;
        next = r->len == n ? '\0' : name[r->len];
        if (next == '\0' || next == '.' || next == '_' || next == '-' || next == ':' ||
            next == '/') {
            /* Among equal prefixes, the later rule (given later) wins. */
            best = r->channel;
            best_len = r->len;
        }
    }
    return best;
}

static size_t route(file_exporter_t *fe, const otelc_scope_info_t *scope)
{
    size_t h = ((uintptr_t)scope >> 4) & (ROUTE_CACHE - 1);
    route_cache_t *e = &fe->cache[h];

    if (scope == NULL || scope->name.ptr == NULL)
        return fe->app_ch;
    if (e->scope == scope && e->name == scope->name.ptr)
        return e->channel;
    e->scope = scope;
    e->name = scope->name.ptr;
    e->channel = (uint16_t)route_name(fe, scope->name.ptr, scope->name.len);
    return e->channel;
}

/* ---- files ----------------------------------------------------------------- */

static void channel_set_day(channel_t *c, int64_t t)
{
    c->day = local_day(t, &c->day_begin, &c->day_end);
}

static bool channel_open(file_exporter_t *fe, channel_t *c)
{
    struct stat st;
    int fd;

    if (c->fd >= 0)
        return true;
    if (!make_dirs(fe->dir)) {
        report_errno("create", fe->dir, errno, LOST);
        return false;
    }
    /* Read as well as write: pread() looks at the last byte. */
    fd = open(c->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        report_errno("open", c->path, errno, LOST);
        return false;
    }
    if (fstat(fd, &st) != 0) {
        report_errno("stat", c->path, errno, LOST);
        close(fd);
        return false;
    }
    c->fd = fd;
    c->size = (uint64_t)st.st_size;
    c->tail_unknown = st.st_size > 0;
    /* A file left by an earlier run belongs to the day it was last written. */
    if (st.st_size > 0)
        channel_set_day(c, (int64_t)st.st_mtime);
    else
        c->day = 0;
    return true;
}

static void channel_close(channel_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

/* Writes all of p[0..n) or nothing: a failed write is cut back. When it
 * cannot be, `*kept` says how many bytes of p stay in the file (n after
 * a write that succeeded). */
static bool write_whole(channel_t *c, const char *p, size_t n, size_t *kept)
{
    size_t done = 0;

    *kept = 0;
    while (done < n) {
        ssize_t w = write(c->fd, p + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int err = w < 0 ? errno : ENOSPC;
            struct stat st;

            /* The cut is made where this write began: the file's size now
             * less what it took. Not at c->size: the file may have been
             * truncated under the open descriptor (space freed by hand),
             * and cutting "back" to a larger size would extend it with a
             * hole of NUL bytes. */
            if (done > 0 && (fstat(c->fd, &st) != 0 || (uint64_t)st.st_size < done ||
                             ftruncate(c->fd, st.st_size - (off_t)done) != 0)) {
                /* The partial line stays (the readers skip it), and the
                 * whole lines before it; the next write starts on a line
                 * of its own. */
                c->tail_unknown = true;
                c->size += done;
                *kept = done;
            } else if (done > 0) {
                c->size = (uint64_t)st.st_size - done;
            }
            report_errno("write", c->path, err, LOST);
            return false;
        }
        done += (size_t)w;
    }
    c->size += n;
    *kept = n;
    return true;
}

/*
 * Writes whole lines p[0..n) to the file of `c`. When the file may end in a
 * cut line (left by a crash or by a write that could not be cut back), its
 * last byte is read first and a '\n' ends the cut line, so that it stays one
 * bad line the readers skip and the new records are whole lines of their
 * own. That costs a pread() when a file is opened and after a failure only.
 */
static bool channel_write(channel_t *c, const char *p, size_t n, size_t *kept)
{
    *kept = 0;
    if (c->tail_unknown) {
        struct stat st;
        char last = '\n';
        size_t one;

        if (fstat(c->fd, &st) == 0 && st.st_size > 0 &&
            pread(c->fd, &last, 1, st.st_size - 1) == 1 && last != '\n') {
            c->size = (uint64_t)st.st_size;
            if (!write_whole(c, "\n", 1, &one))
                return false;
        }
        c->tail_unknown = false;
    }
    return write_whole(c, p, n, kept);
}

typedef struct piece {
    uint32_t n;
    char *file;
} piece_t;

static int piece_cmp(const void *a, const void *b)
{
    uint32_t x = ((const piece_t *)a)->n, y = ((const piece_t *)b)->n;
    return x < y ? -1 : x > y;
}

/*
 * Deletes what retention and the per-day count say must go: rotated pieces
 * of `c` dated before `cutoff` (0: none), and the oldest pieces of `day`
 * beyond max_files (0: no count check). Returns the highest piece number
 * seen for `day`, or -1 when there is none.
 */
static long sweep(file_exporter_t *fe, channel_t *c, int32_t cutoff, int32_t day,
                  uint32_t max_files)
{
    DIR *d = opendir(fe->dir);
    struct dirent *de;
    piece_t *list = NULL;
    size_t n = 0, cap = 0;
    long highest = -1;
    bool clean_tmp;

    if (d == NULL)
        return -1;
    /* A .gz.tmp is a compression that a kill cut short; while this
     * instance's compressor is idle, none of ours is being written. */
    clean_tmp = cutoff != 0 && otelc__compressor_idle(&fe->compressor);
    while ((de = readdir(d)) != NULL) {
        int32_t pd;
        uint32_t pn;
        size_t len = strlen(de->d_name), name_len = strlen(c->name);

        if (clean_tmp && len > name_len + 12 && strncmp(de->d_name, c->name, name_len) == 0 &&
            strncmp(de->d_name + name_len, ".log.", 5) == 0 &&
            strcmp(de->d_name + len - 7, ".gz.tmp") == 0) {
            char *p = join_path(fe->dir, de->d_name, "");
            if (p != NULL && unlink(p) != 0 && errno != ENOENT)
                report_errno("delete", p, errno, KEPT_FILE);
            free(p);
            continue;
        }
        if (!parse_piece(de->d_name, c->name, &pd, &pn))
            continue;
        if (cutoff != 0 && pd < cutoff) {
            char *p = join_path(fe->dir, de->d_name, "");
            if (p != NULL && unlink(p) != 0 && errno != ENOENT)
                report_errno("delete", p, errno, KEPT_FILE);
            free(p);
            continue;
        }
        if (pd != day)
            continue;
        if ((long)pn > highest)
            highest = (long)pn;
        if (max_files == 0)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            piece_t *nl = realloc(list, nc * sizeof(*nl));
            if (nl == NULL)
                break;
            list = nl;
            cap = nc;
        }
        list[n].n = pn;
        list[n].file = strdup(de->d_name);
        if (list[n].file == NULL)
            break;
        n++;
    }
    closedir(d);
    if (max_files != 0 && n > max_files) {
        size_t distinct = 0, drop;
        uint32_t last = 0;

        /* While a piece is being compressed, both <piece> and <piece>.gz
         * exist: count pieces by number, not files. */
        qsort(list, n, sizeof(*list), piece_cmp);
        for (size_t i = 0; i < n; i++) {
            if (i == 0 || list[i].n != last)
                distinct++;
            last = list[i].n;
        }
        drop = distinct > max_files ? distinct - max_files : 0;
        for (size_t i = 0, seen = 0; i < n && drop > 0; i++) {
            char *p;

            if (i == 0 || list[i].n != last)
                seen++;
            last = list[i].n;
            if (seen > drop)
                break;
            p = join_path(fe->dir, list[i].file, "");
            if (p != NULL && unlink(p) != 0 && errno != ENOENT)
                report_errno("delete", p, errno, KEPT_FILE);
            free(p);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(list[i].file);
    free(list);
    return highest;
}

static int32_t retention_cutoff(const file_exporter_t *fe, const channel_t *c)
{
    if (c->retention_days == 0)
        return 0;
    return day_minus((int64_t)(now_ns(fe) / 1000000000u), c->retention_days);
}

/* Runs retention once per day of the exporter's clock for the channels
 * this instance writes: with one instance per signal, the traces instance
 * keeps traces.log and the logs instance the log channels, so no directory
 * is swept twice. */
static void retention_daily(file_exporter_t *fe)
{
    int64_t b, e;
    int32_t today = local_day((int64_t)(now_ns(fe) / 1000000000u), &b, &e);
    unsigned signals = fe->base.ops->signals;

    if (today == fe->retention_done_day)
        return;
    fe->retention_done_day = today;
    for (size_t i = 0; i < fe->n_ch; i++) {
        unsigned writes = i == fe->traces_ch ? OTELC_SIGNAL_TRACES : OTELC_SIGNAL_LOGS;

        if (fe->ch[i].retention_days != 0 && (signals & writes) != 0)
            (void)sweep(fe, &fe->ch[i], retention_cutoff(fe, &fe->ch[i]), 0, 0);
    }
}

/*
 * Closes the current file of `c` and renames it to its rotated name, then
 * compresses it and applies the count and retention rules. The next write
 * opens a new file. A rename that fails leaves the file growing: records
 * are not lost for it.
 */
static void channel_rotate(file_exporter_t *fe, channel_t *c)
{
    char suffix[64];
    char *target;
    long highest;
    int32_t day = c->day;

    if (c->fd < 0 || c->size == 0)
        return;
    if (day == 0) {
        int64_t b, e;
        day = local_day((int64_t)(now_ns(fe) / 1000000000u), &b, &e);
    }
    channel_close(c);
    highest = sweep(fe, c, 0, day, 0);
    if (highest < 0)
        snprintf(suffix, sizeof(suffix), ".log.%04d-%02d-%02d", (int)(day / 10000),
                 (int)(day / 100 % 100), (int)(day % 100));
    else
        snprintf(suffix, sizeof(suffix), ".log.%04d-%02d-%02d.%ld", (int)(day / 10000),
                 (int)(day / 100 % 100), (int)(day % 100), highest + 1);
    target = join_path(fe->dir, c->name, suffix);
    if (target == NULL || rename(c->path, target) != 0) {
        report_errno("rotate", c->path, target == NULL ? ENOMEM : errno, KEPT_GROWING);
        free(target);
        return;
    }
    if (fe->compress)
        otelc__compressor_add(&fe->compressor, target); /* takes `target` */
    else
        free(target);
    (void)sweep(fe, c, retention_cutoff(fe, c), day, fe->max_files);
}

/*
 * Once per batch, before the channel's first write: a file deleted while
 * open (its link count is 0: the log directory was removed, or the file)
 * would take every later write and keep none. It is closed, and the write
 * that follows makes the directory again and opens a new file. One fstat()
 * per channel and batch, not per record.
 */
static void channel_check_deleted(channel_t *c)
{
    struct stat st;

    if (c->fd < 0 || c->checked)
        return;
    c->checked = true;
    if (fstat(c->fd, &st) != 0)
        return;
    /* The file may have been truncated (space freed by hand): the size
     * that rotation compares with max_bytes is the file's own. */
    if (st.st_nlink > 0) {
        c->size = (uint64_t)st.st_size;
        return;
    }
    otelc_diag(OTELC_DIAG_WARN, "exporter.file.deleted",
               "file exporter: %s was deleted while open (its directory removed?); making the "
               "directory again and writing to a new file",
               c->path);
    channel_close(c);
}

/* Writes the first `to` buffered bytes of `c` (whole lines) and drops them
 * from the buffer. After a failure the channel's lines of this batch are
 * dropped, and their records are marked lost. */
static void channel_flush_part(file_exporter_t *fe, channel_t *c, size_t to)
{
    size_t i, j, kept = 0;

    if (to == 0)
        return;
    channel_check_deleted(c);
    if (!c->failed && (c->fd >= 0 || channel_open(fe, c)))
        c->failed = !channel_write(c, c->buf.data, to, &kept);
    else
        c->failed = true;
    /* A failed write that could not be cut back left its first lines in
     * the file: those records are written. */
    for (i = 0; i < c->n_refs && c->refs[i].end <= to; i++) {
        if (c->refs[i].end > kept)
            fe->lost[c->refs[i].record] = true;
    }
    for (j = 0; i < c->n_refs; i++, j++) {
        c->refs[j].record = c->refs[i].record;
        c->refs[j].end = c->refs[i].end - to;
    }
    c->n_refs = j;
    memmove(c->buf.data, c->buf.data + to, c->buf.len - to);
    c->buf.len -= to;
}

static void put_otlp_line(file_exporter_t *fe, channel_t *c, const otelc_batch_t *batch);

/*
 * Before a record of time `t_ns` goes to `c`: a new local day rotates the
 * file. What the batch holds for the old day is written first: the buffered
 * lines, and in the otlp format a request line of the records picked so far.
 */
static void channel_day_check(file_exporter_t *fe, channel_t *c, const otelc_batch_t *batch,
                              uint64_t t_ns)
{
    int64_t t = (int64_t)(t_ns / 1000000000u);

    if (c->fd < 0 && !c->failed && !channel_open(fe, c))
        c->failed = true;
    if (c->day == 0) {
        channel_set_day(c, t);
        return;
    }
    if (!fe->daily || t < c->day_end)
        return;
    if (fe->format == OTELC_FILE_FORMAT_OTLP)
        put_otlp_line(fe, c, batch);
    channel_flush_part(fe, c, c->buf.len);
    channel_rotate(fe, c);
    channel_set_day(c, t);
}

/* After a line [mark, len) was appended: past max_bytes, the lines before it
 * are written and the file rotated, so that the line starts the next one. */
static void channel_size_check(file_exporter_t *fe, channel_t *c, size_t mark)
{
    if (fe->max_bytes == 0 || c->size + c->buf.len <= fe->max_bytes || c->size + mark == 0)
        return;
    channel_flush_part(fe, c, mark);
    if (c->size > 0 && !c->failed && c->fd >= 0) {
        int32_t day = c->day;
        int64_t b = c->day_begin, e = c->day_end;
        channel_rotate(fe, c);
        c->day = day;
        c->day_begin = b;
        c->day_end = e;
    }
}

/* ---- export ---------------------------------------------------------------- */

/* Room for `k` more line entries in `c`. */
static bool refs_reserve(channel_t *c, size_t k)
{
    size_t nc = c->cap_refs ? c->cap_refs : 64;
    line_ref_t *nr;

    if (c->cap_refs - c->n_refs >= k)
        return true;
    while (nc - c->n_refs < k)
        nc *= 2;
    nr = realloc(c->refs, nc * sizeof(*nr));
    if (nr == NULL)
        return false;
    c->refs = nr;
    c->cap_refs = nc;
    return true;
}

/*
 * After a line was appended to `c` from `mark`: true when it is whole.
 * When the formatting ran out of memory, the line is cut off (its records
 * are lost) and the buffer takes the next record again.
 */
static bool line_kept(channel_t *c, size_t mark)
{
    if (!c->buf.failed)
        return true;
    otelc_diag(OTELC_DIAG_ERROR, "exporter.file.nomem",
               "file exporter: out of memory formatting %s; records dropped", c->path);
    c->buf.len = mark;
    c->buf.failed = false;
    return false;
}

/* The record `record` of the batch is in the line that ends the buffer of
 * `c` (room reserved by refs_reserve()), or lost when the line is not. */
static void line_holds(file_exporter_t *fe, channel_t *c, size_t record, bool kept)
{
    if (!kept) {
        fe->lost[record] = true;
        return;
    }
    c->refs[c->n_refs].record = record;
    c->refs[c->n_refs].end = c->buf.len;
    c->n_refs++;
}

static bool pick(channel_t *c, const void *r)
{
    if (c->n_picks == c->cap_picks) {
        size_t nc = c->cap_picks ? c->cap_picks * 2 : 64;
        const void **np = realloc(c->picks, nc * sizeof(*np));
        if (np == NULL)
            return false;
        c->picks = np;
        c->cap_picks = nc;
    }
    c->picks[c->n_picks++] = r;
    return true;
}

static void put_log(file_exporter_t *fe, channel_t *c, const otelc_batch_t *batch,
                    const otelc_log_data_t *r)
{
    size_t mark, record;

    channel_day_check(fe, c, batch, r->time_ns);
    if (fe->format == OTELC_FILE_FORMAT_OTLP) {
        if (!pick(c, r))
            fe->lost[r - batch->logs] = true;
        return;
    }
    mark = c->buf.len;
    record = (size_t)(r - batch->logs);
    if (!refs_reserve(c, 1))
        c->buf.failed = true;
    else
        otelc__flat_log(&c->buf, r);
    line_holds(fe, c, record, line_kept(c, mark));
    channel_size_check(fe, c, mark);
}

static void put_span(file_exporter_t *fe, channel_t *c, const otelc_batch_t *batch,
                     const otelc_span_data_t *s)
{
    size_t mark, record;

    channel_day_check(fe, c, batch, s->start_ns);
    if (fe->format == OTELC_FILE_FORMAT_OTLP) {
        if (!pick(c, s))
            fe->lost[s - batch->spans] = true;
        return;
    }
    mark = c->buf.len;
    record = (size_t)(s - batch->spans);
    if (!refs_reserve(c, 1))
        c->buf.failed = true;
    else
        otelc__flat_span(&c->buf, s);
    line_holds(fe, c, record, line_kept(c, mark));
    channel_size_check(fe, c, mark);
}

/* The otlp format writes one request line per channel and batch. */
static void put_otlp_line(file_exporter_t *fe, channel_t *c, const otelc_batch_t *batch)
{
    size_t mark = c->buf.len;
    bool traces = batch->signal == OTELC_SIGNAL_TRACES, kept;

    if (c->n_picks == 0)
        return;
    if (!refs_reserve(c, c->n_picks))
        c->buf.failed = true;
    else if (traces)
        otelc__otlp_spans(&c->buf, batch->resource, (const otelc_span_data_t *const *)c->picks,
                          c->n_picks);
    else
        otelc__otlp_logs(&c->buf, batch->resource, (const otelc_log_data_t *const *)c->picks,
                         c->n_picks);
    /* One line holds every record picked. */
    kept = line_kept(c, mark);
    for (size_t i = 0; i < c->n_picks; i++) {
        size_t record = traces ? (size_t)((const otelc_span_data_t *)c->picks[i] - batch->spans)
                               : (size_t)((const otelc_log_data_t *)c->picks[i] - batch->logs);
        line_holds(fe, c, record, kept);
    }
    c->n_picks = 0;
    channel_size_check(fe, c, mark);
}

/* A performance span: one with the number attribute execution_time_ms. */
static bool is_performance_span(const otelc_span_data_t *s)
{
    for (uint32_t i = 0; i < s->n_attrs; i++) {
        const otelc_attr_t *a = &s->attrs[i];

        if (a->key_len == 17 && memcmp(a->key, "execution_time_ms", 17) == 0)
            return a->type == OTELC_ATTR_DOUBLE || a->type == OTELC_ATTR_INT;
    }
    return false;
}

/*
 * Writes the batch and says in `result` how many records were written
 * whole: a record counts once, when every channel it goes to (its own, and
 * errors.log for ERROR and above) has its line. A record with its line in
 * one channel and not in the other counts as dropped: a reader of the
 * failed channel misses it. A record that no channel takes (below their
 * levels) is exported: it was handled as configured.
 */
static otelc_status_t file_export(otelc_exporter_t *self, const otelc_batch_t *batch,
                                  uint32_t timeout_ms, otelc_export_result_t *result)
{
    file_exporter_t *fe = (file_exporter_t *)self;
    otelc_status_t status = OTELC_OK;
    size_t i, lost = 0;

    (void)timeout_ms;
    if (batch->n > fe->cap_lost) {
        bool *nl = realloc(fe->lost, batch->n * sizeof(*nl));
        if (nl == NULL) {
            /* Nothing is written: the whole batch is dropped. */
            otelc_diag(OTELC_DIAG_ERROR, "exporter.file.nomem",
                       "file exporter: out of memory for a batch of %zu records; records dropped",
                       batch->n);
            status = OTELC_ERR_NOMEM;
            goto fail;
        }
        fe->lost = nl;
        fe->cap_lost = batch->n;
    }
    memset(fe->lost, 0, batch->n * sizeof(*fe->lost));
    /* A file-size limit (RLIMIT_FSIZE) raises SIGXFSZ, whose default
     * action ends the process. Blocked on this thread, the write fails
     * with EFBIG instead, which is reported and counted. */
    if (!fe->mask_set) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGXFSZ);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        fe->mask_set = true;
    }
    retention_daily(fe);
    for (i = 0; i < fe->n_ch; i++) {
        fe->ch[i].failed = false;
        fe->ch[i].checked = false;
    }

    if (batch->signal == OTELC_SIGNAL_TRACES) {
        channel_t *c = &fe->ch[fe->traces_ch];
        /* Performance spans (OTELC_PERF: the number attribute
         * execution_time_ms) are performance records too, as the
         * PostgreSQL exporter's performance_logs rows: their lines go to
         * the performance channel as well, at INFO. Only an instance that
         * writes the log channels does it (one instance per directory
         * serves both signals, see signal_handle_t), and only in the flat
         * format, whose files mix record types line by line. */
        channel_t *perf = fe->perf_ch != SIZE_MAX && fe->format == OTELC_FILE_FORMAT_FLAT &&
                                  (fe->base.ops->signals & OTELC_SIGNAL_LOGS) != 0 &&
                                  OTELC_SEV_INFO >= fe->ch[fe->perf_ch].level &&
                                  OTELC_SEV_INFO >= fe->level
                              ? &fe->ch[fe->perf_ch]
                              : NULL;
        for (i = 0; i < batch->n; i++) {
            put_span(fe, c, batch, &batch->spans[i]);
            if (perf != NULL && is_performance_span(&batch->spans[i]))
                put_span(fe, perf, batch, &batch->spans[i]);
        }
    } else if (batch->signal == OTELC_SIGNAL_LOGS) {
        for (i = 0; i < batch->n; i++) {
            const otelc_log_data_t *r = &batch->logs[i];
            size_t ci = route(fe, r->scope);
            channel_t *c = &fe->ch[ci];
            int sev = (int)r->severity;

            if (sev >= c->level && sev >= fe->level)
                put_log(fe, c, batch, r);
            if (sev >= OTELC_SEV_ERROR && ci != fe->errors_ch &&
                sev >= fe->ch[fe->errors_ch].level && sev >= fe->level)
                put_log(fe, &fe->ch[fe->errors_ch], batch, r);
        }
    }
    for (i = 0; i < fe->n_ch; i++) {
        channel_t *c = &fe->ch[i];

        if (fe->format == OTELC_FILE_FORMAT_OTLP)
            put_otlp_line(fe, c, batch);
        channel_flush_part(fe, c, c->buf.len);
    }
    for (i = 0; i < batch->n; i++)
        lost += fe->lost[i];
    result->accepted = batch->n - lost;
    if (lost > 0)
        status = OTELC_ERR_IO;
fail:
    return status;
}

/* Every export ends with its lines written; a flush waits for the rotated
 * pieces being compressed, so that what it returns to finds them done. */
static otelc_status_t file_flush(otelc_exporter_t *self, uint32_t timeout_ms)
{
    file_exporter_t *fe = (file_exporter_t *)self;

    return otelc__compressor_wait(&fe->compressor, timeout_ms) ? OTELC_OK : OTELC_ERR_TIMEOUT;
}

/* Compression still running past the deadline is stopped after its file;
 * the pieces left stay uncompressed (otelc compress does them later). */
static void file_shutdown(otelc_exporter_t *self, uint32_t timeout_ms)
{
    file_exporter_t *fe = (file_exporter_t *)self;

    (void)otelc__compressor_wait(&fe->compressor, timeout_ms);
    otelc__compressor_stop(&fe->compressor);
    for (size_t i = 0; i < fe->n_ch; i++)
        channel_close(&fe->ch[i]);
}

static void file_destroy(otelc_exporter_t *self)
{
    file_exporter_t *fe = (file_exporter_t *)self;
    size_t i;

    if (fe == NULL)
        return;
    otelc__compressor_stop(&fe->compressor);
    pthread_mutex_destroy(&fe->compressor.mu);
    pthread_cond_destroy(&fe->compressor.wake);
    pthread_cond_destroy(&fe->compressor.idle);
    for (i = 0; i < fe->n_ch; i++) {
        channel_close(&fe->ch[i]);
        free(fe->ch[i].path);
        free(fe->ch[i].picks);
        free(fe->ch[i].refs);
        otelc__fbuf_free(&fe->ch[i].buf);
    }
    for (i = 0; i < fe->n_routes; i++)
        free(fe->routes[i].prefix);
    free(fe->lost);
    free(fe->dir);
    free(fe);
}

/* In a child process the descriptors are shared with the parent; the sizes
 * are read again at the next write, so that rotation sees what both wrote. */
static void file_fork_child(otelc_exporter_t *self)
{
    file_exporter_t *fe = (file_exporter_t *)self;

    for (size_t i = 0; i < fe->n_ch; i++) {
        if (fe->ch[i].fd >= 0) {
            struct stat st;
            if (fstat(fe->ch[i].fd, &st) == 0)
                fe->ch[i].size = (uint64_t)st.st_size;
        }
    }
    fe->mask_set = false;
    otelc__compressor_fork_child(&fe->compressor);
}

#define FILE_OPS(var, sig)                                                                         \
    static const otelc_exporter_ops_t var = {                                                      \
        .version = OTELC_EXPORTER_INTERFACE_VERSION,                                               \
        .name = "file",                                                                            \
        .signals = (sig),                                                                          \
        .export_batch = file_export,                                                               \
        .force_flush = file_flush,                                                                 \
        .shutdown = file_shutdown,                                                                 \
        .destroy = file_destroy,                                                                   \
        .fork_child = file_fork_child,                                                             \
    }
FILE_OPS(file_ops_traces, OTELC_SIGNAL_TRACES);
FILE_OPS(file_ops_logs, OTELC_SIGNAL_LOGS);
FILE_OPS(file_ops_both, OTELC_SIGNAL_TRACES | OTELC_SIGNAL_LOGS);

otelc_status_t otelc__file_exporter_create(const otelc_file_options_t *opts, unsigned signals,
                                           uint64_t (*clock_fn)(void *arg), void *clock_arg,
                                           otelc_exporter_t **out)
{
    otelc_file_options_t o;
    file_exporter_t *fe = NULL;
    otelc_status_t status = OTELC_OK;

    if (out == NULL || signals == 0 || (signals & ~3u) != 0) {
        status = OTELC_ERR_INVALID;
        goto fail;
    }
    *out = NULL;
    /* The defaults under what the caller gives, which may be the struct of
     * an older header (struct_size; 0 reads as this header's). */
    otelc_file_options_default(&o);
    if (opts != NULL) {
        size_t size =
            opts->struct_size == 0 || opts->struct_size > sizeof(o) ? sizeof(o) : opts->struct_size;

        memcpy(&o, opts, size);
    }
    if (o.channels == NULL && o.n_channels > 0) {
        otelc_diag(OTELC_DIAG_WARN, "file.channels.null",
                   "file exporter: channels is NULL with n_channels %zu; read as no channel",
                   o.n_channels);
        o.n_channels = 0;
    }
    fe = calloc(1, sizeof(*fe));
    if (fe == NULL) {
        status = OTELC_ERR_NOMEM;
        goto fail;
    }
    otelc__compressor_init(&fe->compressor);
    fe->base.ops = signals == OTELC_SIGNAL_TRACES ? &file_ops_traces
                   : signals == OTELC_SIGNAL_LOGS ? &file_ops_logs
                                                  : &file_ops_both;
    fe->dir = strdup(o.directory != NULL && o.directory[0] != '\0' ? o.directory : "logs");
    if (fe->dir == NULL) {
        status = OTELC_ERR_NOMEM;
        goto fail;
    }
    /* A trailing slash would double in the paths. */
    for (size_t n = strlen(fe->dir); n > 1 && fe->dir[n - 1] == '/'; n--)
        fe->dir[n - 1] = '\0';
    fe->format =
        o.format == OTELC_FILE_FORMAT_OTLP ? OTELC_FILE_FORMAT_OTLP : OTELC_FILE_FORMAT_FLAT;
    fe->level = o.level > 0 ? o.level : OTELC_SEV_TRACE;
    fe->max_bytes = o.max_bytes;
    fe->max_files = o.max_files > 0 ? o.max_files : 1;
    fe->daily = o.rotate_daily;
    fe->compress = o.compress;
    fe->default_retention = o.retention_days;
    fe->clock_fn = clock_fn;
    fe->clock_arg = clock_arg;
    if ((status = channels_setup(fe, &o)) != OTELC_OK)
        goto fail;
    if (!make_dirs(fe->dir)) {
        /* Reported now, and again (rate-limited) when a batch fails. */
        report_errno("create", fe->dir, errno, LOST_UNTIL);
    }
    *out = &fe->base;
    return OTELC_OK;

fail:
    file_destroy(fe ? &fe->base : NULL);
    return status;
}

/* ---- one instance for both signals ------------------------------------------------ */

/*
 * The component makes an exporter per signal (OTEL_TRACES_EXPORTER=file and
 * OTEL_LOGS_EXPORTER=file), and both write into one directory, where a file
 * may take records of both: performance.log holds the performance spans and
 * the performance loggers' records. Two instances would each open, size,
 * rotate and sweep that file on their own. So the component's exporters are
 * handles on one shared instance per directory, which owns every file of
 * it and serves both signals; the handles' worker threads take its lock
 * for each call, one signal at a time.
 */
typedef struct file_shared {
    pthread_mutex_t lock;
    file_exporter_t *fe; /* made for both signals */
    char *dir;           /* the key, with the clock */
    uint64_t (*clock_fn)(void *);
    void *clock_arg;
    unsigned handles, shut_down;
    pid_t forked; /* the process whose fork_child() ran, once per process */
    struct file_shared *next;
} file_shared_t;

typedef struct signal_handle {
    otelc_exporter_t base;
    file_shared_t *shared;
} signal_handle_t;

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static file_shared_t *shared_list;

static otelc_status_t handle_export(otelc_exporter_t *self, const otelc_batch_t *batch,
                                    uint32_t timeout_ms, otelc_export_result_t *result)
{
    file_shared_t *sh = ((signal_handle_t *)self)->shared;
    otelc_status_t st;

    pthread_mutex_lock(&sh->lock);
    st = file_export(&sh->fe->base, batch, timeout_ms, result);
    pthread_mutex_unlock(&sh->lock);
    return st;
}

static otelc_status_t handle_flush(otelc_exporter_t *self, uint32_t timeout_ms)
{
    return file_flush(&((signal_handle_t *)self)->shared->fe->base, timeout_ms);
}

/* The instance shuts down with its last handle; the first waits for the
 * compression only, as a flush does, since the other signal still writes. */
static void handle_shutdown(otelc_exporter_t *self, uint32_t timeout_ms)
{
    file_shared_t *sh = ((signal_handle_t *)self)->shared;

    pthread_mutex_lock(&sh->lock);
    if (++sh->shut_down >= sh->handles)
        file_shutdown(&sh->fe->base, timeout_ms);
    else
        (void)file_flush(&sh->fe->base, timeout_ms);
    pthread_mutex_unlock(&sh->lock);
}

static void handle_destroy(otelc_exporter_t *self)
{
    signal_handle_t *h = (signal_handle_t *)self;
    file_shared_t *sh, **pp;
    unsigned remaining;

    if (h == NULL)
        return;
    sh = h->shared;
    pthread_mutex_lock(&shared_lock);
    pthread_mutex_lock(&sh->lock); /* handle_shutdown() reads the count */
    remaining = --sh->handles;
    pthread_mutex_unlock(&sh->lock);
    if (remaining > 0) {
        sh = NULL;
    } else {
        for (pp = &shared_list; *pp != NULL; pp = &(*pp)->next) {
            if (*pp == sh) {
                *pp = sh->next;
                break;
            }
        }
    }
    pthread_mutex_unlock(&shared_lock);
    if (sh != NULL) {
        file_destroy(&sh->fe->base);
        pthread_mutex_destroy(&sh->lock);
        free(sh->dir);
        free(sh);
    }
    free(h);
}

/* In a child: the locks may have been held by the parent's threads, and
 * the instance's descriptors are the parent's (once per instance). */
static void handle_fork_child(otelc_exporter_t *self)
{
    file_shared_t *sh = ((signal_handle_t *)self)->shared;

    pthread_mutex_init(&shared_lock, NULL);
    if (sh->forked != getpid()) {
        sh->forked = getpid();
        pthread_mutex_init(&sh->lock, NULL);
        file_fork_child(&sh->fe->base);
    }
}

#define HANDLE_OPS(var, sig)                                                                       \
    static const otelc_exporter_ops_t var = {                                                      \
        .version = OTELC_EXPORTER_INTERFACE_VERSION,                                               \
        .name = "file",                                                                            \
        .signals = (sig),                                                                          \
        .export_batch = handle_export,                                                             \
        .force_flush = handle_flush,                                                               \
        .shutdown = handle_shutdown,                                                               \
        .destroy = handle_destroy,                                                                 \
        .fork_child = handle_fork_child,                                                           \
    }
HANDLE_OPS(handle_ops_traces, OTELC_SIGNAL_TRACES);
HANDLE_OPS(handle_ops_logs, OTELC_SIGNAL_LOGS);

/* create() of the component (settings.c): the settings the core read for
 * it. A handle for the signal, on the directory's instance, made by the
 * first. */
otelc_status_t otelc__file_create(const otelc_exporter_args_t *args, otelc_exporter_t **out)
{
    const otelc_file_options_t *o;
    const char *dir;
    signal_handle_t *h;
    file_shared_t *sh;
    otelc_status_t st = OTELC_OK;

    if (args == NULL || out == NULL ||
        (args->signal != OTELC_SIGNAL_TRACES && args->signal != OTELC_SIGNAL_LOGS))
        return OTELC_ERR_INVALID;
    *out = NULL;
    o = args->settings;
    dir = o != NULL && o->directory != NULL && o->directory[0] != '\0' ? o->directory : "logs";
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return OTELC_ERR_NOMEM;
    h->base.ops = args->signal == OTELC_SIGNAL_TRACES ? &handle_ops_traces : &handle_ops_logs;
    pthread_mutex_lock(&shared_lock);
    for (sh = shared_list; sh != NULL; sh = sh->next) {
        if (strcmp(sh->dir, dir) == 0 && sh->clock_fn == args->clock_fn &&
            sh->clock_arg == args->clock_arg)
            break;
    }
    if (sh == NULL) {
        sh = calloc(1, sizeof(*sh));
        if (sh == NULL || (sh->dir = strdup(dir)) == NULL) {
            st = OTELC_ERR_NOMEM;
        } else {
            otelc_exporter_t *x = NULL;

            st = otelc__file_exporter_create(o, OTELC_SIGNAL_TRACES | OTELC_SIGNAL_LOGS,
                                             args->clock_fn, args->clock_arg, &x);
            sh->fe = (file_exporter_t *)x;
        }
        if (st != OTELC_OK) {
            if (sh != NULL)
                free(sh->dir);
            free(sh);
            pthread_mutex_unlock(&shared_lock);
            free(h);
            return st;
        }
        pthread_mutex_init(&sh->lock, NULL);
        sh->clock_fn = args->clock_fn;
        sh->clock_arg = args->clock_arg;
        sh->next = shared_list;
        shared_list = sh;
    }
    pthread_mutex_lock(&sh->lock);
    sh->handles++;
    pthread_mutex_unlock(&sh->lock);
    h->shared = sh;
    pthread_mutex_unlock(&shared_lock);
    *out = &h->base;
    return OTELC_OK;
}

void otelc_file_options_default_sized(otelc_file_options_t *opts, size_t struct_size)
{
    otelc_file_options_t o;

    if (opts == NULL)
        return;
    /* The rows say the defaults. Out of memory, they stay zero, which the
     * exporter reads as its fallbacks ("logs", TRACE, one file). */
    memset(&o, 0, sizeof(o));
    if (otelc_component_defaults("file", &o, sizeof(o)) == OTELC_ERR_NOT_FOUND &&
        otelc_file_register() == OTELC_OK)
        (void)otelc_component_defaults("file", &o, sizeof(o));
    if (struct_size == 0 || struct_size > sizeof(o))
        struct_size = sizeof(o);
    o.struct_size = struct_size;
    memcpy(opts, &o, struct_size);
}

otelc_status_t otelc_file_exporter_create(const otelc_file_options_t *opts, unsigned signals,
                                          otelc_exporter_t **out)
{
    return otelc__file_exporter_create(opts, signals, NULL, NULL, out);
}

otelc_status_t otelc_file_register(void)
{
    return otelc_component_register(&otelc__file_component);
}

/*
 * Loading the library makes "file" a name the environment and the config
 * file can use. A failure here has no caller to return to: it is reported,
 * and a program can still call otelc_file_register() and see the status.
 */
__attribute__((constructor)) static void file_register_at_load(void)
{
    otelc_status_t st = otelc_file_register();
    if (st != OTELC_OK)
        otelc_diag(OTELC_DIAG_ERROR, "exporter.file.register",
                   "the file exporter could not register itself: %s", otelc_status_str(st));
}
