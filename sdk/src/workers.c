/*
 * workers.c: the exporters' worker threads (see workers.h).
 *
 * A worker takes the batches queued for its exporter in order and calls
 * export_batch() on each; with the exporter's own batching it cuts them to
 * its size or joins them until its delay. What a call delivered settles
 * the batches it carried (otelc__batch_done()); the last exporter of a
 * batch settles its counters.
 */
#include "workers.h"

#include "diag.h"
#include "pipeline.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- threads and waits -------------------------------------------------------------------- */

/* Every timed wait here measures CLOCK_MONOTONIC, so that a change of the
 * wall clock neither stretches nor cuts a deadline. */
void otelc__cond_init_mono(pthread_cond_t *c)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}

bool otelc__wait_until(pthread_cond_t *cond, pthread_mutex_t *mu, uint64_t deadline_mono)
{
    struct timespec ts;
    if (otelc__mono_ns() >= deadline_mono)
        return false;
    ts.tv_sec = (time_t)(deadline_mono / 1000000000u);
    ts.tv_nsec = (long)(deadline_mono % 1000000000u);
    (void)pthread_cond_timedwait(cond, mu, &ts);
    return otelc__mono_ns() < deadline_mono;
}

int otelc__start_thread(pthread_t *th, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    int rc;

    /* Our threads take no signals: those are the application's. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(th, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

bool otelc__join_until(pthread_t th, uint64_t deadline_mono)
{
    struct timespec ts;
    uint64_t wall, now = otelc__mono_ns(), at;

    /* The machine's real-time clock, not otelc__wall_ns(): that one is the
     * user's clock when options.clock_fn is set, and may be anywhere. */
    clock_gettime(CLOCK_REALTIME, &ts);
    wall = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    at = wall + (deadline_mono > now ? deadline_mono - now : 0);
    ts.tv_sec = (time_t)(at / 1000000000u);
    ts.tv_nsec = (long)(at % 1000000000u);
    /* pthread_timedjoin_np measures against CLOCK_REALTIME. */
    return pthread_timedjoin_np(th, NULL, &ts) == 0;
}

/* ---- queue and export ---------------------------------------------------------------------- */

/* True when exporter `s` may take `n` more records of `sig`: under the
 * signal's queue bound, or holding nothing at all (a batch is never too
 * large for an idle exporter). */
bool otelc__slot_takes(otelc__exporter_slot_t *s, int sig, uint64_t n)
{
    uint64_t held = atomic_load_explicit(&s->held[sig], memory_order_relaxed);
    return held == 0 || held + n <= s->bopt[sig].max_queue_size;
}

/* An exporter finished with a batch (exported, failed, or dropped),
 * having delivered `accepted` of its records. */
static void slot_done(otelc__exporter_slot_t *s, batch_t *b, size_t accepted, size_t rejected)
{
    atomic_fetch_sub_explicit(&s->held[b->sig], b->pub.n, memory_order_relaxed);
    otelc__batch_done(b, accepted, rejected);
}

/* An exporter did not deliver all of a batch: one diagnostic (per kind of
 * failure, rate-limited) with what it said. */
static void report_failure(const otelc__exporter_slot_t *s, int sig, size_t n,
                           const otelc_export_result_t *r, otelc_status_t st)
{
    const char *what = sig == 0 ? "spans" : "log records";
    const char *why = r->message != NULL ? r->message : otelc_status_str(st);
    size_t missed = n - r->accepted;

    if (r->rejected > 0)
        otelc__diag(OTELC_DIAG_WARN, "exporter.rejected",
                    "exporter '%s': the backend rejected %zu of %zu %s (dropped, reason "
                    "rejected)%s: %s",
                    s->name, r->rejected, n, what,
                    missed > r->rejected ? ", the others were not delivered" : "", why);
    else if (r->retryable && r->retry_after_ms > 0)
        otelc__diag(OTELC_DIAG_WARN, "exporter.failed",
                    "exporter '%s' failed to export %zu of %zu %s: %s (the backend asks to "
                    "retry after %u ms)",
                    s->name, missed, n, what, why, (unsigned)r->retry_after_ms);
    else
        otelc__diag(OTELC_DIAG_WARN, "exporter.failed",
                    "exporter '%s' failed to export %zu of %zu %s: %s%s", s->name, missed, n, what,
                    why, r->retryable ? " (retryable)" : "");
}

/* One export_batch() call with `n` records of batch `b`'s signal at
 * `items`; its outcome, made whole, in `r`. */
