/*
 * console.c: the console exporter, human-readable text for development.
 *
 * One line per record:
 *
 *   2025-12-18 10:30:45.123 | INFO     | trading.signals | LONG signal symbol=BTCUSDT qty=100 ...
 *   2025-12-18 10:30:45.123 | SPAN     | trading.engine | place_order 1.234 ms status=ERROR ...
 *
 * The lines of a batch are built in a 64 KiB buffer inside the instance and
 * written with write(2) when it fills and at the end of the batch, so a batch
 * costs a handful of system calls. Writes stop at line boundaries whenever a
 * line fits in the buffer, so that the lines of otelc and those the host
 * writes to the same descriptor do not cut through one another.
 *
 * Every string that reaches the terminal is escaped: control characters
 * (ESC included) and invalid UTF-8 never reach it raw, so a hostile attribute
 * can neither break the one-line-per-record shape nor drive the terminal.
 *
 * It is built into the core (it needs nothing but libc), so that
 * OTEL_*_EXPORTER=console always works, and it sees only the public API:
 * it is written as any exporter of its own library would be.
 */
#include "console.h"

#include <otelc/text.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CONSOLE_BUF_SIZE 65536u

/* Width the level field is padded to: the longest name, "CRITICAL". */
#define LEVEL_WIDTH 8

#define COLOR_RESET "\x1b[0m"

typedef struct console_exporter {
    otelc_exporter_t base;
    int fd;
    int min_severity;
    bool color;

    /* State of the export call in progress; reset at its start. The first
     * write error wins and turns every later append into a no-op. */
    otelc_status_t status;
    uint64_t deadline_ns; /* CLOCK_MONOTONIC; 0 means "do not wait" */
    bool got_epipe;
    bool need_space;   /* the next field of the line is preceded by a space */
    size_t len;        /* bytes in buf */
    size_t line_start; /* offset in buf where the line being built starts */

    /* localtime_r() is the costliest call per record; records of one second
     * share the text of their date and time up to the seconds. */
    bool time_cached;
    int64_t time_sec;
    char time_text[32];
    size_t time_len;

    char buf[CONSOLE_BUF_SIZE];
} console_exporter_t;

static const char hex_digits[] = "0123456789abcdef";

/* ---- writing ----------------------------------------------------------- */

static uint64_t monotonic_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Waits until the descriptor takes more bytes or the export deadline passes.
 * Only a non-blocking descriptor says EAGAIN; a blocking one that a reader
 * does not drain blocks in write(2) itself, and that wait cannot be bounded
 * without changing the descriptor's flags, which belong to the host.
 */
static bool wait_writable(console_exporter_t *c)
{
    for (;;) {
        uint64_t now = monotonic_ns();
        struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };
        int r;

        if (c->deadline_ns == 0 || now >= c->deadline_ns)
            return false;
        /* Round up so that a wait shorter than a millisecond is not a busy
         * loop; a wait longer than poll's int can say is cut to a day (the
         * loop then waits again), never wrapped to a negative "forever". */
        uint64_t ms = (c->deadline_ns - now + 999999u) / 1000000u;
        r = poll(&pfd, 1, ms > 86400000u ? 86400000 : (int)ms);
        if (r > 0)
            return true;
        if (r < 0 && errno != EINTR)
            return false;
    }
}

static void write_all(console_exporter_t *c, const char *p, size_t n)
{
    while (n > 0 && c->status == OTELC_OK) {
        ssize_t w = write(c->fd, p, n);

        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_writable(c))
                c->status = OTELC_ERR_TIMEOUT;
        } else {
            if (w < 0 && errno == EPIPE)
                c->got_epipe = true;
            /* write(2) returning 0 for a non-empty buffer makes no progress:
             * treat it as the error it is rather than loop. */
            c->status = OTELC_ERR_IO;
        }
    }
}

/*
 * Makes room in the buffer. Complete lines are written and the line being
 * built moves to the front; only a line longer than the whole buffer is
 * written in pieces.
 */
