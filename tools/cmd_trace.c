/*
 * cmd_trace.c: `otelc trace TRACE_ID`, one trace's spans as a tree and its
 * logs in time order.
 *
 *     trace 4bf92f3577b34da6a3ce929d0e0e4736: 3 spans, 12.345 ms, from 2026-11-21 10:30:00.000
 *     place_order 12.345 ms at +0.000 ms status=OK
 *       validate_order 1.200 ms at +0.100 ms
 *       send_order 8.000 ms at +2.000 ms status=ERROR "timeout" kind=client
 *     logs: 2
 *     2026-11-21 10:30:00.001 | INFO     | trading.orders | order sent ...
 *
 * Children are listed under their parent by start time. A span whose parent
 * is not in the files (a trace that crossed into another process, or a
 * rotated-away piece) is shown as a root.
 */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

/* Indentation stops growing here, so a pathological chain stays readable. */
#define MAX_INDENT 32

typedef struct span_node {
    char *name, *span_id, *parent_id, *status_message;
    tool_time_t start, end;
    double ms;
    int kind, status;
    size_t *children;
    size_t n_children;
    bool is_child; /* listed under its parent */
    bool shown;
} span_node_t;

typedef struct log_line {
    tool_time_t time;
    size_t seq;
    char *text;
} log_line_t;

static char *dup_str(tstr_t s)
{
    return xstrndup(s.n > 0 ? s.p : "", s.n);
}

static int compare_start(const void *pa, const void *pb)
{
    const span_node_t *a = pa, *b = pb;

    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return strcmp(a->span_id, b->span_id);
}

static int compare_logs(const void *pa, const void *pb)
{
    const log_line_t *a = pa, *b = pb;

    if (a->time != b->time)
        return a->time < b->time ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static bool valid_trace_id(const char *s)
{
    size_t n = strlen(s);

    if (n != 32)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

/* Reads the trace's spans from traces.log and its rotated pieces. */
static span_node_t *read_spans(tool_opts_t *o, const tool_fileset_t *set, size_t *n, bool *failed)
{
    const tool_channel_t *ch = fileset_channel(set, TRACES_CHANNEL);
    span_node_t *spans = NULL;
    size_t cap = 0;
    chan_reader_t cr;
    const tool_record_t *r;

    *n = 0;
    if (ch == NULL)
        return NULL;
    chan_open(&cr, ch, &o->filter, WANT_SPANS);
    for (; (r = chan_peek(&cr)) != NULL; chan_advance(&cr)) {
        span_node_t *s;

        if (*n == cap) {
            cap = cap == 0 ? 16 : cap * 2;
            spans = xrealloc(spans, cap * sizeof(*spans));
        }
        s = &spans[(*n)++];
        memset(s, 0, sizeof(*s));
        s->name = dup_str(r->name);
        s->span_id = dup_str(r->span_id);
        s->parent_id = dup_str(r->parent_span_id);
        s->status_message = dup_str(r->status_message);
        s->start = r->time;
        s->end = r->end;
        s->ms = r->duration_ms;
        s->kind = r->span_kind;
        s->status = r->status_code;
    }
    *failed |= cr.files_failed > 0 || cr.rr.failed;
    chan_close(&cr);
    return spans;
}

static void print_span(strbuf_t *sb, const span_node_t *s, tool_time_t t0, int depth, bool color)
{
    static const char *const kinds[] = { NULL, NULL, "server", "client", "producer", "consumer" };
    char ms[32], at[32];

    for (int i = 0; i < depth && i < MAX_INDENT; i++)
        SB_LIT(sb, "  ");
    if (color)
        SB_LIT(sb, COLOR_BOLD);
    text_put_escaped(sb, s->name, strlen(s->name), false);
    if (color)
        SB_LIT(sb, COLOR_RESET);
    format_ms(s->ms, ms);
    format_ms((double)(s->start - t0) / 1000.0, at);
    sb_printf(sb, " %s ms at +%s ms", ms, at);
    if (s->status == SPAN_STATUS_ERROR) {
        sb_puts(sb, color ? " \x1b[31mstatus=ERROR" COLOR_RESET : " status=ERROR");
    } else if (s->status == SPAN_STATUS_OK) {
        SB_LIT(sb, " status=OK");
    }
    if (s->status != SPAN_STATUS_UNSET && s->status_message[0] != '\0') {
        SB_LIT(sb, " \"");
        text_put_escaped(sb, s->status_message, strlen(s->status_message), true);
        sb_putc(sb, '"');
    }
    if (s->kind >= 2 && s->kind <= 5)
        sb_printf(sb, " kind=%s", kinds[s->kind]);
    sb_printf(sb, " span_id=%s\n", s->span_id);
}

/* Depth-first, children in start order; `shown` stops a cycle of parents. */
static void print_tree(strbuf_t *sb, span_node_t *spans, size_t i, tool_time_t t0, int depth,
                       bool color)
{
    size_t *stack = xmalloc(sizeof(size_t) * 2u);
    int *depths;
    size_t top = 0, cap = 2;

    depths = xmalloc(sizeof(int) * cap);
    stack[top] = i;
    depths[top++] = depth;
    while (top > 0) {
        span_node_t *s;
        int d;

        top--;
        s = &spans[stack[top]];
        d = depths[top];
        if (s->shown)
            continue;
        s->shown = true;
        print_span(sb, s, t0, d, color);
        if (top + s->n_children > cap) {
            cap = (top + s->n_children) * 2u;
            stack = xrealloc(stack, cap * sizeof(*stack));
            depths = xrealloc(depths, cap * sizeof(*depths));
        }
        /* Pushed last child first, so the first child comes out first. */
        for (size_t c = s->n_children; c > 0; c--) {
            stack[top] = s->children[c - 1u];
            depths[top++] = d + 1;
        }
    }
    free(stack);
    free(depths);
}

static void build_and_print(strbuf_t *sb, const char *trace_id, span_node_t *spans, size_t n,
                            bool color)
{
    strmap_t by_id = { 0 };
    tool_time_t t0, t1;
    char ms[32], when[32];

    qsort(spans, n, sizeof(*spans), compare_start);
    t0 = spans[0].start;
    t1 = spans[0].end;
    for (size_t i = 0; i < n; i++) {
        strmap_entry_t *e = strmap_get(&by_id, spans[i].span_id, strlen(spans[i].span_id));

        /* The first span with an id is the one children hang under. */
        if (e->count == 0)
            e->count = i + 1u;
        if (spans[i].end > t1)
            t1 = spans[i].end;
    }
    for (size_t i = 0; i < n; i++) {
        strmap_entry_t *p;

        if (spans[i].parent_id[0] == '\0')
            continue;
        p = strmap_get(&by_id, spans[i].parent_id, strlen(spans[i].parent_id));
        if (p->count == 0 || p->count - 1u == i)
            continue;
        spans[p->count - 1u].children = xrealloc(
            spans[p->count - 1u].children, (spans[p->count - 1u].n_children + 1u) * sizeof(size_t));
        spans[p->count - 1u].children[spans[p->count - 1u].n_children++] = i;
        spans[i].is_child = true;
    }
    format_ms((double)(t1 - t0) / 1000.0, ms);
    time_format_local(t0, when);
    sb_printf(sb, "trace %s: %zu span%s, %s ms, from %s\n", trace_id, n, n == 1 ? "" : "s", ms,
              when);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            /* First the roots; then whatever a cycle of parents hid. */
            if (spans[i].shown || (pass == 0 && spans[i].is_child))
                continue;
            print_tree(sb, spans, i, t0, 0, color);
        }
    }
    strmap_free(&by_id);
}

