/*
 * hot.h: what the hot path reads besides the thread's own state: the
 * compiler attributes it is built with, the clock, and the global
 * configuration (otelc__hot), written by otelc_init() while no record is
 * made and read by every record.
 */
#ifndef OTELC_HOT_H
#define OTELC_HOT_H

#include "sampler.h"

#include <otelc/otelc.h>

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

#endif /* OTELC_HOT_H */
