/*
 * tracer.c: starting and ending spans on application threads.
 *
 * A span is two records in the thread's ring: SPAN_START (ids, name, kind,
 * attributes, links) when it starts and SPAN_END (id and time) when it ends;
 * attributes, events, status and links added in between are records of their
 * own. The pipeline joins them by span id. So a span costs two clock reads
 * and two ring writes, never blocks the thread on a long-lived parent, and a
 * span may end on another thread than the one that started it.
 *
 * Ends have priority over everything else: starts and logs leave
 * otelc__hot.end_reserve bytes free, so that a span that was started can
 * almost always be ended.
 */
#include "core.h"
#include "diag.h"

#include <string.h>

#define SPAN_RECORDING 1u
#define SPAN_ENDED 2u

static const char unnamed[] = "unnamed";

/* Largest record a thread may write: a quarter of its ring. */
static inline uint64_t max_record(const otelc__thread_t *t)
{
    return t->ring->capacity / 4;
}

OTELC__INLINE void new_ids(otelc__thread_t *t, uint8_t *trace_id, uint8_t *span_id)
{
    if (OTELC_UNLIKELY(otelc__hot.id_fn != NULL)) {
        otelc__hot.id_fn(otelc__hot.id_arg, trace_id, span_id);
        return;
    }
    uint64_t s = otelc__rand64(t);
    s += (s == 0);
    memcpy(span_id, &s, 8);
    if (trace_id != NULL) {
        uint64_t a = otelc__rand64(t), b = otelc__rand64(t);
        b += (a == 0 && b == 0);
        memcpy(trace_id, &a, 8);
        memcpy(trace_id + 8, &b, 8);
    }
}

/* Writes SPAN_START. Returns false when the ring had no room. */
static bool write_start(otelc__thread_t *t, const otelc_span_t *s, const uint8_t *parent_id,
                        bool parent_remote, uint32_t scope, const char *name, size_t name_len,
                        int kind, const char *ts, size_t ts_len, uint64_t time, uint16_t rflags,
                        const otelc_attr_t *attrs, size_t n_attrs,
                        const otelc_span_context_t *links, size_t n_links)
{
    const otelc_limits_t *lim = &otelc__hot.span_limits;
    uint32_t vlimit = lim->attribute_value_length;
    uint16_t kept;
    size_t alen, size, corr_len = t->corr_len;
    uint64_t next;
    unsigned char *p;
    otelc__rec_span_start_t *r;

    if (name_len > 4096)
        name_len = otelc__utf8_cut(name, name_len, 4096);
    if (n_links > lim->link_count)
        n_links = lim->link_count;
    alen = otelc__attrs_measure(attrs, n_attrs, lim->attribute_count, vlimit, &kept);
    size = OTELC__ALIGN8(sizeof(*r) + name_len + corr_len + ts_len + alen +
                         n_links * sizeof(otelc__rec_link_t));
    if (OTELC_UNLIKELY(size > max_record(t))) {
        /* Too large for the ring: keep the span with shorter values. */
        vlimit = (uint32_t)(max_record(t) / (2 * (n_attrs + 1)));
        alen = otelc__attrs_measure(attrs, n_attrs, lim->attribute_count, vlimit, &kept);
        size = OTELC__ALIGN8(sizeof(*r) + name_len + corr_len + ts_len + alen +
                             n_links * sizeof(otelc__rec_link_t));
        if (size > max_record(t)) {
            otelc__counter_inc(&t->ring->counters.dropped_invalid[0]);
            return false;
        }
    }
    p = otelc__reserve(t, (uint32_t)size, otelc__hot.end_reserve, &next);
    if (OTELC_UNLIKELY(p == NULL)) {
        otelc__counter_inc(&t->ring->counters.dropped_full[0]);
        return false;
    }
    r = (otelc__rec_span_start_t *)(void *)p;
    r->h.size = (uint32_t)size;
    r->h.type = OTELC__REC_SPAN_START;
    r->h.flags = rflags;
    r->time = time;
    memcpy(r->trace_id, s->ctx.trace_id, 16);
    memcpy(r->span_id, s->ctx.span_id, 8);
    if (parent_id != NULL)
        memcpy(r->parent_id, parent_id, 8);
    else
        memset(r->parent_id, 0, 8);
    r->scope = scope;
    r->kind = (uint8_t)kind;
    r->trace_flags = s->ctx.trace_flags;
    r->parent_remote = parent_remote;
    r->corr_len = (uint8_t)corr_len;
    r->name_len = (uint16_t)name_len;
    r->tracestate_len = (uint16_t)ts_len;
    r->n_attrs = kept;
    r->dropped_attrs = (uint16_t)(n_attrs - kept);
    r->attrs_len = (uint32_t)alen;
    r->n_links = (uint32_t)n_links;
    p += sizeof(*r);
    memcpy(p, name, name_len);
    p += name_len;
    if (corr_len) {
        memcpy(p, t->corr, corr_len);
        p += corr_len;
    }
    if (ts_len) {
        memcpy(p, ts, ts_len);
        p += ts_len;
    }
    p += otelc__attrs_encode(p, attrs, n_attrs, lim->attribute_count, vlimit);
    for (size_t i = 0; i < n_links; i++) {
        otelc__rec_link_t l;
        memcpy(l.trace_id, links[i].trace_id, 16);
        memcpy(l.span_id, links[i].span_id, 8);
        l.trace_flags = links[i].trace_flags;
        memcpy(p, &l, sizeof(l));
        p += sizeof(l);
    }
    otelc__ring_commit(t->ring, next);
    return true;
}

