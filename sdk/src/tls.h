/*
 * tls.h: an application thread's state: its ring, its context stack (the
 * frames of active spans, attached contexts, correlation ids, bound fields
 * and baggage), its id generator, the guard against re-entry from a signal
 * handler, and the reserve of room in its ring.
 */
#ifndef OTELC_TLS_H
#define OTELC_TLS_H

#include "hot.h"
#include "record.h"
#include "ring.h"
#include "shape.h"

#include <stdatomic.h>

/* ---- per-thread state ----------------------------------------------------- */

enum {
    OTELC__FRAME_SPAN = 1,
    OTELC__FRAME_ATTACH = 2,
    OTELC__FRAME_CORRELATION = 3,
    OTELC__FRAME_BIND = 4,
    OTELC__FRAME_BAGGAGE = 5,
};

#define OTELC__MAX_DEPTH 128
#define OTELC__CORR_BUF 2048
#define OTELC__BOUND_BUF 4096
#define OTELC__BAGGAGE_BUF (4 * 8192)

/* What the context views looked like before a frame was pushed. */
typedef struct otelc__saved_views {
    const char *corr;
    uint32_t corr_len;
    uint32_t bound_len;
    const unsigned char *bound;
    uint32_t bound_n;
    uint32_t bag_len;
    const char *bag;
    uint32_t corr_top, bound_top, bag_top;
} otelc__saved_views_t;

typedef struct otelc__frame {
    otelc_span_context_t span; /* the active span context while this frame is on top */
    const char *tracestate;    /* borrowed: from an attached context or a parent frame */
    uint16_t tracestate_len;
    uint8_t kind;
    uint8_t owns_span; /* a correlation frame that started its own span */
    uint32_t serial;
    otelc_span_t owned;   /* that span */
    otelc_context_t *ctx; /* an attached context, released on pop */
    otelc__saved_views_t saved;
} otelc__frame_t;

typedef struct otelc__thread {
    otelc__ring_t *ring;
    uint64_t rng;
    uint32_t depth;
    uint32_t serial;
    /* Views of the current context; they point into the buffers below or
     * into an attached otelc_context_t. */
    const char *corr;
    uint32_t corr_len;
    const unsigned char *bound;
    uint32_t bound_len, bound_n;
    const char *bag;
    uint32_t bag_len;
    uint32_t corr_top, bound_top, bag_top;
    char *bag_buf; /* allocated on first baggage use */
    char corr_buf[OTELC__CORR_BUF];
    unsigned char bound_buf[OTELC__BOUND_BUF];
    struct otelc__thread *next; /* registry list, under the registry lock */
    otelc__frame_t frames[OTELC__MAX_DEPTH];
} otelc__thread_t;

extern __thread otelc__thread_t *otelc__tls OTELC__TLS_IE;

otelc__thread_t *otelc__thread_create(void);

/* The calling thread's state, made on its first record (NULL on OOM). */
OTELC__INLINE otelc__thread_t *otelc__thread_get(void)
{
    otelc__thread_t *t = otelc__tls;
    if (OTELC_LIKELY(t != NULL))
        return t;
    return otelc__thread_create();
}

/*
 * Enters a call that writes the thread's state; returns the thread, or NULL
 * when no state can be made or the thread is already inside otelc: a signal
 * handler interrupted it. The record of such a call is dropped, and counted
 * (reason reentrant) for signal `sig` (0 spans, 1 logs; -1: not a record
 * that is counted). No lock, no allocation and no diagnostic on that path, so
 * that it is safe in a handler; the pipeline reports the count. Every
 * successful enter is paired with otelc__thread_leave().
 */
OTELC__INLINE otelc__thread_t *otelc__thread_enter(int sig)
{
    otelc__thread_t *t = otelc__tls;

    if (OTELC_UNLIKELY(t == NULL) && (t = otelc__thread_create()) == NULL)
        return NULL;
    /* Non-zero while the thread is inside a call that writes its state
     * (ring, context stack; the log macros' inline path too): a signal
     * handler calling otelc then must not write into the half-written
     * record or frame it interrupted. */
    if (OTELC_UNLIKELY(__atomic_load_n(&otelc__fast_v2.busy, __ATOMIC_RELAXED) != 0)) {
        if (sig >= 0)
            atomic_fetch_add_explicit(&t->ring->counters.dropped_reentrant[sig], 1,
                                      memory_order_relaxed);
        return NULL;
    }
    __atomic_store_n(&otelc__fast_v2.busy, 1, __ATOMIC_RELAXED);
    /* A compiler barrier only: the handler runs on this thread. */
    atomic_signal_fence(memory_order_seq_cst);
    return t;
}

