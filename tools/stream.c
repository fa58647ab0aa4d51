/*
 * stream.c: filtered and merged reading of records (see stream.h).
 */
#include "stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

/* ---- filter ------------------------------------------------------------ */

void filter_init(filter_t *f)
{
    memset(f, 0, sizeof(*f));
    f->since = TOOL_TIME_NONE;
    f->until = TOOL_TIME_NONE;
}

void filter_deinit(filter_t *f)
{
    sb_free(&f->scratch);
}

static bool contains(const char *hay, size_t n, const char *needle, size_t k)
{
    if (k == 0)
        return true;
    for (size_t i = 0; n >= k && i <= n - k; i++) {
        const char *p = memchr(hay + i, needle[0], n - k - i + 1u);

        if (p == NULL)
            return false;
        i = (size_t)(p - hay);
        if (memcmp(p, needle, k) == 0)
            return true;
    }
    return false;
}

bool filter_match(filter_t *f, const tool_record_t *r, tstr_t line)
{
    if (f == NULL)
        return true;
    if (f->since != TOOL_TIME_NONE && r->time < f->since)
        return false;
    if (f->until != TOOL_TIME_NONE && r->time >= f->until)
        return false;
    if (f->min_severity > 0 && r->kind == REC_LOG && r->severity < f->min_severity)
        return false;
    if (f->trace_id != NULL && !hex_id_equal(r->trace_id, f->trace_id))
        return false;
    if (f->correlation_id != NULL && !tstr_eq(r->correlation_id, f->correlation_id))
        return false;
    if (f->event != NULL && !tstr_eq(r->event, f->event))
        return false;
    if (f->logger != NULL) {
        size_t k = strlen(f->logger);

        /* A prefix up to a separator, as the file exporter routes loggers
         * to channels: "trading" is "trading.orders", not "tradingview". */
        if (k > 0 && (r->logger.n < k || memcmp(r->logger.p, f->logger, k) != 0))
            return false;
        if (k > 0 && r->logger.n > k && strchr("._-:/", r->logger.p[k]) == NULL &&
            strchr("._-:/", f->logger[k - 1]) == NULL)
            return false;
    }
    if (f->grep != NULL) {
        size_t k = strlen(f->grep);

        if (contains(r->message.p, r->message.n, f->grep, k))
            return true;
        /* A flat line is the record itself; an OTLP line holds a whole
         * batch, so the record's own flat JSON is searched instead. */
        if (r->source == REC_FLAT || r->kind == REC_SPAN)
            return contains(line.p, line.n, f->grep, k);
        sb_reset(&f->scratch);
        out_json(&f->scratch, r);
        return contains(f->scratch.p, f->scratch.len, f->grep, k);
    }
    return true;
}

/* ---- one file ---------------------------------------------------------- */

static void rr_init(record_reader_t *rr)
{
    memset(rr, 0, sizeof(*rr));
    json_arena_init(&rr->arena);
}

bool rr_open(record_reader_t *rr, const char *path, uint64_t start, uint64_t stop)
{
    rr_init(rr);
    if (!lr_open(&rr->lr, path, start, stop)) {
        rr->failed = true;
        return false;
    }
    rr->open = true;
    return true;
}

bool rr_open_follow(record_reader_t *rr, const char *path, uint64_t start)
{
    if (!rr_open(rr, path, start, UINT64_MAX))
        return false;
    rr->lr.follow = true;
    return true;
}

static bool blank(tstr_t line)
{
    for (size_t i = 0; i < line.n; i++) {
        char c = line.p[i];

        if (c != ' ' && c != '\t' && c != '\r')
            return false;
    }
    return true;
}

