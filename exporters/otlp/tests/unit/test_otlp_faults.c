/*
 * test_otlp_faults.c: the faults of a running service, with exact
 * accounting. A service (otelc_init with traces and logs to "otlp" and a
 * spool) produces spans and logs at a steady rate while the receiver of
 * tests/otlp-receiver fails under it:
 *
 *   - down for 10 s in the middle of the run, then up again;
 *   - killed (SIGKILL) with a request of each signal in flight, a direct
 *     one or one from the spool, and started again on the same ports;
 *   - the service itself killed (SIGKILL) with its spool holding data (its
 *     sender waiting, or sending), and started again on the same spool;
 *   - down longer than the spool holds.
 *
 * Each time, every record produced arrives exactly once (spans by span id,
 * logs by their "seq" attribute), nothing more, otelc_stats() drops nothing
 * and otelc_otlp_stats() shows the spool took records and gave back every
 * one; with the spool full, produced = received + dropped (counted). Over
 * http/protobuf and, when linked, grpc.
 *
 * The killed service is this program run again as a child
 * (`--service produce|resume ...`, see service_main()), so that it is a
 * process of its own with nothing inherited from the tests' state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <otelc/otelc.h>
#include <otelc/otlp.h>

#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>

#include "otlp_rx.h"
#include "transport.h"

static rx_t rx;
static char spool_dir[256];


/* ---- time and files ------------------------------------------------------ */

/* A timed phase of a fault script (by design, not a wait for a condition). */
static void sleep_until_ms(uint64_t t)
{
    struct timespec ts = { (time_t)(t / 1000u), (long)(t % 1000u) * 1000000L };

    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* The pause between two looks at a condition polled with a deadline. */
static void poll_pause(void)
{
    struct timespec ts = { 0, 10 * 1000000L };

    nanosleep(&ts, NULL);
}

/* The bytes of the files in `dir` whose names end in `suffix`. */
static uint64_t bytes_in(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    uint64_t n = 0;
    size_t sl = strlen(suffix);
    char p[512];
    struct stat st;

    if (d == NULL)
        return 0;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);

        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (l > sl && strcmp(de->d_name + l - sl, suffix) == 0 && stat(p, &st) == 0)
            n += (uint64_t)st.st_size;
    }
    closedir(d);
    return n;
}

/*
 * What a writer killed between writing a spool file and renaming it into
 * place leaves: a whole request under the .tmp name of process `pid`, the
 * newest of the signal. A copy of the file `of` (a name in `dir`).
 */
static void plant_unrenamed(const char *dir, const char *of, pid_t pid)
{
    char from[512], to[512], buf[4096];
    struct timespec ts;
    int in, out;
    ssize_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(from, sizeof(from), "%s/%s", dir, of);
    snprintf(to, sizeof(to), "%s/%020llu-%ld-999999%s.tmp", dir,
             (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec,
             (long)pid, strstr(of, ".traces.otlp") != NULL ? ".traces.otlp" : ".logs.otlp");
    in = open(from, O_RDONLY | O_CLOEXEC);
    out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(in >= 0 && out >= 0);
    while ((n = read(in, buf, sizeof(buf))) > 0)
        assert_int_equal(write(out, buf, (size_t)n), n);
    assert_int_equal(n, 0);
    close(in);
    close(out);
}

/* The first file of `dir` whose name ends in `suffix`, into name. */
static void first_file(const char *dir, const char *suffix, char *name, size_t size)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t sl = strlen(suffix);

    assert_non_null(d);
    name[0] = '\0';
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);

        if (l > sl && strcmp(de->d_name + l - sl, suffix) == 0) {
            snprintf(name, size, "%s", de->d_name);
            break;
        }
    }
    closedir(d);
    assert_true(name[0] != '\0');
}

/* ---- the service --------------------------------------------------------- */

static const char *protocol_name(int protocol)
{
    return protocol == OTELC_OTLP_GRPC ? "grpc" : "http/protobuf";
}

static bool linked(int protocol)
{
    return otelc__otlp_transport_find(protocol == OTELC_OTLP_GRPC ? "grpc" : "http") != NULL;
}

/*
 * otelc_init as a service configures it: traces and logs to "otlp" at
 * `endpoint`, the spool in `dir`. Batches of at most 64 records leave
 * every 100 ms (so a spool holds many requests) and retries back off from
 * 100 ms to 1 s, so that the runs stay short; everything else is the
 * default, the spool's bound too unless `spool_max_mb` is given. Returns
 * the status of otelc_init (the child cannot assert).
 */
