/*
 * thread.c: per-thread state, its ring, and the registry of threads.
 *
 * A thread gets its state on its first record: one allocation for the
 * context stack and buffers, one for the ring, and one lock taken to join the
 * registry. Nothing else on the hot path allocates or locks. When the thread
 * exits, a pthread key destructor hands its ring to the pipeline as an
 * orphan, which drains what is left and frees it, so records written just
 * before a thread exits are not lost.
 */
#include "pipeline.h"
#include "registry.h"
#include "tls.h"
#include "diag.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

__thread otelc__thread_t *otelc__tls OTELC__TLS_IE;

/* The registry: live threads, rings of exited threads not drained yet,
 * and the counters of rings already freed, under one lock. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static otelc__thread_t *threads;
static otelc__orphan_t *orphans;
/* The orphans the drain in progress took: still counted by the stats, until
 * the drain gives each back or retires it (the pipeline thread changes
 * this list, under the lock). */
static otelc__orphan_t *draining;
static otelc__counts_t retired;

static pthread_key_t thread_key;
static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;

otelc__ring_t *otelc__ring_create(uint64_t capacity, uint64_t tid)
{
    otelc__ring_t *r;

    if (posix_memalign((void **)&r, 64, sizeof(*r) + capacity) != 0)
        return NULL;
    memset(r, 0, sizeof(*r));
    r->magic = OTELC__RING_MAGIC;
    r->version = OTELC__RING_VERSION;
    r->header_size = (uint32_t)sizeof(*r);
    r->capacity = capacity;
    r->pid = (uint64_t)getpid();
    r->tid = tid;
    return r;
}

void otelc__ring_destroy(otelc__ring_t *ring)
{
    free(ring);
}

void otelc__ring_counters_sum(const otelc__ring_counters_t *c, otelc__counts_t *out)
{
    for (int s = 0; s < 2; s++) {
        out->produced[s] += atomic_load_explicit(&c->produced[s], memory_order_relaxed);
        out->dropped_full[s] += atomic_load_explicit(&c->dropped_full[s], memory_order_relaxed);
        out->dropped_limit[s] += atomic_load_explicit(&c->dropped_limit[s], memory_order_relaxed);
        out->dropped_reentrant[s] +=
            atomic_load_explicit(&c->dropped_reentrant[s], memory_order_relaxed);
        out->truncated[s] += atomic_load_explicit(&c->truncated[s], memory_order_relaxed);
    }
    out->dropped_sampler += atomic_load_explicit(&c->dropped_sampler, memory_order_relaxed);
}

uint64_t otelc__seed(void)
{
    uint64_t s = 0;
    if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s)) {
        /* No entropy yet (early boot): time and address are unique enough
         * for ids, which need to be unlikely to collide, not secret. */
        s = otelc__mono_ns() ^ ((uint64_t)(uintptr_t)&s << 17) ^ (uint64_t)getpid() << 40;
    }
    return s;
}

