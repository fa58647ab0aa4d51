/*
 * core.h: the SDK's internal state shared by its modules: the clock, the id
 * generator, the per-thread state and context stack, the scope registry
 * (tracers and loggers), and the global configuration read on the hot path.
 */
#ifndef OTELC_CORE_H
#define OTELC_CORE_H

#include "record.h"
#include "ring.h"
#include "sampler.h"
#include "shape.h"

#include <otelc/otelc.h>

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define OTELC__HAVE_TSC 1
#else
#define OTELC__HAVE_TSC 0
#endif

#if defined(__GNUC__)
#define OTELC__TLS_IE __attribute__((tls_model("initial-exec")))
#define OTELC__INLINE static inline __attribute__((always_inline))
#else
#define OTELC__TLS_IE
#define OTELC__INLINE static inline
#endif

/* ---- clock ---------------------------------------------------------------- */

enum { OTELC__CLOCK_REALTIME = 0, OTELC__CLOCK_TSC = 1, OTELC__CLOCK_CUSTOM = 2 };

typedef struct otelc__clock {
    int mode;
    uint64_t (*fn)(void *);
    void *arg;
    /* Conversion of ticks to wall time, owned by the pipeline thread:
     * ns = anchor_ns + (ticks - anchor_ticks) * ns_per_tick. */
    double ns_per_tick;
    uint64_t anchor_ticks, anchor_ns;
    uint64_t base_ticks, base_mono; /* long baseline for the rate */
    uint64_t last_calibration_mono;
} otelc__clock_t;

extern otelc__clock_t otelc__clock;

/* Raw time on the hot path: TSC ticks, or ns from clock_gettime / the user. */
OTELC__INLINE uint64_t otelc__now_raw(void)
{
#if OTELC__HAVE_TSC
    if (OTELC_LIKELY(otelc__clock.mode == OTELC__CLOCK_TSC))
        return __rdtsc();
#endif
    if (otelc__clock.mode == OTELC__CLOCK_CUSTOM)
        return otelc__clock.fn(otelc__clock.arg);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t otelc__mono_ns(void);
uint64_t otelc__wall_ns(void);
void otelc__clock_setup(const otelc_options_t *opts);
void otelc__clock_recalibrate(bool force);
/* Converts a raw time to ns since the epoch (pipeline thread). Inline:
 * the pipeline converts two or more times per record. */
static inline uint64_t otelc__clock_to_ns(uint64_t raw)
{
    if (otelc__clock.mode != OTELC__CLOCK_TSC)
        return raw;
    int64_t d = (int64_t)(raw - otelc__clock.anchor_ticks);
    return otelc__clock.anchor_ns + (uint64_t)(int64_t)((double)d * otelc__clock.ns_per_tick);
}
/* Converts a raw duration (end - start) to ns. */
uint64_t otelc__clock_span_ns(uint64_t raw_start, uint64_t raw_end);

/* ---- scopes: tracers and loggers ------------------------------------------ */

struct otelc_logger {
    otelc__logger_head_t head; /* first: read by the log macros */
    uint32_t scope;
    int explicit_level; /* set by otelc_logger_set_level, or -1 */
    char *name;
};

struct otelc_tracer {
    uint32_t scope;
};

/* Registers a scope name (+ version); returns its index or UINT32_MAX. */
uint32_t otelc__scope_register(const char *name, const char *version);
/* The scope at `index` (NULL when unknown); safe from any thread. */
const otelc_scope_info_t *otelc__scope_get(uint32_t index);
/* Re-applies configured levels to every logger (init) or turns them off. */
void otelc__loggers_apply_levels(bool running);
void otelc__scopes_fork_child(void);
void otelc__loggers_configure(const otelc_options_t *opts);
void otelc__scopes_lock(void);
void otelc__scopes_unlock(void);

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
    /* Non-zero while the thread is inside a call that writes its state
     * (ring, context stack): a signal handler calling otelc then must not
     * write into the half-written record or frame it interrupted. */
    _Atomic uint32_t busy;
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
    if (OTELC_UNLIKELY(atomic_load_explicit(&t->busy, memory_order_relaxed) != 0)) {
        if (sig >= 0)
            atomic_fetch_add_explicit(&t->ring->counters.dropped_reentrant[sig], 1,
                                      memory_order_relaxed);
        return NULL;
    }
    atomic_store_explicit(&t->busy, 1, memory_order_relaxed);
    /* A compiler barrier only: the handler runs on this thread. */
    atomic_signal_fence(memory_order_seq_cst);
    return t;
}

