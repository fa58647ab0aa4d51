/*
 * lines.c: a minimal exporter, built and shipped as a library of its own
 * (libotelc_example_lines.so), to show what docs/writing-an-exporter.md
 * describes. It writes one line of text per record to a file descriptor:
 *
 *     span checkout 1.250 ms
 *     log INFO order accepted
 *
 * A service that links the library names it in OTEL_TRACES_EXPORTER or
 * OTEL_LOGS_EXPORTER ("lines"); the library registers its component (the
 * exporter and its one setting) when it is loaded. It sees only otelc's public headers.
 *
 * To show a partial result, a log record with an empty body is refused (as
 * a backend would refuse an invalid record): it counts as dropped with
 * reason "rejected", and the rest of the batch as exported.
 */
#include <otelc/exporter.h>
#include <otelc/otelc.h>
#include <otelc/settings.h>

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct lines {
    otelc_exporter_t base; /* first: otelc hands back this pointer */
    int fd;
    char buf[8192];
    size_t len;
} lines_t;

/* Writes out what is buffered; false when the descriptor refuses it. */
static bool flush_buf(lines_t *l)
{
    size_t off = 0;

    while (off < l->len) {
        ssize_t n = write(l->fd, l->buf + off, l->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        off += (size_t)n;
    }
    l->len = 0;
    return true;
}

/* Appends one line, cut to the buffer (a line never spans two writes). */
static bool put_line(lines_t *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool put_line(lines_t *l, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (l->len > sizeof(l->buf) / 2 && !flush_buf(l))
        return false;
    va_start(ap, fmt);
    n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return false;
    l->len += (size_t)n < sizeof(l->buf) - l->len ? (size_t)n : sizeof(l->buf) - l->len - 1;
    return true;
}

static otelc_status_t lines_export(otelc_exporter_t *self, const otelc_batch_t *batch,
                                   uint32_t timeout_ms, otelc_export_result_t *result)
{
    lines_t *l = (lines_t *)self;
    size_t written = 0, refused = 0;

    (void)timeout_ms; /* a local descriptor: nothing to time out */
    for (size_t i = 0; i < batch->n; i++) {
        bool ok;
        if (batch->signal == OTELC_SIGNAL_TRACES) {
            const otelc_span_data_t *s = &batch->spans[i];
            uint64_t us = s->end_ns > s->start_ns ? (s->end_ns - s->start_ns) / 1000u : 0;
            ok = put_line(l, "span %.*s %llu.%03llu ms\n", (int)s->name.len, s->name.ptr,
                          (unsigned long long)(us / 1000u), (unsigned long long)(us % 1000u));
        } else {
            const otelc_log_data_t *r = &batch->logs[i];
            if (r->body.len == 0) {
                refused++;
                continue;
            }
            ok = put_line(l, "log %.*s %.*s\n", (int)r->severity_text.len, r->severity_text.ptr,
                          (int)r->body.len, r->body.ptr);
        }
        if (!ok)
            break;
        written++;
    }
    if (!flush_buf(l)) {
        /* otelc_diag() is rate-limited: a dead descriptor is said once per
         * interval, not once per batch. */
        otelc_diag(OTELC_DIAG_ERROR, "exporter.lines.write", "lines exporter: cannot write: %s",
                   strerror(errno));
        result->accepted = 0;
        return OTELC_ERR_IO;
    }
    if (refused == 0 && written == batch->n)
        return OTELC_OK; /* result untouched: all of them */
    result->accepted = written;
    result->rejected = refused;
    result->message = "log records without a body are refused";
    return OTELC_ERR_INVALID;
}

static void lines_destroy(otelc_exporter_t *self)
{
    free(self);
}

static const otelc_exporter_ops_t lines_ops = {
    .version = OTELC_EXPORTER_INTERFACE_VERSION, /* refused by an otelc of another version */
    .name = "lines",
    .signals = OTELC_SIGNAL_TRACES | OTELC_SIGNAL_LOGS,
    .export_batch = lines_export,
    .destroy = lines_destroy,
};

/* The settings of the component: one, the descriptor to write to. The
 * row makes it OTELC_LINES_FD in the environment and otelc.lines.fd in the
 * config file, checked (0 to 1023) and reported by otelc like its own. */
typedef struct lines_settings {
    uint32_t fd;
} lines_settings_t;

static const otelc_setting_t lines_rows[] = {
    { .env = "OTELC_LINES_FD", .key = "otelc.lines.fd", .type = OTELC_SETTING_UINT,
      .offset = offsetof(lines_settings_t, fd), .def = "1", .min = 0, .max = 1023,
      .unit = "a file descriptor", .doc = "where the lines go" },
};

/* What otelc calls for each signal that names "lines", with the settings
 * it read for this component. */
static otelc_status_t lines_create(const otelc_exporter_args_t *args, otelc_exporter_t **out)
{
    const lines_settings_t *settings = args->settings;
    lines_t *l;

    l = calloc(1, sizeof(*l));
    if (l == NULL)
        return OTELC_ERR_NOMEM;
    l->base.ops = &lines_ops;
    l->fd = (int)settings->fd;
    *out = &l->base;
    return OTELC_OK;
}

static const otelc_component_t lines_component = {
    .version = OTELC_COMPONENT_VERSION,
    .name = "lines",
    .settings = lines_rows,
    .n_settings = sizeof(lines_rows) / sizeof(lines_rows[0]),
    .settings_size = sizeof(lines_settings_t),
    .create = lines_create,
};

/* Loading the library makes the name and the setting known. */
__attribute__((constructor)) static void lines_register(void)
{
    otelc_status_t st = otelc_component_register(&lines_component);
    if (st != OTELC_OK)
        otelc_diag(OTELC_DIAG_ERROR, "exporter.lines.register",
                   "the lines exporter could not register: %s", otelc_status_str(st));
}
