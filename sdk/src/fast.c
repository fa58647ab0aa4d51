/*
 * fast.c: the library's side of the log macros' inline path (otelc/fast.h):
 * the thread-local state it reads, the epoch that makes every thread's
 * state stale at once, and the checks that the layouts the header writes
 * are the library's own.
 */
#include "tls.h"

#include <stddef.h>

OTELC_API __thread otelc__fast_t otelc__fast_v2 OTELC__TLS_IE;
/* Never 0, which a thread's state holds before its first sync. */
OTELC_API uint32_t otelc__fast_epoch_v2 = 1;
OTELC_API const otelc__fast_frame_t otelc__no_frame_v2;
/* Matches no call: the library learns the site's shape. */
OTELC_API const otelc__fast_shape_t otelc__site_unlearned_v2 = { .sig = { UINT64_MAX,
                                                                          UINT64_MAX } };

/* The header writes and reads these layouts by offset. */
_Static_assert(offsetof(otelc__fast_shape_t, id) == offsetof(otelc__shape_t, id), "shape");
_Static_assert(offsetof(otelc__fast_shape_t, sig) == offsetof(otelc__shape_t, sig), "shape");
_Static_assert(offsetof(otelc__fast_shape_t, msg_src) == offsetof(otelc__shape_t, msg_src),
               "shape");
_Static_assert(offsetof(otelc__fast_shape_t, msg_len) == offsetof(otelc__shape_t, msg_len),
               "shape");
_Static_assert(offsetof(otelc__fast_shape_t, src) == offsetof(otelc__shape_t, src), "shape");
_Static_assert(OTELC__FAST_SHAPE_MAX == OTELC__SHAPE_MAX, "shape");
_Static_assert(offsetof(otelc__ring_t, tail_seen) == offsetof(otelc__ring_t, head) + 8, "ring");
_Static_assert(offsetof(otelc__ring_t, trace_w) == offsetof(otelc__ring_t, head) + 16, "ring");
_Static_assert(offsetof(otelc__ring_t, counters.produced) == offsetof(otelc__ring_t, head) + 32,
               "ring");
_Static_assert(offsetof(otelc__ring_t, counters.dropped_sampler) ==
                   offsetof(otelc__ring_t, head) + offsetof(otelc__ring_w_t, dropped_sampler),
               "ring");
_Static_assert(sizeof(_Atomic uint64_t) == 8, "ring");
_Static_assert(sizeof(otelc__rec_log_site_t) == 32, "record");
_Static_assert(offsetof(otelc__rec_log_site_t, time) == 8, "record");
_Static_assert(offsetof(otelc__rec_log_site_t, shape) == 16, "record");
_Static_assert(offsetof(otelc__rec_log_site_t, scope) == 20, "record");
_Static_assert(offsetof(otelc__rec_log_site_t, severity) == 24, "record");
_Static_assert(offsetof(otelc__rec_log_site_t, trace_flags) == 25, "record");
_Static_assert(offsetof(otelc__rec_log_site_t, msg_len) == 28, "record");
_Static_assert(OTELC__REC_LOG_SITE == OTELC__REC_LOG_SITE_TYPE, "record");
_Static_assert(OTELC__REC_F_SITE_MSG == OTELC__FAST_F_SITE_MSG, "record");
_Static_assert(OTELC__REC_F_TRACE == OTELC__FAST_F_TRACE, "record");
_Static_assert(OTELC__REC_F_IDS == OTELC__FAST_F_IDS, "record");
_Static_assert(OTELC__REC_F_CTX == OTELC__FAST_F_CTX, "record");
_Static_assert(offsetof(otelc__logger_head_t, scope) == 4, "logger");
/* The span macros'. */
_Static_assert(offsetof(otelc__thread_t, depth) == offsetof(otelc__thread_t, rng) + 8, "thread");
_Static_assert(offsetof(otelc__thread_t, serial) == offsetof(otelc__thread_t, rng) + 12, "thread");
_Static_assert(sizeof(otelc__frame_t) == OTELC__FAST_FRAME_SIZE, "frame");
_Static_assert(OTELC__MAX_DEPTH == OTELC__FAST_MAX_DEPTH, "frame");
_Static_assert(OTELC__FRAME_SPAN == OTELC__FAST_FRAME_SPAN, "frame");
_Static_assert(offsetof(otelc__frame_t, span) == offsetof(otelc__fast_frame_t, span), "frame");
_Static_assert(offsetof(otelc__frame_t, tracestate) == offsetof(otelc__fast_frame_t, tracestate),
               "frame");