static void flush_lines(console_exporter_t *c)
{
    if (c->line_start > 0) {
        write_all(c, c->buf, c->line_start);
        memmove(c->buf, c->buf + c->line_start, c->len - c->line_start);
        c->len -= c->line_start;
        c->line_start = 0;
    } else {
        write_all(c, c->buf, c->len);
        c->len = 0;
    }
}

static void put(console_exporter_t *c, const char *p, size_t n)
{
    while (n > 0 && c->status == OTELC_OK) {
        size_t room = CONSOLE_BUF_SIZE - c->len;
        size_t take = n < room ? n : room;

        memcpy(c->buf + c->len, p, take);
        c->len += take;
        p += take;
        n -= take;
        if (n > 0)
            flush_lines(c);
    }
}

static void put_char(console_exporter_t *c, char ch)
{
    if (c->len == CONSOLE_BUF_SIZE)
        flush_lines(c);
    if (c->status == OTELC_OK)
        c->buf[c->len++] = ch;
}

#define PUT_LITERAL(c, lit) put((c), (lit), sizeof(lit) - 1u)

static void put_cstr(console_exporter_t *c, const char *s)
{
    put(c, s, strlen(s));
}

/* Starts a "key=value" field of the line: a space unless it is the first. */
static void put_field_start(console_exporter_t *c)
{
    if (c->need_space)
        put_char(c, ' ');
    c->need_space = true;
}

static void put_u64(console_exporter_t *c, uint64_t v)
{
    char tmp[OTELC_TEXT_U64_MAX];

    put(c, tmp, (size_t)(otelc_text_u64(tmp, v) - tmp));
}

static void put_i64(console_exporter_t *c, int64_t v)
{
    char tmp[OTELC_TEXT_I64_MAX];

    put(c, tmp, (size_t)(otelc_text_i64(tmp, v) - tmp));
}

/* Doubles are printed for people, not as JSON: 0.1 as 0.1, 150 as 150, -0
 * as -0 and nan as nan, no value rounded away, and a '.' whatever the
 * host's locale (a decimal comma would read as an array separator). */
static void put_double(console_exporter_t *c, double d)
{
    char tmp[OTELC_TEXT_DOUBLE_MAX];

    put(c, tmp, otelc_text_double(tmp, d));
}

static void put_hex(console_exporter_t *c, const uint8_t *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char pair[2] = { hex_digits[bytes[i] >> 4], hex_digits[bytes[i] & 0x0f] };

        put(c, pair, 2);
    }
}

/* ---- strings ----------------------------------------------------------- */

/* The text module's sink: the console's own buffer. */
static void put_sink(void *ctx, const char *p, size_t n)
{
    put(ctx, p, n);
}

/* `s` with every byte that must not reach a terminal escaped (otelc/text.h):
 * controls, DEL, C1 controls, ill-formed UTF-8, and in a quoted value `"`
 * and `\`, so that the value reads back unambiguously; free text (messages,
 * names) keeps its backslashes as they are. */
static void put_escaped(console_exporter_t *c, const char *s, size_t n, bool quoted)
{
    otelc_text_terminal(s, n, quoted, put_sink, c);
}

static void put_value_string(console_exporter_t *c, const char *s, size_t n, bool in_array)
{
    if (s == NULL)
        n = 0;
    else if (n == OTELC_NUL_TERMINATED)
        n = strlen(s);
    if (otelc_text_needs_quotes(s, n, in_array)) {
        put_char(c, '"');
        put_escaped(c, s, n, true);
        put_char(c, '"');
    } else {
        put(c, s, n);
    }
}

static void put_text(console_exporter_t *c, const otelc_str_t *str)
{
    if (str->ptr != NULL)
        put_escaped(c, str->ptr, str->len, false);
}

/* ---- fields ------------------------------------------------------------ */

