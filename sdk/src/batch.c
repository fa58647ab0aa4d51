/*
 * batch.c: the batches the pipeline fills, one being built per signal, and
 * their dispatch to the exporters' queues (workers.c). A batch goes when it
 * is full, when its oldest record has waited schedule_delay (drain.c) or on
 * flush; one that no exporter can take waits, with the records behind it.
 * The last exporter done with a batch settles its records as exported or
 * dropped.
 */
#include "pipeline_int.h"

#include "diag.h"

#include <string.h>

/* Keeps the chunks for the next batch, except those made for one large
 * record: a 10 MB message must not stay allocated for the life of the
 * process. */
void otelc__arena_reset(arena_t *a)
{
    while (a->head != NULL) {
        chunk_t *c = a->head;
        a->head = c->next;
        if (c->size > CHUNK_DEFAULT) {
            free(c);
            continue;
        }
        c->next = a->spare;
        a->spare = c;
    }
}

static void arena_free(arena_t *a)
{
    otelc__arena_reset(a);
    while (a->spare != NULL) {
        chunk_t *c = a->spare;
        a->spare = c->next;
        free(c);
    }
}

/* The pipeline could not allocate what a record needs: the record is lost,
 * counted and reported (rate-limited) as such, not as invalid. */
void otelc__drop_nomem(int sig)
{
    count_drop(sig, OTELC_DROP_NOMEM, 1);
    otelc__diag(OTELC_DIAG_ERROR, "pipeline.nomem",
                "out of memory: a %s was dropped (reason nomem)", sig == 0 ? "span" : "log record");
}

static batch_t *batch_get(int sig)
{
    batch_t *b;
    size_t cap = P.bopt[sig].max_export_batch_size;
    size_t item = sig == 0 ? sizeof(otelc_span_data_t) : sizeof(otelc_log_data_t);

    pthread_mutex_lock(&P.pool_mu);
    for (batch_t **pp = &P.pool; (b = *pp) != NULL; pp = &b->next) {
        if (b->sig == sig && b->cap >= cap) {
            *pp = b->next;
            break;
        }
    }
    pthread_mutex_unlock(&P.pool_mu);
    if (b == NULL) {
        b = calloc(1, sizeof(*b));
        if (b == NULL)
            return NULL;
        b->items = malloc(cap * item);
        if (b->items == NULL) {
            free(b);
            return NULL;
        }
        b->cap = cap;
        b->sig = sig;
    }
    b->pub.signal = sig == 0 ? OTELC_SIGNAL_TRACES : OTELC_SIGNAL_LOGS;
    b->pub.resource = &P.resource.pub;
    b->pub.spans = sig == 0 ? b->items : NULL;
    b->pub.logs = sig == 1 ? b->items : NULL;
    b->pub.n = 0;
    b->opened_mono = 0;
    atomic_store(&b->undelivered, 0);
    return b;
}

void otelc__batch_put(batch_t *b)
{
    otelc__arena_reset(&b->arena);
    pthread_mutex_lock(&P.pool_mu);
    b->next = P.pool;
    P.pool = b;
    pthread_mutex_unlock(&P.pool_mu);
}

void otelc__batch_destroy(batch_t *b)
{
    arena_free(&b->arena);
    free(b->items);
    free(b);
}

/*
 * One exporter is done with a batch, having delivered `accepted` of its
 * records (0: it failed or never had it), of the others `rejected` refused
 * by the backend; the last one settles them. A record counts as exported
 * when every exporter of its signal delivered it, so the batch is settled
 * by the exporter that delivered the fewest: what it missed is dropped,
 * as "rejected" for what its backend refused and "exporter" for the rest.
 */
void otelc__batch_done(batch_t *b, size_t accepted, size_t rejected)
{
    uint64_t missed = accepted < b->pub.n ? b->pub.n - accepted : 0;
    uint64_t mine = missed << 32 | (rejected < missed ? rejected : missed);
    uint64_t seen = atomic_load(&b->undelivered);

    while (mine > seen && !atomic_compare_exchange_weak(&b->undelivered, &seen, mine)) {
    }
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
        return;
    /* `frozen` is read before `run`: otelc__pipeline_reset_stats() bumps
     * `run` before it clears `frozen`, so a batch of a finished run is seen
     * either as frozen or as of another run, never as current. */
    if (atomic_load(&P.frozen) || b->run != atomic_load(&P.run)) {
        otelc__batch_put(b);
        return;
    }
    seen = atomic_load(&b->undelivered);
    missed = seen >> 32;
    if (missed > 0) {
        uint64_t refused = seen & 0xffffffffu;
        if (refused > 0)
            count_drop(b->sig, OTELC_DROP_REJECTED, refused);
        if (missed > refused)
            count_drop(b->sig, OTELC_DROP_EXPORTER, missed - refused);
        atomic_fetch_add(&P.batches_failed, 1);
    } else {
        atomic_fetch_add(&P.batches_ok, 1);
    }
    atomic_fetch_add_explicit(&P.exported[b->sig], b->pub.n - missed, memory_order_relaxed);
    atomic_fetch_sub_explicit(&P.in_flight[b->sig], b->pub.n, memory_order_relaxed);
    otelc__batch_put(b);
    /* The pipeline waits for room in the export queue: tell it. */
    if (atomic_load_explicit(&P.throttled, memory_order_relaxed))
        otelc__pipeline_wake();
}