_Static_assert(offsetof(otelc__frame_t, tracestate_len) ==
                   offsetof(otelc__fast_frame_t, tracestate_len),
               "frame");
_Static_assert(offsetof(otelc__frame_t, kind) == offsetof(otelc__fast_frame_t, kind), "frame");
_Static_assert(offsetof(otelc__frame_t, owns_span) == offsetof(otelc__fast_frame_t, owns_span),
               "frame");
_Static_assert(offsetof(otelc__frame_t, serial) == offsetof(otelc__fast_frame_t, serial), "frame");
_Static_assert(offsetof(otelc__frame_t, ctx) == offsetof(otelc__fast_frame_t, ctx), "frame");
_Static_assert(offsetof(otelc__fast_frame_t, serial) ==
                   offsetof(otelc__fast_frame_t, tracestate_len) + 4,
               "frame");
_Static_assert(sizeof(otelc__fast_frame_t) <= sizeof(otelc__frame_t), "frame");
_Static_assert(sizeof(otelc__rec_span_begin_t) == 32, "record");
_Static_assert(offsetof(otelc__rec_span_begin_t, time) == 8, "record");
_Static_assert(offsetof(otelc__rec_span_begin_t, span_id) == 16, "record");
_Static_assert(offsetof(otelc__rec_span_begin_t, shape) == 24, "record");
_Static_assert(offsetof(otelc__rec_span_begin_t, scope) == 28, "record");
_Static_assert(sizeof(otelc__rec_span_end_t) == 24, "record");
_Static_assert(offsetof(otelc__rec_span_end_t, time) == 8, "record");
_Static_assert(offsetof(otelc__rec_span_end_t, span_id) == 16, "record");
_Static_assert(offsetof(otelc__rec_t, type) == 4 && offsetof(otelc__rec_t, flags) == 6, "record");
_Static_assert(OTELC__REC_SPAN_BEGIN == OTELC__REC_SPAN_BEGIN_TYPE, "record");
_Static_assert(OTELC__REC_SPAN_END == OTELC__REC_SPAN_END_TYPE, "record");
_Static_assert(OTELC__REC_F_REMOTE == OTELC__FAST_F_REMOTE, "record");
_Static_assert(OTELC__REC_KIND_SHIFT == OTELC__FAST_KIND_SHIFT, "record");
_Static_assert(sizeof(otelc__rec_ctx_t) + OTELC_CORRELATION_ID_MAX <=
                   sizeof(((otelc__fast_t *)0)->sctx),
               "context part");

/* The context part of the thread's records, as write_log_site() writes it;
 * false when it is longer than the inline path copies. */
static bool fast_ctx(otelc__fast_t *f, const otelc__thread_t *t)
{
    otelc__rec_ctx_t c = { (uint16_t)t->corr_len, 0, 0, (uint16_t)t->bound_n, t->bound_len };
    size_t n = sizeof(c) + t->corr_len + t->bound_len;

    f->ctx_len = 0;
    f->head_len = (uint32_t)sizeof(otelc__rec_log_site_t);
    f->flags = OTELC__FAST_F_SITE_MSG;
    if ((t->corr_len | t->bound_len) == 0)
        return true;
    if (n > sizeof(f->ctx))
        return false;
    memcpy(f->ctx, &c, sizeof(c));
    if (t->corr_len)
        memcpy(f->ctx + sizeof(c), t->corr, t->corr_len);
    if (t->bound_len)
        memcpy(f->ctx + sizeof(c) + t->corr_len, t->bound, t->bound_len);
    f->ctx_len = (uint32_t)n;
    f->head_len += f->ctx_len;
    f->flags |= OTELC__FAST_F_CTX;
    return true;
}

/* The span starts the inline path may write: the sampler's decisions it
 * makes without a call, when spans are taken and ids are otelc's. Limits
 * as for logs: the header checks strings against the logs' value limit. */