static void put_attr_value(console_exporter_t *c, const otelc_attr_t *a)
{
    switch (a->type) {
    case OTELC_ATTR_STRING:
        put_value_string(c, a->v.s, a->len, false);
        return;
    case OTELC_ATTR_BOOL:
        if (a->v.b)
            PUT_LITERAL(c, "true");
        else
            PUT_LITERAL(c, "false");
        return;
    case OTELC_ATTR_INT:
        put_i64(c, a->v.i);
        return;
    case OTELC_ATTR_DOUBLE:
        put_double(c, a->v.d);
        return;
    case OTELC_ATTR_BYTES:
        if (a->v.bytes == NULL || a->len == 0)
            PUT_LITERAL(c, "\"\"");
        else
            put_hex(c, a->v.bytes, a->len);
        return;
    default:
        break;
    }

    if (a->type < OTELC_ATTR_STRING_ARRAY || a->type > OTELC_ATTR_DOUBLE_ARRAY) {
        PUT_LITERAL(c, "?");
        return;
    }
    put_char(c, '[');
    /* A NULL array with a count is malformed; print it as empty rather than
     * read through the pointer. */
    for (size_t i = 0; a->v.sa != NULL && i < a->len; i++) {
        if (i > 0)
            put_char(c, ',');
        if (a->type == OTELC_ATTR_STRING_ARRAY)
            put_value_string(c, a->v.sa[i], OTELC_NUL_TERMINATED, true);
        else if (a->type == OTELC_ATTR_BOOL_ARRAY)
            put_cstr(c, a->v.ba[i] ? "true" : "false");
        else if (a->type == OTELC_ATTR_INT_ARRAY)
            put_i64(c, a->v.ia[i]);
        else
            put_double(c, a->v.da[i]);
    }
    put_char(c, ']');
}

static void put_attrs(console_exporter_t *c, const otelc_attr_t *attrs, size_t n)
{
    for (size_t i = 0; attrs != NULL && i < n; i++) {
        put_field_start(c);
        put_value_string(c, attrs[i].key, OTELC_NUL_TERMINATED, false);
        put_char(c, '=');
        put_attr_value(c, &attrs[i]);
    }
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0)
            return false;
    }
    return true;
}

static void put_ids(console_exporter_t *c, const otelc_span_context_t *ctx)
{
    /* The same test as otelc_span_context_is_valid(): both ids non-zero. */
    if (all_zero(ctx->trace_id, OTELC_TRACE_ID_SIZE) || all_zero(ctx->span_id, OTELC_SPAN_ID_SIZE))
        return;
    put_field_start(c);
    PUT_LITERAL(c, "trace_id=");
    put_hex(c, ctx->trace_id, OTELC_TRACE_ID_SIZE);
    PUT_LITERAL(c, " span_id=");
    put_hex(c, ctx->span_id, OTELC_SPAN_ID_SIZE);
}

/* "2025-12-18 10:30:45.123": local time, milliseconds. */
static void put_time(console_exporter_t *c, uint64_t time_ns)
{
    int64_t sec = (int64_t)(time_ns / 1000000000u);
    unsigned ms = (unsigned)(time_ns % 1000000000u / 1000000u);
    char frac[4] = { '.', (char)('0' + ms / 100u), (char)('0' + ms / 10u % 10u),
                     (char)('0' + ms % 10u) };

    if (!c->time_cached || c->time_sec != sec) {
        time_t t = (time_t)sec;
        struct tm tm;

        if (localtime_r(&t, &tm) != NULL)
            c->time_len = strftime(c->time_text, sizeof(c->time_text), "%Y-%m-%d %H:%M:%S", &tm);
        else
            c->time_len = 0;
        if (c->time_len == 0) {
            memcpy(c->time_text, "0000-00-00 00:00:00", 19);
            c->time_len = 19;
        }
        c->time_sec = sec;
        c->time_cached = true;
    }
    put(c, c->time_text, c->time_len);
    put(c, frac, sizeof(frac));
}

/* " | LEVEL    | ", the level in its colour when colours are on. */
static void put_level(console_exporter_t *c, const char *name, const char *color)
{
    size_t n = strlen(name);

    PUT_LITERAL(c, " | ");
    if (c->color)
        put_cstr(c, color);
    put(c, name, n);
    for (; n < LEVEL_WIDTH; n++)
        put_char(c, ' ');
    if (c->color)
        PUT_LITERAL(c, COLOR_RESET);
    PUT_LITERAL(c, " | ");
}

