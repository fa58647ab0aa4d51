/*
 * tracer.c: starting and ending spans on application threads.
 *
 * A span is two records in the thread's ring: SPAN_START (ids, name, kind,
 * attributes, links), or the smaller SPAN_BEGIN of a macro whose call
 * matched its site's shape (values only, a trace id only when the ring's
 * previous small record had another), when it starts, and SPAN_END (id and
 * time) when it ends; attributes, events, status and links added in between
 * are records of their own. The pipeline joins them by span id. So a span
 * costs two clock reads and two ring writes, never blocks the thread on a
 * long-lived parent, and a span may end on another thread than the one that
 * started it.
 *
 * Ends have priority over everything else: starts and logs leave
 * otelc__hot.end_reserve bytes free, so that a span that was started can
 * almost always be ended.
 */
#include "scope.h"
#include "tls.h"
#include "diag.h"
#include "large.h"

#include <string.h>

#define SPAN_RECORDING 1u
#define SPAN_ENDED 2u

static const char unnamed[] = "unnamed";

/* Largest record a thread may write: a quarter of its ring. */
static inline uint64_t max_record(const otelc__thread_t *t)
{
    return t->ring->capacity / 4;
}

/* Room tried first for a record whose attribute sizes are not measured yet:
 * enough for common attributes; larger ones take the measured path. */
static inline size_t attr_budget(size_t n_attrs)
{
    return 64 + n_attrs * 96;
}

/* What a SPAN_START record holds besides its attributes. */
typedef struct start_args {
    uint64_t trace_hi, trace_lo, span_id; /* the ids as stored (bytes in memory order) */
    const uint8_t *parent_id;
    bool parent_remote;
    uint32_t scope;
    int kind;
    const char *name;
    size_t name_len;
    const char *ts;
    size_t ts_len;
    uint64_t time;
    uint16_t rflags;
    const otelc_attr_t *attrs;
    size_t n_attrs;
    const otelc_span_context_t *links;
    size_t n_links;
    otelc_span_site_t *site; /* a macro's, or NULL */
} start_args_t;

/* Learns a site's shape on its first sampled span (shape.h). */
static __attribute__((noinline)) const otelc__shape_t *
learn_site(otelc_span_site_t *site, const otelc_attr_t *attrs, size_t n)
{
    const otelc__shape_t *s = otelc__shape_learn(site->name, site->name_len, NULL, 0, attrs, n);
    __atomic_store_n(&site->shape, (const void *)s, __ATOMIC_RELEASE);
    return s;
}

/* The site's shape (learned on its first call), or NULL when it has none. */
OTELC__INLINE const otelc__shape_t *site_shape(otelc_span_site_t *site, const otelc_attr_t *attrs,
                                               size_t n)
{
    const otelc__shape_t *s = __atomic_load_n(&site->shape, __ATOMIC_ACQUIRE);

    if (OTELC_UNLIKELY(s == NULL || s == (const void *)&otelc__site_unlearned_v2))
        s = learn_site(site, attrs, n);
    return s == &otelc__shape_none ? NULL : s;
}