static uint32_t fast_sflags(void)
{
    const otelc_limits_t *sl = &otelc__hot.span_limits;

    if (!otelc__hot.traces_on || otelc__hot.id_fn != NULL ||
        sl->attribute_count < OTELC__FAST_MAX ||
        sl->attribute_value_length != otelc__hot.log_limits.attribute_value_length)
        return 0;
    /* The children of a parent-based sampler follow their parent. */
    const uint32_t follow = OTELC__FAST_S_CHILD_SAMPLED | OTELC__FAST_S_CHILD_UNSAMPLED
                                                              << OTELC__FAST_S_DROP;
    const uint32_t all =
        OTELC__FAST_S_ROOT | OTELC__FAST_S_CHILD_SAMPLED | OTELC__FAST_S_CHILD_UNSAMPLED;

    switch (otelc__hot.sampler.kind) {
    case OTELC_SAMPLER_ALWAYS_ON:
        return all;
    case OTELC_SAMPLER_ALWAYS_OFF:
        return all << OTELC__FAST_S_DROP;
    case OTELC_SAMPLER_PARENTBASED_ALWAYS_ON:
        return OTELC__FAST_S_ROOT | follow;
    case OTELC_SAMPLER_PARENTBASED_ALWAYS_OFF:
        return OTELC__FAST_S_ROOT << OTELC__FAST_S_DROP | follow;
    case OTELC_SAMPLER_TRACEIDRATIO:
        return OTELC__FAST_S_ROOT_RATIO; /* children by their trace's ratio, in the library */
    case OTELC_SAMPLER_PARENTBASED_TRACEIDRATIO:
        return OTELC__FAST_S_ROOT_RATIO | follow;
    default: /* custom samplers decide in the library */
        return 0;
    }
}

/* The header leaves out compares that these bounds make needless: strings
 * of constant length up to 64 bytes against the value limit, short records
 * against `max` (with a context part of 256 bytes at most), the count
 * against the count limit. */
void otelc__fast_sync(otelc__thread_t *t)
{
    otelc__fast_t *f = &otelc__fast_v2;
    /* The epoch first: a stop changes `running` before the epoch, so a
     * state synced with a later epoch has seen the stop (and is not ready). */
    uint32_t epoch = __atomic_load_n(&otelc__fast_epoch_v2, __ATOMIC_SEQ_CST);
    otelc__ring_t *r = t->ring;

    otelc__fast_cur(t);
    f->ready = 0;
    f->checked = epoch; /* not again before the epoch or the views change */
    if (atomic_load(&otelc__hot.running) != OTELC__RUNNING ||
        otelc__clock.mode != OTELC__CLOCK_TSC || otelc__hot.end_reserve >= r->capacity ||
        r->capacity / 4 < 1024 || otelc__hot.log_limits.attribute_value_length < 64 ||
        otelc__hot.log_limits.attribute_count < OTELC__FAST_MAX)
        return;
    /* The producer's words as the header sees them: plain words it accesses
     * with atomic builtins (the static asserts above check the layout). */
    f->w = (otelc__ring_w_t *)(uintptr_t)&r->head;
    if (!fast_ctx(f, t))
        return;
    f->max = r->capacity / 4;
    otelc__fast_room(t);
    f->value_limit = otelc__hot.log_limits.attribute_value_length;
    f->thr = (otelc__fast_thr_t *)(void *)&t->rng;
    f->frames = (unsigned char *)t->frames;
    f->span_scope = otelc__hot.default_tracer_scope;
    f->sflags = fast_sflags();
    /* A SPAN_BEGIN's context part, as write_begin() writes it with no
     * tracestate (the inline path leaves spans with one to the library). */
    f->sctx_len = 0;
    if (t->corr_len != 0) {
        otelc__rec_ctx_t c = { (uint16_t)t->corr_len, 0, 0, 0, 0 };
        if (sizeof(c) + t->corr_len > sizeof(f->sctx)) {
            f->sflags = 0;
        } else {
            memcpy(f->sctx, &c, sizeof(c));
            memcpy(f->sctx + sizeof(c), t->corr, t->corr_len);
            f->sctx_len = (uint32_t)(sizeof(c) + t->corr_len);
        }
    }
    f->ratio_threshold = otelc__hot.sampler.threshold;
    f->ready = epoch;
}

void otelc__fast_room(otelc__thread_t *t)
{
    otelc__fast_t *f = &otelc__fast_v2;
    otelc__ring_t *r = t->ring;
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint64_t lap = head & ~(r->capacity - 1);
    uint64_t room;

    r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
    room = r->tail_seen + r->capacity - otelc__hot.end_reserve;
    f->base = (uintptr_t)r->data - (uintptr_t)lap;
    f->lim = room < lap + r->capacity ? room : lap + r->capacity;
}

void otelc__fast_bump(void)
{
    uint32_t e = __atomic_load_n(&otelc__fast_epoch_v2, __ATOMIC_SEQ_CST) + 1;

    __atomic_store_n(&otelc__fast_epoch_v2, e != 0 ? e : 1, __ATOMIC_SEQ_CST);
}