const tool_record_t *rr_next(record_reader_t *rr)
{
    if (!rr->open)
        return NULL;
    for (;;) {
        json_value_t *root;
        json_error_t err;
        const char *why;
        tstr_t line;
        lr_status_t st;

        if (rr->next < rr->recs.n)
            return &rr->recs.v[rr->next++];
        rr->recs.n = 0;
        rr->next = 0;
        st = lr_next(&rr->lr, &line);
        switch (st) {
        case LR_LINE:
            break;
        case LR_PARTIAL:
            /* A writer that died mid-line left it (FORMAT.md): skipped. */
            rr->partial++;
            continue;
        case LR_SKIPPED:
            rr->bad_lines++;
            continue;
        case LR_ERROR:
            rr->failed = true;
            return NULL;
        case LR_END:
        default:
            return NULL;
        }
        rr->lines++;
        if (blank(line))
            continue;
        json_arena_reset(&rr->arena);
        if (!json_parse(&rr->arena, line.p, line.n, &root, &err)) {
            rr->bad_lines++;
            tool_report_line(rr->lr.path, lr_lineno(&rr->lr), "invalid JSON at byte %zu: %s",
                             err.pos + 1u, err.msg);
            continue;
        }
        why = record_parse(root, &rr->recs);
        if (why != NULL) {
            rr->bad_lines++;
            tool_report_line(rr->lr.path, lr_lineno(&rr->lr), "%s", why);
            continue;
        }
        rr->line = line;
    }
}

void rr_close(record_reader_t *rr)
{
    if (rr->open)
        lr_close(&rr->lr);
    json_arena_free(&rr->arena);
    record_list_free(&rr->recs);
    rr->open = false;
}

/* ---- one channel ------------------------------------------------------- */

bool file_in_window(const tool_channel_t *ch, size_t i, const filter_t *f)
{
    const tool_file_t *file = &ch->files[i];

    if (f == NULL || file->current)
        return true;
    /* A rotated piece holds records from the start of its date on. */
    if (f->until != TOOL_TIME_NONE &&
        f->until <= time_local_midnight(file->year, file->month, file->day))
        return false;
    /* Its records come before those of the next rotated piece, which start
     * on that piece's date: they end before the day after it. */
    if (f->since != TOOL_TIME_NONE && i + 1u < ch->n_files && !ch->files[i + 1u].current) {
        const tool_file_t *next = &ch->files[i + 1u];
        int y, m, d;

        civil_from_days(next->day_number + 1, &y, &m, &d);
        if (f->since >= time_local_midnight(y, m, d))
            return false;
    }
    return true;
}

void chan_open(chan_reader_t *cr, const tool_channel_t *ch, filter_t *filter, unsigned want)
{
    memset(cr, 0, sizeof(*cr));
    cr->ch = ch;
    cr->filter = filter;
    cr->want = want;
    rr_init(&cr->rr);
}

static void close_file(chan_reader_t *cr)
{
    cr->bad_lines += cr->rr.bad_lines;
    cr->partial += cr->rr.partial;
    cr->files_failed += cr->rr.failed;
    rr_close(&cr->rr);
    rr_init(&cr->rr);
}

/* Reads on to the next record that is wanted and passes the filter. */
static void chan_fetch(chan_reader_t *cr)
{
    cr->current = NULL;
    while (cr->file_index < cr->ch->n_files) {
        const tool_record_t *r;

        if (!cr->rr.open && !cr->rr.failed) {
            if (!file_in_window(cr->ch, cr->file_index, cr->filter) ||
                !rr_open(&cr->rr, cr->ch->files[cr->file_index].path, 0, UINT64_MAX)) {
                close_file(cr);
                cr->file_index++;
                continue;
            }
        }
        r = rr_next(&cr->rr);
        if (r == NULL) {
            close_file(cr);
            cr->file_index++;
            continue;
        }
        if (!((r->kind == REC_LOG && (cr->want & WANT_LOGS)) ||
              (r->kind == REC_SPAN && (cr->want & WANT_SPANS))))
            continue;
        if (!filter_match(cr->filter, r, cr->rr.line))
            continue;
        cr->records++;
        cr->current = r;
        return;
    }
}

const tool_record_t *chan_peek(chan_reader_t *cr)
{
    if (!cr->started) {
        cr->started = true;
        chan_fetch(cr);
    }
    return cr->current;
}

void chan_advance(chan_reader_t *cr)
{
    if (!cr->started)
        chan_peek(cr);
    if (cr->current != NULL)
        chan_fetch(cr);
}

tstr_t chan_line(const chan_reader_t *cr)
{
    return cr->rr.line;
}

