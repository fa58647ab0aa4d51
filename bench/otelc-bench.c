/*
 * otelc-bench: hot-path and pipeline benchmarks.
 *
 * Prints one line per workload, `<name> <ns> ns/op`: the median over several
 * repetitions of the time per operation, measured on an application thread
 * through the real pipeline into an exporter that only counts. Then two
 * pipeline workloads with their record counts, and a last line with the
 * records produced, exported and dropped over the whole run. Lines starting
 * with '#' are notes (setup, and drops where none were expected).
 *
 *     otelc-bench              the full run (about a minute and a half on 2 cores)
 *     otelc-bench --quick      few iterations: a smoke run for CI (seconds)
 *     otelc-bench --only NAME  one workload (the last line is still printed)
 *     otelc-bench NAME...      these workloads
 *
 * For experiments: --ops N (operations per repetition and thread), --reps N
 * (timed repetitions, 1 to 64), --chunk N (operations between flushes),
 * --ring BYTES (ring of the microbenchmarks),
 * --spin (paced producers never yield while they wait), --file (the file
 * exporter writes every record too, into a temporary directory: the hot
 * path measured while it runs), --otlp-batch N (spans per request of the
 * OTLP export benchmarks), --no-memory (their throughput only, without the
 * memory cases).
 *
 * The program links the shared library, as an application would, so the
 * numbers include what a user pays for it (PLT calls, the TLS model). The
 * one number that needs otelc's internals, the buffer bytes per span, comes
 * from a helper linked against the static library, otelc-bench-bytes, which
 * this program runs from its own directory.
 *
 * The OTLP export benchmarks (otlp_http_export, otlp_grpc_export) send to
 * otelc-bench-rx, a receiver that only counts (count_receiver.c), run from
 * the same directory as a process of its own so that its CPU time is its
 * own; their memory cases each run in a fresh process of this program
 * (--otlp-memory-case, internal), so that each starts from the same
 * resident size. See run_otlp_export().
 *
 * Benchmarks are not tests: no number makes this program fail. It exits 1
 * only when the record counts do not add up (produced != exported + dropped
 * once the pipeline is idle), and 2 on a bad command line.
 */
#include "bench_common.h"

#include <otelc/file.h>
#ifdef OTELC_BENCH_AUTO
#include "auto_calls.h"

#include <otelc/auto.h>
#endif
#ifdef OTELC_BENCH_OTLP
#include "encode.h"
#endif
#ifdef OTELC_BENCH_OTLP_EXPORT
#include <otelc/otlp.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#endif
#ifdef OTELC_BENCH_PG
#include <libpq-fe.h>
#include <otelc/postgres.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#endif

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define BENCH_HAVE_TSC 1
#define cpu_relax() _mm_pause()
#else
#define BENCH_HAVE_TSC 0
#define cpu_relax() ((void)0)
#endif

extern char **environ;

/* ---- settings --------------------------------------------------------------------- */

#define MAX_SELECTED 32

static struct {
    bool quick;
    const char *names[MAX_SELECTED]; /* the workloads asked for; none: all */
    int n_names;
    size_t ops;           /* operations per timed repetition (per thread) */
    size_t chunk;         /* operations between two flushes */
    uint32_t ring_size;   /* ring of the microbenchmarks */
    int reps;             /* timed repetitions; the median is printed */
    int warmups;          /* untimed repetitions first */
    double pipeline_secs; /* pipeline_1m duration */
    double flat_secs;     /* flat_out_2threads duration */
    bool spin;            /* paced producers wait without yielding */
    size_t otlp_batch;    /* spans per request of otlp_*_export */
    bool otlp_memory;     /* otlp_*_export run their memory cases */
} cfg = { false, { NULL }, 0, 200000, 20000, 1u << 24, 11, 3, 2.0, 1.0, false, 512, true };

/*
 * Ring and queue sizes of the microbenchmarks. A loop of spans runs faster
 * than the pipeline thread turns them into batches (it drains every
 * millisecond, on the core it shares with the exporter thread), so with the
 * default 512 KiB ring and 2048-record queues a flat-out loop would mostly
 * measure drops. The microbenchmarks therefore flush every cfg.chunk
 * operations (outside the timed region), with a ring that holds a whole
 * chunk (16 MiB: 20000 parent+child pairs take 6.4 MB) and a queue that
 * holds a whole drain: nothing is dropped, and every record timed is a
 * record exported. The pipeline workloads (pipeline_1m, flat_out_2threads)
 * use the defaults.
 */
#define MICRO_QUEUE_SIZE (1u << 20)
#define MICRO_BATCH_SIZE 4096u

static otelc_logger_t *bench_log;
static int exit_status;

/* Over the whole run (sum of otelc_stats() of every session). */
static uint64_t total_produced, total_exported, total_dropped[OTELC_DROP_REASONS];

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of the calling thread: the time it ran, not the time it waited
 * for a core. */
static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool selected(const char *name)
{
    for (int i = 0; i < cfg.n_names; i++)
        if (strcmp(cfg.names[i], name) == 0)
            return true;
    return cfg.n_names == 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* Keeps the compiler from dropping a computation whose result is unused. */
static volatile uint64_t sink;

/* ---- sessions: init, check the counts, shutdown ----------------------------------- */

typedef struct session {
    const char *name;
    uint64_t counted_spans, counted_logs; /* the exporter's counters at init */
    bool expect_no_drops;                 /* drops other than by the sampler are noted */
} session_t;

/* --file: the file exporter runs beside the counting one, into a temporary
 * directory, so that the hot path is measured while it writes. */
static char file_dir[64];

static void with_file_exporter(otelc_options_t *o)
{
    if (file_dir[0] == '\0')
        return;
    o->traces_exporter = "file";
    o->logs_exporter = "file";
    otelc_file_options(o)->directory = file_dir;
}

/* Names `exporter` for both signals with two of its settings; for the
 * options below. */
static void with_exporter(otelc_options_t *o, const char *exporter, const char *k1, const char *v1,
                          const char *k2, const char *v2)
{
    o->traces_exporter = exporter;
    o->logs_exporter = exporter;
    if (otelc_options_set(o, k1, v1) != OTELC_OK || otelc_options_set(o, k2, v2) != OTELC_OK)
        fprintf(stderr, "otelc-bench: the %s settings do not read\n", exporter);
}

/* --otlp ENDPOINT [--otlp-protocol P]: the micro benchmarks export to an
 * OTLP receiver (otelc-bench-rx, for one), to measure the hot path while
 * the OTLP exporter works beside it. */
static const char *otlp_endpoint, *otlp_protocol = "http/protobuf";

static void with_otlp_exporter(otelc_options_t *o)
{
    if (otlp_endpoint != NULL)
        with_exporter(o, "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT", otlp_endpoint,
                      "OTEL_EXPORTER_OTLP_PROTOCOL", otlp_protocol);
}

/* --pg CONNINFO: the micro benchmarks export to PostgreSQL (the schema made
 * at start), to measure the hot path while that exporter works beside it.
 * The database takes far fewer rows per second than the benchmarks make:
 * most batches are dropped at the exporter's queue, counted. */
static const char *pg_conninfo;

static void with_pg_exporter(otelc_options_t *o)
{
    if (pg_conninfo != NULL)
        with_exporter(o, "postgres", "OTELC_PG_CONNINFO", pg_conninfo, "OTELC_PG_AUTO_MIGRATE",
                      "1");
}

static void micro_options(otelc_options_t *o)
{
    bench_options(o);
    with_file_exporter(o);
    with_otlp_exporter(o);
    with_pg_exporter(o);
    o->ring_size = cfg.ring_size;
    o->spans_batch.max_queue_size = MICRO_QUEUE_SIZE;
    o->logs_batch.max_queue_size = MICRO_QUEUE_SIZE;
    o->spans_batch.max_export_batch_size = MICRO_BATCH_SIZE;
    o->logs_batch.max_export_batch_size = MICRO_BATCH_SIZE;
}

static bool session_begin(session_t *s, const char *name, const otelc_options_t *o,
                          bool expect_no_drops)
{
    otelc_status_t st;

    s->name = name;
    s->expect_no_drops = expect_no_drops;
    s->counted_spans = atomic_load(&bench_counter.spans);
    s->counted_logs = atomic_load(&bench_counter.logs);
    st = otelc_init(o);
    if (st != OTELC_OK) {
        printf("# %s: otelc_init failed: %s\n", name, otelc_status_str(st));
        exit_status = 1;
        return false;
    }
    return true;
}

static void format_reasons(const otelc_signal_stats_t *s, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = 0;
    for (int r = 0; r < OTELC_DROP_REASONS; r++) {
        if (s->dropped[r] == 0 || n >= size)
            continue;
        n += (size_t)snprintf(buf + n, size - n, "%s%s=%llu", n ? " " : "",
                              otelc_drop_reason_str((otelc_drop_reason_t)r),
                              (unsigned long long)s->dropped[r]);
    }
}

/*
 * Checks one signal once the pipeline is idle: nothing pending, every record
 * exported or dropped, and what the exporter counted is what otelc says it
 * exported. Returns false (and says why) otherwise.
 */
static bool signal_exact(const char *session, const char *signal, const otelc_signal_stats_t *s,
                         uint64_t counted)
{
    uint64_t dropped = otelc_signal_stats_dropped(s);
    /* With --file a record counts as exported only when the file exporter
     * wrote it too, so the counting exporter may have seen more. */
    bool seen = file_dir[0] != '\0' ? counted >= s->exported : s->exported == counted;
    bool ok = s->pending == 0 && s->produced == s->exported + dropped && seen;

    if (!ok)
        printf("# %s: %s counts do not add up: produced=%llu exported=%llu dropped=%llu "
               "pending=%llu, exporter counted %llu\n",
               session, signal, (unsigned long long)s->produced, (unsigned long long)s->exported,
               (unsigned long long)dropped, (unsigned long long)s->pending,
               (unsigned long long)counted);
    return ok;
}

/*
 * Flushes, checks the counts, shuts down and adds the session's statistics
 * to the run's. `out` (optional) receives the statistics after the flush.
 * Returns whether the counts were exact.
 */
static bool session_end(session_t *s, otelc_stats_t *out)
{
    otelc_stats_t st, fin;
    otelc_status_t fs = otelc_flush(30000);
    bool exact;

    otelc_stats(&st);
    if (fs != OTELC_OK)
        printf("# %s: otelc_flush: %s\n", s->name, otelc_status_str(fs));
    /* Both signals are checked (and reported) even when the first fails. */
    exact = signal_exact(s->name, "spans", &st.spans,
                         atomic_load(&bench_counter.spans) - s->counted_spans);
    exact = signal_exact(s->name, "logs", &st.logs,
                         atomic_load(&bench_counter.logs) - s->counted_logs) &&
            exact;
    if (s->expect_no_drops) {
        const otelc_signal_stats_t *sig[2] = { &st.spans, &st.logs };
        for (int i = 0; i < 2; i++) {
            uint64_t d = otelc_signal_stats_dropped(sig[i]) - sig[i]->dropped[OTELC_DROP_SAMPLER];
            char why[160];
            if (d == 0)
                continue;
            format_reasons(sig[i], why, sizeof(why));
            printf("# %s: %llu %s dropped (%s)\n", s->name, (unsigned long long)d,
                   i == 0 ? "spans" : "log records", why);
        }
    }
    if (out != NULL)
        *out = st;
    fs = otelc_shutdown(10000);
    if (fs != OTELC_OK)
        printf("# %s: otelc_shutdown: %s\n", s->name, otelc_status_str(fs));
    otelc_stats(&fin);
    total_produced += fin.spans.produced + fin.logs.produced;
    total_exported += fin.spans.exported + fin.logs.exported;
    for (int r = 0; r < OTELC_DROP_REASONS; r++)
        total_dropped[r] += fin.spans.dropped[r] + fin.logs.dropped[r];
    if (!exact)
        exit_status = 1;
    return exact;
}

/* ---- the workloads ---------------------------------------------------------------- */

/* Each body performs `n` operations; the caller times it. noinline keeps
 * the compiler from merging a body into the timing code. */
#define BODY static __attribute__((noinline)) void

BODY body_clock_read(size_t n)
{
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        acc += (uint64_t)ts.tv_nsec;
    }
    sink = acc;
}