/* Fills a reserved SPAN_START whose attributes end at `q`; publishes it. */
OTELC__INLINE void fill_start(otelc__thread_t *t, unsigned char *base, unsigned char *q,
                              uint64_t at, const start_args_t *a, size_t head_len, uint16_t kept,
                              bool in_block)
{
    otelc__rec_span_start_t *r = (otelc__rec_span_start_t *)(void *)base;
    size_t size, corr_len = t->corr_len;

    r->h.type = OTELC__REC_SPAN_START;
    r->h.flags = a->rflags;
    r->time = a->time;
    /* Word stores from registers: reading back the handle just written
     * would stall on store forwarding. */
    memcpy(r->trace_id, &a->trace_hi, 8);
    memcpy(r->trace_id + 8, &a->trace_lo, 8);
    memcpy(r->span_id, &a->span_id, 8);
    if (a->parent_id != NULL)
        memcpy(r->parent_id, a->parent_id, 8);
    else
        memset(r->parent_id, 0, 8);
    r->scope = a->scope;
    r->kind = (uint8_t)a->kind;
    r->trace_flags = OTELC_TRACE_FLAG_SAMPLED;
    r->parent_remote = a->parent_remote;
    r->corr_len = (uint8_t)corr_len;
    r->name_len = (uint16_t)a->name_len;
    r->tracestate_len = (uint16_t)a->ts_len;
    r->n_attrs = kept;
    r->dropped_attrs = (uint16_t)(a->n_attrs - kept);
    r->attrs_len = (uint32_t)(q - (base + head_len));
    r->n_links = (uint32_t)a->n_links;
    base += sizeof(*r);
    otelc__copy(base, a->name, a->name_len);
    base += a->name_len;
    if (corr_len) {
        otelc__copy(base, t->corr, corr_len);
        base += corr_len;
    }
    if (OTELC_UNLIKELY(a->ts_len))
        memcpy(base, a->ts, a->ts_len);
    for (size_t i = 0; OTELC_UNLIKELY(i < a->n_links); i++) {
        otelc__rec_link_t l;
        memcpy(l.trace_id, a->links[i].trace_id, 16);
        memcpy(l.span_id, a->links[i].span_id, 8);
        l.trace_flags = a->links[i].trace_flags;
        memcpy(q, &l, sizeof(l));
        q += sizeof(l);
    }
    size = OTELC__ALIGN8((size_t)(q - (unsigned char *)r));
    r->h.size = (uint32_t)size;
    /* A record in a block is published by its caller (otelc__large_commit). */
    if (OTELC_LIKELY(!in_block))
        otelc__ring_commit(t->ring, at + size);
}

/* The measured path: attributes too large for the budget, a ring too full
 * for it, or a record too large for the ring (built in a block of its own,
 * or beyond the blocks' bounds shortened to fit, see large.h). */
static __attribute__((noinline)) bool write_start_slow(otelc__thread_t *t, start_args_t args,
                                                       size_t head_len, size_t links_len)
{
    /* By value: a pointer to the caller's struct would keep it in memory
     * on the fast path too. */
    const start_args_t *a = &args;
    const otelc_limits_t *lim = &otelc__hot.span_limits;
    uint32_t vlimit = lim->attribute_value_length;
    size_t max = max_record(t), alen, size, room = 0;
    uint16_t kept;
    uint64_t at = 0;
    unsigned char *base = NULL, *q;
    bool large = false, truncated = false;

    alen = otelc__attrs_measure(a->attrs, a->n_attrs, lim->attribute_count, vlimit, &kept);
    size = OTELC__ALIGN8(head_len + alen + links_len);
    if (size > max && (base = otelc__large_alloc(size)) != NULL) {
        large = true;
    } else if (size > max) {
        if (head_len + links_len + 8 > max) {
            otelc__counter_inc(&t->ring->counters.dropped_limit[0]);
            return false;
        }
        vlimit = (uint32_t)(max / (2 * (a->n_attrs + 1)));
        room = max - head_len - links_len - 8;
        alen = otelc__attrs_encode_fit(NULL, room, a->attrs, a->n_attrs, lim->attribute_count,
                                       vlimit, &kept);
        size = OTELC__ALIGN8(head_len + alen + links_len);
        truncated = true;
    }
    if (!large) {
        base = otelc__reserve(t, (uint32_t)size, otelc__hot.end_reserve, &at);
        if (base == NULL) {
            otelc__counter_inc(&t->ring->counters.dropped_full[0]);
            return false;
        }
    }
    q = base + head_len;
    if (truncated)
        q += otelc__attrs_encode_fit(q, room, a->attrs, a->n_attrs, lim->attribute_count, vlimit,
                                     &kept);
    else
        q += otelc__attrs_encode(q, a->attrs, a->n_attrs, lim->attribute_count, vlimit);
    if (!large) {
        fill_start(t, base, q, at, a, head_len, kept, false);
    } else {
        fill_start(t, base, q, at, a, head_len, kept, true);
        if (!otelc__large_commit(t->ring, base, otelc__hot.end_reserve)) {
            otelc__counter_inc(&t->ring->counters.dropped_full[0]);
            return false;
        }
    }
    if (truncated)
        otelc__counter_inc(&t->ring->counters.truncated[0]);
    return true;
}

/* Writes a SPAN_BEGIN (record.h) into the reserved `base` (`budget` bytes
 * at position `at`) when the call matches its site's shape `sh`; false when
 * it does not, with nothing published. The trace id is left out when it is
 * the one the ring's previous small record carried. */