static otelc_status_t service_init(const char *protocol, const char *endpoint, const char *dir,
                                   const char *spool_max_mb)
{
    static const char *const settings[][2] = {
        { "OTEL_BSP_SCHEDULE_DELAY", "100" },       { "OTEL_BLRP_SCHEDULE_DELAY", "100" },
        { "OTELC_OTLP_RETRY_INITIAL_MS", "100" },   { "OTELC_OTLP_RETRY_MAX_MS", "1000" },
        { "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "64" }, { "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "64" },
        { "OTEL_EXPORTER_OTLP_TIMEOUT", "3000" },
    };
    otelc_options_t o;
    otelc_status_t st = otelc_options_init(&o);

    o.traces_exporter = "otlp";
    o.logs_exporter = "otlp";
    if (st == OTELC_OK)
        st = otelc_options_set(&o, "OTEL_EXPORTER_OTLP_ENDPOINT", endpoint);
    if (st == OTELC_OK)
        st = otelc_options_set(&o, "OTEL_EXPORTER_OTLP_PROTOCOL", protocol);
    if (st == OTELC_OK)
        st = otelc_options_set(&o, "OTELC_OTLP_SPOOL_DIR", dir);
    if (st == OTELC_OK && spool_max_mb != NULL)
        st = otelc_options_set(&o, "OTELC_OTLP_SPOOL_MAX_MB", spool_max_mb);
    for (size_t i = 0; st == OTELC_OK && i < sizeof(settings) / sizeof(settings[0]); i++)
        st = otelc_options_set(&o, settings[i][0], settings[i][1]);
    if (st == OTELC_OK)
        st = otelc_init(&o);
    return st;
}

static uint64_t span_id_of(const otelc_span_t *sp)
{
    uint64_t id = 0;

    for (int i = 0; i < OTELC_SPAN_ID_SIZE; i++)
        id = id << 8 | sp->ctx.span_id[i];
    return id;
}

/* One span and one log, both numbered `seq`; the span's id in *span_id. */
static void produce_one(otelc_logger_t *lg, int64_t seq, uint64_t *span_id)
{
    otelc_attr_t a = { .key = "seq", .type = OTELC_ATTR_INT, .v.i = seq };
    otelc_span_t sp = otelc_span_start("order", &a, 1);

    *span_id = span_id_of(&sp);
    otelc_log(lg, OTELC_SEV_INFO, NULL, "order placed", OTELC_NUL_TERMINATED, &a, 1);
    otelc_span_end(&sp);
}

/* The producer: an application thread recording one span and one log
 * every 5 ms, each numbered, until told to stop. */
#define PERIOD_MS 5
#define MAX_RECORDS 8192

typedef struct producer {
    pthread_t thread;
    bool running;
    atomic_bool stop;
    uint64_t span_ids[MAX_RECORDS];
    size_t n; /* records of each signal produced */
} producer_t;

static void *producer_main(void *arg)
{
    producer_t *p = arg;
    otelc_logger_t *lg = otelc_logger("trading.orders");
    uint64_t next = now_ms();

    while (!atomic_load(&p->stop) && p->n < MAX_RECORDS) {
        produce_one(lg, (int64_t)p->n, &p->span_ids[p->n]);
        p->n++;
        next += PERIOD_MS;
        sleep_until_ms(next);
    }
    return NULL;
}

static void producer_start(producer_t *p)
{
    memset(p, 0, sizeof(*p));
    atomic_init(&p->stop, false);
    assert_int_equal(pthread_create(&p->thread, NULL, producer_main, p), 0);
    p->running = true;
}

static void producer_stop(producer_t *p)
{
    if (!p->running)
        return;
    atomic_store(&p->stop, true);
    assert_int_equal(pthread_join(p->thread, NULL), 0);
    p->running = false;
    /* Full, it would have stopped early: the run would not be the one meant. */
    assert_true(p->n < MAX_RECORDS);
}

/* The producer of the running test (teardown stops it if the test failed). */
static producer_t producer;

/* ---- what arrived -------------------------------------------------------- */

/*
 * Tallies of what the receiver(s) took: how often each span id (against
 * the ids produced, sorted) and each log seq arrived, and what arrived
 * that was never produced.
 */
typedef struct tally {
    uint64_t *ids; /* produced span ids, sorted */
    size_t n;      /* records produced of each signal */
    unsigned *span_seen, *log_seen;
    size_t strangers; /* records that match nothing produced */
} tally_t;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static void tally_init(tally_t *t, const uint64_t *span_ids, size_t n)
{
    memset(t, 0, sizeof(*t));
    t->n = n;
    t->ids = malloc((n > 0 ? n : 1) * sizeof(*t->ids));
    t->span_seen = calloc(n > 0 ? n : 1, sizeof(*t->span_seen));
    t->log_seen = calloc(n > 0 ? n : 1, sizeof(*t->log_seen));
    assert_true(t->ids != NULL && t->span_seen != NULL && t->log_seen != NULL);
    memcpy(t->ids, span_ids, n * sizeof(*t->ids));
    qsort(t->ids, n, sizeof(*t->ids), cmp_u64);
    /* The id generator gave each span an id of its own. */
    for (size_t i = 1; i < n; i++)
        assert_true(t->ids[i - 1] != t->ids[i]);
}

static void tally_free(tally_t *t)
{
    free(t->ids);
    free(t->span_seen);
    free(t->log_seen);
}

static int64_t seq_of(json_object *rec)
{
    json_object *attrs = jpath(rec, "record.attributes");

    for (size_t i = 0; attrs != NULL && i < json_object_array_length(attrs); i++) {
        json_object *a = json_object_array_get_idx(attrs, i);
        const char *k = jstr(a, "key");

        if (k != NULL && strcmp(k, "seq") == 0 && jpath(a, "value.intValue") != NULL)
            return jint(a, "value.intValue");
    }
    return -1;
}