BODY body_clock_read_tsc(size_t n)
{
    uint64_t acc = 0;
#if BENCH_HAVE_TSC
    for (size_t i = 0; i < n; i++)
        acc += __rdtsc();
#else
    (void)n;
#endif
    sink = acc;
}

BODY body_span_empty(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        OTELC_SPAN("bench.empty");
    }
}

BODY body_span_3attrs(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        BENCH_SPAN_3ATTRS((int64_t)i);
    }
}

BODY body_span_nested_child(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        OTELC_SPAN("bench.parent");
        {
            OTELC_SPAN("bench.child");
        }
    }
}

BODY body_log_3attrs(size_t n)
{
    /* The records carry the trace and span ids of an active span. */
    OTELC_SPAN("bench.log_parent");
    for (size_t i = 0; i < n; i++)
        BENCH_LOG_3ATTRS(bench_log, (int64_t)i);
}

/* log_3attrs inside a correlation scope (which starts its own root span):
 * the records carry the correlation id, as an order's logs do. */
BODY body_log_3attrs_corr(size_t n)
{
    OTELC_CORRELATION("ORD-20261206-000042")
    {
        for (size_t i = 0; i < n; i++)
            BENCH_LOG_3ATTRS(bench_log, (int64_t)i);
    }
}

/* span_3attrs inside a correlation scope: the spans carry the correlation
 * id, as an order's spans do (children of the scope's own span). */
BODY body_span_3attrs_corr(size_t n)
{
    OTELC_CORRELATION("ORD-20261206-000042")
    {
        for (size_t i = 0; i < n; i++) {
            BENCH_SPAN_3ATTRS((int64_t)i);
        }
    }
}

/* DEBUG on a logger at INFO: the macro's level check, arguments unevaluated. */
BODY body_log_disabled(size_t n)
{
    for (size_t i = 0; i < n; i++)
        OTELC_DEBUG(bench_log, "not recorded", BENCH_3ATTRS((int64_t)i));
}

/* A span the sampler (always_off) drops: ids, the decision, the context
 * push and pop, no record. Without attributes, as span_empty. */
BODY body_span_unsampled(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        OTELC_SPAN("bench.unsampled");
    }
}

/* Performance spans (OTELC_PERF): time only, with the thread's CPU time,
 * and with CPU and memory (perf_span, the workload). */
BODY body_perf_span_time(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        OTELC_PERF("bench.perf");
    }
}

BODY body_perf_span_cpu(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        OTELC_PERF("bench.perf", .cpu = true);
    }
}

BODY body_perf_span(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        OTELC_PERF("bench.perf", .cpu = true, .memory = true);
    }
}

static void opts_always_off(otelc_options_t *o)
{
    o->sampler = OTELC_SAMPLER_ALWAYS_OFF;
}

#ifdef OTELC_BENCH_AUTO
/* Automatic function spans (instrumentation/auto): one call of a function
 * built with -finstrument-functions. auto_call makes a span per call;
 * auto_call_filtered is a call shorter than OTELC_AUTO_MIN_US (1 ms here),
 * which makes none: the two clock reads and the stack of calls only. */
BODY body_auto_call(size_t n)
{
    for (size_t i = 0; i < n; i++)
        (void)bench_auto_call((int)i);
}

/* The same loop under its own name (bench/instructions.sh tells the
 * workloads' threads apart by their body's name). */
BODY body_auto_call_filtered(size_t n)
{
    for (size_t i = 0; i < n; i++)
        (void)bench_auto_call((int)i);
}

static void opts_auto(otelc_options_t *o, const char *min_us)
{
    if (otelc_options_set(o, "OTELC_AUTO_MIN_US", min_us) != OTELC_OK)
        fprintf(stderr, "# otelc-bench: OTELC_AUTO_MIN_US not known\n");
    /* Read at the next traced call, with this run's settings. */
    otelc_auto_reload();
}

static void opts_auto_every_call(otelc_options_t *o)
{
    opts_auto(o, "0");
}

static void opts_auto_min_1ms(otelc_options_t *o)
{
    opts_auto(o, "1000");
}
#endif

typedef struct workload {
    const char *name;
    void (*body)(size_t n);
    unsigned ops_scale;                /* ops per repetition = cfg.ops * ops_scale */
    bool sdk;                          /* runs between otelc_init and otelc_shutdown */
    int threads;                       /* 1, or 2 at once */
    void (*tweak)(otelc_options_t *o); /* options beyond micro_options() */
} workload_t;

static const workload_t workloads[] = {
    { "clock_read", body_clock_read, 2, false, 1, NULL },
    { "clock_read_tsc", body_clock_read_tsc, 5, false, 1, NULL },
    { "span_empty", body_span_empty, 1, true, 1, NULL },
    { "span_3attrs", body_span_3attrs, 1, true, 1, NULL },
    { "span_nested_child", body_span_nested_child, 1, true, 1, NULL },
    { "log_3attrs", body_log_3attrs, 1, true, 1, NULL },
    { "log_3attrs_corr", body_log_3attrs_corr, 1, true, 1, NULL },
    { "span_3attrs_corr", body_span_3attrs_corr, 1, true, 1, NULL },
    { "log_disabled", body_log_disabled, 20, true, 1, NULL },
    { "span_unsampled", body_span_unsampled, 5, true, 1, opts_always_off },
    { "span_3attrs_2threads", body_span_3attrs, 1, true, 2, NULL },
    { "perf_span_time", body_perf_span_time, 1, true, 1, NULL },
    { "perf_span_cpu", body_perf_span_cpu, 1, true, 1, NULL },
    { "perf_span", body_perf_span, 1, true, 1, NULL },
#ifdef OTELC_BENCH_AUTO
    { "auto_call", body_auto_call, 1, true, 1, opts_auto_every_call },
    { "auto_call_filtered", body_auto_call_filtered, 5, true, 1, opts_auto_min_1ms },
#endif
};

/*
 * Runs a workload on `threads` fresh threads (fresh, so that each gets a ring
 * of this session's size: a thread keeps the ring it got on its first
 * record). A repetition is cfg.ops operations per thread, done in chunks
 * small enough for a thread's ring to hold what the pipeline has not drained
 * yet; between chunks the threads wait at a barrier while the main thread
 * flushes, outside the timed region, so the ring never fills. Each thread
 * times its own chunk; a chunk's time runs from the first thread's start to
 * the last thread's end, so that with two threads it is the wall time of
 * both. The warm-up writes each ring through at least once, so that no
 * page is first touched in a timed chunk.
 */
#define MIN_BYTES_PER_OP 128u /* the smallest record pair (span_empty) */

typedef struct runner {
    const workload_t *w;
    size_t chunk; /* operations per chunk and thread */
    size_t total; /* chunks in all, warm-up included */
    size_t warm;  /* chunks of warm-up */
    pthread_barrier_t start, done;
    uint64_t t0[2], t1[2]; /* per thread: the current chunk's start and end */
    uint64_t cpu_ns[2];    /* per thread: CPU time in the timed chunks */
} runner_t;

typedef struct runner_arg {
    runner_t *r;
    int index;
} runner_arg_t;

static void *runner_thread(void *arg)
{
    runner_arg_t *a = arg;
    runner_t *r = a->r;
    for (size_t c = 0; c < r->total; c++) {
        uint64_t cpu0;
        pthread_barrier_wait(&r->start);
        cpu0 = thread_cpu_ns();
        r->t0[a->index] = now_ns();
        r->w->body(r->chunk);
        r->t1[a->index] = now_ns();
        if (c >= r->warm)
            r->cpu_ns[a->index] += thread_cpu_ns() - cpu0;
        pthread_barrier_wait(&r->done);
    }
    return NULL;
}

static void run_workload(const workload_t *w)
{
    runner_t r;
    runner_arg_t args[2];
    pthread_t th[2];
    double per_op[64];
    uint64_t rep_ns[64] = { 0 };
    otelc_options_t o;
    session_t s;
    int nth = w->threads, started = 0, reps = cfg.reps < 64 ? cfg.reps : 64;
    size_t ops = cfg.ops * w->ops_scale, per_rep, warm;

    r.w = w;
    r.chunk = w->sdk && cfg.chunk < ops ? cfg.chunk : ops;
    per_rep = (ops + r.chunk - 1) / r.chunk;
    warm = (size_t)cfg.warmups * per_rep;
    if (w->sdk) {
        size_t touch =
            (cfg.ring_size + r.chunk * MIN_BYTES_PER_OP - 1) / (r.chunk * MIN_BYTES_PER_OP);
        warm = touch > warm ? touch : warm;
    }
    r.total = warm + (size_t)reps * per_rep;
    r.warm = warm;
    r.cpu_ns[0] = r.cpu_ns[1] = 0;
    if (w->sdk) {
        micro_options(&o);
        if (w->tweak != NULL)
            w->tweak(&o);
        if (!session_begin(&s, w->name, &o, true))
            return;
    }
    pthread_barrier_init(&r.start, NULL, (unsigned)nth + 1);
    pthread_barrier_init(&r.done, NULL, (unsigned)nth + 1);
    for (int i = 0; i < nth; i++) {
        args[i].r = &r;
        args[i].index = i;
        if (pthread_create(&th[i], NULL, runner_thread, &args[i]) != 0) {
            fprintf(stderr, "otelc-bench: cannot start a thread\n");
            exit(1);
        }
        started++;
    }
    for (size_t c = 0; c < r.total; c++) {
        uint64_t first, last;
        pthread_barrier_wait(&r.start);
        pthread_barrier_wait(&r.done);
        first = r.t0[0];
        last = r.t1[0];
        for (int k = 1; k < nth; k++) {
            first = r.t0[k] < first ? r.t0[k] : first;
            last = r.t1[k] > last ? r.t1[k] : last;
        }
        if (c >= warm)
            rep_ns[(c - warm) / per_rep] += last - first;
        if (w->sdk)
            (void)otelc_flush(30000);
    }
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&r.start);
    pthread_barrier_destroy(&r.done);
    for (int i = 0; i < reps; i++)
        per_op[i] = (double)rep_ns[i] / ((double)(r.chunk * per_rep) * nth);
    printf("%s %.1f ns/op\n", w->name, median(per_op, reps));
    {
        /* The producing thread's CPU time per op, beside the wall time: on
         * this 2-vCPU machine the pipeline thread and everything else
         * preempt the producer, which wall time counts and CPU time does
         * not. With two threads, wall time per op halves only if they
         * share nothing; CPU time per op on each shows whether the hot
         * path itself slowed down (shared cache lines). Mean over the
         * timed chunks. */
        double ops_timed = (double)(r.chunk * per_rep) * reps;
        printf("# %s: thread CPU time per op:", w->name);
        for (int i = 0; i < nth; i++)
            printf(" %.1f ns", (double)r.cpu_ns[i] / ops_timed);
        printf("\n");
    }
    fflush(stdout);
    if (w->sdk)
        (void)session_end(&s, NULL);
}