static void put_scope(console_exporter_t *c, const otelc_scope_info_t *scope)
{
    if (scope != NULL && scope->name.ptr != NULL && scope->name.len > 0)
        put_text(c, &scope->name);
    else
        put_char(c, '-');
    PUT_LITERAL(c, " | ");
}

/* Begins a record's line; end_line() makes it complete. */
static void begin_line(console_exporter_t *c)
{
    c->line_start = c->len;
    c->need_space = false;
}

static void end_line(console_exporter_t *c)
{
    put_char(c, '\n');
    c->line_start = c->len;
}

/* ---- records ----------------------------------------------------------- */

static void put_log(console_exporter_t *c, const otelc_log_data_t *r)
{
    const char *name, *color;

    otelc_text_level(r->severity, &name, &color);
    begin_line(c);
    put_time(c, r->time_ns);
    put_level(c, name, color);
    put_scope(c, r->scope);
    if (r->body.ptr != NULL && r->body.len > 0) {
        put_text(c, &r->body);
        c->need_space = true;
    }
    if (r->event_name.ptr != NULL && r->event_name.len > 0) {
        put_field_start(c);
        PUT_LITERAL(c, "event=");
        put_value_string(c, r->event_name.ptr, r->event_name.len, false);
    }
    put_attrs(c, r->attrs, r->n_attrs);
    put_ids(c, &r->ctx);
    if (r->correlation_id.ptr != NULL && r->correlation_id.len > 0) {
        put_field_start(c);
        PUT_LITERAL(c, "correlation_id=");
        put_value_string(c, r->correlation_id.ptr, r->correlation_id.len, false);
    }
    end_line(c);
}

static const char *kind_name(otelc_span_kind_t kind)
{
    switch (kind) {
    case OTELC_SPAN_KIND_SERVER:
        return "server";
    case OTELC_SPAN_KIND_CLIENT:
        return "client";
    case OTELC_SPAN_KIND_PRODUCER:
        return "producer";
    case OTELC_SPAN_KIND_CONSUMER:
        return "consumer";
    default:
        return NULL;
    }
}

/*
 * The span's correlation id is not printed on its own: the pipeline also
 * gives it as the attribute correlation.id, which put_attrs() prints.
 */
static void put_span(console_exporter_t *c, const otelc_span_data_t *s)
{
    uint64_t duration_ns = s->end_ns > s->start_ns ? s->end_ns - s->start_ns : 0;
    unsigned micros = (unsigned)(duration_ns / 1000u % 1000u);
    char frac[4] = { '.', (char)('0' + micros / 100u), (char)('0' + micros / 10u % 10u),
                     (char)('0' + micros % 10u) };
    const char *kind = kind_name(s->kind);

    begin_line(c);
    put_time(c, s->start_ns);
    put_level(c, "SPAN", "\x1b[35m");
    put_scope(c, s->scope);
    if (s->name.ptr != NULL && s->name.len > 0) {
        put_text(c, &s->name);
        put_char(c, ' ');
    }
    /* Integer arithmetic: the milliseconds are exact, never rounded up. */
    put_u64(c, duration_ns / 1000000u);
    put(c, frac, sizeof(frac));
    PUT_LITERAL(c, " ms");
    c->need_space = true;

    if (s->status_code == OTELC_STATUS_OK || s->status_code == OTELC_STATUS_ERROR) {
        put_field_start(c);
        if (s->status_code == OTELC_STATUS_OK)
            PUT_LITERAL(c, "status=OK");
        else
            PUT_LITERAL(c, "status=ERROR");
        if (s->status_message.ptr != NULL && s->status_message.len > 0) {
            PUT_LITERAL(c, " \"");
            put_escaped(c, s->status_message.ptr, s->status_message.len, true);
            put_char(c, '"');
        }
    }
    if (kind != NULL) {
        put_field_start(c);
        PUT_LITERAL(c, "kind=");
        put_cstr(c, kind);
    }
    put_attrs(c, s->attrs, s->n_attrs);
    for (uint32_t i = 0; s->events != NULL && i < s->n_events; i++) {
        put_field_start(c);
        PUT_LITERAL(c, "event=");
        put_value_string(c, s->events[i].name.ptr, s->events[i].name.len, false);
    }
    put_ids(c, &s->ctx);
    if (!all_zero(s->parent_span_id, OTELC_SPAN_ID_SIZE)) {
        put_field_start(c);
        PUT_LITERAL(c, "parent_span_id=");
        put_hex(c, s->parent_span_id, OTELC_SPAN_ID_SIZE);
    }
    end_line(c);
}

