/*
 * cmd_report.c: the commands that summarise a log directory: stats, status
 * and health.
 */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

/* Events listed per channel by stats, most frequent first. */
#define STATS_MAX_EVENTS 20
/* Operations listed by stats, slowest first. */
#define STATS_SLOWEST 10
/* Lines read back from the end of a file to find its newest record. */
#define NEWEST_FIRST_LINES 16u

static int compare_by_count(const void *pa, const void *pb)
{
    const strmap_entry_t *a = *(const strmap_entry_t *const *)pa;
    const strmap_entry_t *b = *(const strmap_entry_t *const *)pb;

    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return strcmp(a->key, b->key);
}

static int compare_by_avg(const void *pa, const void *pb)
{
    const strmap_entry_t *a = *(const strmap_entry_t *const *)pa;
    const strmap_entry_t *b = *(const strmap_entry_t *const *)pb;
    double x = a->sum / (double)a->count, y = b->sum / (double)b->count;

    if (x != y)
        return x > y ? -1 : 1;
    return strcmp(a->key, b->key);
}

static uint64_t channel_size(const tool_channel_t *ch)
{
    uint64_t size = 0;

    for (size_t i = 0; i < ch->n_files; i++)
        size += ch->files[i].size;
    return size;
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* The channels a command covers: the one named, or all. */
static bool select_channels(const tool_fileset_t *set, const char *name, size_t *from, size_t *to)
{
    if (name == NULL) {
        *from = 0;
        *to = set->n_channels;
        return true;
    }
    for (size_t i = 0; i < set->n_channels; i++) {
        if (strcmp(set->channels[i].name, name) == 0) {
            *from = i;
            *to = i + 1u;
            return true;
        }
    }
    tool_error("%s/%s.log: No such file or directory", set->dir, name);
    return false;
}

/* ---- stats ------------------------------------------------------------- */

static void stats_channel(tool_opts_t *o, const tool_channel_t *ch, strmap_t *ops, strbuf_t *sb,
                          bool *failed)
{
    uint64_t levels[7] = { 0 };
    uint64_t logs = 0, spans = 0, span_errors = 0;
    strmap_t events = { 0 };
    chan_reader_t cr;
    const tool_record_t *r;
    char size[32];

    chan_open(&cr, ch, &o->filter, WANT_LOGS | WANT_SPANS);
    for (; (r = chan_peek(&cr)) != NULL; chan_advance(&cr)) {
        if (r->kind == REC_SPAN) {
            strmap_entry_t *e = strmap_get(ops, r->name.p != NULL ? r->name.p : "", r->name.n);

            spans++;
            span_errors += r->status_code == SPAN_STATUS_ERROR;
            e->count++;
            e->sum += r->duration_ms;
            if (r->duration_ms > e->max)
                e->max = r->duration_ms;
            continue;
        }
        logs++;
        levels[severity_range(r->severity) + 1]++;
        if (r->event.n > 0)
            strmap_get(&events, r->event.p, r->event.n)->count++;
    }
    chan_close(&cr);
    *failed |= cr.files_failed > 0;

    format_size(channel_size(ch), size);
    sb_printf(sb, "%s: %zu %s, %s", ch->name, ch->n_files, plural(ch->n_files, "file", "files"),
              size);
    if (logs > 0 || spans == 0)
        sb_printf(sb, ", %llu %s", (unsigned long long)logs, plural(logs, "record", "records"));
    if (spans > 0)
        sb_printf(sb, ", %llu %s (%llu with status ERROR)", (unsigned long long)spans,
                  plural(spans, "span", "spans"), (unsigned long long)span_errors);
    if (cr.bad_lines > 0)
        sb_printf(sb, ", %llu corrupt %s", (unsigned long long)cr.bad_lines,
                  plural(cr.bad_lines, "line", "lines"));
    sb_putc(sb, '\n');
    if (logs > 0) {
        const char *sep = "";

        SB_LIT(sb, "  levels:");
        for (int i = 0; i < 7; i++) {
            if (levels[i] == 0)
                continue;
            sb_printf(sb, "%s %s %llu", sep, i == 0 ? "UNKNOWN" : severity_range_names[i - 1],
                      (unsigned long long)levels[i]);
            sep = ",";
        }
        sb_putc(sb, '\n');
    }
    if (events.used > 0) {
        size_t n;
        strmap_entry_t **v = strmap_entries(&events, &n);

        qsort(v, n, sizeof(*v), compare_by_count);
        SB_LIT(sb, "  events:");
        for (size_t i = 0; i < n && i < STATS_MAX_EVENTS; i++) {
            sb_printf(sb, "%s ", i > 0 ? "," : "");
            text_put_escaped(sb, v[i]->key, v[i]->key_len, false);
            sb_printf(sb, " %llu", (unsigned long long)v[i]->count);
        }
        if (n > STATS_MAX_EVENTS)
            sb_printf(sb, ", and %zu more", n - STATS_MAX_EVENTS);
        sb_putc(sb, '\n');
        free(v);
    }
    strmap_free(&events);
}

int cmd_stats(tool_opts_t *o)
{
    const char *name = o->args[0] != NULL ? o->args[0] : o->channel;
    tool_fileset_t set;
    strmap_t ops = { 0 };
    strbuf_t sb = STRBUF_INIT;
    size_t from, to;
    bool failed = false;
    int status = 0;

    if (!fileset_scan(o->dir, &set))
        return 1;
    if (!select_channels(&set, name, &from, &to)) {
        fileset_free(&set);
        return 1;
    }
    if (set.n_channels == 0)
        sb_printf(&sb, "no log files in %s\n", o->dir);
    for (size_t i = from; i < to; i++)
        stats_channel(o, &set.channels[i], &ops, &sb, &failed);
    if (ops.used > 0) {
        size_t n;
        strmap_entry_t **v = strmap_entries(&ops, &n);

        qsort(v, n, sizeof(*v), compare_by_avg);
        sb_printf(&sb, "\nslowest operations (by average duration):\n");
        sb_printf(&sb, "  %-32s %8s %12s %12s\n", "name", "count", "avg ms", "max ms");
        for (size_t i = 0; i < n && i < STATS_SLOWEST; i++) {
            char avg[32], max[32];
            strbuf_t label = STRBUF_INIT;

            text_put_escaped(&label, v[i]->key, v[i]->key_len, false);
            format_ms(v[i]->sum / (double)v[i]->count, avg);
            format_ms(v[i]->max, max);
            sb_printf(&sb, "  %-32s %8llu %12s %12s\n", label.len > 0 ? label.p : "-",
                      (unsigned long long)v[i]->count, avg, max);
            sb_free(&label);
        }
        free(v);
    }
    if (!write_out(stdout, "stdout", &sb) || fflush(stdout) != 0)
        status = 1;
    if (failed)
        status = 1;
    strmap_free(&ops);
    sb_free(&sb);
    fileset_free(&set);
    return status;
}

/* ---- status ------------------------------------------------------------ */

/* The time of the newest record in [start, stop) of a file; false if none. */
static bool newest_in(const char *path, uint64_t start, uint64_t stop, tool_time_t *t, bool *failed)
{
    record_reader_t rr;
    const tool_record_t *r;
    bool found = false;

    if (!rr_open(&rr, path, start, stop)) {
        *failed = true;
        rr_close(&rr);
        return false;
    }
    while ((r = rr_next(&rr)) != NULL) {
        if (!found || r->time > *t)
            *t = r->time;
        found = true;
    }
    *failed |= rr.failed;
    rr_close(&rr);
    return found;
}

/* The newest record of a channel: read back from the end of its newest
 * file holding one. */
static bool newest_record(const tool_channel_t *ch, tool_time_t *t, bool *failed)
{
    for (size_t i = ch->n_files; i > 0; i--) {
        const tool_file_t *f = &ch->files[i - 1u];
        uint64_t k, start, end, stop = UINT64_MAX;

        if (f->gz) {
            if (newest_in(f->path, 0, UINT64_MAX, t, failed))
                return true;
            continue;
        }
        for (k = NEWEST_FIRST_LINES;; k *= 4u) {
            if (!file_tail_offset(f->path, k, &start, &end)) {
                *failed = true;
                break;
            }
            if (newest_in(f->path, start, stop, t, failed))
                return true;
            if (start == 0 || k > UINT64_MAX / 4u)
                break;
            stop = start;
        }
    }
    return false;
}

static size_t name_width(const tool_fileset_t *set, size_t from, size_t to)
{
    size_t w = 7;

    for (size_t i = from; i < to; i++) {
        size_t n = strlen(set->channels[i].name);

        if (n > w)
            w = n;
    }
    return w;
}

int cmd_status(tool_opts_t *o)
{
    tool_fileset_t set;
    strbuf_t sb = STRBUF_INIT;
    size_t from, to;
    int width;
    bool failed = false;
    int status = 0;

    if (!fileset_scan(o->dir, &set))
        return 1;
    if (!select_channels(&set, o->args[0] != NULL ? o->args[0] : o->channel, &from, &to)) {
        fileset_free(&set);
        return 1;
    }
    width = (int)name_width(&set, from, to);
    if (set.n_channels == 0)
        sb_printf(&sb, "no log files in %s\n", o->dir);
    else
        sb_printf(&sb, "%-*s %5s %10s  %-23s %8s %9s\n", width, "CHANNEL", "FILES", "SIZE",
                  "NEWEST RECORD", "AGE", "MODIFIED");
    for (size_t i = from; i < to; i++) {
        const tool_channel_t *ch = &set.channels[i];
        tool_time_t newest = 0, mtime = ch->files[0].mtime;
        char size[32], when[32] = "-", age[32] = "-", mod[32];

        for (size_t j = 1; j < ch->n_files; j++) {
            if (ch->files[j].mtime > mtime)
                mtime = ch->files[j].mtime;
        }
        format_size(channel_size(ch), size);
        if (newest_record(ch, &newest, &failed)) {
            time_format_local(newest, when);
            format_age(o->now - newest, age);
        }
        format_age(o->now - mtime, mod);
        sb_printf(&sb, "%-*s %5zu %10s  %-23s %8s %9s\n", width, ch->name, ch->n_files, size, when,
                  age, mod);
    }
    if (!write_out(stdout, "stdout", &sb) || fflush(stdout) != 0)
        status = 1;
    if (failed)
        status = 1;
    sb_free(&sb);
    fileset_free(&set);
    return status;
}

/* ---- health ------------------------------------------------------------ */

int cmd_health(tool_opts_t *o)
{
    tool_fileset_t set;
    strbuf_t sb = STRBUF_INIT, reasons = STRBUF_INIT;
    filter_t window;
    size_t from, to;
    int width;
    uint64_t total = 0;
    bool unhealthy = false;
    int status = 0;

    if (!fileset_scan(o->dir, &set))
        return 1;
    if (!select_channels(&set, o->args[0] != NULL ? o->args[0] : o->channel, &from, &to)) {
        fileset_free(&set);
        return 1;
    }
    filter_init(&window);
    window.since = o->now - 3600LL * 1000000LL;
    width = (int)name_width(&set, from, to);
    sb_printf(&sb, "%-*s %8s %7s %7s  %s\n", width, "CHANNEL", "RECORDS", "ERRORS", "RATE",
              "STATE");
    for (size_t i = from; i < to; i++) {
        const tool_channel_t *ch = &set.channels[i];
        /* errors.log holds ERROR records only: its rate says nothing. */
        bool rated = strcmp(ch->name, ERRORS_CHANNEL) != 0;
        uint64_t records = 0, errors = 0;
        chan_reader_t cr;
        const tool_record_t *r;
        bool bad = false;
        char rate[16] = "-";

        chan_open(&cr, ch, &window, WANT_LOGS | WANT_SPANS);
        for (; (r = chan_peek(&cr)) != NULL; chan_advance(&cr)) {
            records++;
            if (r->kind == REC_LOG ? r->severity >= 17 : r->status_code == SPAN_STATUS_ERROR)
                errors++;
        }
        chan_close(&cr);
        total += records;
        if (records > 0 && rated) {
            double e = (double)errors / (double)records;

            snprintf(rate, sizeof(rate), "%.1f%%", e * 100.0);
            if (e > o->max_error_rate) {
                sb_printf(&reasons,
                          "unhealthy: %s: %llu of %llu records in the last hour are errors "
                          "(%.1f%%, more than %.1f%%)\n",
                          ch->name, (unsigned long long)errors, (unsigned long long)records,
                          e * 100.0, o->max_error_rate * 100.0);
                bad = true;
            }
        }
        if (cr.bad_lines > 0) {
            sb_printf(&reasons, "unhealthy: %s: %llu corrupt %s\n", ch->name,
                      (unsigned long long)cr.bad_lines, plural(cr.bad_lines, "line", "lines"));
            bad = true;
        }
        if (cr.files_failed > 0) {
            sb_printf(&reasons, "unhealthy: %s: %llu unreadable %s\n", ch->name,
                      (unsigned long long)cr.files_failed,
                      plural(cr.files_failed, "file", "files"));
            bad = true;
        }
        unhealthy |= bad;
        sb_printf(&sb, "%-*s %8llu %7llu %7s  %s\n", width, ch->name, (unsigned long long)records,
                  (unsigned long long)errors, rate, bad ? "UNHEALTHY" : "ok");
    }
    if (from == to)
        sb_printf(&reasons, "unhealthy: no log files in %s\n", o->dir);
    unhealthy |= from == to;
    if (!unhealthy)
        sb_printf(&reasons, "healthy: %zu %s, %llu %s in the last hour\n", to - from,
                  plural(to - from, "channel", "channels"), (unsigned long long)total,
                  plural(total, "record", "records"));
    sb_put(&sb, reasons.p, reasons.len);
    if (!write_out(stdout, "stdout", &sb) || fflush(stdout) != 0)
        status = 1;
    if (unhealthy)
        status = 1;
    filter_deinit(&window);
    sb_free(&sb);
    sb_free(&reasons);
    fileset_free(&set);
    return status;
}