/* ---- buffer bytes per span (helper program) --------------------------------------- */

/*
 * Runs otelc-bench-bytes from this program's directory and copies its lines
 * (span_3attrs_bytes, log_3attrs_bytes) to stdout. The helper needs otelc's
 * internals (the ring's head), which the shared library does not export.
 */
/* The path of helper program `name` in this program's directory; false when
 * it is not there. */
static bool helper_path(const char *name, char *path, size_t size)
{
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *slash;

    if (len <= 0)
        return false;
    self[len] = 0;
    slash = strrchr(self, '/');
    if (slash == NULL)
        return false;
    *slash = 0;
    snprintf(path, size, "%s/%s", self, name);
    return access(path, X_OK) == 0;
}

/* Adds the counts of a child's last line ("records produced=P exported=E
 * dropped=D (reason=N ...)") to the run's. */
static void add_child_totals(const char *line)
{
    unsigned long long p, e, d;
    const char *r = strchr(line, '(');

    if (sscanf(line, "records produced=%llu exported=%llu dropped=%llu", &p, &e, &d) != 3)
        return;
    total_produced += p;
    total_exported += e;
    while (r != NULL && *r != '\0' && *r != ')') {
        char reason[64];
        unsigned long long n;

        r++;
        if (sscanf(r, "%63[^=]=%llu", reason, &n) != 2)
            break;
        for (int k = 0; k < OTELC_DROP_REASONS; k++)
            if (strcmp(reason, otelc_drop_reason_str((otelc_drop_reason_t)k)) == 0)
                total_dropped[k] += n;
        r = strpbrk(r, " )");
    }
}

/*
 * Runs a program (argv[0] its path) with its stdout into ours, line by
 * line, but for a last "records ..." line, whose counts are added to the
 * run's. Returns whether it printed anything; a failure is noted, and
 * makes this program's status 1.
 */
static bool run_child(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    int fds[2], status = 0;
    pid_t pid;
    FILE *in;
    char line[1024];
    bool got = false;

    if (pipe(fds) != 0)
        return false;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    fflush(stdout);
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    in = fdopen(fds[0], "r");
    while (in != NULL && fgets(line, sizeof(line), in) != NULL) {
        if (strncmp(line, "records ", 8) == 0)
            add_child_totals(line);
        else
            fputs(line, stdout);
        fflush(stdout);
        got = true;
    }
    if (in != NULL)
        fclose(in);
    else
        close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        printf("# %s failed (status %d)\n", argv[0], status);
        exit_status = 1;
    }
    return got;
}

static void run_bytes_helper(void)
{
    char path[PATH_MAX + 32];
    char *argv[2] = { path, NULL };

    if (!helper_path("otelc-bench-bytes", path, sizeof(path)) || !run_child(argv))
        printf("span_3attrs_bytes n/a (otelc-bench-bytes not found beside otelc-bench)\n");
}

/* ---- pipeline workloads ----------------------------------------------------------- */

/*
 * A producer records spans with three attributes, each with a log record
 * with three attributes inside it (two records per iteration), until its
 * deadline. Paced: it runs in batches of 50 iterations (100 records) and,
 * before each batch, busy-waits until the batch is due (each thread's batch
 * every 200 us at 1M records/s in all), so that the rate is steady at that
 * scale without sleeps the kernel would round up. The schedule is absolute:
 * a batch that comes late is followed by the next at once.
 */
typedef struct producer {
    pthread_t th;
    pthread_barrier_t *go;
    double records_per_sec; /* 0: as fast as possible */
    double secs;
    uint64_t records; /* what this thread recorded */
    uint64_t elapsed_ns;
} producer_t;

#define PACE_BATCH 50u

static void *producer_main(void *arg)
{
    producer_t *p = arg;
    uint64_t start, end, now, i = 0;
    double ns_per_iteration = p->records_per_sec > 0 ? 2e9 / p->records_per_sec : 0;

    pthread_barrier_wait(p->go);
    start = now_ns();
    end = start + (uint64_t)(p->secs * 1e9);
    for (;;) {
        now = now_ns();
        if (now >= end)
            break;
        if (ns_per_iteration > 0) {
            uint64_t due = start + (uint64_t)((double)i * ns_per_iteration);
            if (now < due) {
                /* Waiting stays on the CPU, as a busy application would,
                 * but offers it to the pipeline and exporter threads when
                 * they are runnable: on two cores, two spinning producers
                 * would otherwise hold off the pipeline for a scheduler
                 * slice at a time. --spin measures that case. */
                if (!cfg.spin && due - now > 20000u)
                    sched_yield();
                else
                    cpu_relax();
                continue;
            }
        }
        for (unsigned k = 0; k < PACE_BATCH; k++, i++) {
            BENCH_SPAN_3ATTRS((int64_t)i);
            BENCH_LOG_3ATTRS(bench_log, (int64_t)i);
        }
    }
    p->records = 2 * i;
    p->elapsed_ns = now_ns() - start;
    return NULL;
}

/* Runs two producers (total_rate records/s in all, 0: flat out) for secs
 * within the current session; returns their rate in records/s. */
static double produce(double total_rate, double secs)
{
    producer_t p[2];
    pthread_barrier_t go;
    uint64_t records = 0, elapsed = 0;

    pthread_barrier_init(&go, NULL, 2);
    for (int i = 0; i < 2; i++) {
        p[i].go = &go;
        p[i].records_per_sec = total_rate / 2;
        p[i].secs = secs;
        if (pthread_create(&p[i].th, NULL, producer_main, &p[i]) != 0) {
            fprintf(stderr, "otelc-bench: cannot start a thread\n");
            exit(1);
        }
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(p[i].th, NULL);
        records += p[i].records;
        elapsed = p[i].elapsed_ns > elapsed ? p[i].elapsed_ns : elapsed;
    }
    pthread_barrier_destroy(&go);
    return elapsed ? (double)records * 1e9 / (double)elapsed : 0;
}

/* Runs two producers with the default options; returns the statistics after
 * the flush and whether the counts were exact. */
static bool run_producers(const char *name, double total_rate, double secs, otelc_stats_t *st,
                          double *rate)
{
    otelc_options_t o;
    session_t s;

    bench_options(&o);
    with_file_exporter(&o);
    if (!session_begin(&s, name, &o, false))
        return false;
    *rate = produce(total_rate, secs);
    return session_end(&s, st);
}

static void print_reasons(const char *name, const otelc_stats_t *st)
{
    char a[160], b[160];
    if (otelc_signal_stats_dropped(&st->spans) + otelc_signal_stats_dropped(&st->logs) == 0)
        return;
    format_reasons(&st->spans, a, sizeof(a));
    format_reasons(&st->logs, b, sizeof(b));
    printf("# %s: spans dropped: %s; logs dropped: %s\n", name, a[0] ? a : "none",
           b[0] ? b : "none");
}

/* What the records exported cost the pipeline thread: its CPU time over
 * them (otelc_stats_t.pipeline_cpu_ns), the rate that CPU time allows. */
static void print_pipeline_cpu(const char *name, const otelc_stats_t *st)
{
    uint64_t n = st->spans.exported + st->logs.exported;
    if (st->pipeline_cpu_ns == 0 || n == 0)
        return;
    printf("# %s: pipeline thread CPU %.1f ms for %llu records exported: %.2f M records per "
           "CPU second (%.1f ns a record)\n",
           name, (double)st->pipeline_cpu_ns / 1e6, (unsigned long long)n,
           (double)n * 1e3 / (double)st->pipeline_cpu_ns, (double)st->pipeline_cpu_ns / (double)n);
}

static void run_pipeline_1m(void)
{
    otelc_stats_t st;
    double rate;

    run_producers("pipeline_1m", 1e6, cfg.pipeline_secs, &st, &rate);
    printf("pipeline_1m produced=%llu exported=%llu dropped=%llu (rate=%.0f rec/s)\n",
           (unsigned long long)(st.spans.produced + st.logs.produced),
           (unsigned long long)(st.spans.exported + st.logs.exported),
           (unsigned long long)(otelc_signal_stats_dropped(&st.spans) +
                                otelc_signal_stats_dropped(&st.logs)),
           rate);
    print_reasons("pipeline_1m", &st);
    print_pipeline_cpu("pipeline_1m", &st);
    fflush(stdout);
}

static void run_flat_out(void)
{
    otelc_stats_t st;
    double rate;
    bool exact = run_producers("flat_out_2threads", 0, cfg.flat_secs, &st, &rate);

    printf("flat_out_2threads produced=%llu exported=%llu dropped=%llu (rate=%.0f rec/s) "
           "exact=%s\n",
           (unsigned long long)(st.spans.produced + st.logs.produced),
           (unsigned long long)(st.spans.exported + st.logs.exported),
           (unsigned long long)(otelc_signal_stats_dropped(&st.spans) +
                                otelc_signal_stats_dropped(&st.logs)),
           rate, exact ? "yes" : "no");
    print_reasons("flat_out_2threads", &st);
    print_pipeline_cpu("flat_out_2threads", &st);
    fflush(stdout);
}

/* ---- the file exporter ------------------------------------------------------------ */

/*
 * file_flat_lines and file_otlp_lines: lines per second that the file
 * exporter writes on one core. Batches of 512 records shaped like the
 * pipeline makes them for span_3attrs and log_3attrs are handed to the
 * exporter's export() on this thread, for spans and logs in turn, into a
 * temporary directory (default rotation, so rotation is part of the cost);
 * the rate is over this thread's CPU time, the wall-clock rate follows.
 */
#define FILE_BATCH 512

static const otelc_scope_info_t file_scope = { { "bench", 5 }, { "", 0 } };

static void make_records(otelc_span_data_t *spans, otelc_log_data_t *logs, otelc_attr_t *attrs,
                         size_t n, const otelc_attr_t *resource_attrs, otelc_resource_t *resource)
{
    uint64_t t0 = 1763720000000000000ull; /* 2025-11-21, a fixed day: no daily rotation */

    resource->attrs = resource_attrs;
    resource->n_attrs = 1;
    for (size_t i = 0; i < n; i++) {
        otelc_attr_t *a = &attrs[3 * i];
        otelc_span_context_t ctx;

        memset(&ctx, 0, sizeof(ctx));
        for (int k = 0; k < 16; k++)
            ctx.trace_id[k] = (uint8_t)(0x10 + k + i);
        for (int k = 0; k < 8; k++)
            ctx.span_id[k] = (uint8_t)(0xa0 + k + i);
        ctx.trace_flags = 1;
        a[0] = (otelc_attr_t){
            .key = "symbol", .type = OTELC_ATTR_STRING, .key_len = 6, .len = 4, .v.s = "AAPL"
        };
        a[1] =
            (otelc_attr_t){ .key = "qty", .type = OTELC_ATTR_INT, .key_len = 3, .v.i = (int64_t)i };
        a[2] = (otelc_attr_t){
            .key = "price", .type = OTELC_ATTR_DOUBLE, .key_len = 5, .v.d = 150.25
        };
        memset(&spans[i], 0, sizeof(spans[i]));
        spans[i].ctx = ctx;
        spans[i].name = (otelc_str_t){ "bench.span", 10 };
        spans[i].kind = 1;
        spans[i].start_ns = t0 + i * 1000u;
        spans[i].end_ns = spans[i].start_ns + 740u;
        spans[i].scope = &file_scope;
        spans[i].attrs = a;
        spans[i].n_attrs = 3;
        spans[i].trace_state = spans[i].status_message = spans[i].correlation_id =
            (otelc_str_t){ "", 0 };
        if (logs == NULL)
            continue;
        memset(&logs[i], 0, sizeof(logs[i]));
        logs[i].time_ns = logs[i].observed_time_ns = t0 + i * 1000u + 500u;
        logs[i].severity = 9;
        logs[i].severity_text = (otelc_str_t){ "INFO", 4 };
        logs[i].body = (otelc_str_t){ "order sent", 10 };
        logs[i].event_name = logs[i].correlation_id = (otelc_str_t){ "", 0 };
        logs[i].scope = &file_scope;
        logs[i].ctx = ctx;
        logs[i].attrs = a;
        logs[i].n_attrs = 3;
    }
}