OTELC__INLINE uint32_t push_span(otelc__thread_t *t, const otelc_span_context_t *ctx,
                                 const char *ts, size_t ts_len)
{
    otelc__frame_t *f;

    if (OTELC_UNLIKELY(t->depth >= OTELC__MAX_DEPTH)) {
        otelc__diag(OTELC_DIAG_WARN, "span.depth",
                    "more than %d nested scopes on one thread: the span is recorded but "
                    "does not become the active span",
                    OTELC__MAX_DEPTH);
        return 0;
    }
    f = &t->frames[t->depth++];
    f->span = *ctx;
    f->tracestate = ts;
    f->tracestate_len = (uint16_t)ts_len;
    f->kind = OTELC__FRAME_SPAN;
    f->owns_span = 0;
    f->ctx = NULL;
    f->serial = ++t->serial;
    return t->depth;
}

static otelc_span_t span_start(otelc__thread_t *t, uint32_t scope, const char *name,
                               size_t name_len, int kind, const otelc_span_context_t *explicit_parent,
                               bool root, bool activate, uint64_t time, uint16_t rflags,
                               const otelc_attr_t *attrs, size_t n_attrs,
                               const otelc_span_context_t *links, size_t n_links)
{
    otelc_span_t s;
    const otelc_span_context_t *parent = NULL;
    const char *ts = NULL;
    size_t ts_len = 0;
    bool sampled;

    if (explicit_parent != NULL) {
        if (otelc_span_context_is_valid(explicit_parent))
            parent = explicit_parent;
    } else if (!root && t->depth > 0) {
        const otelc__frame_t *top = &t->frames[t->depth - 1];
        /* A frame without a valid span (an attached context that had none)
         * makes the new span a root. */
        uint64_t a, b;
        memcpy(&a, top->span.trace_id, 8);
        memcpy(&b, top->span.trace_id + 8, 8);
        if ((a | b) != 0) {
            parent = &top->span;
            ts = top->tracestate;
            ts_len = top->tracestate_len;
        }
    }
    if (parent != NULL) {
        memcpy(s.ctx.trace_id, parent->trace_id, 16);
        new_ids(t, NULL, s.ctx.span_id);
    } else {
        new_ids(t, s.ctx.trace_id, s.ctx.span_id);
    }
    s.ctx.is_remote = false;
    s.flags = 0;
    sampled = otelc__hot.traces_on &&
              otelc__sampler_decide(&otelc__hot.sampler, parent, s.ctx.trace_id, name, name_len,
                                    kind, attrs, n_attrs);
    s.ctx.trace_flags = sampled ? OTELC_TRACE_FLAG_SAMPLED : 0;
    if (sampled) {
        otelc__counter_inc(&t->ring->counters.produced[0]);
        if (OTELC_LIKELY(write_start(t, &s, parent ? parent->span_id : NULL,
                                     parent ? parent->is_remote : false, scope, name, name_len,
                                     kind, ts, ts_len, time, rflags, attrs, n_attrs, links,
                                     n_links)))
            s.flags = SPAN_RECORDING;
    } else if (otelc__hot.traces_on) {
        otelc__counter_inc(&t->ring->counters.produced[0]);
        otelc__counter_inc(&t->ring->counters.dropped_sampler);
    }
    s.depth = activate ? push_span(t, &s.ctx, ts, ts_len) : 0;
    return s;
}