OTELC__INLINE void otelc__thread_leave(otelc__thread_t *t)
{
    (void)t;
    atomic_signal_fence(memory_order_seq_cst);
    __atomic_store_n(&otelc__fast_v2.busy, 0, __ATOMIC_RELAXED);
}

/* The macros' inline path (otelc/fast.h): otelc__fast_sync() makes the
 * thread's state current when it may write (otelc running on the TSC
 * clock, correlation id and bound fields within 256 bytes), else not
 * ready. A change of the context views makes it not ready (context.c)
 * until the next log or span macro's call through the library syncs it
 * again; a change of the active span moves
 * `cur` at once (otelc__fast_cur). otelc__fast_bump() changes the epoch:
 * every thread's state is stale then (init, shutdown, a fork's child). */
void otelc__fast_sync(otelc__thread_t *t);
/* Moves the inline path's limit in the ring (otelc__fast_t.lim) to what the
 * ring's positions allow now. */
void otelc__fast_room(otelc__thread_t *t);
void otelc__fast_bump(void);
/* The active span context when there is none (a zero frame's). */
#define otelc__no_span (otelc__no_frame_v2.span)

/* The state no longer describes the thread: not ready, and to be synced
 * again on the next log call through the library. */
OTELC__INLINE void otelc__fast_stale(void)
{
    otelc__fast_v2.ready = 0;
    otelc__fast_v2.checked = 0;
}

OTELC__INLINE void otelc__fast_cur(const otelc__thread_t *t)
{
    otelc__fast_v2.cur = t->depth > 0 ? &t->frames[t->depth - 1].span : &otelc__no_span;
}

/* After a record the library wrote for a macro: the inline paths' limit
 * in the ring moved when an inline record (1024 bytes at most with
 * constant strings) may not fit under it, so that callers the inline path
 * never serves (C++, more attributes) do not read the consumer's position
 * every time; the state synced once per epoch and change of the views. */
OTELC__INLINE void otelc__fast_after(otelc__thread_t *t)
{
    uint32_t epoch = __atomic_load_n(&otelc__fast_epoch_v2, __ATOMIC_RELAXED);

    if (OTELC_LIKELY(otelc__fast_v2.ready == epoch)) {
        if (OTELC_UNLIKELY(atomic_load_explicit(&t->ring->head, memory_order_relaxed) + 1024 >
                           otelc__fast_v2.lim))
            otelc__fast_room(t);
    } else if (otelc__fast_v2.checked != epoch) {
        otelc__fast_sync(t);
    }
}

/* Pops frames down to (and including) `depth`. */
void otelc__frames_pop_to(otelc__thread_t *t, uint32_t depth);

/* Fast random ids (wyrand) from the thread's state. */
OTELC__INLINE uint64_t otelc__rand64(otelc__thread_t *t)
{
    t->rng += 0xa0761d6478bd642fULL;
    __uint128_t m = (__uint128_t)t->rng * (t->rng ^ 0xe7037ed1a0b428dbULL);
    return (uint64_t)(m >> 64) ^ (uint64_t)m;
}
uint64_t otelc__seed(void);
/* Writes a record into the thread's ring honouring the overflow policy.
 * Returns where to write or NULL (the caller counts the drop). */
void *otelc__reserve_slow(otelc__thread_t *t, uint32_t size, uint64_t reserve, uint64_t *at);

OTELC__INLINE void *otelc__reserve(otelc__thread_t *t, uint32_t size, uint64_t reserve,
                                   uint64_t *at)
{
    void *p = otelc__ring_reserve(t->ring, size, reserve, at);
    if (OTELC_LIKELY(p != NULL))
        return p;
    return otelc__reserve_slow(t, size, reserve, at);
}

/* otelc_span_start_ex() on a thread already entered (otelc__thread_enter):
 * for scopes that start a span of their own. */
otelc_span_t otelc__span_start_in(otelc__thread_t *t, const otelc_span_options_t *o);

/* Ends a span owned by a frame (correlation scope). */
void otelc__span_end_raw(otelc__thread_t *t, const otelc_span_t *span, uint64_t raw_time,
                         uint16_t flags);

#endif /* OTELC_TLS_H */