void chan_close(chan_reader_t *cr)
{
    close_file(cr);
    json_arena_free(&cr->rr.arena);
}

/* ---- several channels -------------------------------------------------- */

bool merged_open(merged_t *m, const tool_fileset_t *set, const char *channel, filter_t *filter,
                 unsigned want)
{
    memset(m, 0, sizeof(*m));
    m->readers = xcalloc(set->n_channels + 1u, sizeof(*m->readers));
    if (channel != NULL) {
        const tool_channel_t *ch = fileset_channel(set, channel);

        if (ch == NULL) {
            char *name = xmalloc(strlen(channel) + 5u);
            char *path;

            strcpy(name, channel);
            strcat(name, ".log");
            path = path_join(set->dir, name);
            errno = ENOENT;
            tool_error_errno(path);
            free(path);
            free(name);
            free(m->readers);
            m->readers = NULL;
            return false;
        }
        chan_open(&m->readers[m->n++], ch, filter, want);
    } else {
        for (size_t i = 0; i < set->n_channels; i++) {
            const tool_channel_t *ch = &set->channels[i];
            bool traces = strcmp(ch->name, TRACES_CHANNEL) == 0;

            if ((want == WANT_SPANS && !traces) || (want == WANT_LOGS && traces))
                continue;
            if (want != WANT_SPANS && strcmp(ch->name, ERRORS_CHANNEL) == 0) {
                m->dedup = true;
                m->errors_at = m->n;
            }
            chan_open(&m->readers[m->n++], ch, filter, want);
        }
        /* With errors.log alone there is nothing to collapse. */
        if (m->n < 2)
            m->dedup = false;
    }
    m->taken = m->n;
    return true;
}

/*
 * The copy in errors.log and the record in its own channel have the same
 * time, so with the other channels first on equal times the original comes
 * out first and the copy is dropped. Files not in time order can reverse
 * that; then the copy is kept and the original dropped, so either way the
 * record is printed once.
 */
static bool is_duplicate(merged_t *m, size_t i, const tool_record_t *r)
{
    uint64_t id;

    if (!m->dedup || r->kind != REC_LOG || r->severity < 17)
        return false;
    id = record_identity(r);
    if (i == m->errors_at) {
        if (hashcount_take(&m->originals, id))
            return true;
        hashcount_add(&m->copies, id);
        return false;
    }
    if (hashcount_take(&m->copies, id))
        return true;
    hashcount_add(&m->originals, id);
    return false;
}

const tool_record_t *merged_next(merged_t *m, const char **channel)
{
    if (m->taken < m->n) {
        chan_advance(&m->readers[m->taken]);
        m->taken = m->n;
    }
    for (;;) {
        size_t best = m->n;
        const tool_record_t *best_r = NULL;

        for (size_t i = 0; i < m->n; i++) {
            const tool_record_t *r = chan_peek(&m->readers[i]);

            if (r == NULL)
                continue;
            if (best_r == NULL || r->time < best_r->time ||
                (r->time == best_r->time && m->dedup && best == m->errors_at)) {
                best = i;
                best_r = r;
            }
        }
        if (best_r == NULL)
            return NULL;
        if (is_duplicate(m, best, best_r)) {
            chan_advance(&m->readers[best]);
            continue;
        }
        m->taken = best;
        if (channel != NULL)
            *channel = m->readers[best].ch->name;
        return best_r;
    }
}

uint64_t merged_bad_lines(const merged_t *m)
{
    uint64_t n = 0;

    for (size_t i = 0; i < m->n; i++)
        n += m->readers[i].bad_lines + m->readers[i].rr.bad_lines;
    return n;
}

uint64_t merged_failed_files(const merged_t *m)
{
    uint64_t n = 0;

    for (size_t i = 0; i < m->n; i++)
        n += m->readers[i].files_failed + m->readers[i].rr.failed;
    return n;
}

void merged_close(merged_t *m)
{
    for (size_t i = 0; i < m->n; i++)
        chan_close(&m->readers[i]);
    free(m->readers);
    hashcount_free(&m->originals);
    hashcount_free(&m->copies);
    memset(m, 0, sizeof(*m));
}