otelc_span_t otelc__span_site_start(const otelc_span_site_t *site, const otelc_attr_t *attrs,
                                    size_t n_attrs)
{
    otelc__thread_t *t;

    if (OTELC_UNLIKELY(!otelc__running()) || OTELC_UNLIKELY((t = otelc__thread_get()) == NULL))
        return (otelc_span_t){ { { 0 }, { 0 }, 0, false }, 0, 0 };
    return span_start(t, otelc__hot.default_tracer_scope, site->name, site->name_len,
                      (int)site->kind, NULL, false, true, otelc__now_raw(), 0, attrs, n_attrs,
                      NULL, 0);
}

otelc_span_t otelc_span_start(const char *name, const otelc_attr_t *attrs, size_t n_attrs)
{
    otelc__thread_t *t;

    if (!otelc__running() || (t = otelc__thread_get()) == NULL)
        return (otelc_span_t){ { { 0 }, { 0 }, 0, false }, 0, 0 };
    if (name == NULL)
        name = unnamed;
    return span_start(t, otelc__hot.default_tracer_scope, name, strlen(name),
                      OTELC_SPAN_KIND_INTERNAL, NULL, false, true, otelc__now_raw(), 0, attrs,
                      n_attrs, NULL, 0);
}

otelc_span_t otelc_span_start_ex(const otelc_span_options_t *o)
{
    static const otelc_span_options_t zero;
    otelc__thread_t *t;
    const char *name;
    size_t name_len;
    uint64_t time;
    uint16_t rflags = 0;

    if (!otelc__running() || (t = otelc__thread_get()) == NULL)
        return (otelc_span_t){ { { 0 }, { 0 }, 0, false }, 0, 0 };
    if (o == NULL)
        o = &zero;
    name = o->name ? o->name : unnamed;
    name_len = o->name && o->name_len != OTELC_NUL_TERMINATED ? o->name_len : strlen(name);
    if (o->start_time_ns != 0) {
        time = o->start_time_ns;
        rflags = OTELC__REC_F_TIME_NS;
    } else {
        time = otelc__now_raw();
    }
    return span_start(t, o->tracer ? o->tracer->scope : otelc__hot.default_tracer_scope, name,
                      name_len, o->kind ? (int)o->kind : OTELC_SPAN_KIND_INTERNAL, o->parent,
                      o->root, !o->no_activate, time, rflags, o->attrs, o->n_attrs,
                      o->links, o->n_links);
}