OTELC__INLINE void otelc__thread_leave(otelc__thread_t *t)
{
    atomic_signal_fence(memory_order_seq_cst);
    atomic_store_explicit(&t->busy, 0, memory_order_relaxed);
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

/* ---- global state read on the hot path ------------------------------------- */

typedef struct otelc__hot {
    _Atomic int running; /* 1 between init and shutdown */
    bool traces_on;      /* some exporter takes spans */
    bool logs_on;        /* some exporter takes logs */
    otelc_overflow_t overflow;
    uint32_t block_timeout_ms;
    uint64_t ring_size;
    uint64_t end_reserve; /* bytes kept free in a ring for span ends */
    otelc__sampler_t sampler;
    otelc_limits_t span_limits;
    otelc_limits_t log_limits;
    void (*id_fn)(void *, uint8_t *, uint8_t *);
    void *id_arg;
    unsigned propagators;
    uint32_t default_tracer_scope;
} otelc__hot_t;

extern otelc__hot_t otelc__hot;

/* Values of otelc__hot.running. */
#define OTELC__STOPPED 0
#define OTELC__RUNNING 1
#define OTELC__RESTART 2 /* a child after fork(): threads start on first use */

/* Starts the child's pipeline and exporter threads (first call after fork). */
bool otelc__restart_after_fork(void);

OTELC__INLINE bool otelc__running(void)
{
    /* Acquire pairs with the release in otelc_init(), so a thread that sees
     * "running" also sees the configuration; on x86 it is a plain load. */
    int r = atomic_load_explicit(&otelc__hot.running, memory_order_acquire);
    if (OTELC_LIKELY(r == OTELC__RUNNING))
        return true;
    return r == OTELC__RESTART && otelc__restart_after_fork();
}

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

/* ---- the registry of threads (thread.c) ------------------------------------ */

/* The ring of an exited thread, drained and freed by the pipeline. */
typedef struct otelc__orphan {
    otelc__ring_t *ring;
    struct otelc__orphan *next;
} otelc__orphan_t;
/* The producer counters of rings, summed: plain values, indexed by signal
 * (0 spans, 1 logs). */
typedef struct otelc__counts {
    uint64_t produced[2];
    uint64_t dropped_full[2];
    uint64_t dropped_limit[2];
    uint64_t dropped_reentrant[2];
    uint64_t truncated[2];
    uint64_t dropped_sampler;
} otelc__counts_t;
/* Adds a ring's counters to *out. */
void otelc__ring_counters_sum(const otelc__ring_counters_t *c, otelc__counts_t *out);

/* For a drain: the live threads' rings into *rings (grown to hold them;
 * short of memory, as many as *cap holds), returning how many, and the
 * orphans as a list into *orphans. The drain must give each orphan back or
 * retire it (below), in the list's order; until then its counters are
 * still in otelc__registry_counts(). A live ring is freed only by the
 * pipeline (as an orphan), so the pointers stay valid. */
size_t otelc__registry_take(otelc__ring_t ***rings, size_t *cap, otelc__orphan_t **orphans);
/* An orphan not drained empty: back for the next drain. */
void otelc__registry_return_orphan(otelc__orphan_t *o);
/* An orphan drained empty: its counters join the totals, its ring is freed. */
void otelc__registry_retire_orphan(otelc__orphan_t *o);
/* The counters of every ring, live, orphaned or freed; the live threads. */
void otelc__registry_counts(otelc__counts_t *out, uint64_t *n_threads);
/* A new run: rings emptied of an earlier run's records, counters zeroed,
 * orphans freed. Returns the smallest live ring (UINT64_MAX: none). */
uint64_t otelc__registry_reset(void);
/* Around fork(): taken after the pipeline's work lock. */
void otelc__registry_lock(void);
void otelc__registry_unlock(void);
/* In the child, the registry locked: only the calling thread lives on, its
 * ring emptied, its ids reseeded. */
void otelc__registry_fork_child(void);

/* otelc_span_start_ex() on a thread already entered (otelc__thread_enter):
 * for scopes that start a span of their own. */
otelc_span_t otelc__span_start_in(otelc__thread_t *t, const otelc_span_options_t *o);

/* Ends a span owned by a frame (correlation scope). */
void otelc__span_end_raw(otelc__thread_t *t, const otelc_span_t *span, uint64_t raw_time,
                         uint16_t flags);

/* ---- pipeline -------------------------------------------------------------- */

typedef struct otelc__exporter_slot otelc__exporter_slot_t;

otelc_status_t otelc__pipeline_start(const otelc_options_t *opts);
/* Stops the pipeline and exporters by `deadline_mono`; true when all stopped. */
bool otelc__pipeline_stop(uint64_t deadline_mono);
otelc_status_t otelc__pipeline_flush(uint64_t deadline_mono);
void otelc__pipeline_stats(otelc_stats_t *out);
void otelc__pipeline_reset_stats(void);
void otelc__pipeline_fork_prepare(void);
void otelc__pipeline_fork_parent(void);
void otelc__pipeline_fork_child(void);
/* Starts the pipeline's threads in a child process (not in the fork handler). */
bool otelc__pipeline_restart(void);
/* Makes the pipeline thread run a drain now (block policy). */
void otelc__pipeline_wake(void);
/* Resource of the running SDK (for the pipeline). */

#endif /* OTELC_CORE_H */