static void file_batches(otelc_span_data_t *spans, otelc_log_data_t *logs, otelc_attr_t *attrs,
                         const otelc_attr_t *resource_attrs, otelc_resource_t *resource)
{
    make_records(spans, logs, attrs, FILE_BATCH, resource_attrs, resource);
}

static void remove_dir(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "otelc-bench: could not remove %s\n", dir);
}

static void run_file_lines(const char *name, otelc_file_format_t format)
{
    static otelc_span_data_t spans[FILE_BATCH];
    static otelc_log_data_t logs[FILE_BATCH];
    static otelc_attr_t attrs[3 * FILE_BATCH];
    const otelc_attr_t resource_attrs[] = { OTELC_STR("service.name", "otelc-bench") };
    otelc_resource_t resource;
    otelc_file_options_t d;
    otelc_exporter_t *e = NULL;
    char dir[] = "/tmp/otelc-bench-XXXXXX";
    uint64_t lines = 0, cpu0, wall0, cpu, wall, batches = 0, failed = 0;
    double secs = cfg.quick ? 0.3 : 2.0;

    file_batches(spans, logs, attrs, resource_attrs, &resource);
    if (mkdtemp(dir) == NULL) {
        printf("# %s: cannot make a temporary directory\n", name);
        return;
    }
    otelc_file_options_default(&d);
    d.directory = dir;
    d.format = format;
    if (otelc_file_exporter_create(&d, OTELC_SIGNAL_TRACES | OTELC_SIGNAL_LOGS, &e) != OTELC_OK) {
        printf("# %s: the file exporter is not built in\n", name);
        remove_dir(dir);
        return;
    }
    cpu0 = thread_cpu_ns();
    wall0 = now_ns();
    do {
        otelc_batch_t b = {
            .signal = OTELC_SIGNAL_TRACES, .resource = &resource, .spans = spans, .n = FILE_BATCH
        };
        otelc_export_result_t r = OTELC_EXPORT_RESULT_INIT;
        failed += e->ops->export_batch(e, &b, 30000, &r) != OTELC_OK;
        b = (otelc_batch_t){
            .signal = OTELC_SIGNAL_LOGS, .resource = &resource, .logs = logs, .n = FILE_BATCH
        };
        r = (otelc_export_result_t)OTELC_EXPORT_RESULT_INIT;
        failed += e->ops->export_batch(e, &b, 30000, &r) != OTELC_OK;
        lines += 2 * FILE_BATCH;
        batches += 2;
    } while (now_ns() - wall0 < (uint64_t)(secs * 1e9));
    cpu = thread_cpu_ns() - cpu0;
    wall = now_ns() - wall0;
    e->ops->shutdown(e, 1000);
    e->ops->destroy(e);
    remove_dir(dir);
    printf("%s %.0f lines/s (%.0f ns/line; wall %.0f lines/s) records=%llu%s\n", name,
           (double)lines * 1e9 / (double)cpu, (double)cpu / (double)lines,
           (double)lines * 1e9 / (double)wall, (unsigned long long)lines,
           failed ? " (some batches failed)" : "");
    fflush(stdout);
}

/*
 * otlp_encode_spans and otlp_encode_logs: records per second of the OTLP
 * protobuf encoder (exporters/otlp/encode.c) on one core, batches of the
 * file benchmarks' records (3 attributes each), the encoder's buffer reused
 * from one batch to the next as an exporter does. Thread CPU time.
 */
static void run_otlp_encode(const char *name, otelc_signal_t signal)
{
#ifdef OTELC_BENCH_OTLP
    static otelc_span_data_t spans[FILE_BATCH];
    static otelc_log_data_t logs[FILE_BATCH];
    static otelc_attr_t attrs[3 * FILE_BATCH];
    const otelc_attr_t resource_attrs[] = { OTELC_STR("service.name", "otelc-bench") };
    otelc_resource_t resource;
    otelc__otlp_encoder_t e = { 0 };
    otelc_batch_t b;
    uint64_t records = 0, bytes = 0, cpu0, wall0, cpu;
    double secs = cfg.quick ? 0.3 : 2.0;
    bool ok = true;

    file_batches(spans, logs, attrs, resource_attrs, &resource);
    b = (otelc_batch_t){ .signal = signal, .resource = &resource, .n = FILE_BATCH };
    if (signal == OTELC_SIGNAL_TRACES)
        b.spans = spans;
    else
        b.logs = logs;
    cpu0 = thread_cpu_ns();
    wall0 = now_ns();
    do {
        ok = otelc__otlp_encode(&e, &b) && ok;
        records += FILE_BATCH;
        bytes += e.len;
    } while (now_ns() - wall0 < (uint64_t)(secs * 1e9));
    cpu = thread_cpu_ns() - cpu0;
    printf("%s %.0f records/s (%.1f ns/record, %.0f bytes/record)%s\n", name,
           (double)records * 1e9 / (double)cpu, (double)cpu / (double)records,
           (double)bytes / (double)records, ok ? "" : " (encoding failed)");
    otelc__otlp_encoder_free(&e);
#else
    (void)signal;
    printf("# %s: the OTLP encoding is not built (OTELC_WITH_OTLP)\n", name);
#endif
    fflush(stdout);
}

/* ---- the OTLP exporter, end to end ------------------------------------------------ */

/*
 * otlp_http_export and otlp_grpc_export. Two parts.
 *
 * Throughput: spans per second that a counting receiver (otelc-bench-rx,
 * a process of its own beside this one) takes from the OTLP exporter over
 * one transport, on 127.0.0.1, without compression. The exporter is made
 * from its component, as the pipeline makes it, and its export() is called
 * on this thread with one prebuilt batch of cfg.otlp_batch spans (3
 * attributes, as span_3attrs records them) again and again: encoding and
 * the request, not the hot path nor the pipeline, which are measured
 * above. Each export() returns when the receiver has answered, and the
 * receiver counts a request before it answers, so the count it gives at the
 * end is what was delivered. CPU shares are CPU time over wall time: the
 * receiver's whole process; this process (the exporting thread, and for
 * gRPC the core's own threads) and this thread alone.
 *
 * Memory: the whole pipeline (OTEL_TRACES_EXPORTER=otlp and
 * OTEL_LOGS_EXPORTER=otlp over the transport) fed flat out by two
 * producers while the backend is down (a closed port) or hung (a receiver
 * that accepts and reads but never answers), with the spool off and on.
 * The resident size is read from /proc/self/status: its peak (VmHWM, reset
 * before each case through /proc/self/clear_refs) and what is left after
 * shutdown (VmRSS), beside the size before the case. Requests time out
 * after 1 s and an export call after 2 s (the defaults, 10 s and 30 s,
 * would outlast a case of a few seconds); the spool holds at most 64 MiB.
 */
#ifdef OTELC_BENCH_OTLP_EXPORT

/* otelc-bench-rx, running: its stdin (a line asks for its counts), its
 * stdout (the answer) and its port. */
typedef struct rx {
    pid_t pid;
    FILE *to, *from;
    int port;
} rx_t;

typedef struct rx_counts {
    unsigned long long spans, requests, cpu_ns;
} rx_counts_t;

static void rx_stop(rx_t *rx);

static bool rx_start(const char *mode, rx_t *rx)
{
    char path[PATH_MAX + 32], line[64];
    char *argv[3];
    posix_spawn_file_actions_t fa;
    int in[2], out[2];

    memset(rx, 0, sizeof(*rx));
    rx->pid = -1;
    if (!helper_path("otelc-bench-rx", path, sizeof(path)))
        return false;
    if (pipe2(in, O_CLOEXEC) != 0)
        return false;
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return false;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    argv[0] = path;
    argv[1] = (char *)(uintptr_t)mode;
    argv[2] = NULL;
    fflush(stdout);
    if (posix_spawn(&rx->pid, path, &fa, NULL, argv, environ) != 0)
        rx->pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    rx->to = fdopen(in[1], "w");
    rx->from = fdopen(out[0], "r");
    if (rx->pid < 0 || rx->to == NULL || rx->from == NULL ||
        fgets(line, sizeof(line), rx->from) == NULL || sscanf(line, "port %d", &rx->port) != 1) {
        if (rx->to == NULL)
            close(in[1]);
        if (rx->from == NULL)
            close(out[0]);
        rx_stop(rx);
        return false;
    }
    return true;
}

static bool rx_counts(rx_t *rx, rx_counts_t *c)
{
    char line[160];

    memset(c, 0, sizeof(*c));
    return fputs("counts\n", rx->to) >= 0 && fflush(rx->to) == 0 &&
           fgets(line, sizeof(line), rx->from) != NULL &&
           sscanf(line, "spans=%llu requests=%llu cpu_ns=%llu", &c->spans, &c->requests,
                  &c->cpu_ns) == 3;
}

static void rx_stop(rx_t *rx)
{
    int status;

    if (rx->to != NULL)
        fclose(rx->to);
    if (rx->from != NULL)
        fclose(rx->from);
    rx->to = rx->from = NULL;
    if (rx->pid > 0)
        while (waitpid(rx->pid, &status, 0) < 0 && errno == EINTR)
            ;
    rx->pid = -1;
}

static uint64_t process_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* An exporter of `signal` made by the "otlp" component, as the pipeline
 * makes one; NULL (and a note) when it cannot be. */
static otelc_exporter_t *otlp_exporter(const char *name, const char *protocol, const char *url,
                                       const otelc_resource_t *resource)
{
    const otelc_component_t *comp = otelc_component_find("otlp");
    otelc_otlp_options_t o;
    otelc_exporter_args_t args;
    otelc_exporter_t *x = NULL;

    memset(&o, 0, sizeof(o));
    if (comp == NULL || otelc_component_defaults("otlp", &o, sizeof(o)) != OTELC_OK) {
        printf("# %s: the otlp exporter is not registered\n", name);
        return NULL;
    }
    o.all.endpoint = url;
    o.all.protocol = strcmp(protocol, "grpc") == 0 ? OTELC_OTLP_GRPC : OTELC_OTLP_HTTP_PROTOBUF;
    o.all.compression = OTELC_OTLP_NO;
    memset(&args, 0, sizeof(args));
    args.struct_size = sizeof(args);
    args.signal = OTELC_SIGNAL_TRACES;
    args.settings = &o;
    args.resource = resource;
    if (comp->create(&args, &x) != OTELC_OK || x == NULL) {
        printf("# %s: the otlp exporter cannot be made for %s (is its transport linked?)\n", name,
               protocol);
        return NULL;
    }
    return x;
}

static void otlp_exporter_destroy(otelc_exporter_t *x)
{
    if (x == NULL)
        return;
    if (x->ops->shutdown != NULL)
        x->ops->shutdown(x, 5000);
    x->ops->destroy(x);
}