/* What a receiver holds at one moment: its records of each signal (the
 * holders own them). */
typedef struct snapshot {
    json_object *traces_holder, *logs_holder;
    json_object *traces, *logs;
} snapshot_t;

static void snapshot_take(snapshot_t *sn, const rx_t *r)
{
    sn->traces = rx_records(r, "traces", &sn->traces_holder);
    sn->logs = rx_records(r, "logs", &sn->logs_holder);
}

static void snapshot_free(snapshot_t *sn)
{
    json_object_put(sn->traces_holder);
    json_object_put(sn->logs_holder);
    memset(sn, 0, sizeof(*sn));
}

/* Adds what a receiver held. */
static void tally_add(tally_t *t, const snapshot_t *sn)
{
    for (size_t i = 0; i < json_object_array_length(sn->traces); i++) {
        const char *hex = jstr(json_object_array_get_idx(sn->traces, i), "record.spanId");
        uint64_t id = hex != NULL && strlen(hex) == 16 ? strtoull(hex, NULL, 16) : 0;
        uint64_t *at = bsearch(&id, t->ids, t->n, sizeof(*t->ids), cmp_u64);

        if (at != NULL)
            t->span_seen[at - t->ids]++;
        else
            t->strangers++;
    }
    for (size_t i = 0; i < json_object_array_length(sn->logs); i++) {
        int64_t seq = seq_of(json_object_array_get_idx(sn->logs, i));

        if (seq >= 0 && (uint64_t)seq < t->n)
            t->log_seen[seq]++;
        else
            t->strangers++;
    }
}

/* Every record produced arrived exactly once, and nothing else did. */
static void tally_expect_once(const tally_t *t)
{
    size_t spans_missing = 0, spans_twice = 0, logs_missing = 0, logs_twice = 0;

    for (size_t i = 0; i < t->n; i++) {
        spans_missing += t->span_seen[i] == 0;
        spans_twice += t->span_seen[i] > 1;
        logs_missing += t->log_seen[i] == 0;
        logs_twice += t->log_seen[i] > 1;
    }
    printf("%zu spans and %zu logs produced: spans missing %zu, twice %zu; logs missing %zu, "
           "twice %zu; not produced %zu\n",
           t->n, t->n, spans_missing, spans_twice, logs_missing, logs_twice, t->strangers);
    assert_int_equal(spans_missing, 0);
    assert_int_equal(spans_twice, 0);
    assert_int_equal(logs_missing, 0);
    assert_int_equal(logs_twice, 0);
    assert_int_equal(t->strangers, 0);
}

/* ---- the receiver -------------------------------------------------------- */

/* Starts it on the ports it had (after a kill). */
static void rx_restart_on_same_ports(rx_t *r)
{
    char grpc_port[16], http_port[16];
    const char *args[5] = { "--grpc-port", grpc_port, "--http-port", http_port, NULL };
    int was_grpc = r->grpc_port, was_http = r->http_port;

    snprintf(grpc_port, sizeof(grpc_port), "%d", was_grpc);
    snprintf(http_port, sizeof(http_port), "%d", was_http);
    assert_int_equal(rx_start(r, args), 0);
    assert_int_equal(r->grpc_port, was_grpc);
    assert_int_equal(r->http_port, was_http);
}