static void export_call(otelc__exporter_slot_t *s, const batch_t *b, const void *items, size_t n,
                        otelc_export_result_t *r)
{
    otelc_exporter_t *e = s->exp;
    otelc_batch_t view = b->pub;
    otelc_status_t st;

    if (b->sig == 0)
        view.spans = items;
    else
        view.logs = items;
    view.n = n;
    *r = (otelc_export_result_t)OTELC_EXPORT_RESULT_INIT;
    st = e->ops->export_batch(e, &view, s->timeout_ms[b->sig], r);
    /* Untouched, `accepted` follows the status (exporter.h). */
    if (r->accepted == OTELC_EXPORT_UNSET)
        r->accepted = st == OTELC_OK ? n : 0;
    else if (r->accepted > n)
        r->accepted = n;
    if (r->rejected > n - r->accepted)
        r->rejected = n - r->accepted;
    if (r->accepted < n)
        report_failure(s, b->sig, n, r, st);
}

static size_t record_size(int sig)
{
    return sig == 0 ? sizeof(otelc_span_data_t) : sizeof(otelc_log_data_t);
}

/*
 * With the exporter's own batching: true when the batches at the head of
 * its queue should go now; `*k` is how many of them make one join: of one
 * signal, until it fills whole calls of own_max records or none is left
 * (so that only the last call of a join is short). They wait while they
 * are fewer than own_max records, younger than own_delay, and neither a
 * flush, the stop, another signal behind them nor the queue bound asks
 * for them.
 */
static bool join_due(otelc__exporter_slot_t *s, unsigned *k)
{
    const batch_t *head = s->queue[s->qhead];
    int sig = head->sig;
    uint64_t total = 0;
    unsigned i = 0;

    while (i < s->qlen && (total < s->own_max || total % s->own_max != 0)) {
        const batch_t *b = s->queue[(s->qhead + i) % s->qcap];
        if (b->sig != sig)
            break;
        total += b->pub.n;
        i++;
    }
    *k = i;
    if (i < s->qlen || total >= s->own_max || s->stop || s->flush_req != s->flush_done)
        return true;
    /* No room for the pipeline's next batch: that would drop it for us. */
    if (total + s->bopt[sig].max_export_batch_size > s->bopt[sig].max_queue_size)
        return true;
    return otelc__mono_ns() - head->opened_mono >= s->own_delay_ns;
}

/* Adds `n` records from position `at` of a join to the tallies of the
 * batches they came from (column 0 delivered, 1 rejected). */
static void tally_add(otelc__exporter_slot_t *s, unsigned k, size_t at, size_t n, int col)
{
    size_t start = 0;

    for (unsigned i = 0; i < k && n > 0; i++) {
        size_t len = s->taken[i]->pub.n, end = start + len;
        if (at < end) {
            size_t here = end - at < n ? end - at : n;
            s->tally[i][col] += here;
            at += here;
            n -= here;
        }
        start = end;
    }
}

/*
 * Exports the `k` batches of s->taken as the exporter's own batching asks:
 * side by side (one batch as it is), in calls of at most own_max records.
 * A call says how many of its records it delivered and how many were
 * rejected, not which (exporter.h): the first ones are taken as delivered,
 * the next as rejected, and each batch is settled with its share.
 */
static void export_joined(otelc__exporter_slot_t *s, unsigned k)
{
    const batch_t *first = s->taken[0];
    size_t size = record_size(first->sig), total = 0, at;
    const unsigned char *items = first->items;
    unsigned i;

    for (i = 0; i < k; i++) {
        total += s->taken[i]->pub.n;
        s->tally[i][0] = s->tally[i][1] = 0;
    }
    if (k > 1) {
        if (total > s->join_cap) {
            unsigned char *grown = realloc(s->join, total * size);
            if (grown == NULL) {
                /* No room to join them: each batch goes on its own. */
                for (i = 0; i < k; i++) {
                    batch_t *b = s->taken[i];
                    s->taken[0] = b;
                    export_joined(s, 1);
                }
                return;
            }
            s->join = grown;
            s->join_cap = total;
        }
        at = 0;
        for (i = 0; i < k; i++) {
            memcpy(s->join + at * size, s->taken[i]->items, s->taken[i]->pub.n * size);
            at += s->taken[i]->pub.n;
        }
        items = s->join;
    }
    for (at = 0; at < total; at += s->own_max) {
        size_t n = total - at < s->own_max ? total - at : s->own_max;
        otelc_export_result_t r;
        export_call(s, first, items + at * size, n, &r);
        tally_add(s, k, at, r.accepted, 0);
        tally_add(s, k, at + r.accepted, r.rejected, 1);
    }
    for (i = 0; i < k; i++)
        slot_done(s, s->taken[i], s->tally[i][0], s->tally[i][1]);
}