static void run_otlp_throughput(const char *name, const char *protocol)
{
    size_t n = cfg.otlp_batch;
    otelc_span_data_t *spans = calloc(n, sizeof(*spans));
    otelc_attr_t *attrs = calloc(3 * n, sizeof(*attrs));
    const otelc_attr_t resource_attrs[] = { OTELC_STR("service.name", "otelc-bench") };
    otelc_resource_t resource;
    otelc_exporter_t *x = NULL;
    otelc_batch_t b;
    rx_t rx;
    rx_counts_t c0, c1;
    char url[64];
    uint64_t sent = 0, failed = 0, cpu0, proc0, wall0, cpu, proc, wall, delivered;
    double secs = cfg.quick ? 0.5 : 3.0;

    if (spans == NULL || attrs == NULL) {
        printf("# %s: out of memory\n", name);
        goto done;
    }
    if (!rx_start(strcmp(protocol, "grpc") == 0 ? "grpc" : "http", &rx)) {
        printf("# %s: otelc-bench-rx does not start (built beside otelc-bench?)\n", name);
        goto done;
    }
    make_records(spans, NULL, attrs, n, resource_attrs, &resource);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", rx.port);
    x = otlp_exporter(name, protocol, url, &resource);
    if (x == NULL)
        goto stop;
    b = (otelc_batch_t){
        .signal = OTELC_SIGNAL_TRACES, .resource = &resource, .spans = spans, .n = n
    };
    /* Connected and warm (buffers grown, the channel ready) before the clock starts. */
    for (int i = 0; i < 20; i++) {
        otelc_export_result_t r = OTELC_EXPORT_RESULT_INIT;
        failed += x->ops->export_batch(x, &b, 10000, &r) != OTELC_OK;
        sent += n;
    }
    if (!rx_counts(&rx, &c0) || c0.spans != sent || failed != 0) {
        printf("# %s: the warm-up did not arrive (%llu of %llu spans)\n", name, c0.spans,
               (unsigned long long)sent);
        exit_status = 1;
        goto stop;
    }
    sent = 0;
    cpu0 = thread_cpu_ns();
    proc0 = process_cpu_ns();
    wall0 = now_ns();
    do {
        otelc_export_result_t r = OTELC_EXPORT_RESULT_INIT;
        failed += x->ops->export_batch(x, &b, 10000, &r) != OTELC_OK;
        sent += n;
    } while (now_ns() - wall0 < (uint64_t)(secs * 1e9));
    wall = now_ns() - wall0;
    proc = process_cpu_ns() - proc0;
    cpu = thread_cpu_ns() - cpu0;
    if (!rx_counts(&rx, &c1)) {
        printf("# %s: otelc-bench-rx does not answer\n", name);
        exit_status = 1;
        goto stop;
    }
    delivered = c1.spans - c0.spans;
    printf("# %s: export() called directly (no pipeline) with one prebuilt batch of %zu spans "
           "(3 attributes), %s, no compression, to otelc-bench-rx on 127.0.0.1\n",
           name, n, protocol);
    printf("%s %.0f spans/s (batch %zu; %.0f requests/s; receiver %.0f%% CPU, exporter process "
           "%.0f%% CPU, exporting thread %.0f%% CPU: %.0f ns/span) sent=%llu delivered=%llu\n",
           name, (double)delivered * 1e9 / (double)wall, n,
           (double)(c1.requests - c0.requests) * 1e9 / (double)wall,
           100.0 * (double)(c1.cpu_ns - c0.cpu_ns) / (double)wall,
           100.0 * (double)proc / (double)wall, 100.0 * (double)cpu / (double)wall,
           (double)proc / (double)(delivered ? delivered : 1), (unsigned long long)sent,
           (unsigned long long)delivered);
    if (delivered != sent || failed != 0) {
        printf("# %s: %llu spans sent, %llu delivered, %llu exports failed\n", name,
               (unsigned long long)sent, (unsigned long long)delivered, (unsigned long long)failed);
        exit_status = 1;
    }
stop:
    otlp_exporter_destroy(x);
    rx_stop(&rx);
done:
    free(spans);
    free(attrs);
    fflush(stdout);
}

/* VmHWM and VmRSS of this process, in KiB. */
static void read_rss(unsigned long *peak_kib, unsigned long *now_kib)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];

    *peak_kib = *now_kib = 0;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        (void)sscanf(line, "VmHWM: %lu", peak_kib);
        (void)sscanf(line, "VmRSS: %lu", now_kib);
    }
    if (f != NULL)
        fclose(f);
}

/* The name (comm) of thread `tid` of this process, "" when unreadable. */
static void thread_name(const char *tid, char *name, size_t size)
{
    char path[64];
    FILE *f;

    name[0] = '\0';
    snprintf(path, sizeof(path), "/proc/self/task/%s/comm", tid);
    f = fopen(path, "r");
    if (f != NULL) {
        if (fgets(name, (int)size, f) == NULL)
            name[0] = '\0';
        fclose(f);
    }
}

/* The threads of this process that carry its own name: otelc's and ours.
 * The gRPC core names its threads (event_engine, grpc_global_tim, ...),
 * and keeps them once started, so they are not counted. */
static unsigned long own_threads(void)
{
    char self[32], main_name[32], name[32];
    DIR *d = opendir("/proc/self/task");
    struct dirent *de;
    unsigned long n = 0;

    snprintf(self, sizeof(self), "%d", (int)getpid());
    thread_name(self, main_name, sizeof(main_name));
    while (d != NULL && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        thread_name(de->d_name, name, sizeof(name));
        n += strcmp(name, main_name) == 0;
    }
    if (d != NULL)
        closedir(d);
    return n;
}

/*
 * Waits (at most max_ms) until this process is back to `threads` threads of
 * its own: an exporter that shutdown abandoned at its deadline still runs
 * its last request, and frees its queue when that ends. Nothing to block
 * on tells when, so this looks every 10 ms. Returns the threads left over.
 */
static unsigned long settle_threads(unsigned long threads, uint64_t max_ms)
{
    uint64_t until = now_ns() + max_ms * 1000000u;

    for (;;) {
        unsigned long now = own_threads();

        if (now <= threads || now_ns() >= until)
            return now > threads ? now - threads : 0;
        nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
    }
}

/* Starts the peak (VmHWM) again from the current resident size. */
static void reset_peak_rss(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");

    if (f != NULL) {
        fputs("5", f);
        fclose(f);
    }
}

/* A port on 127.0.0.1 that nothing listens on (bound, then closed). */
static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static bool set_option(otelc_options_t *o, const char *name, const char *value)
{
    otelc_status_t st = otelc_options_set(o, name, value);

    if (st != OTELC_OK)
        printf("# %s=%s: %s\n", name, value, otelc_status_str(st));
    return st == OTELC_OK;
}

/*
 * One memory case in a process of its own (this program again, with
 * --otlp-memory-case), so that each starts from the same resident size,
 * with no exporter left running by the last case, and with its own count
 * of spool bytes: the spool's bound is counted over the process, which
 * has one spool directory.
 */
static void run_otlp_memory_child(const char *name, const char *protocol, const char *mode)
{
    char self[PATH_MAX], quick[] = "--quick", flag[] = "--otlp-memory-case";
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *argv[7];
    int n = 0;

    if (len <= 0) {
        printf("# %s: cannot find this program to run the memory cases\n", name);
        return;
    }
    self[len] = 0;
    argv[n++] = self;
    if (cfg.quick)
        argv[n++] = quick;
    argv[n++] = flag;
    argv[n++] = (char *)(uintptr_t)name;
    argv[n++] = (char *)(uintptr_t)protocol;
    argv[n++] = (char *)(uintptr_t)mode;
    argv[n] = NULL;
    if (!run_child(argv))
        printf("# %s_%s: the case printed nothing\n", name, mode);
}

