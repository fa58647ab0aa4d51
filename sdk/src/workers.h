/*
 * workers.h: the exporters' workers. Each exporter has a thread of its own
 * and a bounded queue of the pipeline's batches (a "slot"), so that one slow
 * or dead backend delays nobody else; the worker calls export_batch(), with
 * the exporter's own batching when it asked for one, and settles each batch
 * with what was delivered. Internal to the pipeline.
 */
#ifndef OTELC_WORKERS_H
#define OTELC_WORKERS_H

#include "pipeline.h"

#include <otelc/exporter.h>
#include <otelc/settings.h>

#include <pthread.h>
#include <stdalign.h>

/* ---- batches (assembled by assemble.c, settled by batch.c) --------------------------------- */

typedef struct chunk {
    struct chunk *next;
    size_t size, used;
    alignas(16) unsigned char data[];
} chunk_t;

typedef struct arena {
    chunk_t *head; /* current chunk first */
    chunk_t *spare;
} arena_t;

typedef struct batch {
    otelc_batch_t pub;
    int sig; /* 0 spans, 1 logs */
    _Atomic int refs;
    /* The most records any exporter of the batch did not deliver: a record
     * counts as exported when every exporter delivered it, and exporters
     * say how many, not which, so the batch settles on the fewest. */
    /* The worst exporter's outcome so far: records it did not deliver in
     * the high half, of which it said the backend rejected (no retry would
     * deliver them) in the low half. A batch holds fewer than 2^32 records
     * (OTELC__MAX_QUEUE_SIZE). */
    _Atomic uint64_t undelivered;
    void *items;
    size_t cap;
    arena_t arena;
    uint64_t opened_mono;
    uint64_t run; /* P.run when it was dispatched */
    struct batch *next;
} batch_t;

/* An exporter is done with batch `b`, having delivered `accepted` of its
 * records, of the others `rejected` refused by the backend (batch.c). */
void otelc__batch_done(batch_t *b, size_t accepted, size_t rejected);

/* ---- slots ------------------------------------------------------------------------------------
 */

struct otelc__exporter_slot {
    otelc_exporter_t *exp;
    const char *name;
    unsigned signals;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    batch_t **queue;
    unsigned qcap, qhead, qlen;
    uint64_t flush_req, flush_done;
    bool stop, busy;
    bool abandoned; /* shutdown gave up on it: its worker frees it (under mu) */
    /* Records of each signal queued for it or being exported by it: each
     * exporter holds at most max_queue_size of a signal. */
    _Atomic uint64_t held[2];
    /* The pipeline's: when it first found the queue of a signal full while
     * another exporter could take the batch (0: not behind). */
    uint64_t behind_since[2];
    _Atomic int exited;
    otelc_batch_options_t bopt[2]; /* the signals' batch settings */
    uint32_t timeout_ms[2];
    uint32_t flush_timeout_ms;
    /* The exporter's own batching (otelc_exporter_batching_t), when it asked
     * for one: calls of at most own_max records, joined from the batches
     * queued for it until the oldest has waited own_delay_ns. */
    bool own;
    uint32_t own_max;
    uint64_t own_delay_ns;
    batch_t **taken;     /* the batches of one join (qcap of them) */
    size_t (*tally)[2];  /* per taken batch: records delivered, rejected */
    unsigned char *join; /* their records side by side */
    size_t join_cap;     /* in records */
};

/* A slot for exporter `e` (NULL: out of memory), with the signals' batch
 * settings; its thread is started by otelc__slot_start(). */
otelc__exporter_slot_t *otelc__slot_create(otelc_exporter_t *e, unsigned signals,
                                           const otelc_batch_options_t bopt[2]);
/* The exporter's own batching (a slot of signal `sig`), when it differs
 * from the signal's. */
void otelc__slot_own_batching(otelc__exporter_slot_t *s, int sig,
                              const otelc_exporter_batching_t *own);
/* Settles what is queued as not delivered, destroys the exporter, frees. */
void otelc__slot_destroy(otelc__exporter_slot_t *s);
/* Starts the slot's worker thread; false when it could not be. */
bool otelc__slot_start(otelc__exporter_slot_t *s);

/* True when the slot may take `n` more records of `sig` (lock-free read). */
bool otelc__slot_takes(otelc__exporter_slot_t *s, int sig, uint64_t n);
/* Queues `b` for the slot; false when it is full or stopping. */
bool otelc__slot_enqueue(otelc__exporter_slot_t *s, batch_t *b);

/* Asks the worker to force_flush() once the batches queued before are out. */
void otelc__slot_flush_request(otelc__exporter_slot_t *s);
/* Waits until the flushes asked for so far are done; false at the deadline. */
bool otelc__slot_await_flush(otelc__exporter_slot_t *s, uint64_t deadline_mono);

/* Tells the worker to stop after what is queued. */
void otelc__slot_stop_request(otelc__exporter_slot_t *s);
/* Waits for the worker by the deadline and frees the slot; a worker still
 * exporting then is abandoned (it frees the slot when it is done) and
 * false returned. */
bool otelc__slot_finish(otelc__exporter_slot_t *s, uint64_t deadline_mono);

/* fork(): the slot's lock across it, and the child's fresh start (its
 * queue forgotten, the lock released, the thread to be started again). */
void otelc__slot_lock(otelc__exporter_slot_t *s);
void otelc__slot_unlock(otelc__exporter_slot_t *s);
void otelc__slot_fork_child(otelc__exporter_slot_t *s);

/* ---- threads and waits -------------------------------------------------------------------- */

/* A condition variable whose timed waits measure CLOCK_MONOTONIC. */
void otelc__cond_init_mono(pthread_cond_t *c);
/* Waits on `cond` until `deadline_mono`; false when it passed. */
bool otelc__wait_until(pthread_cond_t *cond, pthread_mutex_t *mu, uint64_t deadline_mono);
/* pthread_create() with every signal blocked in the new thread. */
int otelc__start_thread(pthread_t *th, void *(*fn)(void *), void *arg);
/* pthread_join() by a monotonic deadline; false when it passed. */
bool otelc__join_until(pthread_t th, uint64_t deadline_mono);

#endif /* OTELC_WORKERS_H */