static void *worker_main(void *arg)
{
    otelc__exporter_slot_t *s = arg;
    otelc_exporter_t *e = s->exp;
    bool abandoned;

    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (s->qlen > 0 && s->own) {
            unsigned k;
            if (!join_due(s, &k)) {
                const batch_t *head = s->queue[s->qhead];
                (void)otelc__wait_until(&s->cond, &s->mu, head->opened_mono + s->own_delay_ns);
                continue;
            }
            for (unsigned i = 0; i < k; i++) {
                s->taken[i] = s->queue[s->qhead];
                s->qhead = (s->qhead + 1) % s->qcap;
                s->qlen--;
            }
            s->busy = true;
            pthread_mutex_unlock(&s->mu);
            export_joined(s, k);
            pthread_mutex_lock(&s->mu);
            s->busy = false;
            pthread_cond_broadcast(&s->cond);
            continue;
        }
        if (s->qlen > 0) {
            batch_t *b = s->queue[s->qhead];
            otelc_export_result_t r;
            s->qhead = (s->qhead + 1) % s->qcap;
            s->qlen--;
            s->busy = true;
            pthread_mutex_unlock(&s->mu);
            export_call(s, b, b->items, b->pub.n, &r);
            slot_done(s, b, r.accepted, r.rejected);
            pthread_mutex_lock(&s->mu);
            s->busy = false;
            pthread_cond_broadcast(&s->cond);
            continue;
        }
        if (s->flush_req != s->flush_done) {
            uint64_t req = s->flush_req;
            pthread_mutex_unlock(&s->mu);
            if (e->ops->force_flush != NULL)
                (void)e->ops->force_flush(e, s->flush_timeout_ms);
            pthread_mutex_lock(&s->mu);
            s->flush_done = req;
            pthread_cond_broadcast(&s->cond);
            continue;
        }
        if (s->stop)
            break;
        pthread_cond_wait(&s->cond, &s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    if (e->ops->shutdown != NULL)
        e->ops->shutdown(e, s->flush_timeout_ms);
    pthread_mutex_lock(&s->mu);
    atomic_store(&s->exited, 1);
    abandoned = s->abandoned;
    pthread_mutex_unlock(&s->mu);
    /* Shutdown gave up waiting for this exporter and left it to finish
     * alone: the last one out frees it. */
    if (abandoned)
        otelc__slot_destroy(s);
    return NULL;
}

/* For tests: how many of the next exporter queues fail to be allocated. */
static unsigned queue_allocs_to_fail;

void otelc__pipeline_fail_queue_allocs(unsigned n)
{
    queue_allocs_to_fail = n;
}

otelc__exporter_slot_t *otelc__slot_create(otelc_exporter_t *e, unsigned signals,
                                           const otelc_batch_options_t bopt[2])
{
    otelc__exporter_slot_t *s = calloc(1, sizeof(*s));
    size_t cap;

    if (s == NULL)
        return NULL;
    /* The bound is in records (held[], max_queue_size); batches hold at
     * least one record, so this many slots always suffice. The queue sizes
     * are at most OTELC__MAX_QUEUE_SIZE (otelc__pipeline_start()), so the
     * sum fits the unsigned positions with room to spare. */
    cap = (size_t)bopt[0].max_queue_size + bopt[1].max_queue_size + 1;
    if (queue_allocs_to_fail > 0) {
        queue_allocs_to_fail--;
        s->queue = NULL;
    } else {
        s->queue = calloc(cap, sizeof(*s->queue));
    }
    if (s->queue == NULL) {
        free(s);
        return NULL;
    }
    s->qcap = (unsigned)cap;
    s->exp = e;
    s->name = e->ops->name ? e->ops->name : "exporter";
    s->signals = signals;
    s->bopt[0] = bopt[0];
    s->bopt[1] = bopt[1];
    s->timeout_ms[0] = bopt[0].export_timeout_ms;
    s->timeout_ms[1] = bopt[1].export_timeout_ms;
    s->flush_timeout_ms = s->timeout_ms[0] > s->timeout_ms[1] ? s->timeout_ms[0] : s->timeout_ms[1];
    pthread_mutex_init(&s->mu, NULL);
    otelc__cond_init_mono(&s->cond);
    return s;
}

void otelc__slot_destroy(otelc__exporter_slot_t *s)
{
    while (s->qlen > 0) {
        batch_t *b = s->queue[s->qhead];
        s->qhead = (s->qhead + 1) % s->qcap;
        s->qlen--;
        slot_done(s, b, 0, 0);
    }
    if (s->exp != NULL && s->exp->ops->destroy != NULL)
        s->exp->ops->destroy(s->exp);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cond);
    free(s->queue);
    free(s->taken);
    free(s->tally);
    free(s->join);
    free(s);
}

/*
 * Gives slot `s` (of one signal) the exporter's own batching, when it asked
 * for other than the signal's. Without the memory for it the exporter gets
 * the signal's batches, and says so.
 */