static void run_otlp_memory(const char *name, const char *protocol, bool hung, bool spool)
{
    char label[96], url[64], spool_dir[] = "/tmp/otelc-bench-spool-XXXXXX";
    otelc_options_t o;
    otelc_stats_t st;
    otelc_otlp_stats_t x0, x1;
    rx_t rx = { .pid = -1 };
    unsigned long base_kib, peak_kib, end_kib, unused, threads, left;
    uint64_t t0, shutdown_ms, settle_ms, produced, exported, dropped;
    double rate, secs = cfg.quick ? 1.0 : 3.0;
    bool ok = true;
    otelc_status_t s;

    snprintf(label, sizeof(label), "%s_%s_%s", name, hung ? "hung" : "down",
             spool ? "spool" : "nospool");
    if (hung && !rx_start("hang", &rx)) {
        printf("# %s: otelc-bench-rx does not start\n", label);
        return;
    }
    if (spool && mkdtemp(spool_dir) == NULL) {
        printf("# %s: cannot make a temporary directory\n", label);
        rx_stop(&rx);
        return;
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", hung ? rx.port : closed_port());
    otelc_options_default(&o);
    o.service_name = "otelc-bench";
    o.traces_exporter = "otlp";
    o.logs_exporter = "otlp";
    ok = set_option(&o, "OTEL_EXPORTER_OTLP_ENDPOINT", url) &&
         set_option(&o, "OTEL_EXPORTER_OTLP_PROTOCOL", protocol) &&
         set_option(&o, "OTEL_EXPORTER_OTLP_TIMEOUT", "1000") &&
         set_option(&o, "OTEL_BSP_EXPORT_TIMEOUT", "2000") &&
         set_option(&o, "OTEL_BLRP_EXPORT_TIMEOUT", "2000");
    if (ok && spool)
        ok = set_option(&o, "OTELC_OTLP_SPOOL_DIR", spool_dir) &&
             set_option(&o, "OTELC_OTLP_SPOOL_MAX_MB", "64");
    if (!ok)
        goto done;
    otelc_otlp_stats(&x0);
    reset_peak_rss();
    read_rss(&unused, &base_kib);
    threads = own_threads();
    s = otelc_init(&o);
    if (s != OTELC_OK) {
        printf("# %s: otelc_init failed: %s\n", label, otelc_status_str(s));
        exit_status = 1;
        goto done;
    }
    rate = produce(0, secs);
    t0 = now_ns();
    s = otelc_shutdown(5000);
    shutdown_ms = (now_ns() - t0) / 1000000u;
    if (s != OTELC_OK)
        printf("# %s: otelc_shutdown: %s\n", label, otelc_status_str(s));
    t0 = now_ns();
    left = settle_threads(threads, 10000);
    settle_ms = (now_ns() - t0) / 1000000u;
    otelc_stats(&st);
    otelc_otlp_stats(&x1);
    read_rss(&peak_kib, &end_kib);
    produced = st.spans.produced + st.logs.produced;
    exported = st.spans.exported + st.logs.exported;
    dropped = otelc_signal_stats_dropped(&st.spans) + otelc_signal_stats_dropped(&st.logs);
    total_produced += produced;
    total_exported += exported;
    for (int r = 0; r < OTELC_DROP_REASONS; r++)
        total_dropped[r] += st.spans.dropped[r] + st.logs.dropped[r];
    ok = st.spans.pending == 0 && st.logs.pending == 0 && produced == exported + dropped;
    printf("%s rss_peak=%.1f MiB rss_end=%.1f MiB (before %.1f MiB) produced=%llu "
           "exported=%llu dropped=%llu (rate=%.0f rec/s) spooled=%llu spool_dropped=%llu "
           "spool_bytes=%llu requests=%llu retries=%llu shutdown=%llu ms settled=%llu ms "
           "exact=%s\n",
           label, (double)peak_kib / 1024.0, (double)end_kib / 1024.0, (double)base_kib / 1024.0,
           (unsigned long long)produced, (unsigned long long)exported, (unsigned long long)dropped,
           rate, (unsigned long long)(x1.spooled - x0.spooled),
           (unsigned long long)(x1.spool_dropped - x0.spool_dropped),
           (unsigned long long)(x1.spool_bytes - x0.spool_bytes),
           (unsigned long long)(x1.requests - x0.requests),
           (unsigned long long)(x1.retries - x0.retries), (unsigned long long)shutdown_ms,
           (unsigned long long)settle_ms, ok ? "yes" : "no");
    if (left > 0)
        printf("# %s: %lu threads still running %llu ms after shutdown\n", label, left,
               (unsigned long long)settle_ms);
    print_reasons(label, &st);
    if (!ok)
        exit_status = 1;
done:
    rx_stop(&rx);
    if (spool)
        remove_dir(spool_dir);
    fflush(stdout);
}
#endif

static void run_otlp_export(const char *name, const char *protocol)
{
#ifdef OTELC_BENCH_OTLP_EXPORT
    bool grpc = strcmp(protocol, "grpc") == 0;
#ifndef OTELC_BENCH_OTLP_GRPC
    if (grpc) {
        printf("# %s: the gRPC transport is not built (OTELC_WITH_OTLP_GRPC)\n", name);
        return;
    }
#endif
#ifndef OTELC_BENCH_OTLP_HTTP
    if (!grpc) {
        printf("# %s: the HTTP transport is not built (OTELC_WITH_OTLP_HTTP)\n", name);
        return;
    }
#endif
    (void)grpc;
    /* A receiver gone mid-write must not end this program. */
    signal(SIGPIPE, SIG_IGN);
    run_otlp_throughput(name, protocol);
    if (!cfg.otlp_memory)
        return;
    run_otlp_memory_child(name, protocol, "down_nospool");
    run_otlp_memory_child(name, protocol, "down_spool");
    run_otlp_memory_child(name, protocol, "hung_nospool");
    run_otlp_memory_child(name, protocol, "hung_spool");
#else
    (void)protocol;
    printf("# %s: the OTLP exporter is not built (OTELC_WITH_OTLP)\n", name);
#endif
    fflush(stdout);
}

/* ---- the PostgreSQL exporter ------------------------------------------------------ */

#ifdef OTELC_BENCH_PG
static uint64_t now_wall_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

/*
 * pg_rows: rows per second into logging.system_logs through the real
 * PostgreSQL exporter against a throwaway local cluster (tests/pg/cluster.sh:
 * a unix socket, fsync off as in the tests). The exporter is made from its
 * component and its export() called on this thread with one prebuilt batch
 * of log records (3 attributes) again and again, each batch one
 * transaction with COPY straight into the partitioned table: batches of
 * 100 (pg_rows, the exporter's OTELC_PG_MAX_EXPORT_BATCH_SIZE) and of 512
 * (pg_rows_512, the pipeline's batch). The rate is rows counted in the table
 * afterwards per second of wall time; this thread's CPU beside it (the
 * server's backend does the rest).
 */
static void run_pg_rows(const char *name, size_t batch)
{
#if defined(OTELC_BENCH_PG)
    static otelc_span_data_t spans[FILE_BATCH];
    static otelc_log_data_t logs[FILE_BATCH];
    static otelc_attr_t attrs[3 * FILE_BATCH];
    const otelc_attr_t resource_attrs[] = { OTELC_STR("service.name", "otelc-bench") };
    otelc_resource_t resource;
    const otelc_component_t *comp = otelc_component_find("postgres");
    char state[] = "/tmp/otelc-bench-pg.XXXXXX", cmd[600], host[256] = "", conninfo[400];
    otelc_pg_options_t o;
    otelc_exporter_args_t args;
    otelc_exporter_t *x = NULL;
    otelc_batch_t b;
    uint64_t sent = 0, stored = 0, cpu0, wall0, cpu, wall;
    double secs = cfg.quick ? 0.5 : 3.0;
    int fd = mkstemp(state);
    FILE *f;
    PGconn *c;
    PGresult *r;

    if (fd >= 0)
        close(fd);
    snprintf(cmd, sizeof(cmd), "%s start %s >/dev/null", OTELC_BENCH_PG_CLUSTER, state);
    if (comp == NULL || fd < 0 || system(cmd) != 0 || (f = fopen(state, "r")) == NULL) {
        printf("# %s: no PostgreSQL cluster could be started (Debian package postgresql)\n", name);
        exit_status = 1;
        unlink(state);
        return;
    }
    if (fgets(host, sizeof(host), f) == NULL)
        host[0] = '\0';
    fclose(f);
    host[strcspn(host, "\n")] = '\0';
    snprintf(conninfo, sizeof(conninfo), "host=%s user=otelc dbname=postgres", host);
    file_batches(spans, logs, attrs, resource_attrs, &resource);
    /* Today: the records of file_batches() are of a fixed day, and that
     * day's partition is made with the others. */
    for (size_t i = 0; i < FILE_BATCH; i++)
        logs[i].time_ns = logs[i].observed_time_ns = now_wall_ns() + i;
    memset(&o, 0, sizeof(o));
    o.conninfo = conninfo;
    o.auto_migrate = 1;
    memset(&args, 0, sizeof(args));
    args.struct_size = sizeof(args);
    args.signal = OTELC_SIGNAL_LOGS;
    args.settings = &o;
    args.resource = &resource;
    b = (otelc_batch_t){
        .signal = OTELC_SIGNAL_LOGS, .resource = &resource, .logs = logs, .n = batch
    };
    if (comp->create(&args, &x) != OTELC_OK) {
        printf("# %s: the exporter could not be made\n", name);
        exit_status = 1;
    } else {
        otelc_export_result_t res = OTELC_EXPORT_RESULT_INIT;
        bool ok = x->ops->export_batch(x, &b, 30000, &res) == OTELC_OK; /* warm-up: schema */

        cpu0 = thread_cpu_ns();
        wall0 = now_ns();
        while (ok && now_ns() - wall0 < (uint64_t)(secs * 1e9)) {
            res = (otelc_export_result_t)OTELC_EXPORT_RESULT_INIT;
            ok = x->ops->export_batch(x, &b, 30000, &res) == OTELC_OK;
            sent += batch;
        }
        wall = now_ns() - wall0;
        cpu = thread_cpu_ns() - cpu0;
        x->ops->shutdown(x, 5000);
        x->ops->destroy(x);
        c = PQconnectdb(conninfo);
        r = PQexec(c, "SELECT count(*) FROM logging.system_logs");
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            stored = strtoull(PQgetvalue(r, 0, 0), NULL, 10) - batch;
        PQclear(r);
        PQfinish(c);
        printf("%s %.0f rows/s (batch %d, one transaction each; exporter thread %.0f ns/row, "
               "%.0f%% CPU) sent=%llu stored=%llu%s\n",
               name, (double)stored * 1e9 / (double)wall, (int)batch,
               sent > 0 ? (double)cpu / (double)sent : 0.0, 100.0 * (double)cpu / (double)wall,
               (unsigned long long)sent, (unsigned long long)stored,
               ok && stored == sent ? "" : " (MISMATCH or failure)");
        if (!ok || stored != sent)
            exit_status = 1;
    }
    snprintf(cmd, sizeof(cmd), "%s stop %s", OTELC_BENCH_PG_CLUSTER, state);
    if (system(cmd) != 0)
        printf("# %s: the cluster did not stop cleanly\n", name);
#else
    printf("# %s: the PostgreSQL exporter is not built (OTELC_WITH_POSTGRES)\n", name);
#endif
    fflush(stdout);
}

/*
 * The benchmarks of the database's own work, against the server of --pg
 * CONNINFO (a throwaway cluster: tests/pg/cluster.sh start STATE), each in
 * a database of its own, otelc_bench_<pid>, dropped at the end. Wall time
 * on the client; beside it the CPU time of the server's processes, read
 * from /proc (the server must be on this machine, as the cluster is), so
 * that a machine busy with other work can be told from a slow server.
 */
#ifdef OTELC_BENCH_PG
/* --pg-rows N: the rows of pg_retention (default 2,000,000) and the
 * records of pg_replay (default 1,000,000); --pg-days D: the days
 * pg_retention spreads its rows over (default 120). */
static uint64_t pg_rows_option;
static unsigned pg_days_option = 120;

/* A statement on `c`; its first value (or "") into out when given. */
static bool pg_sql(PGconn *c, const char *sql, char *out, size_t out_size)
{
    PGresult *r = PQexec(c, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

    if (!ok)
        printf("# %s: %s", sql, PQresultErrorMessage(r));
    if (ok && out != NULL)
        snprintf(out, out_size, "%s",
                 PQntuples(r) > 0 && PQnfields(r) > 0 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return ok;
}

static long long pg_count(PGconn *c, const char *sql)
{
    char v[64];

    return pg_sql(c, sql, v, sizeof(v)) ? atoll(v) : -1;
}

/* What follows the command's closing parenthesis in /proc/PID/stat (field
 * 2 may hold spaces), in `buf`; NULL when unreadable. */
static const char *proc_stat_fields(long pid, char *buf, size_t size)
{
    char path[64];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    if ((f = fopen(path, "r")) == NULL)
        return NULL;
    n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf = strrchr(buf, ')');
    return buf != NULL ? buf + 1 : NULL;
}

/* CPU time (user + system, ns) of process `pid`: fields 14 and 15 (utime
 * stime) of /proc/PID/stat; 0 when unreadable. */
static uint64_t proc_cpu_ns(long pid)
{
    char buf[1024];
    const char *p = proc_stat_fields(pid, buf, sizeof(buf));
    unsigned long long v[2] = { 0, 0 };

    if (p == NULL ||
        sscanf(p, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &v[0], &v[1]) != 2)
        return 0;
    return (v[0] + v[1]) * (1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK));
}

/* The server's postmaster: the parent of the connection's backend. */
static long pg_postmaster(PGconn *c)
{
    char buf[1024];
    const char *p = proc_stat_fields(PQbackendPID(c), buf, sizeof(buf));
    long ppid = 0;

    if (p == NULL || sscanf(p, " %*c %ld", &ppid) != 1)
        return 0;
    return ppid;
}

/* The children of process `pid` (/proc/PID/task/PID/children), at most
 * `max` into pids; how many, -1 when unreadable. */
static int proc_children(long pid, long *pids, int max)
{
    char path[96];
    int n = 0;
    long child;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", pid, pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    while (n < max && fscanf(f, "%ld", &child) == 1)
        pids[n++] = child;
    fclose(f);
    return n;
}

/* The server's processes that a command made: the postmaster's children
 * that were not there before it, each with the most CPU time seen. */
typedef struct pg_server_cpu {
    long postmaster;
    long before[64];
    int n_before;
    long pid[64];
    uint64_t cpu_ns[64];
    int n;
} pg_server_cpu_t;

static void server_cpu_sample(pg_server_cpu_t *s)
{
    long now[64];
    int n = proc_children(s->postmaster, now, 64);

    for (int i = 0; i < n; i++) {
        bool old = false;
        int k;

        for (k = 0; k < s->n_before && !old; k++)
            old = s->before[k] == now[i];
        if (old)
            continue;
        for (k = 0; k < s->n && s->pid[k] != now[i]; k++)
            ;
        if (k == s->n && s->n < 64) {
            s->pid[s->n] = now[i];
            s->cpu_ns[s->n++] = 0;
        }
        if (k < s->n) {
            uint64_t cpu = proc_cpu_ns(now[i]);

            if (cpu > s->cpu_ns[k])
                s->cpu_ns[k] = cpu;
        }
    }
}

static uint64_t server_cpu_total(const pg_server_cpu_t *s)
{
    uint64_t sum = 0;

    for (int i = 0; i < s->n; i++)
        sum += s->cpu_ns[i];
    return sum;
}

/* Makes the database otelc_bench_<pid> on --pg's server: its conninfo into
 * db (size bytes), or false. */
static bool pg_bench_db(const char *name, bool make, char *db, size_t size)
{
    char sql[96];
    PGconn *c = PQconnectdb(pg_conninfo);
    bool ok = PQstatus(c) == CONNECTION_OK;

    if (!ok)
        printf("# %s: --pg: %s", name, PQerrorMessage(c));
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS otelc_bench_%ld WITH (FORCE)",
             (long)getpid());
    ok = ok && pg_sql(c, sql, NULL, 0);
    snprintf(sql, sizeof(sql), "CREATE DATABASE otelc_bench_%ld", (long)getpid());
    ok = ok && (!make || pg_sql(c, sql, NULL, 0));
    PQfinish(c);
    /* In a conninfo string the last dbname wins. */
    snprintf(db, size, "%s dbname=otelc_bench_%ld", pg_conninfo, (long)getpid());
    return ok;
}

/* The schema in the database of `conninfo`, as an exporter makes it at its
 * first batch (auto-migrate): one log record of now. */
static bool pg_bench_schema(const char *conninfo, const otelc_resource_t *resource)
{
    const otelc_component_t *comp = otelc_component_find("postgres");
    otelc_pg_options_t o = { conninfo, 1, NULL, 100, 0 };
    otelc_exporter_args_t args;
    otelc_exporter_t *x = NULL;
    otelc_log_data_t rec;
    otelc_batch_t b;
    otelc_export_result_t res = OTELC_EXPORT_RESULT_INIT;
    bool ok;

    memset(&args, 0, sizeof(args));
    args.struct_size = sizeof(args);
    args.signal = OTELC_SIGNAL_LOGS;
    args.settings = &o;
    args.resource = resource;
    memset(&rec, 0, sizeof(rec));
    rec.time_ns = rec.observed_time_ns = now_wall_ns();
    rec.severity = OTELC_SEV_INFO;
    rec.body = (otelc_str_t){ "schema", 6 };
    b = (otelc_batch_t){ .signal = OTELC_SIGNAL_LOGS, .resource = resource, .logs = &rec, .n = 1 };
    if (comp == NULL || comp->create(&args, &x) != OTELC_OK)
        return false;
    ok = x->ops->export_batch(x, &b, 60000, &res) == OTELC_OK;
    x->ops->shutdown(x, 5000);
    x->ops->destroy(x);
    return ok;
}
#endif

/*
 * pg_retention: logging.retention(30, 90) over a filled system_logs. The
 * rows (--pg-rows, default 2,000,000, over --pg-days days back from today,
 * default 120) are made by the server itself (generate_series, one
 * INSERT), with the exporter's schema and its partitions; then retention
 * is timed twice: the first run archives the days past 30 and drops the
 * archived days past 90, the second has nothing to do. Prints the rows in
 * the partitions moved and dropped, the partitions per action, and the
 * seconds, with the server backend's CPU time beside each.
 */
static void run_pg_retention(const char *name)
{
#if defined(OTELC_BENCH_PG)
    const otelc_attr_t resource_attrs[] = { OTELC_STR("service.name", "otelc-bench") };
    otelc_resource_t resource = { resource_attrs, 1 };
    uint64_t n = pg_rows_option != 0 ? pg_rows_option : 2000000u;
    unsigned days = pg_days_option;
    char conninfo[600], sql[1024];
    long long old_rows, gone_rows, kept_rows;
    PGconn *c = NULL;
    long backend;

    if (pg_conninfo == NULL) {
        printf("# %s: needs --pg CONNINFO (a throwaway cluster: tests/pg/cluster.sh start STATE)\n",
               name);
        return;
    }
    if (!pg_bench_db(name, true, conninfo, sizeof(conninfo)) ||
        !pg_bench_schema(conninfo, &resource)) {
        printf("# %s: the database could not be made\n", name);
        exit_status = 1;
        goto done;
    }
    c = PQconnectdb(conninfo);
    backend = PQbackendPID(c);
    {
        uint64_t wall0 = now_ns(), srv0 = proc_cpu_ns(backend), wall1, srv1;

        snprintf(sql, sizeof(sql),
                 "SELECT logging.ensure_partitions((now() AT TIME ZONE 'UTC')::date - %u,"
                 " (now() AT TIME ZONE 'UTC')::date)",
                 days - 1);
        if (PQstatus(c) != CONNECTION_OK || !pg_sql(c, sql, NULL, 0)) {
            exit_status = 1;
            goto done;
        }
        wall1 = now_ns();
        srv1 = proc_cpu_ns(backend);
        snprintf(sql, sizeof(sql),
                 "TRUNCATE logging.system_logs;"
                 "INSERT INTO logging.system_logs (service, level, message, data, timestamp,"
                 " record_id) SELECT 'otelc-bench', 'INFO', 'retention row ' || g,"
                 " jsonb_build_object('seq', g), now() - (g %% %u) * interval '1 day',"
                 " gen_random_uuid() FROM generate_series(1, %llu) g;"
                 "ANALYZE logging.system_logs",
                 days, (unsigned long long)n);
        if (!pg_sql(c, sql, NULL, 0)) {
            exit_status = 1;
            goto done;
        }
        printf("# %s: %u days of partitions (3 tables) made in %.1f s (server %.1f s CPU), %llu "
               "rows in %.1f s (server %.1f s CPU)\n",
               name, days, (double)(wall1 - wall0) / 1e9, (double)(srv1 - srv0) / 1e9,
               (unsigned long long)n, (double)(now_ns() - wall1) / 1e9,
               (double)(proc_cpu_ns(backend) - srv1) / 1e9);
    }
    /* What the first run must do, counted before. */
    old_rows =
        pg_count(c, "SELECT count(*) FROM logging.system_logs WHERE timestamp <"
                    " ((now() AT TIME ZONE 'UTC')::date - 30)::timestamp AT TIME ZONE 'UTC'");
    gone_rows =
        pg_count(c, "SELECT count(*) FROM logging.system_logs WHERE timestamp <"
                    " ((now() AT TIME ZONE 'UTC')::date - 90)::timestamp AT TIME ZONE 'UTC'");
    kept_rows = pg_count(c, "SELECT count(*) FROM logging.system_logs") - old_rows;
    for (int run = 1; run <= 2; run++) {
        uint64_t wall0 = now_ns(), srv0 = proc_cpu_ns(backend), wall, srv;
        char archived[32] = "", deleted[32] = "", logs_archived[32] = "";
        PGresult *r = PQexec(c, "WITH r AS (SELECT * FROM logging.retention(30, 90))"
                                " SELECT count(*) FILTER (WHERE action = 'archived'),"
                                " count(*) FILTER (WHERE action = 'deleted'),"
                                " count(*) FILTER (WHERE action = 'archived'"
                                " AND table_name = 'system_logs') FROM r");

        wall = now_ns() - wall0;
        srv = proc_cpu_ns(backend) - srv0;
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            printf("# %s: %s", name, PQresultErrorMessage(r));
            PQclear(r);
            exit_status = 1;
            goto done;
        }
        snprintf(archived, sizeof(archived), "%s", PQgetvalue(r, 0, 0));
        snprintf(deleted, sizeof(deleted), "%s", PQgetvalue(r, 0, 1));
        snprintf(logs_archived, sizeof(logs_archived), "%s", PQgetvalue(r, 0, 2));
        PQclear(r);
        printf("%s run %d: %.3f s (server %.3f s CPU): %s partitions archived (%s of "
               "system_logs), %s dropped; rows moved %lld, of them dropped %lld%s\n",
               name, run, (double)wall / 1e9, (double)srv / 1e9, archived, logs_archived, deleted,
               run == 1 ? old_rows : 0, run == 1 ? gone_rows : 0,
               run == 2 && strcmp(archived, "0") == 0 && strcmp(deleted, "0") == 0
                   ? " (nothing to do)"
                   : "");
    }
    /* Where the rows are now. */
    if (pg_count(c, "SELECT count(*) FROM logging.system_logs") != kept_rows ||
        pg_count(c, "SELECT count(*) FROM logging.archived_system_logs") != old_rows - gone_rows) {
        printf("# %s: MISMATCH: the rows are not where retention should have put them\n", name);
        exit_status = 1;
    }
done:
    PQfinish(c);
    (void)pg_bench_db(name, false, conninfo, sizeof(conninfo));
#else
    printf("# %s: the PostgreSQL exporter is not built (OTELC_WITH_POSTGRES)\n", name);
#endif
    fflush(stdout);
}