int cmd_trace(tool_opts_t *o)
{
    const char *trace_id = o->args[0];
    tool_fileset_t set;
    span_node_t *spans;
    size_t n_spans = 0, n_logs = 0, cap = 0;
    log_line_t *logs = NULL;
    merged_t m;
    const tool_record_t *r;
    strbuf_t sb = STRBUF_INIT, line = STRBUF_INIT;
    bool failed = false;
    int status = 0;

    if (!valid_trace_id(trace_id)) {
        tool_error("trace: '%s' is not a trace id (32 hex digits)", trace_id);
        return 2;
    }
    if (!fileset_scan(o->dir, &set))
        return 1;
    o->filter.trace_id = trace_id;
    spans = read_spans(o, &set, &n_spans, &failed);

    if (merged_open(&m, &set, NULL, &o->filter, WANT_LOGS)) {
        while ((r = merged_next(&m, NULL)) != NULL) {
            if (n_logs == cap) {
                cap = cap == 0 ? 16 : cap * 2;
                logs = xrealloc(logs, cap * sizeof(*logs));
            }
            sb_reset(&line);
            out_text(&line, r, o->color);
            logs[n_logs].time = r->time;
            logs[n_logs].seq = n_logs;
            logs[n_logs].text = xstrndup(line.p, line.len);
            n_logs++;
        }
        failed |= merged_failed_files(&m) > 0;
        merged_close(&m);
    }

    if (n_spans == 0 && n_logs == 0) {
        tool_error("trace %s: no spans or logs found in %s", trace_id, o->dir);
        status = 1;
    } else {
        if (n_spans > 0)
            build_and_print(&sb, trace_id, spans, n_spans, o->color);
        else
            sb_printf(&sb, "trace %s: no spans\n", trace_id);
        if (n_logs > 0)
            qsort(logs, n_logs, sizeof(*logs), compare_logs);
        sb_printf(&sb, "logs: %zu\n", n_logs);
        for (size_t i = 0; i < n_logs; i++)
            sb_puts(&sb, logs[i].text);
        if (!write_out(stdout, "stdout", &sb) || fflush(stdout) != 0)
            status = 1;
    }
    if (failed)
        status = 1;
    for (size_t i = 0; i < n_logs; i++)
        free(logs[i].text);
    free(logs);
    for (size_t i = 0; i < n_spans; i++) {
        free(spans[i].name);
        free(spans[i].span_id);
        free(spans[i].parent_id);
        free(spans[i].status_message);
        free(spans[i].children);
    }
    free(spans);
    fileset_free(&set);
    sb_free(&sb);
    sb_free(&line);
    return status;
}