void otelc__span_end_raw(otelc__thread_t *t, const otelc_span_t *span, uint64_t time,
                         uint16_t rflags)
{
    otelc__rec_span_end_t *r;
    uint64_t next;

    r = otelc__reserve(t, sizeof(*r), 0, &next);
    if (OTELC_UNLIKELY(r == NULL)) {
        /* Even the reserve is gone. The start stays open in the pipeline
         * and is counted as dropped at shutdown. */
        otelc__diag(OTELC_DIAG_WARN, "span.end_lost",
                    "a thread's buffer is full: a span end was lost");
        return;
    }
    r->h.size = sizeof(*r);
    r->h.type = OTELC__REC_SPAN_END;
    r->h.flags = rflags;
    r->time = time;
    memcpy(r->span_id, span->ctx.span_id, 8);
    otelc__ring_commit(t->ring, next);
}

static void span_end(otelc_span_t *span, uint64_t time, uint16_t rflags)
{
    otelc__thread_t *t;

    if (span == NULL || (span->flags & SPAN_ENDED) != 0)
        return;
    span->flags |= SPAN_ENDED;
    t = otelc__tls;
    if ((span->flags & SPAN_RECORDING) != 0 && otelc__running()) {
        if (t == NULL && (t = otelc__thread_get()) == NULL)
            return;
        otelc__span_end_raw(t, span, time ? time : otelc__now_raw(), rflags);
    }
    /* Leave the context stack if the span is active on this thread. */
    if (span->depth != 0 && t != NULL && span->depth <= t->depth) {
        otelc__frame_t *f = &t->frames[span->depth - 1];
        if (f->kind == OTELC__FRAME_SPAN && memcmp(f->span.span_id, span->ctx.span_id, 8) == 0) {
            if (OTELC_UNLIKELY(span->depth != t->depth))
                otelc__diag(OTELC_DIAG_WARN, "span.order",
                            "a span ended while scopes started inside it were still open; "
                            "they were closed with it");
            otelc__frames_pop_to(t, span->depth);
        }
    }
}

void otelc_span_end(otelc_span_t *span)
{
    span_end(span, 0, 0);
}

void otelc__span_cleanup(otelc_span_t *span)
{
    span_end(span, 0, 0);
}

void otelc_span_end_at(otelc_span_t *span, uint64_t end_time_ns)
{
    span_end(span, end_time_ns, end_time_ns ? OTELC__REC_F_TIME_NS : 0);
}

otelc_span_t otelc_span_current(void)
{
    otelc__thread_t *t = otelc__tls;
    otelc_span_t s = { { { 0 }, { 0 }, 0, false }, 0, 0 };
    uint32_t d;

    if (t == NULL)
        return s;
    /* The innermost span frame: scopes above it (bind, correlation) do not
     * hide the span. */
    for (d = t->depth; d > 0; d--) {
        const otelc__frame_t *f = &t->frames[d - 1];
        if (f->kind == OTELC__FRAME_SPAN) {
            s.ctx = f->span;
            s.depth = d;
            /* Recording is assumed when sampled: operations on a span
             * that was not recorded find no open span in the pipeline and
             * are ignored there. */
            s.flags = (f->span.trace_flags & OTELC_TRACE_FLAG_SAMPLED) ? SPAN_RECORDING : 0;
            return s;
        }
        if (f->kind == OTELC__FRAME_CORRELATION && f->owns_span)
            return f->owned;
        if (f->kind == OTELC__FRAME_ATTACH)
            break;
    }
    return s;
}