void otelc__slot_own_batching(otelc__exporter_slot_t *s, int sig,
                              const otelc_exporter_batching_t *own)
{
    const otelc_batch_options_t *b = &s->bopt[sig];
    uint32_t max = own->max_export_batch_size;

    if (max == b->max_export_batch_size && own->schedule_delay_ms <= b->schedule_delay_ms)
        return;
    if (max == 0 || max > b->max_queue_size) {
        otelc__diag(OTELC_DIAG_WARN, "exporter.batching",
                    "exporter '%s' asked for export calls of %u records; %s is %u: using %u",
                    s->name, (unsigned)max,
                    sig == 0 ? "OTEL_BSP_MAX_QUEUE_SIZE" : "OTEL_BLRP_MAX_QUEUE_SIZE",
                    (unsigned)b->max_queue_size, max == 0 ? 1u : (unsigned)b->max_queue_size);
        max = max == 0 ? 1u : b->max_queue_size;
    }
    s->taken = calloc(s->qcap, sizeof(*s->taken));
    s->tally = calloc(s->qcap, sizeof(*s->tally));
    if (s->taken == NULL || s->tally == NULL) {
        free(s->taken);
        free(s->tally);
        s->taken = NULL;
        s->tally = NULL;
        otelc__diag(OTELC_DIAG_WARN, "exporter.batching",
                    "exporter '%s': %s for its own batching (%u records, %u ms); it gets the "
                    "batches of %u records that every exporter gets",
                    s->name, otelc_status_str(OTELC_ERR_NOMEM), (unsigned)max,
                    (unsigned)own->schedule_delay_ms, (unsigned)b->max_export_batch_size);
        return;
    }
    s->own = true;
    s->own_max = max;
    s->own_delay_ns = (uint64_t)own->schedule_delay_ms * 1000000u;
}

/* ---- the pipeline's side ------------------------------------------------------------------- */

bool otelc__slot_start(otelc__exporter_slot_t *s)
{
    if (otelc__start_thread(&s->thread, worker_main, s) != 0)
        return false;
    s->thread_started = true;
    return true;
}

bool otelc__slot_enqueue(otelc__exporter_slot_t *s, batch_t *b)
{
    bool queued = false;

    pthread_mutex_lock(&s->mu);
    if (s->qlen < s->qcap && !s->stop && otelc__slot_takes(s, b->sig, b->pub.n)) {
        s->queue[(s->qhead + s->qlen++) % s->qcap] = b;
        atomic_fetch_add_explicit(&s->held[b->sig], b->pub.n, memory_order_relaxed);
        queued = true;
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->mu);
    return queued;
}

void otelc__slot_flush_request(otelc__exporter_slot_t *s)
{
    pthread_mutex_lock(&s->mu);
    s->flush_req++;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

bool otelc__slot_await_flush(otelc__exporter_slot_t *s, uint64_t deadline_mono)
{
    bool ok = true;
    uint64_t target;

    pthread_mutex_lock(&s->mu);
    target = s->flush_req;
    while (s->flush_done < target && ok)
        ok = otelc__wait_until(&s->cond, &s->mu, deadline_mono);
    ok = s->flush_done >= target;
    pthread_mutex_unlock(&s->mu);
    return ok;
}

void otelc__slot_stop_request(otelc__exporter_slot_t *s)
{
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

bool otelc__slot_finish(otelc__exporter_slot_t *s, uint64_t deadline_mono)
{
    if (s->thread_started && !otelc__join_until(s->thread, deadline_mono)) {
        /* A hung exporter: abandon it with its queue. Its thread may
         * finish later, and then frees the slot and the exporter. */
        pthread_t th = s->thread;
        bool exited;
        pthread_mutex_lock(&s->mu);
        exited = atomic_load(&s->exited) != 0;
        s->abandoned = !exited;
        pthread_mutex_unlock(&s->mu);
        if (exited) {
            /* It finished just at the deadline. */
            pthread_join(th, NULL);
            otelc__slot_destroy(s);
            return true;
        }
        otelc__diag(OTELC_DIAG_WARN, "exporter.hung",
                    "exporter '%s' did not finish by the shutdown deadline; abandoned", s->name);
        pthread_detach(th);
        return false;
    }
    otelc__slot_destroy(s);
    return true;
}

void otelc__slot_lock(otelc__exporter_slot_t *s)
{
    pthread_mutex_lock(&s->mu);
}

void otelc__slot_unlock(otelc__exporter_slot_t *s)
{
    pthread_mutex_unlock(&s->mu);
}

void otelc__slot_fork_child(otelc__exporter_slot_t *s)
{
    otelc__cond_init_mono(&s->cond);
    /* Batches are shared with the parent's copy: forget, do not free. */
    s->qlen = 0;
    s->qhead = 0;
    atomic_store(&s->held[0], 0);
    atomic_store(&s->held[1], 0);
    s->busy = false;
    s->flush_req = s->flush_done = 0;
    s->thread_started = false;
    pthread_mutex_unlock(&s->mu);
}