OTELC__INLINE bool write_begin(otelc__thread_t *t, unsigned char *base, size_t budget, uint64_t at,
                               const start_args_t *a, const otelc__shape_t *sh)
{
    otelc__rec_span_begin_t *r = (otelc__rec_span_begin_t *)(void *)base;
    otelc__ring_t *ring = t->ring;
    unsigned char *p = base + sizeof(*r), *q;
    size_t corr_len = t->corr_len, size;
    uint16_t flags = (uint16_t)(a->rflags | (unsigned)a->kind << OTELC__REC_KIND_SHIFT);
    bool new_trace = ((a->trace_hi ^ ring->trace_w[0]) | (a->trace_lo ^ ring->trace_w[1])) != 0;

    if (new_trace) {
        memcpy(p, &a->trace_hi, 8);
        memcpy(p + 8, &a->trace_lo, 8);
        p += 16;
        flags |= OTELC__REC_F_TRACE;
    }
    if (a->parent_id != NULL) {
        memcpy(p, a->parent_id, 8);
        p += 8;
        flags |= OTELC__REC_F_IDS | (a->parent_remote ? OTELC__REC_F_REMOTE : 0);
    }
    if (OTELC_UNLIKELY((corr_len | a->ts_len) != 0)) {
        otelc__rec_ctx_t c = { (uint16_t)corr_len, (uint16_t)a->ts_len, 0, 0, 0 };
        memcpy(p, &c, sizeof(c));
        p += sizeof(c);
        if (corr_len)
            memcpy(p, t->corr, corr_len);
        p += corr_len;
        if (a->ts_len)
            memcpy(p, a->ts, a->ts_len);
        p += a->ts_len;
        flags |= OTELC__REC_F_CTX;
    }
    q = otelc__shape_write(p, base + budget, sh, a->attrs, a->n_attrs,
                           otelc__hot.span_limits.attribute_value_length);
    if (OTELC_UNLIKELY(q == NULL))
        return false;
    size = OTELC__ALIGN8((size_t)(q - base));
    r->h.size = (uint32_t)size;
    r->h.type = OTELC__REC_SPAN_BEGIN;
    r->h.flags = flags;
    r->time = a->time;
    memcpy(r->span_id, &a->span_id, 8);
    r->shape = sh->id;
    r->scope = a->scope;
    otelc__ring_commit(ring, at + size);
    if (new_trace) {
        ring->trace_w[0] = a->trace_hi;
        ring->trace_w[1] = a->trace_lo;
    }
    return true;
}

/* Writes SPAN_START. Returns false when the ring had no room. The usual
 * case reserves a generous budget and encodes the attributes in one pass;
 * the record is committed at its actual size. */
OTELC__INLINE bool write_start(otelc__thread_t *t, start_args_t *a)
{
    const otelc_limits_t *lim = &otelc__hot.span_limits;
    size_t head_len, links_len, budget;
    uint16_t kept = 0;
    uint64_t at;
    unsigned char *base, *q;

    if (OTELC_UNLIKELY(a->name_len > 4096))
        a->name_len = otelc__utf8_cut(a->name, a->name_len, 4096);
    /* Links over the limit are written too: the pipeline keeps link_count
     * of them and counts the others in dropped_links, which the record has
     * no field for. (A list too long for any record drops the span.) */
    head_len = sizeof(otelc__rec_span_start_t) + a->name_len + t->corr_len + a->ts_len;
    links_len = a->n_links * sizeof(otelc__rec_link_t);
    budget = OTELC__ALIGN8(head_len + links_len + attr_budget(a->n_attrs));
    if (OTELC_UNLIKELY(budget > max_record(t)))
        return write_start_slow(t, *a, head_len, links_len);
    base = otelc__ring_reserve(t->ring, (uint32_t)budget, otelc__hot.end_reserve, &at);
    if (OTELC_UNLIKELY(base == NULL))
        return write_start_slow(t, *a, head_len, links_len);
    /* A macro's call that matches its site's shape: a SPAN_BEGIN (a site
     * has no links). One that does not match is written below. */
    if (a->site != NULL && OTELC_LIKELY(a->n_attrs <= lim->attribute_count)) {
        const otelc__shape_t *sh = site_shape(a->site, a->attrs, a->n_attrs);
        if (OTELC_LIKELY(sh != NULL) && OTELC_LIKELY(write_begin(t, base, budget, at, a, sh)))
            return true;
    }
    q = base + head_len;
    if (a->n_attrs) {
        q = otelc__attrs_encode_bounded(q, base + budget - links_len, a->attrs, a->n_attrs,
                                        lim->attribute_count, lim->attribute_value_length, &kept);
        if (OTELC_UNLIKELY(q == NULL))
            return write_start_slow(t, *a, head_len, links_len);
    }
    fill_start(t, base, q, at, a, head_len, kept, false);
    return true;
}

