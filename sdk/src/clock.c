/*
 * clock.c: timestamps.
 *
 * Application threads read the cheapest clock there is and store it raw: on
 * x86-64 with an invariant TSC that is rdtsc (about 12 ns on the reference
 * VM, against 30 ns for clock_gettime through the vDSO). The pipeline thread
 * converts ticks to wall-clock nanoseconds with a rate measured against
 * CLOCK_MONOTONIC over a baseline that grows with the process's life, and an
 * anchor to CLOCK_REALTIME refreshed every second, so that wall time follows
 * NTP while span durations come from the tick difference alone.
 *
 * Without an invariant TSC, or with a user clock, records hold nanoseconds
 * and conversion is the identity.
 */
#include "hot.h"

#include <string.h>

otelc__clock_t otelc__clock = { OTELC__CLOCK_REALTIME, NULL, NULL, 1.0, 0, 0, 0, 0, 0 };

static uint64_t ts_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t otelc__mono_ns(void)
{
    return ts_ns(CLOCK_MONOTONIC);
}

uint64_t otelc__wall_ns(void)
{
    if (otelc__clock.mode == OTELC__CLOCK_CUSTOM)
        return otelc__clock.fn(otelc__clock.arg);
    return ts_ns(CLOCK_REALTIME);
}

#if OTELC__HAVE_TSC
#include <cpuid.h>

/* CPUID 0x80000007 EDX bit 8: the TSC runs at a constant rate in every
 * power state, so ticks measure time. */
static bool tsc_invariant(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u)
        return false;
    __get_cpuid(0x80000007u, &a, &b, &c, &d);
    return (d & (1u << 8)) != 0;
}

/* Reads a (ticks, ns) pair as close together as the machine allows: the
 * narrowest of a few tries bounds the error by the read time itself. */
static void paired_read(clockid_t id, uint64_t *ticks, uint64_t *ns)
{
    uint64_t best = UINT64_MAX;
    *ticks = 0;
    *ns = 0;
    for (int i = 0; i < 5; i++) {
        uint64_t t0 = __rdtsc();
        uint64_t n = ts_ns(id);
        uint64_t t1 = __rdtsc();
        if (t1 - t0 < best) {
            best = t1 - t0;
            *ticks = t0 + (t1 - t0) / 2;
            *ns = n;
        }
    }
}
#endif

void otelc__clock_setup(const otelc_options_t *opts)
{
    if (opts->clock_fn != NULL) {
        otelc__clock.fn = opts->clock_fn;
        otelc__clock.arg = opts->clock_arg;
        otelc__clock.mode = OTELC__CLOCK_CUSTOM;
        return;
    }
    otelc__clock.mode = OTELC__CLOCK_REALTIME;
#if OTELC__HAVE_TSC
    if (tsc_invariant()) {
        uint64_t t0 = 0, m0 = 0, t1 = 0, m1 = 0;
        paired_read(CLOCK_MONOTONIC, &t0, &m0);
        /* A first rate from 2 ms; the pipeline refines it every second. */
        do
            paired_read(CLOCK_MONOTONIC, &t1, &m1);
        while (m1 - m0 < 2000000u);
        otelc__clock.base_ticks = t0;
        otelc__clock.base_mono = m0;
        otelc__clock.ns_per_tick = (double)(m1 - m0) / (double)(t1 - t0);
        paired_read(CLOCK_REALTIME, &otelc__clock.anchor_ticks, &otelc__clock.anchor_ns);
        otelc__clock.last_calibration_mono = m1;
        otelc__clock.mode = OTELC__CLOCK_TSC;
    }
#endif
}

void otelc__clock_recalibrate(bool force)
{
#if OTELC__HAVE_TSC
    uint64_t t = 0, m;
    if (otelc__clock.mode != OTELC__CLOCK_TSC)
        return;
    m = otelc__mono_ns();
    if (!force && m - otelc__clock.last_calibration_mono < 1000000000u)
        return;
    paired_read(CLOCK_MONOTONIC, &t, &m);
    if (t > otelc__clock.base_ticks && m > otelc__clock.base_mono)
        otelc__clock.ns_per_tick =
            (double)(m - otelc__clock.base_mono) / (double)(t - otelc__clock.base_ticks);
    paired_read(CLOCK_REALTIME, &otelc__clock.anchor_ticks, &otelc__clock.anchor_ns);
    otelc__clock.last_calibration_mono = m;
#else
    (void)force;
#endif
}

uint64_t otelc__clock_span_ns(uint64_t raw_start, uint64_t raw_end)
{
    if (raw_end <= raw_start)
        return 0;
    if (otelc__clock.mode != OTELC__CLOCK_TSC)
        return raw_end - raw_start;
    return (uint64_t)((double)(raw_end - raw_start) * otelc__clock.ns_per_tick);
}