/*
 * pg_replay: a fallback file of --pg-rows log records (default 1,000,000),
 * written the way the exporter writes it -- the exporter, made against a
 * database that is not there (a socket directory that does not exist) and
 * given a fallback file, is handed batches of 512 records of now: the first
 * fails to connect, the rest go straight to the file -- and then stored by
 * `otelc pg replay FILE` (otelc-pg, the program `otelc pg` runs), timed as
 * a process: lines per second of wall time, its CPU time, and the server's
 * (the postmaster's reaped children: the replay's backend). The rows are
 * counted afterwards: N, each once.
 */
static void run_pg_replay(const char *name)
{
#if defined(OTELC_BENCH_PG)
    static otelc_span_data_t spans[FILE_BATCH];
    static otelc_log_data_t logs[FILE_BATCH];
    static otelc_attr_t attrs[3 * FILE_BATCH];
    const otelc_attr_t resource_attrs[] = { OTELC_STR("service.name", "otelc-bench") };
    otelc_resource_t resource;
    const otelc_component_t *comp = otelc_component_find("postgres");
    uint64_t n = pg_rows_option != 0 ? pg_rows_option : 1000000u, written = 0;
    char dir[] = "/tmp/otelc-bench-replay-XXXXXX", file[64], conninfo[600];
    otelc_pg_options_t o;
    otelc_exporter_args_t args;
    otelc_exporter_t *x = NULL;
    struct stat st;
    PGconn *c = NULL;

    if (pg_conninfo == NULL) {
        printf("# %s: needs --pg CONNINFO (a throwaway cluster: tests/pg/cluster.sh start STATE)\n",
               name);
        return;
    }
    if (comp == NULL || mkdtemp(dir) == NULL) {
        printf("# %s: no exporter or no temporary directory\n", name);
        exit_status = 1;
        return;
    }
    snprintf(file, sizeof(file), "%s/fallback.jsonl", dir);
    file_batches(spans, logs, attrs, resource_attrs, &resource);
    for (size_t i = 0; i < FILE_BATCH; i++)
        logs[i].time_ns = logs[i].observed_time_ns = now_wall_ns() + i;
    /* The file, through the exporter with its database away. */
    memset(&o, 0, sizeof(o));
    o.conninfo = "host=/nonexistent/otelc-bench user=otelc dbname=postgres";
    o.fallback_file = file;
    memset(&args, 0, sizeof(args));
    args.struct_size = sizeof(args);
    args.signal = OTELC_SIGNAL_LOGS;
    args.settings = &o;
    args.resource = &resource;
    if (comp->create(&args, &x) != OTELC_OK) {
        printf("# %s: the exporter could not be made\n", name);
        exit_status = 1;
        goto done;
    }
    {
        uint64_t wall0 = now_ns(), cpu0 = thread_cpu_ns(), wall, cpu;
        bool ok = true;

        while (ok && written < n) {
            otelc_batch_t b = { .signal = OTELC_SIGNAL_LOGS,
                                .resource = &resource,
                                .logs = logs,
                                .n =
                                    n - written < FILE_BATCH ? (size_t)(n - written) : FILE_BATCH };
            otelc_export_result_t res = OTELC_EXPORT_RESULT_INIT;

            ok = x->ops->export_batch(x, &b, 5000, &res) == OTELC_OK;
            written += b.n;
        }
        wall = now_ns() - wall0;
        cpu = thread_cpu_ns() - cpu0;
        x->ops->destroy(x);
        if (!ok || stat(file, &st) != 0) {
            printf("# %s: the fallback file could not be written\n", name);
            exit_status = 1;
            goto done;
        }
        printf("# %s: fallback file of %llu records, %.1f MB (%.0f bytes/line), written at %.0f "
               "lines/s (this thread %.0f ns/line CPU)\n",
               name, (unsigned long long)written, (double)st.st_size / 1e6,
               (double)st.st_size / (double)written, (double)written * 1e9 / (double)wall,
               (double)cpu / (double)written);
    }
    if (!pg_bench_db(name, true, conninfo, sizeof(conninfo)) ||
        !pg_bench_schema(conninfo, &resource)) {
        printf("# %s: the database could not be made\n", name);
        exit_status = 1;
        goto done;
    }
    c = PQconnectdb(conninfo);
    {
        char *const argv[] = {
            (char *)OTELC_BENCH_PG_TOOL, "replay", file, "--conninfo", conninfo, NULL
        };
        static pg_server_cpu_t server;
        struct timespec tick = { 0, 10 * 1000000L };
        uint64_t wall0 = now_ns(), wall;
        posix_spawn_file_actions_t fa;
        struct rusage ru;
        long long stored, distinct;
        pid_t pid;
        int status = -1;

        /* The tool's line per file: not ours to print. */
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        server.postmaster = pg_postmaster(c);
        server.n_before = proc_children(server.postmaster, server.before, 64);
        server.n = 0;
        if (posix_spawn(&pid, OTELC_BENCH_PG_TOOL, &fa, NULL, argv, environ) != 0) {
            printf("# %s: %s could not be run\n", name, OTELC_BENCH_PG_TOOL);
            posix_spawn_file_actions_destroy(&fa);
            exit_status = 1;
            goto done;
        }
        /* The server's CPU time: its new processes (the replay's backend,
         * autovacuum's workers), sampled every 10 ms while the replay runs
         * (a backend's time is gone from /proc once it exits). */
        for (;;) {
            pid_t done = wait4(pid, &status, WNOHANG, &ru);

            if (done == pid || done < 0)
                break;
            server_cpu_sample(&server);
            nanosleep(&tick, NULL);
        }
        wall = now_ns() - wall0;
        posix_spawn_file_actions_destroy(&fa);
        stored = pg_count(c, "SELECT count(*) FROM logging.system_logs WHERE message <> 'schema'");
        distinct = pg_count(c, "SELECT count(DISTINCT record_id) FROM logging.system_logs"
                               " WHERE message <> 'schema'");
        printf("%s %.0f lines/s (%llu lines, %.1f MB file, %.2f s; otelc-pg %.2f s CPU, server "
               "%.2f s CPU) stored=%lld distinct=%lld%s\n",
               name, (double)written * 1e9 / (double)wall, (unsigned long long)written,
               (double)st.st_size / 1e6, (double)wall / 1e9,
               (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                   (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
               (double)server_cpu_total(&server) / 1e9, stored, distinct,
               WIFEXITED(status) && WEXITSTATUS(status) == 0 && stored == (long long)written &&
                       distinct == stored
                   ? ""
                   : " (MISMATCH or failure)");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || stored != (long long)written ||
            distinct != stored)
            exit_status = 1;
    }
done:
    PQfinish(c);
    (void)pg_bench_db(name, false, conninfo, sizeof(conninfo));
    unlink(file);
    rmdir(dir);
#else
    printf("# %s: the PostgreSQL exporter is not built (OTELC_WITH_POSTGRES)\n", name);
#endif
    fflush(stdout);
}

/* ---- main ------------------------------------------------------------------------- */

static const char *const extra_names[] = {
    "span_3attrs_bytes", "pipeline_1m",       "flat_out_2threads", "file_flat_lines",
    "file_otlp_lines",   "otlp_encode_spans", "otlp_encode_logs",  "otlp_http_export",
    "otlp_grpc_export",  "pg_rows",           "pg_retention",      "pg_replay"
};

static void usage(FILE *f)
{
    fprintf(f, "usage: otelc-bench [--quick] [--only NAME] [--ops N] [--reps N] [--chunk N] "
               "[--ring BYTES]\n       [--spin] [--file] [--otlp URL [--otlp-protocol P]] "
               "[--pg CONNINFO] [--otlp-batch N]\n"
               "       [--no-memory] [--pg-rows N] [--pg-days D] [NAME...]\n  NAME:");
    for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
        fprintf(f, " %s", workloads[i].name);
    for (size_t i = 0; i < sizeof(extra_names) / sizeof(extra_names[0]); i++)
        fprintf(f, " %s", extra_names[i]);
    fprintf(f, "\n");
}

static bool known_name(const char *name)
{
    for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
        if (strcmp(workloads[i].name, name) == 0)
            return true;
    for (size_t i = 0; i < sizeof(extra_names) / sizeof(extra_names[0]); i++)
        if (strcmp(extra_names[i], name) == 0)
            return true;
    return false;
}

int main(int argc, char **argv)
{
    char reasons[256] = "";
    size_t n = 0;
    uint64_t dropped = 0;
    const char *memory_case[3] = { NULL, NULL, NULL }; /* name, protocol, mode */

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            /* Flags after --quick still change these. */
            cfg.quick = true;
            cfg.ops = 20000;
            cfg.reps = 3;
            cfg.warmups = 1;
            cfg.pipeline_secs = 1.0;
            cfg.flat_secs = 0.5;
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc && cfg.n_names < MAX_SELECTED) {
            cfg.names[cfg.n_names++] = argv[++i];
        } else if (argv[i][0] != '-' && cfg.n_names < MAX_SELECTED) {
            cfg.names[cfg.n_names++] = argv[i];
        } else if (strcmp(argv[i], "--spin") == 0) {
            cfg.spin = true;
        } else if (strcmp(argv[i], "--otlp") == 0 && i + 1 < argc) {
            otlp_endpoint = argv[++i];
        } else if (strcmp(argv[i], "--pg") == 0 && i + 1 < argc) {
            pg_conninfo = argv[++i];
#ifdef OTELC_BENCH_PG
        } else if (strcmp(argv[i], "--pg-rows") == 0 && i + 1 < argc) {
            pg_rows_option = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--pg-days") == 0 && i + 1 < argc) {
            pg_days_option = (unsigned)strtoul(argv[++i], NULL, 10);
#endif
        } else if (strcmp(argv[i], "--otlp-protocol") == 0 && i + 1 < argc) {
            otlp_protocol = argv[++i];
        } else if (strcmp(argv[i], "--file") == 0) {
            strcpy(file_dir, "/tmp/otelc-bench-files-XXXXXX");
            if (mkdtemp(file_dir) == NULL) {
                fprintf(stderr, "otelc-bench: cannot make a temporary directory\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--ops") == 0 && i + 1 < argc) {
            cfg.ops = (size_t)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--chunk") == 0 && i + 1 < argc) {
            cfg.chunk = (size_t)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            /* bench/instructions.sh runs one repetition under callgrind. */
            cfg.reps = (int)strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--otlp-memory-case") == 0 && i + 3 < argc) {
            /* Internal: one case of run_otlp_export's memory part. */
            memory_case[0] = argv[++i];
            memory_case[1] = argv[++i];
            memory_case[2] = argv[++i];
        } else if (strcmp(argv[i], "--no-memory") == 0) {
            cfg.otlp_memory = false;
        } else if (strcmp(argv[i], "--otlp-batch") == 0 && i + 1 < argc) {
            cfg.otlp_batch = (size_t)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--ring") == 0 && i + 1 < argc) {
            cfg.ring_size = (uint32_t)strtoul(argv[++i], NULL, 0);
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (cfg.ops == 0 || cfg.chunk == 0 || cfg.otlp_batch == 0 || cfg.reps < 1 || cfg.reps > 64) {
        fprintf(stderr, "otelc-bench: --ops, --chunk and --otlp-batch take a positive number, "
                        "--reps 1 to 64\n");
        return 2;
    }
    for (int i = 0; i < cfg.n_names; i++) {
        if (!known_name(cfg.names[i])) {
            fprintf(stderr, "otelc-bench: unknown workload '%s'\n", cfg.names[i]);
            usage(stderr);
            return 2;
        }
    }
    /* Made before init, as applications do; its level is set at each init. */
    bench_log = otelc_logger("bench");

    if (memory_case[0] != NULL) {
#ifdef OTELC_BENCH_OTLP_EXPORT
        signal(SIGPIPE, SIG_IGN);
        run_otlp_memory(memory_case[0], memory_case[1], strncmp(memory_case[2], "hung", 4) == 0,
                        strstr(memory_case[2], "_spool") != NULL);
#endif
        goto totals;
    }
    printf("# otelc-bench %s (%s): %zu ops x %d repetitions, median; flush every %zu ops\n",
           OTELC_VERSION_STRING, cfg.quick ? "quick" : "full", cfg.ops, cfg.reps, cfg.chunk);
    fflush(stdout);
    for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
        if (selected(workloads[i].name))
            run_workload(&workloads[i]);
        if (strcmp(workloads[i].name, "span_3attrs") == 0 && selected("span_3attrs_bytes"))
            run_bytes_helper();
    }
    if (selected("pipeline_1m"))
        run_pipeline_1m();
    if (selected("flat_out_2threads"))
        run_flat_out();
    if (selected("file_flat_lines"))
        run_file_lines("file_flat_lines", OTELC_FILE_FORMAT_FLAT);
    if (selected("file_otlp_lines"))
        run_file_lines("file_otlp_lines", OTELC_FILE_FORMAT_OTLP);
    if (selected("otlp_encode_spans"))
        run_otlp_encode("otlp_encode_spans", OTELC_SIGNAL_TRACES);
    if (selected("otlp_encode_logs"))
        run_otlp_encode("otlp_encode_logs", OTELC_SIGNAL_LOGS);
    if (selected("pg_rows")) {
        /* The exporter's default transaction (OTELC_PG_MAX_EXPORT_BATCH_SIZE
         * 100), and the pipeline's batch of 512. */
        run_pg_rows("pg_rows", 100);
        run_pg_rows("pg_rows_512", FILE_BATCH);
    }
    if (selected("pg_retention"))
        run_pg_retention("pg_retention");
    if (selected("pg_replay"))
        run_pg_replay("pg_replay");
    if (selected("otlp_http_export"))
        run_otlp_export("otlp_http_export", "http/protobuf");
    if (selected("otlp_grpc_export"))
        run_otlp_export("otlp_grpc_export", "grpc");

totals:
    for (int r = 0; r < OTELC_DROP_REASONS; r++) {
        dropped += total_dropped[r];
        if (total_dropped[r] != 0 && n < sizeof(reasons))
            n += (size_t)snprintf(reasons + n, sizeof(reasons) - n, "%s%s=%llu", n ? " " : " (",
                                  otelc_drop_reason_str((otelc_drop_reason_t)r),
                                  (unsigned long long)total_dropped[r]);
    }
    if (n != 0 && n < sizeof(reasons) - 1)
        strcat(reasons, ")");
    if (file_dir[0] != '\0')
        remove_dir(file_dir);
    printf("records produced=%llu exported=%llu dropped=%llu%s\n",
           (unsigned long long)total_produced, (unsigned long long)total_exported,
           (unsigned long long)dropped, reasons);
    return exit_status;
}