OTELC__INLINE uint32_t push_span(otelc__thread_t *t, uint64_t th, uint64_t tl, uint64_t sid,
                                 uint8_t flags, const char *ts, size_t ts_len)
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
    otelc__fast_v2.cur = &f->span;
    memcpy(f->span.trace_id, &th, 8);
    memcpy(f->span.trace_id + 8, &tl, 8);
    memcpy(f->span.span_id, &sid, 8);
    f->span.trace_flags = flags;
    f->span.is_remote = false;
    f->tracestate = ts;
    f->tracestate_len = (uint16_t)ts_len;
    f->kind = OTELC__FRAME_SPAN;
    f->owns_span = 0;
    f->ctx = NULL;
    f->serial = ++t->serial;
    return t->depth;
}

/* Fills *out with a new span. `time` 0 means "now", read only once the
 * span is known to be sampled. The ids stay in registers and are stored
 * word by word into the record, the frame and the handle. */
OTELC__INLINE void span_start(otelc_span_t *out, otelc__thread_t *t, otelc_span_site_t *site,
                              uint32_t scope, const char *name, size_t name_len, int kind,
                              const otelc_span_context_t *explicit_parent, bool root, bool activate,
                              uint64_t time, uint16_t rflags, const otelc_attr_t *attrs,
                              size_t n_attrs, const otelc_span_context_t *links, size_t n_links)
{
    const otelc_span_context_t *parent = NULL;
    const char *ts = NULL;
    size_t ts_len = 0;
    uint64_t th, tl, sid;
    uint8_t flags = 0;
    uint32_t state = 0;
    bool sampled;

    if (explicit_parent != NULL) {
        if (otelc_span_context_is_valid(explicit_parent))
            parent = explicit_parent;
    } else if (!root && t->depth > 0) {
        const otelc__frame_t *top = &t->frames[t->depth - 1];
        /* A frame without a valid span (an attached context that had none)
         * makes the new span a root. */
        memcpy(&th, top->span.trace_id, 8);
        memcpy(&tl, top->span.trace_id + 8, 8);
        if ((th | tl) != 0) {
            parent = &top->span;
            ts = top->tracestate;
            ts_len = top->tracestate_len;
        }
    }
    if (OTELC_UNLIKELY(otelc__hot.id_fn != NULL)) {
        uint8_t tid[16], spid[8];
        otelc__hot.id_fn(otelc__hot.id_arg, parent ? NULL : tid, spid);
        if (parent != NULL)
            memcpy(tid, parent->trace_id, 16);
        memcpy(&th, tid, 8);
        memcpy(&tl, tid + 8, 8);
        memcpy(&sid, spid, 8);
    } else {
        if (parent != NULL) {
            memcpy(&th, parent->trace_id, 8);
            memcpy(&tl, parent->trace_id + 8, 8);
        } else {
            th = otelc__rand64(t);
            tl = otelc__rand64(t);
            if (OTELC_UNLIKELY((th | tl) == 0))
                tl = 1; /* ids are never all zero (W3C); 1 in 2^128 */
        }
        sid = otelc__rand64(t);
        if (OTELC_UNLIKELY(sid == 0))
            sid = 1;
    }
    memcpy(out->ctx.trace_id, &th, 8);
    memcpy(out->ctx.trace_id + 8, &tl, 8);
    memcpy(out->ctx.span_id, &sid, 8);
    out->ctx.is_remote = false;
    sampled = otelc__hot.traces_on &&
              otelc__sampler_decide(&otelc__hot.sampler, parent, out->ctx.trace_id, name, name_len,
                                    kind, attrs, n_attrs);
    if (sampled) {
        start_args_t a;
        flags = OTELC_TRACE_FLAG_SAMPLED;
        otelc__counter_inc(&t->ring->counters.produced[0]);
        a.trace_hi = th;
        a.trace_lo = tl;
        a.span_id = sid;
        a.parent_id = parent ? parent->span_id : NULL;
        a.parent_remote = parent ? parent->is_remote : false;
        a.scope = scope;
        a.kind = kind;
        a.name = name;
        a.name_len = name_len;
        a.ts = ts;
        a.ts_len = ts_len;
        a.time = time ? time : otelc__now_raw();
        a.rflags = rflags;
        a.attrs = attrs;
        a.n_attrs = n_attrs;
        a.links = links;
        a.n_links = n_links;
        a.site = site;
        if (OTELC_LIKELY(write_start(t, &a)))
            state = SPAN_RECORDING;
    } else if (otelc__hot.traces_on) {
        otelc__counter_inc(&t->ring->counters.produced[0]);
        otelc__counter_inc(&t->ring->counters.dropped_sampler);
    }
    out->ctx.trace_flags = flags;
    out->flags = state;
    out->depth = activate ? push_span(t, th, tl, sid, flags, ts, ts_len) : 0;
}