/* ---- SIGPIPE ----------------------------------------------------------- */

/*
 * A write to a pipe whose reader is gone raises SIGPIPE, whose default action
 * kills the process; MSG_NOSIGNAL exists for sockets only. As libpq does, the
 * signal is blocked on this thread for the duration of the writes (the signal
 * a write raises is directed at the writing thread) and, when a write failed
 * with EPIPE, the pending signal it left is taken with a zero-timeout
 * sigtimedwait() before the mask is restored. A SIGPIPE already pending before
 * the export is left for the host. The process-wide disposition is never
 * touched.
 */
typedef struct sigpipe_guard {
    sigset_t old_mask;
    bool was_pending;
    bool active;
} sigpipe_guard_t;

static void sigpipe_block(sigpipe_guard_t *g)
{
    sigset_t set, pending;

    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    g->active = pthread_sigmask(SIG_BLOCK, &set, &g->old_mask) == 0;
    g->was_pending = false;
    if (g->active && sigpending(&pending) == 0)
        g->was_pending = sigismember(&pending, SIGPIPE) == 1;
}

static void sigpipe_restore(sigpipe_guard_t *g, bool got_epipe)
{
    if (!g->active)
        return;
    if (got_epipe && !g->was_pending) {
        sigset_t set;
        const struct timespec zero = { 0, 0 };

        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &g->old_mask, NULL);
}

/* ---- the exporter ------------------------------------------------------ */

/*
 * Log records below min_severity are skipped and the batch still returns
 * OTELC_OK: not printing them is this exporter's configured behaviour, not a
 * failure, so they count as exported.
 */
/* `result` is left untouched: a write that fails counts the whole batch
 * as dropped, including the lines flushed before it (a console is for
 * people watching; exact counts of partial batches matter for files). */
static otelc_status_t console_export(otelc_exporter_t *self, const otelc_batch_t *batch,
                                     uint32_t timeout_ms, otelc_export_result_t *result)
{
    console_exporter_t *c = (console_exporter_t *)self;
    sigpipe_guard_t guard;
    otelc_status_t status;
    int saved_errno = errno;

    (void)result;

    if (c == NULL || batch == NULL)
        return OTELC_ERR_INVALID;
    if (batch->n == 0)
        return OTELC_OK;
    if ((batch->signal == OTELC_SIGNAL_LOGS && batch->logs == NULL) ||
        (batch->signal == OTELC_SIGNAL_TRACES && batch->spans == NULL))
        return OTELC_ERR_INVALID;

    c->status = OTELC_OK;
    c->got_epipe = false;
    c->len = 0;
    c->line_start = 0;
    c->deadline_ns = timeout_ms > 0 ? monotonic_ns() + (uint64_t)timeout_ms * 1000000u : 0;

    sigpipe_block(&guard);
    for (size_t i = 0; i < batch->n && c->status == OTELC_OK; i++) {
        if (batch->signal == OTELC_SIGNAL_LOGS) {
            if ((int)batch->logs[i].severity >= c->min_severity)
                put_log(c, &batch->logs[i]);
        } else if (batch->signal == OTELC_SIGNAL_TRACES) {
            put_span(c, &batch->spans[i]);
        }
    }
    if (c->len > 0)
        write_all(c, c->buf, c->len);
    sigpipe_restore(&guard, c->got_epipe);

    status = c->status;
    c->len = 0;
    c->line_start = 0;
    /* The host may be reading errno around our thread's calls; leave it be. */
    errno = saved_errno;
    return status;
}