/* Writes one of the span operation records. */
static void span_op(const otelc_span_t *span, int type, const char *name, size_t name_len,
                    const otelc_attr_t *attrs, size_t n_attrs, uint32_t count_limit,
                    const otelc_span_context_t *link, uint8_t status)
{
    otelc__thread_t *t;
    otelc__rec_span_op_t *r;
    uint32_t vlimit = otelc__hot.span_limits.attribute_value_length;
    uint16_t kept;
    size_t alen, size;
    uint64_t next;
    unsigned char *p;

    if (span == NULL || (span->flags & (SPAN_RECORDING | SPAN_ENDED)) != SPAN_RECORDING ||
        !otelc__running() || (t = otelc__thread_get()) == NULL)
        return;
    if (name_len > 4096)
        name_len = otelc__utf8_cut(name, name_len, 4096);
    alen = otelc__attrs_measure(attrs, n_attrs, count_limit, vlimit, &kept);
    size = OTELC__ALIGN8(sizeof(*r) + name_len + alen);
    if (size > max_record(t)) {
        vlimit = (uint32_t)(max_record(t) / (2 * (n_attrs + 1)));
        alen = otelc__attrs_measure(attrs, n_attrs, count_limit, vlimit, &kept);
        size = OTELC__ALIGN8(sizeof(*r) + name_len + alen);
        if (size > max_record(t))
            return;
    }
    p = otelc__reserve(t, (uint32_t)size, otelc__hot.end_reserve / 2, &next);
    if (p == NULL) {
        otelc__diag(OTELC_DIAG_WARN, "span.op_lost",
                    "a thread's buffer is full: a span attribute, event or status was lost");
        return;
    }
    r = (otelc__rec_span_op_t *)(void *)p;
    memset(r, 0, sizeof(*r));
    r->h.size = (uint32_t)size;
    r->h.type = (uint16_t)type;
    r->time = otelc__now_raw();
    memcpy(r->span_id, span->ctx.span_id, 8);
    if (link != NULL) {
        memcpy(r->link_trace_id, link->trace_id, 16);
        memcpy(r->link_span_id, link->span_id, 8);
        r->link_flags = link->trace_flags;
    }
    r->status = status;
    r->name_len = (uint16_t)name_len;
    r->n_attrs = kept;
    r->dropped_attrs = (uint16_t)(n_attrs - kept);
    r->attrs_len = (uint32_t)alen;
    p += sizeof(*r);
    if (name_len)
        memcpy(p, name, name_len);
    p += name_len;
    otelc__attrs_encode(p, attrs, n_attrs, count_limit, vlimit);
    otelc__ring_commit(t->ring, next);
}

void otelc_span_set_attrs(const otelc_span_t *span, const otelc_attr_t *attrs, size_t n_attrs)
{
    span_op(span, OTELC__REC_SPAN_ATTRS, NULL, 0, attrs, n_attrs,
            otelc__hot.span_limits.attribute_count, NULL, 0);
}

void otelc_span_add_event(const otelc_span_t *span, const char *name, const otelc_attr_t *attrs,
                          size_t n_attrs)
{
    if (name == NULL)
        name = unnamed;
    span_op(span, OTELC__REC_SPAN_EVENT, name, strlen(name), attrs, n_attrs,
            otelc__hot.span_limits.attributes_per_event, NULL, 0);
}

void otelc_span_add_link(const otelc_span_t *span, const otelc_span_context_t *linked,
                         const otelc_attr_t *attrs, size_t n_attrs)
{
    if (linked == NULL || !otelc_span_context_is_valid(linked))
        return;
    span_op(span, OTELC__REC_SPAN_LINK, NULL, 0, attrs, n_attrs,
            otelc__hot.span_limits.attributes_per_link, linked, 0);
}

void otelc_span_set_status(const otelc_span_t *span, otelc_status_code_t code,
                           const char *description)
{
    if ((unsigned)code > OTELC_STATUS_ERROR)
        return;
    if (code != OTELC_STATUS_ERROR || description == NULL)
        description = "";
    span_op(span, OTELC__REC_SPAN_STATUS, description, strlen(description), NULL, 0, 0, NULL,
            (uint8_t)code);
}

void otelc_span_record_error(const otelc_span_t *span, const char *type, const char *message)
{
    otelc_attr_t a[2];
    size_t n = 0;

    if (message == NULL)
        message = "";
    if (type != NULL)
        a[n++] = OTELC_STR("exception.type", type);
    a[n++] = OTELC_STR("exception.message", message);
    otelc_span_add_event(span, "exception", a, n);
    otelc_span_set_status(span, OTELC_STATUS_ERROR, message);
}
