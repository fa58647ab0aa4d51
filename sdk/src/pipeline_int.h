/*
 * pipeline_int.h: the pipeline thread's state and what its files share.
 *
 * The pipeline is four files of one concern each: drain.c (the thread: it
 * reads the rings and joins span records), assemble.c (records into the
 * exporters' data, masking), batch.c (batches and their dispatch to the
 * exporters' queues) and pipeline.c (start, stop, statistics, fork). Their
 * state is one struct, `P`, written by the pipeline thread, except where a
 * field says otherwise; it is not part of any interface outside them.
 */
#ifndef OTELC_PIPELINE_INT_H
#define OTELC_PIPELINE_INT_H

#include "pipeline.h"
#include "registry.h"
#include "resource.h"
#include "shape.h"
#include "spantable.h"
#include "workers.h"

#include <stdlib.h>

/*
 * Span records that came before their start. A span may end (or get
 * attributes, events, a status) on another thread than the one that started
 * it: those records sit in another ring, and a drain may read that ring
 * before the one that holds the start. They wait here, in order, and are
 * applied as soon as the start is read. The start was committed before them
 * (the handle that names the span came from it), so two complete drains
 * find it unless it was dropped, which was counted then: records still
 * waiting after DEFER_DRAINS complete drains are discarded.
 */
typedef struct deferred {
    struct deferred *next;
    uint64_t key;
    uint32_t drains;
    alignas(8) unsigned char data[]; /* copy of a SPAN_END/ATTRS/EVENT/LINK/STATUS record */
} deferred_t;

#define DEFER_DRAINS 3
#define MAX_DEFERRED 65536u

/* Spans the stack holds: few enough that a look through it is cheaper
 * than the table (see drain.c). */
#define OPEN_STACK 16

/* ---- the pipeline's state ---------------------------------------------------------- */

typedef struct otelc__pipeline {
    pthread_t thread;
    _Atomic bool started;
    pthread_mutex_t mu; /* stop/flush requests, the wake and done conditions */
    pthread_cond_t wake;
    pthread_cond_t done;
    bool stop;
    bool wake_pending;
    uint64_t flush_req, flush_ack;
    pthread_mutex_t work; /* held while the pipeline works (fork waits for it) */

    otelc_batch_options_t bopt[2];
    otelc_limits_t limits[2];
    otelc__resource_t resource;
    otelc__exporter_slot_t *slots[OTELC__MAX_EXPORTERS];
    unsigned n_slots;

    batch_t *building[2];
    pthread_mutex_t pool_mu;
    batch_t *pool;
    _Atomic uint64_t in_flight[2];
    span_table_t open;
    /* Spans started in the ring being drained, innermost last. Most end in
     * the same drain, innermost first, and are paired here, without the
     * table; those still open when the ring is done go to the table. */
    open_span_t *stack[OPEN_STACK];
    size_t n_stack;
    /* Spans whose start points into the ring being drained, in the table
     * (the stack was full when they started). */
    open_span_t **borrowed;
    size_t n_borrowed, borrowed_cap;
    otelc__ring_t **snapshot;
    size_t snapshot_cap;
    deferred_t *deferred, *deferred_last; /* in the order they were read */
    size_t n_deferred;
    otelc__ring_t *ring;        /* the ring being drained (its trace_r) */
    const otelc__rec_t **large; /* blocks taken in the drain of one ring */
    size_t n_large, large_cap;

    _Atomic uint64_t exported[2];
    _Atomic uint64_t dropped[2][OTELC_DROP_REASONS];
    _Atomic uint64_t batches_ok, batches_failed;
    _Atomic uint64_t cpu_ns; /* the pipeline thread's CPU time, at its last drain */
    _Atomic int frozen;
    /* Counts runs (init to shutdown): a batch that an abandoned exporter
     * returns late belongs to an earlier run and must not touch this one's
     * counters. */
    _Atomic uint64_t run;
    _Atomic int throttled;  /* a drain stopped at the queue bound */
    bool blocked;           /* a full batch could not be dispatched: stop draining */
    bool filling;           /* this drain found a ring a quarter full */
    bool rings_short;       /* this drain found a ring half full */
    uint64_t stop_deadline; /* monotonic ns; the pipeline gives up draining then */
    char **masks;           /* lower-cased mask keys */
    uint64_t mask_len_bits; /* bit n set: some mask key is n bytes long (n < 64) */
    uint64_t mask_sig_bits; /* bit mask_sig(key) set for every mask key */
    size_t *mask_lens;
    size_t n_masks;
} otelc__pipeline_t;