/* Runs at thread exit: the ring becomes an orphan for the pipeline. */
static void thread_exit(void *arg)
{
    otelc__thread_t *t = arg, **pp;

    /* Scopes still open at exit are closed first: a correlation scope's
     * span ends into the ring, which must still be ours to write. */
    otelc__frames_pop_to(t, 1);
    pthread_mutex_lock(&registry_lock);
    for (pp = &threads; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    otelc__orphan_t *o = malloc(sizeof(*o));
    if (o != NULL) {
        o->ring = t->ring;
        o->next = orphans;
        orphans = o;
    } else {
        /* Cannot queue it: count what it held as lost, rather than leak
         * silently. */
        otelc__ring_counters_sum(&t->ring->counters, &retired);
        otelc__ring_destroy(t->ring);
    }
    pthread_mutex_unlock(&registry_lock);
    free(t->bag_buf);
    free(t);
    otelc__tls = NULL;
    otelc__fast_stale();
    otelc__fast_v2.cur = &otelc__no_span;
}

static void make_key(void)
{
    if (pthread_key_create(&thread_key, thread_exit) != 0)
        otelc__diag(OTELC_DIAG_ERROR, "thread.key",
                    "cannot create the thread-exit key: records of exiting threads may be lost");
}

/* Set while this thread makes its state: a signal handler that interrupts
 * that (inside malloc, say) gets no state rather than a second one. */
static __thread _Atomic int creating OTELC__TLS_IE;

static otelc__thread_t *thread_create(void);

otelc__thread_t *otelc__thread_create(void)
{
    otelc__thread_t *t;

    if (atomic_load_explicit(&creating, memory_order_relaxed))
        return NULL;
    atomic_store_explicit(&creating, 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
    t = thread_create();
    atomic_signal_fence(memory_order_seq_cst);
    atomic_store_explicit(&creating, 0, memory_order_relaxed);
    return t;
}

static otelc__thread_t *thread_create(void)
{
    otelc__thread_t *t;

    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->ring = otelc__ring_create(otelc__hot.ring_size, (uint64_t)syscall(SYS_gettid));
    if (t->ring == NULL) {
        free(t);
        otelc__diag(OTELC_DIAG_ERROR, "thread.nomem",
                    "cannot allocate a %llu-byte buffer for a thread: its records are dropped",
                    (unsigned long long)otelc__hot.ring_size);
        return NULL;
    }
    t->rng = otelc__seed() ^ (uint64_t)(uintptr_t)t;
    t->corr = NULL;
    t->bound = t->bound_buf;
    pthread_once(&thread_key_once, make_key);
    pthread_setspecific(thread_key, t);
    pthread_mutex_lock(&registry_lock);
    t->next = threads;
    threads = t;
    pthread_mutex_unlock(&registry_lock);
    otelc__tls = t;
    return t;
}

/* ---- the registry ---------------------------------------------------------- */

size_t otelc__registry_take(otelc__ring_t ***rings, size_t *cap, otelc__orphan_t **taken)
{
    otelc__thread_t *t;
    size_t k = 0;

    pthread_mutex_lock(&registry_lock);
    for (t = threads; t != NULL; t = t->next)
        k++;
    if (k > *cap) {
        otelc__ring_t **nr = realloc(*rings, (k + 16) * sizeof(*nr));
        if (nr != NULL) {
            *rings = nr;
            *cap = k + 16;
        }
    }
    k = 0;
    for (t = threads; t != NULL && k < *cap; t = t->next)
        (*rings)[k++] = t->ring;
    draining = orphans;
    orphans = NULL;
    *taken = draining;
    pthread_mutex_unlock(&registry_lock);
    return k;
}

void otelc__registry_return_orphan(otelc__orphan_t *o)
{
    pthread_mutex_lock(&registry_lock);
    draining = o->next; /* `o` is its head: orphans come back in order */
    o->next = orphans;
    orphans = o;
    pthread_mutex_unlock(&registry_lock);
}

void otelc__registry_retire_orphan(otelc__orphan_t *o)
{
    pthread_mutex_lock(&registry_lock);
    draining = o->next;
    otelc__ring_counters_sum(&o->ring->counters, &retired);
    pthread_mutex_unlock(&registry_lock);
    otelc__ring_destroy(o->ring);
    free(o);
}

void otelc__registry_counts(otelc__counts_t *out, uint64_t *n_threads)
{
    *n_threads = 0;
    pthread_mutex_lock(&registry_lock);
    *out = retired;
    for (otelc__thread_t *t = threads; t != NULL; t = t->next) {
        otelc__ring_counters_sum(&t->ring->counters, out);
        (*n_threads)++;
    }
    for (otelc__orphan_t *o = orphans; o != NULL; o = o->next)
        otelc__ring_counters_sum(&o->ring->counters, out);
    for (otelc__orphan_t *o = draining; o != NULL; o = o->next)
        otelc__ring_counters_sum(&o->ring->counters, out);
    pthread_mutex_unlock(&registry_lock);
}

/* Empties a live ring of what an earlier run (or the parent) left. */
static void ring_restart(otelc__ring_t *r)
{
    atomic_store(&r->tail, atomic_load(&r->head));
    memset(&r->counters, 0, sizeof(r->counters));
    r->reentrant_seen = r->truncated_seen = 0;
    /* Both sides start again without a trace id (record.h). */
    memset(r->trace_w, 0, sizeof(r->trace_w));
    memset(r->trace_r, 0, sizeof(r->trace_r));
}

/* No drain runs when this is called (init; fork's child, whose prepare
 * waited for the drain), so `draining` is empty. */
static void orphans_free(void)
{
    while (orphans != NULL) {
        otelc__orphan_t *o = orphans;
        orphans = o->next;
        otelc__ring_destroy(o->ring);
        free(o);
    }
}

uint64_t otelc__registry_reset(void)
{
    uint64_t smallest = UINT64_MAX;

    pthread_mutex_lock(&registry_lock);
    for (otelc__thread_t *t = threads; t != NULL; t = t->next) {
        ring_restart(t->ring);
        if (t->ring->capacity < smallest)
            smallest = t->ring->capacity;
    }
    orphans_free();
    memset(&retired, 0, sizeof(retired));
    pthread_mutex_unlock(&registry_lock);
    return smallest;
}

void otelc__registry_lock(void)
{
    pthread_mutex_lock(&registry_lock);
}

void otelc__registry_unlock(void)
{
    pthread_mutex_unlock(&registry_lock);
}

void otelc__registry_fork_child(void)
{
    otelc__thread_t *self = otelc__tls, *t = threads;

    /* The other threads do not exist in the child: their rings and state
     * are the parent's, and their records are the parent's to export. */
    threads = NULL;
    while (t != NULL) {
        otelc__thread_t *next = t->next;
        if (t == self) {
            t->next = threads;
            threads = t;
        } else {
            otelc__ring_destroy(t->ring);
            free(t->bag_buf);
            free(t);
        }
        t = next;
    }
    orphans_free();
    if (self != NULL) {
        ring_restart(self->ring);
        self->ring->pid = (uint64_t)getpid();
        /* Parent and child must not draw the same ids. */
        self->rng = otelc__seed() ^ (uint64_t)(uintptr_t)self;
    }
    memset(&retired, 0, sizeof(retired));
}

void *otelc__reserve_slow(otelc__thread_t *t, uint32_t size, uint64_t reserve, uint64_t *at)
{
    uint64_t deadline;
    void *p;

    if (size + reserve > t->ring->capacity / 2)
        return NULL; /* could never fit; the caller counts it as invalid */
    if (otelc__hot.overflow != OTELC_OVERFLOW_BLOCK)
        return NULL;
    /* Blocking was asked for: wake the pipeline and wait for room, yielding
     * the CPU, up to the configured time. */
    deadline = otelc__mono_ns() + (uint64_t)otelc__hot.block_timeout_ms * 1000000u;
    otelc__pipeline_wake();
    for (;;) {
        sched_yield();
        p = otelc__ring_reserve(t->ring, size, reserve, at);
        if (p != NULL)
            return p;
        if (!otelc__running() || otelc__mono_ns() >= deadline)
            return NULL;
        otelc__pipeline_wake();
    }
}