unsigned otelc__slots_for(int sig)
{
    unsigned k = 0, bit = sig == 0 ? OTELC_SIGNAL_TRACES : OTELC_SIGNAL_LOGS;
    for (unsigned i = 0; i < P.n_slots; i++)
        k += (P.slots[i]->signals & bit) != 0;
    return k;
}

/* How long an exporter may be behind (its queue full while another takes
 * the batches) before it loses batches rather than holds them back. */
#define BEHIND_GRACE_NS (100u * 1000000u)

/*
 * True when the batch of `n` records of `sig` must wait: no exporter of the
 * signal can take it now, or one that cannot fell behind less than the
 * grace ago while the rings have room (no ring half full in this drain).
 * An exporter behind for longer is slow or dead, and the others must not
 * wait for it. One pass over the exporters, which also notes when each
 * fell behind or caught up.
 */
static bool batch_must_wait(int sig, uint64_t n)
{
    unsigned bit = sig == 0 ? OTELC_SIGNAL_TRACES : OTELC_SIGNAL_LOGS;
    uint64_t now = 0;
    bool anyone = false, hold = false;

    for (unsigned i = 0; i < P.n_slots; i++) {
        otelc__exporter_slot_t *s = P.slots[i];
        if ((s->signals & bit) == 0)
            continue;
        if (otelc__slot_takes(s, sig, n)) {
            s->behind_since[sig] = 0;
            anyone = true;
            continue;
        }
        if (now == 0)
            now = otelc__mono_ns();
        if (s->behind_since[sig] == 0)
            s->behind_since[sig] = now;
        if (now - s->behind_since[sig] < BEHIND_GRACE_NS && !P.rings_short)
            hold = true;
    }
    return !anyone || hold;
}

/*
 * Sends the batch being built to the exporters. When none of them can take
 * it (all hold their queue's worth), the batch stays here and false is
 * returned: the records wait, in the batch and then in the rings, rather
 * than being dropped. When some can, the batch waits too for an exporter
 * that fell behind a moment ago (a thread not scheduled for a few
 * milliseconds: BEHIND_GRACE_NS) while the rings have room; an exporter
 * behind for longer, or when the rings fill, loses the batch (reason
 * exporter) and the others carry on.
 */
bool otelc__dispatch(int sig)
{
    batch_t *b = P.building[sig];
    unsigned bit = sig == 0 ? OTELC_SIGNAL_TRACES : OTELC_SIGNAL_LOGS, k;

    if (b == NULL || b->pub.n == 0)
        return true;
    k = otelc__slots_for(sig);
    if (k > 0 && batch_must_wait(sig, b->pub.n))
        return false;
    P.building[sig] = NULL;
    /* The run whose counters it settles (a batch being built survives a
     * fork; its records are then the child's). */
    b->run = atomic_load(&P.run);
    k = otelc__slots_for(sig);
    if (k == 0) {
        /* Nobody takes the signal (cannot happen while the producers check
         * it, but stay exact). */
        atomic_store(&b->refs, 1);
        otelc__batch_done(b, 0, 0);
        return true;
    }
    atomic_store(&b->refs, (int)k);
    for (unsigned i = 0; i < P.n_slots; i++) {
        otelc__exporter_slot_t *s = P.slots[i];
        if ((s->signals & bit) == 0)
            continue;
        if (!otelc__slot_enqueue(s, b)) {
            /* This exporter holds a full queue (slow or dead): the batch
             * is dropped for it alone; the others carry on. */
            otelc__diag(OTELC_DIAG_WARN, "exporter.queue_full",
                        "exporter '%s' is not keeping up: a batch of %zu %s was dropped for it",
                        s->name, b->pub.n, sig == 0 ? "spans" : "log records");
            otelc__batch_done(b, 0, 0);
        }
    }
    return true;
}

batch_t *otelc__batch_open(int sig)
{
    batch_t *b = P.building[sig] = batch_get(sig);

    if (b == NULL) {
        otelc__drop_nomem(sig);
        return NULL;
    }
    atomic_fetch_add_explicit(&P.in_flight[sig], 1, memory_order_relaxed);
    return b;
}