static const otelc_span_t noop_span = { { { 0 }, { 0 }, 0, false }, 0, 0 };

/* The thread for a span start, or NULL (see otelc__thread_enter). A span
 * is counted only when some exporter takes spans. */
OTELC__INLINE otelc__thread_t *enter_span(void)
{
    return otelc__thread_enter(otelc__hot.traces_on ? 0 : -1);
}

void otelc__span_site_start(otelc_span_t *out, otelc_span_site_t *site, const otelc_attr_t *attrs,
                            size_t n_attrs)
{
    otelc__thread_t *t;

    n_attrs = OTELC__LIST_LEN(attrs, n_attrs, "OTELC_SPAN", "attributes");
    if (OTELC_LIKELY(otelc__running()) && OTELC_LIKELY((t = enter_span()) != NULL)) {
        span_start(out, t, site, otelc__hot.default_tracer_scope, site->name, site->name_len,
                   (int)site->kind, NULL, false, true, 0, 0, attrs, n_attrs, NULL, 0);
        /* The site's next call may take the inline path (otelc/fast.h). */
        otelc__fast_after(t);
        otelc__thread_leave(t);
    }
}

otelc_span_t otelc_span_start(const char *name, const otelc_attr_t *attrs, size_t n_attrs)
{
    otelc__thread_t *t;
    otelc_span_t s;

    if (name == NULL)
        name = unnamed;
    n_attrs = OTELC__LIST_LEN(attrs, n_attrs, "otelc_span_start", "attributes");
    if (otelc__running() && (t = enter_span()) != NULL) {
        span_start(&s, t, NULL, otelc__hot.default_tracer_scope, name, strlen(name),
                   OTELC_SPAN_KIND_INTERNAL, NULL, false, true, 0, 0, attrs, n_attrs, NULL, 0);
        otelc__thread_leave(t);
    } else {
        s = noop_span;
    }
    return s;
}

otelc_span_t otelc__span_start_in(otelc__thread_t *t, const otelc_span_options_t *o)
{
    static const otelc_span_options_t zero;
    const char *name;
    size_t name_len, n_attrs, n_links;
    int kind;
    uint64_t start;
    uint16_t start_flags;
    otelc_span_t s;

    if (o == NULL)
        o = &zero;
    name = o->name ? o->name : unnamed;
    name_len = o->name && o->name_len != OTELC_NUL_TERMINATED ? o->name_len : strlen(name);
    kind = o->kind ? (int)o->kind : OTELC_SPAN_KIND_INTERNAL;
    if (OTELC_UNLIKELY((unsigned)kind > OTELC_SPAN_KIND_CONSUMER)) {
        otelc__diag(OTELC_DIAG_WARN, "span.kind",
                    "otelc_span_start_ex: span kind %d is not one of otelc_span_kind_t; "
                    "INTERNAL used",
                    kind);
        kind = OTELC_SPAN_KIND_INTERNAL;
    }
    n_attrs = OTELC__LIST_LEN(o->attrs, o->n_attrs, "otelc_span_start_ex", "attributes");
    n_links = OTELC__LIST_LEN(o->links, o->n_links, "otelc_span_start_ex", "links");
    /* Fields past the first version only when the caller says it has them. */
    if (o->struct_size >= offsetof(otelc_span_options_t, start_stamp) + sizeof(o->start_stamp) &&
        o->start_stamp != 0) {
        start = o->start_stamp;
        start_flags = 0;
    } else {
        start = o->start_time_ns;
        start_flags = start ? OTELC__REC_F_TIME_NS : 0;
    }
    span_start(&s, t, NULL, o->tracer ? o->tracer->scope : otelc__hot.default_tracer_scope, name,
               name_len, kind, o->parent, o->root, !o->no_activate, start, start_flags, o->attrs,
               n_attrs, o->links, n_links);
    return s;
}

