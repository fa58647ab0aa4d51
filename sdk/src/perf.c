/*
 * perf.c: performance spans (otelc/perf.h): a span that measures its wall
 * time and, on request, the thread's CPU time and the process's memory, and
 * warns when it is slower than its threshold.
 */
#include "tls.h"
#include "diag.h"

#include <otelc/perf.h>

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MB (1024.0 * 1024.0)

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;

    if (clock_gettime(id, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* /proc/self/statm, opened once per process: "self" is resolved at open,
 * so a child after fork() opens its own and closes the parent's. The pid
 * is stored after the descriptor and read before it: a reader that sees
 * its own pid sees the descriptor opened for it. */
static _Atomic int statm_fd = -1;
static _Atomic pid_t statm_pid;

static int statm_open(void)
{
    pid_t pid = getpid();
    int seen, fd;

    if (atomic_load_explicit(&statm_pid, memory_order_acquire) == pid)
        return atomic_load_explicit(&statm_fd, memory_order_relaxed);
    seen = atomic_load(&statm_fd);
    fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        otelc__diag(OTELC_DIAG_WARN, "perf.rss",
                    "performance span: /proc/self/statm: %s; memory_usage_mb left out",
                    strerror(errno));
        return -1;
    }
    if (!atomic_compare_exchange_strong(&statm_fd, &seen, fd)) {
        /* Another thread of this process opened it first: use its. */
        close(fd);
        return seen;
    }
    atomic_store_explicit(&statm_pid, pid, memory_order_release);
    /* The parent's, inherited across fork(): no reader here uses it. */
    if (seen >= 0)
        close(seen);
    return fd;
}

/* The process's resident memory in bytes (the second field of
 * /proc/self/statm, in pages), or -1. */
static int64_t rss_bytes(void)
{
    char buf[128];
    ssize_t n;
    long long pages = -1;
    int fd = statm_open();

    if (fd < 0)
        return -1;
    n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    if (sscanf(buf, "%*s %lld", &pages) != 1 || pages < 0)
        return -1;
    return (int64_t)pages * (int64_t)sysconf(_SC_PAGESIZE);
}

static void begin_measures(otelc_perf_t *p, const otelc_perf_options_t *opts)
{
    memset(&p->opts, 0, sizeof(p->opts));
    if (opts != NULL) {
        size_t n = opts->struct_size == 0 || opts->struct_size > sizeof(p->opts)
                       ? sizeof(p->opts)
                       : opts->struct_size;
        memcpy(&p->opts, opts, n);
    }
    p->rss_start = -1;
    p->cpu_start_ns = 0;
    p->active = otelc_span_is_recording(&p->span);
    if (!p->active)
        return;
    if (p->opts.memory)
        p->rss_start = rss_bytes();
    if (p->opts.cpu)
        p->cpu_start_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    p->start_ns = clock_ns(CLOCK_MONOTONIC);
}

void otelc_perf_begin(otelc_perf_t *perf, const char *name, size_t len,
                      const otelc_perf_options_t *opts)
{
    otelc_span_options_t so = { .struct_size = sizeof(so) };

    perf->name = so.name = name != NULL ? name : "unnamed";
    perf->name_len = so.name_len = len == OTELC_NUL_TERMINATED ? strlen(perf->name) : len;
    perf->span = otelc_span_start_ex(&so);
    begin_measures(perf, opts);
}

void otelc__perf_site_start(otelc_perf_t *perf, otelc_span_site_t *site,
                            const otelc_perf_options_t *opts)
{
    perf->span = (otelc_span_t)OTELC__SPAN_NONE;
    perf->name = site->name;
    perf->name_len = site->name_len;
    otelc__span_site_start(&perf->span, site, NULL, 0);
    begin_measures(perf, opts);
}

void otelc_perf_end(otelc_perf_t *p)
{
    otelc_attr_t a[5];
    size_t n = 0;
    uint64_t wall, end;
    double ms, cpu_pct = 0, rss_mb = 0;
    bool have_rss = false, have_cpu = false;

    if (!p->active) {
        otelc_span_end(&p->span);
        return;
    }
    p->active = false;
    end = clock_ns(CLOCK_MONOTONIC);
    wall = end > p->start_ns ? end - p->start_ns : 0;
    ms = (double)wall / 1e6;
    a[n++] = (otelc_attr_t)OTELC_DBL("execution_time_ms", ms);
    if (p->opts.cpu && p->cpu_start_ns != 0) {
        uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        cpu = cpu > p->cpu_start_ns ? cpu - p->cpu_start_ns : 0;
        /* A thread cannot run more than the wall time; clock granularity
         * can make it look so for very short spans. */
        cpu_pct = wall > 0 ? 100.0 * (double)cpu / (double)wall : 0.0;
        if (cpu_pct > 100.0)
            cpu_pct = 100.0;
        a[n++] = (otelc_attr_t)OTELC_DBL("cpu_usage_percent", cpu_pct);
        have_cpu = true;
    }
    if (p->opts.memory) {
        int64_t rss = rss_bytes();
        struct rusage ru;
        if (rss >= 0) {
            rss_mb = (double)rss / MB;
            a[n++] = (otelc_attr_t)OTELC_DBL("memory_usage_mb", rss_mb);
            if (p->rss_start >= 0) {
                a[n++] =
                    (otelc_attr_t)OTELC_DBL("memory_delta_mb", (double)(rss - p->rss_start) / MB);
            }
            have_rss = true;
        }
        if (getrusage(RUSAGE_SELF, &ru) == 0) {
            /* ru_maxrss is in kilobytes on Linux, and was seen below
             * statm's resident size read just before (45.77 against 45.95
             * MB in test_perf): the peak is at least what is resident now. */
            double peak = (double)ru.ru_maxrss / 1024.0;
            if (have_rss && rss_mb > peak)
                peak = rss_mb;
            a[n++] = (otelc_attr_t)OTELC_DBL("memory_peak_mb", peak);
        }
    }
    otelc_span_set_attrs(&p->span, a, n);
    if (p->opts.threshold_ms > 0 && ms > p->opts.threshold_ms) {
        otelc_logger_t *lg = p->opts.logger != NULL ? p->opts.logger : otelc_logger("performance");
        otelc_attr_t w[6];
        size_t k = 0;
        char msg[200];

        w[k++] = (otelc_attr_t)OTELC_STRN("operation", p->name, p->name_len);
        w[k++] = (otelc_attr_t)OTELC_DBL("execution_time_ms", ms);
        w[k++] = (otelc_attr_t)OTELC_DBL("threshold_ms", p->opts.threshold_ms);
        if (have_cpu)
            w[k++] = (otelc_attr_t)OTELC_DBL("cpu_usage_percent", cpu_pct);
        if (have_rss)
            w[k++] = (otelc_attr_t)OTELC_DBL("memory_usage_mb", rss_mb);
        snprintf(msg, sizeof(msg), "slow operation: %.*s took %.3f ms (threshold %.3f ms)",
                 (int)(p->name_len > 120 ? 120 : p->name_len), p->name, ms, p->opts.threshold_ms);
        /* Inside the span: the record carries its trace and span ids. */
        otelc_log(lg, OTELC_SEV_WARN, "slow_operation", msg, OTELC_NUL_TERMINATED, w, k);
    }
    otelc_span_end(&p->span);
}

void otelc__perf_cleanup(otelc_perf_t *perf)
{
    otelc_perf_end(perf);
}