/* SIGKILL: no listener closed in order, no answer finished. */
static void rx_kill(rx_t *r)
{
    int status;

    assert_int_equal(kill(r->pid, SIGKILL), 0);
    assert_int_equal(waitpid(r->pid, &status, 0), r->pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    close(r->in_fd);
    r->pid = -1;
}

static void endpoint_of(const rx_t *r, int protocol, char *url, size_t size)
{
    snprintf(url, size, "http://127.0.0.1:%d",
             protocol == OTELC_OTLP_GRPC ? r->grpc_port : r->http_port);
}

/* ---- the checks after a run ---------------------------------------------- */

/* Polls otelc_otlp_stats() until `done` holds of it, or the deadline. */
static bool otlp_stats_await(bool (*done)(const otelc_otlp_stats_t *, const otelc_otlp_stats_t *),
                             const otelc_otlp_stats_t *before, int timeout_ms,
                             otelc_otlp_stats_t *now)
{
    uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

    for (;;) {
        otelc_otlp_stats(now);
        if (done(before, now))
            return true;
        if (now_ms() >= deadline)
            return false;
        poll_pause();
    }
}

static bool spool_took_some(const otelc_otlp_stats_t *before, const otelc_otlp_stats_t *now)
{
    return now->spooled > before->spooled;
}

static bool spool_gave_back(const otelc_otlp_stats_t *before, const otelc_otlp_stats_t *now)
{
    return now->unspooled - before->unspooled + now->spool_dropped - before->spool_dropped >=
           now->spooled - before->spooled;
}

/*
 * After the producer stopped: flushed, every record exported and none
 * dropped by the pipeline, the spool took some and gave every one back,
 * and the receiver `r` with `earlier` (what a receiver before it took, or
 * NULL) holds each record once, and nothing else. Shuts the SDK down.
 */
static void expect_run_accounted(const producer_t *p, const rx_t *r,
                                 const otelc_otlp_stats_t *before, const snapshot_t *earlier)
{
    otelc_stats_t s;
    otelc_otlp_stats_t after;
    snapshot_t last;
    tally_t t;
    char line[512];
    int n_traces = (int)(p->n - (earlier != NULL ? json_object_array_length(earlier->traces) : 0));
    int n_logs = (int)(p->n - (earlier != NULL ? json_object_array_length(earlier->logs) : 0));

    assert_int_equal(otelc_flush(30000), OTELC_OK);
    /* The flush does not wait for a spool whose backend was down at its
     * last attempt; the receiver says when everything is in. */
    assert_true(rx_wait(r, "traces", n_traces, 30000));
    assert_true(rx_wait(r, "logs", n_logs, 30000));
    assert_true(otlp_stats_await(spool_gave_back, before, 10000, &after));
    assert_int_equal(otelc_flush(30000), OTELC_OK);
    otelc_stats(&s);
    otelc_stats_format(&s, line, sizeof(line));
    printf("%s\n", line);
    otelc_otlp_stats(&after);
    printf("otlp: requests %" PRIu64 " retries %" PRIu64 " spooled %" PRIu64 " unspooled %" PRIu64
           " spool_dropped %" PRIu64 "\n",
           after.requests - before->requests, after.retries - before->retries,
           after.spooled - before->spooled, after.unspooled - before->unspooled,
           after.spool_dropped - before->spool_dropped);
    assert_int_equal(s.spans.produced, p->n);
    assert_int_equal(s.logs.produced, p->n);
    assert_int_equal(s.spans.exported, p->n);
    assert_int_equal(s.logs.exported, p->n);
    assert_int_equal(otelc_signal_stats_dropped(&s.spans), 0);
    assert_int_equal(otelc_signal_stats_dropped(&s.logs), 0);
    assert_int_equal(s.spans.pending, 0);
    assert_int_equal(s.logs.pending, 0);
    assert_true(after.spooled > before->spooled);
    assert_int_equal(after.unspooled - before->unspooled, after.spooled - before->spooled);
    assert_int_equal(after.spool_dropped - before->spool_dropped, 0);
    assert_int_equal(after.rejected - before->rejected, 0);
    assert_int_equal(otelc_shutdown(10000), OTELC_OK);

    /* Nothing more after the service stopped, nothing twice. */
    assert_int_equal(rx_count(r, "traces", "records"), n_traces);
    assert_int_equal(rx_count(r, "logs", "records"), n_logs);
    tally_init(&t, p->span_ids, p->n);
    if (earlier != NULL)
        tally_add(&t, earlier);
    snapshot_take(&last, r);
    tally_add(&t, &last);
    snapshot_free(&last);
    tally_expect_once(&t);
    tally_free(&t);
    assert_int_equal(files_in(spool_dir, ".otlp"), 0);
}

/* ---- fixtures ------------------------------------------------------------ */

static int group_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rx_start(&rx, NULL) != 0)
        rx.pid = -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    rx_stop(&rx);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    if (rx.pid > 0) {
        rx_mode(&rx, "{\"mode\":\"up\"}");
        rx_mode(&rx, "{\"mode\":\"ok\"}");
        rx_reset(&rx);
    }
    snprintf(spool_dir, sizeof(spool_dir), "/tmp/otelc_faults_XXXXXX");
    assert_non_null(mkdtemp(spool_dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    /* A test that failed half way leaves its service running. */
    producer_stop(&producer);
    (void)otelc_shutdown(10000);
    rm_dir(spool_dir);
    return 0;
}

/* ---- down for 10 s in the middle of the run ------------------------------ */

static void down_mid_run(int protocol)
{
    producer_t *p = &producer;
    otelc_otlp_stats_t before;
    char url[128];
    uint64_t t0;

    NEED_RECEIVER();
    if (!linked(protocol))
        skip();
    endpoint_of(&rx, protocol, url, sizeof(url));
    otelc_otlp_stats(&before);
    assert_int_equal(service_init(protocol_name(protocol), url, spool_dir, NULL), OTELC_OK);
    t0 = now_ms();
    producer_start(p);
    sleep_until_ms(t0 + 3000);
    rx_mode(&rx, "{\"mode\":\"down\"}");
    sleep_until_ms(t0 + 13000);
    rx_mode(&rx, "{\"mode\":\"up\"}");
    sleep_until_ms(t0 + 16000);
    producer_stop(p);
    printf("%s: %zu spans and %zu logs in %llu ms, the receiver down from 3 s to 13 s\n",
           protocol_name(protocol), p->n, p->n, (unsigned long long)(now_ms() - t0));
    expect_run_accounted(p, &rx, &before, NULL);
}

static void test_down_10s_mid_run_http_protobuf(void **state)
{
    (void)state;
    down_mid_run(OTELC_OTLP_HTTP_PROTOBUF);
}

static void test_down_10s_mid_run_grpc(void **state)
{
    (void)state;
    down_mid_run(OTELC_OTLP_GRPC);
}

/* ---- the receiver killed and started again ------------------------------- */

/*
 * The receiver is made to hold the next request of each signal (mode
 * "hang"), so that at the kill each signal has one request in flight and
 * every earlier one answered: what the receiver took until then is then
 * exactly what it holds. SIGKILL, and the service finds out (the request
 * in flight fails); a new receiver on the same ports, and the service
 * sends the spool to it. The two receivers together hold every record
 * once.
 *
 * `draining`: the receiver is first down for 2 s and killed on the first
 * requests after it came back, so that what is in flight at the kill is
 * the spool's oldest request, sent by the spool's sender.
 */
static void killed_and_restarted(int protocol, bool draining)
{
    producer_t *p = &producer;
    otelc_otlp_stats_t before, at_kill, seen;
    snapshot_t earlier;
    char url[128];
    uint64_t t0, deadline;

    NEED_RECEIVER();
    if (!linked(protocol))
        skip();
    endpoint_of(&rx, protocol, url, sizeof(url));
    otelc_otlp_stats(&before);
    assert_int_equal(service_init(protocol_name(protocol), url, spool_dir, NULL), OTELC_OK);
    t0 = now_ms();
    producer_start(p);
    if (draining) {
        sleep_until_ms(t0 + 1000);
        rx_mode(&rx, "{\"mode\":\"down\"}");
        sleep_until_ms(t0 + 3000);
        rx_mode(&rx, "{\"mode\":\"hang\"}");
        otelc_otlp_stats(&seen);
        assert_true(spool_took_some(&before, &seen));
        rx_mode(&rx, "{\"mode\":\"up\"}");
    } else {
        sleep_until_ms(t0 + 2000);
        rx_mode(&rx, "{\"mode\":\"hang\"}");
    }
    deadline = now_ms() + 10000;
    while (rx_held(&rx) < 2 && now_ms() < deadline)
        poll_pause();
    assert_int_equal(rx_held(&rx), 2);
    snapshot_take(&earlier, &rx);
    assert_int_equal(json_object_array_length(earlier.traces), rx_count(&rx, "traces", "records"));
    assert_int_equal(json_object_array_length(earlier.logs), rx_count(&rx, "logs", "records"));
    otelc_otlp_stats(&at_kill);
    rx_kill(&rx);
    /* The service finds the receiver gone: the requests in flight fail
     * (a direct one goes to the spool, a spooled one is retried). */
    deadline = now_ms() + 10000;
    for (otelc_otlp_stats(&seen);
         seen.spooled == at_kill.spooled && seen.retries == at_kill.retries && now_ms() < deadline;
         otelc_otlp_stats(&seen))
        poll_pause();
    assert_true(seen.spooled > at_kill.spooled || seen.retries > at_kill.retries);
    rx_restart_on_same_ports(&rx);
    sleep_until_ms(now_ms() + 3000);
    producer_stop(p);
    printf("%s: %zu spans and %zu logs in %llu ms, the receiver killed %s after taking %zu spans "
           "and %zu logs\n",
           protocol_name(protocol), p->n, p->n, (unsigned long long)(now_ms() - t0),
           draining ? "while the spool was sent" : "at 2 s",
           json_object_array_length(earlier.traces), json_object_array_length(earlier.logs));
    expect_run_accounted(p, &rx, &before, &earlier);
    snapshot_free(&earlier);
}

static void test_killed_and_restarted_http_protobuf(void **state)
{
    (void)state;
    killed_and_restarted(OTELC_OTLP_HTTP_PROTOBUF, false);
}

static void test_killed_and_restarted_grpc(void **state)
{
    (void)state;
    killed_and_restarted(OTELC_OTLP_GRPC, false);
}

static void test_killed_while_spool_sent_http_protobuf(void **state)
{
    (void)state;
    killed_and_restarted(OTELC_OTLP_HTTP_PROTOBUF, true);
}

static void test_killed_while_spool_sent_grpc(void **state)
{
    (void)state;
    killed_and_restarted(OTELC_OTLP_GRPC, true);
}

/* ---- the service killed with its spool holding data ---------------------- */

/*
 * This program as the service, in a process of its own:
 *
 *   --service produce PROTOCOL ENDPOINT DIR FIRST COUNT
 *       records COUNT spans and logs numbered from FIRST with the backend
 *       down, flushes, awaits the spool holding all of them, says
 *       "spooled N" and waits to be killed (or for stdin to close);
 *   --service resume PROTOCOL ENDPOINT DIR FIRST COUNT LEFT
 *       starts on the spool a killed service left (LEFT records), records
 *       COUNT more, awaits the spool given back, says "stats ..." and ends.
 *
 * Both print "span SEQ ID" for each span. No cmocka here: what goes wrong
 * is said on stdout and in the exit status.
 */
static int service_main(int argc, char **argv)
{
    const char *role, *protocol, *endpoint, *dir;
    long long first, count, left = 0;
    otelc_logger_t *lg;
    otelc_otlp_stats_t o, b;
    otelc_stats_t s;
    uint64_t deadline;

    if (argc < 8)
        return 64;
    role = argv[2];
    protocol = argv[3];
    endpoint = argv[4];
    dir = argv[5];
    first = atoll(argv[6]);
    count = atoll(argv[7]);
    if (strcmp(role, "resume") == 0) {
        if (argc < 9)
            return 64;
        left = atoll(argv[8]);
    }
    otelc_otlp_stats(&b);
    if (service_init(protocol, endpoint, dir, NULL) != OTELC_OK) {
        printf("error: otelc_init\n");
        return 1;
    }
    lg = otelc_logger("trading.orders");
    for (long long i = 0; i < count; i++) {
        uint64_t id;

        produce_one(lg, first + i, &id);
        printf("span %lld %016" PRIx64 "\n", first + i, id);
    }
    (void)otelc_flush(20000);
    deadline = now_ms() + 20000;
    if (strcmp(role, "produce") == 0) {
        char c;

        /* The backend is down: everything is in the spool, or will be. */
        for (otelc_otlp_stats(&o); o.spooled - b.spooled < (uint64_t)(2 * count);
             otelc_otlp_stats(&o)) {
            if (now_ms() >= deadline)
                break;
            poll_pause();
        }
        printf("spooled %" PRIu64 " bytes %" PRIu64 "\n", o.spooled - b.spooled, o.spool_bytes);
        fflush(stdout);
        while (read(0, &c, 1) != 0)
            ;
        return 3; /* not killed: the test went wrong */
    }
    /* The spool of the killed process and this one's own, sent. */
    for (otelc_otlp_stats(&o); o.unspooled + o.spool_dropped < (uint64_t)left + o.spooled;
         otelc_otlp_stats(&o)) {
        if (now_ms() >= deadline)
            break;
        poll_pause();
    }
    (void)otelc_flush(20000);
    otelc_stats(&s);
    otelc_otlp_stats(&o);
    printf("stats spans %" PRIu64 " %" PRIu64 " %" PRIu64 " logs %" PRIu64 " %" PRIu64 " %" PRIu64
           " spool %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
           s.spans.produced, s.spans.exported, otelc_signal_stats_dropped(&s.spans),
           s.logs.produced, s.logs.exported, otelc_signal_stats_dropped(&s.logs), o.spooled,
           o.unspooled, o.spool_dropped, o.spool_bytes);
    fflush(stdout);
    return otelc_shutdown(10000) == OTELC_OK ? 0 : 2;
}

typedef struct child {
    pid_t pid;
    int in_fd; /* its stdin: closed, a produce child ends */
    FILE *out; /* its stdout */
} child_t;

static void child_start(child_t *c, const char *const *args)
{
    int in[2], out[2];

    assert_int_equal(pipe2(in, O_CLOEXEC), 0);
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    fflush(stdout);
    fflush(stderr);
    c->pid = fork();
    assert_true(c->pid >= 0);
    if (c->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        execv("/proc/self/exe", (char *const *)(uintptr_t)args);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    c->in_fd = in[1];
    c->out = fdopen(out[0], "r");
    assert_non_null(c->out);
}

/*
 * Reads the child's lines up to one that starts with `until` (into `last`):
 * each "span SEQ ID" sets ids[SEQ]. False at EOF without it.
 */
static bool child_read(child_t *c, uint64_t *ids, size_t n_ids, const char *until, char *last,
                       size_t size)
{
    while (fgets(last, (int)size, c->out) != NULL) {
        unsigned long long seq;
        uint64_t id;

        if (sscanf(last, "span %llu %" SCNx64, &seq, &id) == 2) {
            assert_true(seq < n_ids);
            ids[seq] = id;
            continue;
        }
        printf("service %d: %s", (int)c->pid, last);
        if (strncmp(last, until, strlen(until)) == 0)
            return true;
    }
    return false;
}

/* Waits for it to end; its wait status. */
static int child_end(child_t *c)
{
    int status;

    close(c->in_fd);
    assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
    fclose(c->out);
    return status;
}

/*
 * `mid_send`: before the kill the receiver comes back but holds what it
 * is sent (mode "hang"), so that the killed service dies with the oldest
 * request of each signal in flight from its spool.
 */
static void service_killed(int protocol, bool mid_send)
{
    enum { N = 300, M = 200 };
    static uint64_t ids[N + M];
    char url[128], first[16], count[16], left[16], line[512];
    child_t c;
    unsigned long long spooled, bytes;
    uint64_t st[10];
    pid_t killed;
    int status;

    NEED_RECEIVER();
    if (!linked(protocol))
        skip();
    endpoint_of(&rx, protocol, url, sizeof(url));
    memset(ids, 0, sizeof(ids));

    /* The first service: the backend down, N of each into the spool. */
    rx_mode(&rx, "{\"mode\":\"down\"}");
    snprintf(first, sizeof(first), "%d", 0);
    snprintf(count, sizeof(count), "%d", N);
    {
        const char *args[] = { "test_otlp_faults",
                               "--service",
                               "produce",
                               protocol_name(protocol),
                               url,
                               spool_dir,
                               first,
                               count,
                               NULL };

        child_start(&c, args);
    }
    assert_true(child_read(&c, ids, N + M, "spooled ", line, sizeof(line)));
    assert_int_equal(sscanf(line, "spooled %llu bytes %llu", &spooled, &bytes), 2);
    assert_int_equal(spooled, 2 * N);
    assert_int_equal(bytes, bytes_in(spool_dir, ".otlp"));
    assert_true(files_in(spool_dir, ".traces.otlp") > 0);
    assert_true(files_in(spool_dir, ".logs.otlp") > 0);
    if (mid_send) {
        uint64_t deadline = now_ms() + 10000;

        rx_mode(&rx, "{\"mode\":\"hang\"}");
        rx_mode(&rx, "{\"mode\":\"up\"}");
        while (rx_held(&rx) < 2 && now_ms() < deadline)
            poll_pause();
        assert_int_equal(rx_held(&rx), 2);
    }
    /* kill -9: no flush, no shutdown, the spool's sender mid-backoff or
     * mid-send. */
    killed = c.pid;
    assert_int_equal(kill(c.pid, SIGKILL), 0);
    status = child_end(&c);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    printf("service killed with %zu trace and %zu log files in the spool (%llu bytes)\n",
           files_in(spool_dir, ".traces.otlp"), files_in(spool_dir, ".logs.otlp"), bytes);
    assert_int_equal(rx_count(&rx, "traces", "records"), 0);
    /* As if it had also been killed before renaming its last file of
     * each signal: whole requests under .tmp names, never to be sent. */
    first_file(spool_dir, ".traces.otlp", line, sizeof(line));
    plant_unrenamed(spool_dir, line, killed);
    first_file(spool_dir, ".logs.otlp", line, sizeof(line));
    plant_unrenamed(spool_dir, line, killed);
    assert_int_equal(files_in(spool_dir, ".tmp"), 2);

    /* The backend back; the second service on the same spool. */
    rx_mode(&rx, "{\"mode\":\"ok\"}");
    rx_mode(&rx, "{\"mode\":\"up\"}");
    snprintf(first, sizeof(first), "%d", N);
    snprintf(count, sizeof(count), "%d", M);
    snprintf(left, sizeof(left), "%d", 2 * N);
    {
        const char *args[] = { "test_otlp_faults",
                               "--service",
                               "resume",
                               protocol_name(protocol),
                               url,
                               spool_dir,
                               first,
                               count,
                               left,
                               NULL };

        child_start(&c, args);
    }
    assert_true(child_read(&c, ids, N + M, "stats ", line, sizeof(line)));
    status = child_end(&c);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(
        sscanf(line,
               "stats spans %" SCNu64 " %" SCNu64 " %" SCNu64 " logs %" SCNu64 " %" SCNu64
               " %" SCNu64 " spool %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64,
               &st[0], &st[1], &st[2], &st[3], &st[4], &st[5], &st[6], &st[7], &st[8], &st[9]),
        10);
    /* Its own records: produced, exported, none dropped. */
    assert_int_equal(st[0], M);
    assert_int_equal(st[1], M);
    assert_int_equal(st[2], 0);
    assert_int_equal(st[3], M);
    assert_int_equal(st[4], M);
    assert_int_equal(st[5], 0);
    /* The spool: what the killed one left and what this one put, all sent. */
    assert_int_equal(st[7], 2 * N + st[6]);
    assert_int_equal(st[8], 0);
    assert_int_equal(st[9], 0);

    assert_true(rx_wait(&rx, "traces", N + M, 10000));
    assert_true(rx_wait(&rx, "logs", N + M, 10000));
    assert_int_equal(rx_count(&rx, "traces", "records"), N + M);
    assert_int_equal(rx_count(&rx, "logs", "records"), N + M);
    {
        tally_t t;
        snapshot_t sn;

        tally_init(&t, ids, N + M);
        snapshot_take(&sn, &rx);
        tally_add(&t, &sn);
        snapshot_free(&sn);
        tally_expect_once(&t);
        tally_free(&t);
    }
    assert_int_equal(files_in(spool_dir, ".otlp"), 0);
    assert_int_equal(files_in(spool_dir, ".tmp"), 0);
}

static void test_service_killed_http_protobuf(void **state)
{
    (void)state;
    service_killed(OTELC_OTLP_HTTP_PROTOBUF, false);
}

static void test_service_killed_grpc(void **state)
{
    (void)state;
    service_killed(OTELC_OTLP_GRPC, false);
}

static void test_service_killed_mid_send_http_protobuf(void **state)
{
    (void)state;
    service_killed(OTELC_OTLP_HTTP_PROTOBUF, true);
}

static void test_service_killed_mid_send_grpc(void **state)
{
    (void)state;
    service_killed(OTELC_OTLP_GRPC, true);
}

/* ---- the spool full ------------------------------------------------------ */

/*
 * The backend down longer than the spool holds: the spool fills to its
 * bound, what does not fit is dropped and counted (reason "exporter"),
 * and nothing is dropped before. Back up, the spool is sent: produced =
 * received + dropped, each record received once.
 */
static void test_spool_full_drops_counted(void **state)
{
    enum { CHUNKS = 40, CHUNK = 64, N = CHUNKS * CHUNK };
    static uint64_t ids[N];
    static char pad[1024];
    otelc_attr_t a[2] = { { .key = "seq", .type = OTELC_ATTR_INT },
                          { .key = "pad", .type = OTELC_ATTR_STRING, .v.s = pad, .len = 1000 } };
    otelc_otlp_stats_t before, full, after;
    otelc_stats_t s;
    otelc_logger_t *lg;
    tally_t t;
    snapshot_t sn;
    char url[128], line[512];
    uint64_t spans_dropped, logs_dropped, spans_in, logs_in;
    size_t received;

    (void)state;
    NEED_RECEIVER();
    memset(pad, 'x', 1000);
    endpoint_of(&rx, OTELC_OTLP_HTTP_PROTOBUF, url, sizeof(url));
    rx_mode(&rx, "{\"mode\":\"down\"}");
    otelc_otlp_stats(&before);
    assert_int_equal(service_init("http/protobuf", url, spool_dir, "1"), OTELC_OK);
    lg = otelc_logger("trading.orders");
    /* About 2.6 MB of requests for a 1 MiB spool, a batch at a time (each
     * flushed, so that no thread buffer or queue overflows on the way). */
    for (int c = 0; c < CHUNKS; c++) {
        for (int i = c * CHUNK; i < (c + 1) * CHUNK; i++) {
            otelc_span_t sp;

            a[0].v.i = i;
            sp = otelc_span_start("order", a, 2);
            ids[i] = span_id_of(&sp);
            otelc_log(lg, OTELC_SEV_INFO, NULL, "order placed", OTELC_NUL_TERMINATED, a, 2);
            otelc_span_end(&sp);
        }
        assert_int_equal(otelc_flush(10000), OTELC_OK);
    }
    otelc_stats(&s);
    otelc_otlp_stats(&full);
    otelc_stats_format(&s, line, sizeof(line));
    printf("%s\nspool: %" PRIu64 " records, %" PRIu64 " bytes of %u\n", line,
           full.spooled - before.spooled, full.spool_bytes, 1u << 20);
    spans_dropped = s.spans.dropped[OTELC_DROP_EXPORTER];
    logs_dropped = s.logs.dropped[OTELC_DROP_EXPORTER];
    assert_true(spans_dropped + logs_dropped > 0);
    assert_int_equal(otelc_signal_stats_dropped(&s.spans), spans_dropped);
    assert_int_equal(otelc_signal_stats_dropped(&s.logs), logs_dropped);
    assert_int_equal(s.spans.exported + spans_dropped, N);
    assert_int_equal(s.logs.exported + logs_dropped, N);
    assert_int_equal(full.spooled - before.spooled, s.spans.exported + s.logs.exported);
    /* Dropped only what did not fit: the spool is within one request
     * (64 records of about 1.1 kB) of its bound, and not past it. */
    assert_true(full.spool_bytes <= 1u << 20);
    assert_true(full.spool_bytes + 64u * 1200u > 1u << 20);
    assert_int_equal(full.spool_bytes, bytes_in(spool_dir, ".otlp"));

    rx_mode(&rx, "{\"mode\":\"up\"}");
    spans_in = N - spans_dropped;
    logs_in = N - logs_dropped;
    assert_true(rx_wait(&rx, "traces", (int)spans_in, 20000));
    assert_true(rx_wait(&rx, "logs", (int)logs_in, 20000));
    assert_true(otlp_stats_await(spool_gave_back, &before, 10000, &after));
    assert_int_equal(otelc_shutdown(10000), OTELC_OK);
    otelc_otlp_stats(&after);
    assert_int_equal(after.unspooled - before.unspooled, after.spooled - before.spooled);
    assert_int_equal(after.spool_dropped - before.spool_dropped, 0);
    assert_int_equal(rx_count(&rx, "traces", "records"), spans_in);
    assert_int_equal(rx_count(&rx, "logs", "records"), logs_in);

    /* Each record received once; those not received are the dropped. */
    tally_init(&t, ids, N);
    snapshot_take(&sn, &rx);
    tally_add(&t, &sn);
    snapshot_free(&sn);
    received = 0;
    for (size_t i = 0; i < N; i++) {
        assert_true(t.span_seen[i] <= 1);
        assert_true(t.log_seen[i] <= 1);
        received += t.span_seen[i] + t.log_seen[i];
    }
    assert_int_equal(received, spans_in + logs_in);
    assert_int_equal(t.strangers, 0);
    tally_free(&t);
    assert_int_equal(files_in(spool_dir, ".otlp"), 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_down_10s_mid_run_http_protobuf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_down_10s_mid_run_grpc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_and_restarted_http_protobuf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_and_restarted_grpc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_while_spool_sent_http_protobuf, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_killed_while_spool_sent_grpc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_killed_http_protobuf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_killed_grpc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_killed_mid_send_http_protobuf, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_service_killed_mid_send_grpc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spool_full_drops_counted, setup, teardown),
    };

    if (argc >= 2 && strcmp(argv[1], "--service") == 0)
        return service_main(argc, argv);
    /* OTLP_TEST=name runs one test (a pattern, as cmocka takes it). */
    if (getenv("OTLP_TEST") != NULL)
        cmocka_set_test_filter(getenv("OTLP_TEST"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