otelc_span_t otelc_span_start_ex(const otelc_span_options_t *o)
{
    otelc__thread_t *t;
    otelc_span_t s;

    if (!otelc__running() || (t = enter_span()) == NULL)
        return noop_span;
    s = otelc__span_start_in(t, o);
    otelc__thread_leave(t);
    return s;
}

OTELC__INLINE void write_end(otelc__thread_t *t, const otelc_span_t *span, uint64_t time,
                             uint16_t rflags)
{
    otelc__rec_span_end_t *r;
    uint64_t at;

    /* Ends may use the reserve that starts and logs leave free. */
    r = otelc__reserve(t, sizeof(*r), 0, &at);
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
    otelc__ring_commit(t->ring, at + sizeof(*r));
}

void otelc__span_end_raw(otelc__thread_t *t, const otelc_span_t *span, uint64_t time,
                         uint16_t rflags)
{
    write_end(t, span, time, rflags);
}

OTELC__INLINE void span_end(otelc_span_t *span, uint64_t time, uint16_t rflags)
{
    otelc__thread_t *t;

    if (span == NULL || (span->flags & SPAN_ENDED) != 0)
        return;
    t = otelc__tls;
    if (t == NULL) {
        /* A thread that never recorded ends a span started elsewhere: it
         * needs a ring for the end, and has no context stack to leave. */
        span->flags |= SPAN_ENDED;
        if ((span->flags & SPAN_RECORDING) != 0 && otelc__running() &&
            (t = otelc__thread_enter(-1)) != NULL) {
            write_end(t, span, time ? time : otelc__now_raw(), rflags);
            otelc__thread_leave(t);
        }
        return;
    }
    /* A signal handler ending a span while its thread is inside otelc:
     * the span stays as it is (still open), since neither the ring nor the
     * context stack may be touched now. */
    if (OTELC_UNLIKELY((t = otelc__thread_enter(-1)) == NULL))
        return;
    span->flags |= SPAN_ENDED;
    if ((span->flags & SPAN_RECORDING) != 0 && OTELC_LIKELY(otelc__running()))
        write_end(t, span, time ? time : otelc__now_raw(), rflags);
    /* Leave the context stack if the span is active on this thread. */
    if (span->depth != 0 && span->depth <= t->depth) {
        otelc__frame_t *f = &t->frames[span->depth - 1];
        if (f->kind == OTELC__FRAME_SPAN && memcmp(f->span.span_id, span->ctx.span_id, 8) == 0) {
            if (OTELC_LIKELY(span->depth == t->depth)) {
                t->depth--; /* the usual case: the innermost scope ends */
                otelc__fast_cur(t);
            } else {
                otelc__diag(OTELC_DIAG_WARN, "span.order",
                            "a span ended while scopes started inside it were still open; "
                            "they were closed with it");
                otelc__frames_pop_to(t, span->depth);
            }
        }
    }
    otelc__thread_leave(t);
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

uint64_t otelc_clock_stamp(void)
{
    return otelc__now_raw();
}

void otelc_span_end_stamp(otelc_span_t *span, uint64_t stamp)
{
    span_end(span, stamp, 0);
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

static void span_op_write(otelc__thread_t *t, const otelc_span_t *span, int type, const char *name,
                          size_t name_len, const otelc_attr_t *attrs, size_t n_attrs,
                          uint32_t count_limit, const otelc_span_context_t *link, uint8_t status);

/* Writes one of the span operation records. */
static void span_op(const otelc_span_t *span, int type, const char *name, size_t name_len,
                    const otelc_attr_t *attrs, size_t n_attrs, uint32_t count_limit,
                    const otelc_span_context_t *link, uint8_t status)
{
    otelc__thread_t *t;

    if (span == NULL || (span->flags & (SPAN_RECORDING | SPAN_ENDED)) != SPAN_RECORDING ||
        !otelc__running() || (t = otelc__thread_enter(-1)) == NULL)
        return;
    span_op_write(t, span, type, name, name_len, attrs, n_attrs, count_limit, link, status);
    otelc__thread_leave(t);
}

static void span_op_write(otelc__thread_t *t, const otelc_span_t *span, int type, const char *name,
                          size_t name_len, const otelc_attr_t *attrs, size_t n_attrs,
                          uint32_t count_limit, const otelc_span_context_t *link, uint8_t status)
{
    otelc__rec_span_op_t *r;
    uint32_t vlimit = otelc__hot.span_limits.attribute_value_length;
    uint16_t kept;
    size_t alen, size, room = 0;
    uint64_t at = 0;
    unsigned char *p = NULL;
    bool large = false, truncated = false;

    if (name_len > 4096)
        name_len = otelc__utf8_cut(name, name_len, 4096);
    alen = otelc__attrs_measure(attrs, n_attrs, count_limit, vlimit, &kept);
    size = OTELC__ALIGN8(sizeof(*r) + name_len + alen);
    if (size > max_record(t) && (p = otelc__large_alloc(size)) != NULL) {
        large = true;
    } else if (size > max_record(t)) {
        vlimit = (uint32_t)(max_record(t) / (2 * (n_attrs + 1)));
        room = max_record(t) - sizeof(*r) - name_len - 8;
        alen = otelc__attrs_encode_fit(NULL, room, attrs, n_attrs, count_limit, vlimit, &kept);
        size = OTELC__ALIGN8(sizeof(*r) + name_len + alen);
        truncated = true;
    }
    if (!large) {
        p = otelc__reserve(t, (uint32_t)size, otelc__hot.end_reserve / 2, &at);
        if (p == NULL) {
            otelc__diag(OTELC_DIAG_WARN, "span.op_lost",
                        "a thread's buffer is full: a span attribute, event or status was lost");
            return;
        }
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
    if (truncated)
        (void)otelc__attrs_encode_fit(p, room, attrs, n_attrs, count_limit, vlimit, &kept);
    else
        otelc__attrs_encode(p, attrs, n_attrs, count_limit, vlimit);
    if (!large)
        otelc__ring_commit(t->ring, at + size);
    else if (!otelc__large_commit(t->ring, r, otelc__hot.end_reserve / 2))
        otelc__diag(OTELC_DIAG_WARN, "span.op_lost",
                    "a thread's buffer is full: a span attribute, event or status was lost");
    if (truncated)
        otelc__counter_inc(&t->ring->counters.truncated[0]);
}

void otelc_span_set_attrs(const otelc_span_t *span, const otelc_attr_t *attrs, size_t n_attrs)
{
    n_attrs = OTELC__LIST_LEN(attrs, n_attrs, "otelc_span_set_attrs", "attributes");
    span_op(span, OTELC__REC_SPAN_ATTRS, NULL, 0, attrs, n_attrs,
            otelc__hot.span_limits.attribute_count, NULL, 0);
}

void otelc_span_add_event(const otelc_span_t *span, const char *name, const otelc_attr_t *attrs,
                          size_t n_attrs)
{
    if (name == NULL)
        name = unnamed;
    n_attrs = OTELC__LIST_LEN(attrs, n_attrs, "otelc_span_add_event", "attributes");
    span_op(span, OTELC__REC_SPAN_EVENT, name, strlen(name), attrs, n_attrs,
            otelc__hot.span_limits.attributes_per_event, NULL, 0);
}

void otelc_span_add_link(const otelc_span_t *span, const otelc_span_context_t *linked,
                         const otelc_attr_t *attrs, size_t n_attrs)
{
    if (linked == NULL || !otelc_span_context_is_valid(linked))
        return;
    n_attrs = OTELC__LIST_LEN(attrs, n_attrs, "otelc_span_add_link", "attributes");
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