/* The one pipeline of the process (pipeline.c). */
extern otelc__pipeline_t otelc__pipe;
#define P otelc__pipe

/* ---- arena (batch.c) ------------------------------------------------------------------ */

#define CHUNK_DEFAULT (64 * 1024)

static inline void *arena_alloc(arena_t *a, size_t n)
{
    chunk_t *c = a->head;
    size_t at;

    n = (n + 15u) & ~(size_t)15u;
    if (c == NULL || c->size - c->used < n) {
        if (a->spare != NULL && a->spare->size >= n) {
            c = a->spare;
            a->spare = c->next;
        } else {
            size_t size = n > CHUNK_DEFAULT ? n : CHUNK_DEFAULT;
            c = malloc(sizeof(*c) + size);
            if (c == NULL)
                return NULL;
            c->size = size;
        }
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    at = c->used;
    c->used += n;
    return c->data + at;
}

static inline char *arena_str(arena_t *a, const void *s, size_t len)
{
    char *d = arena_alloc(a, len + 1);
    if (d != NULL) {
        otelc__copy(d, s, len);
        d[len] = 0;
    }
    return d;
}

/* Keeps the chunks for the next batch (see batch.c). */
void otelc__arena_reset(arena_t *a);

/* ---- batches (batch.c) ---------------------------------------------------------------- */

static inline void count_drop(int sig, otelc_drop_reason_t reason, uint64_t n)
{
    atomic_fetch_add_explicit(&P.dropped[sig][reason], n, memory_order_relaxed);
}

/* A record lost for want of memory: counted, reported (rate-limited). */
void otelc__drop_nomem(int sig);
/* A new batch for `sig`, as otelc__room_for() (the first record's). */
batch_t *otelc__batch_open(int sig);
/* Sends the batch being built to the exporters; false when none can take
 * it now (it stays, and so do the records behind it). */
bool otelc__dispatch(int sig);

/* The batch being built for `sig`, counted in flight for one more record;
 * NULL (the record counted as dropped) without memory. Inline: once per
 * record. */
static inline batch_t *otelc__room_for(int sig)
{
    batch_t *b = P.building[sig];

    if (OTELC_UNLIKELY(b == NULL))
        return otelc__batch_open(sig);
    atomic_fetch_add_explicit(&P.in_flight[sig], 1, memory_order_relaxed);
    return b;
}

/* After a record went into a batch: the batch goes when it is full. */
static inline void otelc__dispatch_if_full(int sig)
{
    batch_t *b = P.building[sig];
    if (b != NULL && b->pub.n >= b->cap && !otelc__dispatch(sig))
        P.blocked = true; /* full and nowhere to go: stop draining */
}
/* Exporters that take `sig`. */
unsigned otelc__slots_for(int sig);
void otelc__batch_put(batch_t *b);
void otelc__batch_destroy(batch_t *b);

/* The trace id of a small record (record.h): its own, which becomes its
 * ring's, or the one its ring's previous small record carried; NULL when
 * there is none (a malformed ring). Valid until the next small record. */
static inline const uint8_t *otelc__small_trace(const otelc__rec_t *h,
                                                const otelc__small_parts_t *sp)
{
    uint64_t *tr;

    if (OTELC_UNLIKELY(P.ring == NULL))
        return NULL;
    tr = P.ring->trace_r;
    if (sp->trace)
        memcpy(tr, (const unsigned char *)h + sp->trace, 16);
    else if ((tr[0] | tr[1]) == 0)
        return NULL;
    return (const uint8_t *)tr;
}

/* ---- assembling (assemble.c) ---------------------------------------------------------- */

/* A record whose lengths do not fit in it, or a small record whose shape
 * does not fit it: never read, counted when it is a record that counts (a
 * log or a span's start), reported (drain.c). */
void otelc__reject(const otelc__rec_t *h);
/* A log record into the logs' batch: a LOG, or a LOG_SITE (rejected when
 * its parts or its shape do not fit it). */
void otelc__assemble_log(const otelc__rec_log_t *r);
void otelc__assemble_log_site(const otelc__rec_log_site_t *r);
/* A span that ended into the spans' batch, from its start and its ops. */
void otelc__assemble_span(open_span_t *os, const otelc__rec_span_end_t *end);
/* The mask keys from a comma list (NULL: the defaults), lower-cased. */
otelc_status_t otelc__masks_build(const char *csv);
void otelc__masks_free(void);

/* ---- draining (drain.c) --------------------------------------------------------------- */

void *otelc__pipeline_main(void *arg);
/* Frees the records that wait for their span's start. */
void otelc__deferred_clear(void);

#endif /* OTELC_PIPELINE_INT_H */