static void console_destroy(otelc_exporter_t *self)
{
    free(self);
}

/*
 * Three tables that differ in their signals only: an instance made with
 * otelc_console_exporter_create() takes both, one made by the factory takes
 * the signal it was named for, so "console" in both OTEL_*_EXPORTER lists
 * prints every record once.
 */
static const otelc_exporter_ops_t console_ops_both = {
    .version = OTELC_EXPORTER_INTERFACE_VERSION,
    .name = "console",
    .signals = OTELC_SIGNAL_TRACES | OTELC_SIGNAL_LOGS,
    .export_batch = console_export,
    .destroy = console_destroy,
};
static const otelc_exporter_ops_t console_ops_traces = {
    .version = OTELC_EXPORTER_INTERFACE_VERSION,
    .name = "console",
    .signals = OTELC_SIGNAL_TRACES,
    .export_batch = console_export,
    .destroy = console_destroy,
};
static const otelc_exporter_ops_t console_ops_logs = {
    .version = OTELC_EXPORTER_INTERFACE_VERSION,
    .name = "console",
    .signals = OTELC_SIGNAL_LOGS,
    .export_batch = console_export,
    .destroy = console_destroy,
};

static otelc_status_t console_create(const otelc_exporter_ops_t *ops,
                                     const otelc_console_options_t *opts, otelc_exporter_t **out)
{
    otelc_console_options_t o = { .min_severity = 1, .color = -1, .fd = 1 };
    console_exporter_t *c = NULL;
    otelc_status_t status = OTELC_OK;

    if (out == NULL) {
        status = OTELC_ERR_INVALID;
        goto fail;
    }
    *out = NULL;
    /* What the caller's version of the struct has (0: this version's). */
    if (opts != NULL)
        memcpy(&o, opts,
               opts->struct_size != 0 && opts->struct_size < sizeof(o) ? opts->struct_size
                                                                       : sizeof(o));
    /* A zeroed options struct means stdout: descriptor 0 is standard input,
     * never a sensible place for output. */
    if (o.fd == 0)
        o.fd = 1;
    if (o.fd < 0 || o.color < -1 || o.color > 1) {
        status = OTELC_ERR_INVALID;
        goto fail;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        status = OTELC_ERR_NOMEM;
        goto fail;
    }
    c->base.ops = ops;
    c->fd = o.fd;
    c->min_severity = o.min_severity;
    /* The terminal test is made once: the descriptor does not change. */
    c->color = o.color == 1 || (o.color == -1 && isatty(o.fd) == 1);
    *out = &c->base;
    return OTELC_OK;

fail:
    free(c);
    return status;
}

otelc_status_t otelc_console_exporter_create(const otelc_console_options_t *opts,
                                             otelc_exporter_t **out)
{
    return console_create(&console_ops_both, opts, out);
}

otelc_status_t otelc__console_factory(const struct otelc_options *options, otelc_signal_t signal,
                                      otelc_exporter_t **out)
{
    otelc_console_options_t o = { .min_severity = 1, .color = -1, .fd = 1 };
    const otelc_exporter_ops_t *ops;

    if (signal == OTELC_SIGNAL_TRACES) {
        ops = &console_ops_traces;
    } else if (signal == OTELC_SIGNAL_LOGS) {
        ops = &console_ops_logs;
    } else {
        if (out != NULL)
            *out = NULL;
        return OTELC_ERR_INVALID;
    }
    if (options != NULL) {
        /* 0 (unset) lets through every record the loggers pass. */
        o.min_severity = options->console_level > 0 ? options->console_level : 1;
        o.color = options->console_color;
        /* An out-of-range colour choice was reported by the config reader;
         * here it falls back to the default rather than failing. */
        if (o.color < -1 || o.color > 1)
            o.color = -1;
    }
    return console_create(ops, &o, out);
}
