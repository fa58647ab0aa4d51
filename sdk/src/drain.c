/*
 * drain.c: the pipeline thread. It sleeps between drains (a thread
 * spinning on the second core of a small machine slows the producers down),
 * waking every millisecond while records flow and backing off to 50 ms when
 * idle. Each drain reads every thread's ring up to its head, joins span
 * records by span id, hands finished spans and log records to assemble.c,
 * and releases the ring's space; batches go out from batch.c.
 *
 * The join: a span's start is pushed on a small stack while its ring is
 * drained, and most spans end in the same drain, innermost first, so an end
 * is usually the top of the stack. Spans still open when the ring is done,
 * and those started while the stack was full, are kept in the table of open
 * spans (spantable.c), where the ends read in later drains or from other
 * threads' rings find them.
 */
#include "large.h"
#include "pipeline_int.h"

#include "diag.h"

#include <string.h>

static void process(const otelc__rec_t *h, bool may_defer);

/* Points an open span at its start record in the ring being drained. */
static bool borrow(open_span_t *s, const otelc__rec_t *h)
{
    if (P.n_borrowed == P.borrowed_cap) {
        size_t ncap = P.borrowed_cap ? P.borrowed_cap * 2 : 256;
        open_span_t **nb = realloc(P.borrowed, ncap * sizeof(*nb));
        if (nb == NULL)
            return false;
        P.borrowed = nb;
        P.borrowed_cap = ncap;
    }
    s->start = (const unsigned char *)h;
    s->borrowed = true;
    s->borrow_idx = (uint32_t)P.n_borrowed;
    P.borrowed[P.n_borrowed++] = s;
    return true;
}

/* A borrowed span ended within its drain: off the list (swap with the
 * last) and back to the pool at once, so a long drain reuses headers. */
static void unborrow_free(open_span_t *s)
{
    open_span_t *last = P.borrowed[--P.n_borrowed];
    P.borrowed[s->borrow_idx] = last;
    last->borrow_idx = s->borrow_idx;
    s->borrowed = false;
    otelc__open_span_free(s);
}

/* Gives an open span its own copy of its start record, which points into
 * the ring being drained or a large block; false without memory. */
static bool own_start(open_span_t *s)
{
    if (s->size <= OPEN_INLINE) {
        memcpy(s->own, s->start, s->size);
        s->start = s->own;
    } else if ((s->heap = malloc(s->size)) != NULL) {
        memcpy(s->heap, s->start, s->size);
        s->start = s->heap;
    } else {
        return false;
    }
    return true;
}

/* Before a ring's space is released: spans still open on the stack go to
 * the table, those in the table get their own copy of the start record,
 * spans that ended go back to the pool. A span that cannot be kept is
 * lost, and counted now rather than left pointing into released space. */
static void settle_drained(void)
{
    for (size_t i = 0; i < P.n_stack; i++) {
        open_span_t *s = P.stack[i];
        if (!own_start(s) || !otelc__table_insert(&P.open, s)) {
            otelc__drop_nomem(0);
            otelc__open_span_free(s);
        }
    }
    P.n_stack = 0;
    for (size_t i = 0; i < P.n_borrowed; i++) {
        open_span_t *s = P.borrowed[i];
        s->borrowed = false;
        if (s->dead) {
            otelc__open_span_free(s);
        } else if (!own_start(s)) {
            open_span_t **slot = otelc__table_find(&P.open, s->key);
            if (slot != NULL)
                otelc__table_remove(&P.open, slot);
            otelc__drop_nomem(0);
            otelc__open_span_free(s);
        }
    }
    P.n_borrowed = 0;
}

/* The open span `key`: first on the stack, innermost first (*at its
 * place), else in the table (*at SIZE_MAX, *slot its slot). NULL when its
 * start was not read (yet). */
static inline open_span_t *open_find(uint64_t key, size_t *at, open_span_t ***slot)
{
    for (size_t i = P.n_stack; i-- > 0;) {
        if (P.stack[i]->key == key) {
            *at = i;
            return P.stack[i];
        }
    }
    *at = SIZE_MAX;
    *slot = otelc__table_find(&P.open, key);
    return *slot != NULL ? **slot : NULL;
}

/* Takes the span found by open_find() out of the open spans. */
static inline void open_remove(size_t at, open_span_t **slot)
{
    if (at == SIZE_MAX) {
        otelc__table_remove(&P.open, slot);
    } else {
        P.n_stack--;
        if (OTELC_UNLIKELY(at != P.n_stack)) /* ended out of order */
            memmove(&P.stack[at], &P.stack[at + 1], (P.n_stack - at) * sizeof(P.stack[0]));
    }
}

static void defer_record(const otelc__rec_t *h, uint64_t key)
{
    deferred_t *d;

    if (P.n_deferred >= MAX_DEFERRED || (d = malloc(sizeof(*d) + h->size)) == NULL)
        return; /* its span stays open and is counted at shutdown */
    d->next = NULL;
    d->key = key;
    d->drains = 0;
    memcpy(d->data, h, h->size);
    if (P.deferred_last != NULL)
        P.deferred_last->next = d;
    else
        P.deferred = d;
    P.deferred_last = d;
    P.n_deferred++;
}

/* Removes the deferred records for `key` from the list and applies them, in
 * the order they were read, right after their span's start. */
static void apply_deferred(uint64_t key)
{
    deferred_t **pp = &P.deferred, *d, *last = NULL;

    while ((d = *pp) != NULL) {
        if (d->key != key) {
            last = d;
            pp = &d->next;
            continue;
        }
        *pp = d->next;
        P.n_deferred--;
        process((const otelc__rec_t *)(const void *)d->data, false);
        free(d);
    }
    P.deferred_last = last;
}

/* After a complete drain: ages the records still waiting, discarding those
 * whose start is not coming. */
static void age_deferred(void)
{
    deferred_t **pp = &P.deferred, *d, *last = NULL;

    while ((d = *pp) != NULL) {
        if (++d->drains < DEFER_DRAINS) {
            last = d;
            pp = &d->next;
            continue;
        }
        *pp = d->next;
        P.n_deferred--;
        free(d);
    }
    P.deferred_last = last;
}

void otelc__deferred_clear(void)
{
    while (P.deferred != NULL) {
        deferred_t *d = P.deferred;
        P.deferred = d->next;
        free(d);
    }
    P.deferred_last = NULL;
    P.n_deferred = 0;
}

/* A record whose lengths do not fit in it: never read, counted when it is
 * a record that counts (a log or a span's start). */
void otelc__reject(const otelc__rec_t *h)
{
    const char *what = "a span operation";

    if (h->type == OTELC__REC_LOG || h->type == OTELC__REC_LOG_SITE) {
        count_drop(1, OTELC_DROP_INVALID, 1);
        what = "a log record";
    } else if (h->type == OTELC__REC_SPAN_START || h->type == OTELC__REC_SPAN_BEGIN) {
        count_drop(0, OTELC_DROP_INVALID, 1);
        what = "a span";
    } else if (h->type == OTELC__REC_SPAN_END) {
        what = "a span end";
    }
    otelc__diag(OTELC_DIAG_ERROR, "ring.malformed",
                "a thread's buffer holds a malformed record (type %u, %u bytes): %s was "
                "dropped (reason invalid)",
                (unsigned)h->type, (unsigned)h->size, what);
}

/* A LARGE record: the record it names is processed where it is; its block
 * is released after the drain (a span's start may point into it until then). */
static void process_large(const otelc__rec_t *h, bool may_defer)
{
    const otelc__rec_large_t *r = (const otelc__rec_large_t *)(const void *)h;
    const otelc__rec_t *inner = otelc__large_take(r->id);

    if (inner == NULL || inner->size != r->size || inner->type != r->inner ||
        inner->type == OTELC__REC_LARGE || inner->type == OTELC__REC_PAD) {
        /* Counted as what it names would be. */
        otelc__rec_t fake = { 0, r->inner, 0 };
        otelc__reject(&fake);
        if (inner != NULL)
            otelc__large_release(inner);
        return;
    }
    if (P.n_large == P.large_cap) {
        size_t ncap = P.large_cap ? P.large_cap * 2 : 16;
        const otelc__rec_t **nl = realloc(P.large, ncap * sizeof(*nl));
        if (nl == NULL) {
            otelc__rec_t fake = { 0, r->inner, 0 };
            otelc__reject(&fake);
            otelc__large_release(inner);
            return;
        }
        P.large = nl;
        P.large_cap = ncap;
    }
    P.large[P.n_large++] = inner;
    process(inner, may_defer);
}

static void large_release_all(void)
{
    for (size_t i = 0; i < P.n_large; i++)
        otelc__large_release(P.large[i]);
    P.n_large = 0;
}

/* A span's start, SPAN_START or SPAN_BEGIN (`sh` and `sp` its shape and
 * parts), becomes an open span: on the stack, or in the table when the
 * stack is full. */
static void open_start(const otelc__rec_t *h, uint64_t key, otelc__shape_t *sh,
                       const otelc__small_parts_t *sp, const uint8_t trace[16])
{
    open_span_t *s;

    if (P.open.n + P.n_stack >= MAX_OPEN_SPANS) {
        count_drop(0, OTELC_DROP_LIMIT, 1);
        otelc__diag(OTELC_DIAG_WARN, "spans.open",
                    "too many spans open at once (%zu): a span was dropped (reason limit)",
                    P.open.n + P.n_stack);
        return;
    }
    if ((s = otelc__open_span_get()) == NULL) {
        otelc__drop_nomem(0);
        return;
    }
    s->key = key;
    s->size = h->size;
    s->shape = sh;
    memcpy(s->trace, trace, 16);
    if (sp != NULL)
        s->parts = *sp;
    if (OTELC_LIKELY(P.n_stack < OPEN_STACK)) {
        s->start = (const unsigned char *)h;
        P.stack[P.n_stack++] = s;
    } else if (!borrow(s, h)) {
        otelc__open_span_free(s);
        otelc__drop_nomem(0);
        return;
    } else if (!otelc__table_insert(&P.open, s)) {
        s->dead = true; /* released with the drain's borrowed spans */
        otelc__drop_nomem(0);
        return;
    }
    if (OTELC_UNLIKELY(P.deferred != NULL))
        apply_deferred(s->key);
}

static void process(const otelc__rec_t *h, bool may_defer)
{
    if (OTELC_UNLIKELY(!otelc__rec_check(h))) {
        otelc__reject(h);
        return;
    }
    switch (h->type) {
    case OTELC__REC_LARGE:
        process_large(h, may_defer);
        break;
    case OTELC__REC_LOG:
        otelc__assemble_log((const otelc__rec_log_t *)(const void *)h);
        otelc__dispatch_if_full(1);
        break;
    case OTELC__REC_SPAN_START: {
        const otelc__rec_span_start_t *r = (const otelc__rec_span_start_t *)(const void *)h;
        uint64_t key;
        memcpy(&key, r->span_id, 8);
        open_start(h, key, NULL, NULL, r->trace_id);
        break;
    }
    case OTELC__REC_SPAN_BEGIN: {
        const otelc__rec_span_begin_t *r = (const otelc__rec_span_begin_t *)(const void *)h;
        otelc__small_parts_t sp;
        otelc__shape_t *sh;
        const uint8_t *trace;
        uint64_t key;
        if (!otelc__small_parts(h, sizeof(*r), 0, &sp) ||
            (trace = otelc__small_trace(h, &sp)) == NULL ||
            (sh = otelc__shape_fit(r->shape, h->size - sp.values)) == NULL) {
            otelc__reject(h);
            break;
        }
        memcpy(&key, r->span_id, 8);
        open_start(h, key, sh, &sp, trace);
        break;
    }
    case OTELC__REC_LOG_SITE:
        otelc__assemble_log_site((const otelc__rec_log_site_t *)(const void *)h);
        otelc__dispatch_if_full(1);
        break;
    case OTELC__REC_SPAN_END: {
        const otelc__rec_span_end_t *r = (const otelc__rec_span_end_t *)(const void *)h;
        uint64_t key;
        open_span_t **slot = NULL, *s;
        size_t at;
        memcpy(&key, r->span_id, 8);
        if ((s = open_find(key, &at, &slot)) == NULL) {
            /* Its start is in a ring not read yet, or was dropped (and
             * counted). */
            if (may_defer)
                defer_record(h, key);
            break;
        }
        open_remove(at, slot);
        otelc__assemble_span(s, r);
        if (s->borrowed)
            unborrow_free(s);
        else
            otelc__open_span_free(s);
        otelc__dispatch_if_full(0);
        break;
    }
    case OTELC__REC_SPAN_ATTRS:
    case OTELC__REC_SPAN_EVENT:
    case OTELC__REC_SPAN_LINK:
    case OTELC__REC_SPAN_STATUS: {
        const otelc__rec_span_op_t *r = (const otelc__rec_span_op_t *)(const void *)h;
        uint64_t key;
        open_span_t **slot = NULL, *s;
        size_t at;
        op_rec_t *o;
        memcpy(&key, r->span_id, 8);
        if ((s = open_find(key, &at, &slot)) == NULL) {
            if (may_defer)
                defer_record(h, key);
            break;
        }
        if (s->n_ops >= 4096 || (o = malloc(sizeof(*o) + h->size)) == NULL)
            break;
        memcpy(o->data, h, h->size);
        o->next = NULL;
        *s->ops_tail = o;
        s->ops_tail = &o->next;
        s->n_ops++;
        break;
    }
    default:
        break;
    }
}

/* Reports records that signal handlers could not write (the handler itself
 * must not print: it may have interrupted a thread holding stdio's lock),
 * and records shortened to fit. */
static void report_ring_counters(otelc__ring_t *ring)
{
    uint64_t n = atomic_load_explicit(&ring->counters.dropped_reentrant[0], memory_order_relaxed) +
                 atomic_load_explicit(&ring->counters.dropped_reentrant[1], memory_order_relaxed);

    uint64_t cut = atomic_load_explicit(&ring->counters.truncated[0], memory_order_relaxed) +
                   atomic_load_explicit(&ring->counters.truncated[1], memory_order_relaxed);

    if (OTELC_UNLIKELY(n != ring->reentrant_seen)) {
        otelc__diag(OTELC_DIAG_WARN, "signal.reentrant",
                    "%llu records were written from a signal handler while their thread was "
                    "inside otelc, and dropped (reason reentrant; see \"Signal handlers\" in "
                    "otelc.h)",
                    (unsigned long long)(n - ring->reentrant_seen));
        ring->reentrant_seen = n;
    }
    if (OTELC_UNLIKELY(cut != ring->truncated_seen)) {
        otelc__diag(OTELC_DIAG_WARN, "record.truncated",
                    "%llu records were larger than %u MiB (or than the %u MiB that large "
                    "records may hold at once) and were shortened to fit a quarter of the "
                    "thread's buffer (%llu bytes): values cut, attributes that did not fit "
                    "left out and counted as dropped (OTELC_RING_SIZE raises the buffer)",
                    (unsigned long long)(cut - ring->truncated_seen), OTELC__LARGE_RECORD_MAX >> 20,
                    OTELC__LARGE_TOTAL_MAX >> 20, (unsigned long long)(ring->capacity / 4));
        ring->truncated_seen = cut;
    }
}

/*
 * A span whose end is the next record of its ring (a leaf span, the most
 * common kind: nothing was recorded inside it on its thread) is assembled
 * from the two records as they are, without being kept open: no header,
 * no stack, no lookup. `e` is the next record, its size checked against the
 * ring by the caller. Returns false when the pair must take the usual path
 * (records that do not check, spans with deferred operations waiting), which
 * handles it all.
 */
static bool process_pair(const otelc__rec_t *h, const otelc__rec_t *e)
{
    const otelc__rec_span_end_t *re = (const otelc__rec_span_end_t *)(const void *)e;
    const uint8_t *trace;
    open_span_t os;

    if (e->type != OTELC__REC_SPAN_END || e->size < sizeof(*re) || P.deferred != NULL ||
        !otelc__rec_check(h))
        return false;
    if (h->type == OTELC__REC_SPAN_BEGIN) {
        const otelc__rec_span_begin_t *r = (const otelc__rec_span_begin_t *)(const void *)h;
        if (memcmp(r->span_id, re->span_id, 8) != 0 ||
            !otelc__small_parts(h, sizeof(*r), 0, &os.parts) ||
            (trace = otelc__small_trace(h, &os.parts)) == NULL ||
            (os.shape = otelc__shape_fit(r->shape, h->size - os.parts.values)) == NULL)
            return false;
        memcpy(os.trace, trace, 16);
    } else {
        const otelc__rec_span_start_t *r = (const otelc__rec_span_start_t *)(const void *)h;
        if (memcmp(r->span_id, re->span_id, 8) != 0)
            return false;
        os.shape = NULL;
        memcpy(os.trace, r->trace_id, 16);
    }
    os.start = (const unsigned char *)h;
    os.ops = NULL;
    otelc__assemble_span(&os, re);
    otelc__dispatch_if_full(0);
    return true;
}

/* The record at position `pos` of the ring when it lies whole before `end`
 * (what is readable) and inside the buffer, else NULL: sizes the producer
 * wrote are checked before the record is read. */
static inline const otelc__rec_t *record_at(const otelc__ring_t *ring, uint64_t pos, uint64_t end)
{
    const otelc__rec_t *h;
    uint64_t at = pos & (ring->capacity - 1);

    if (end - pos < sizeof(*h))
        return NULL;
    h = (const otelc__rec_t *)(const void *)(ring->data + at);
    if (h->size < sizeof(*h) || (h->size & 7u) != 0 || h->size > end - pos ||
        at + h->size > ring->capacity)
        return NULL;
    return h;
}

/* Drains one ring; *left is set when records stay behind (queue bound). */
static size_t drain_ring(otelc__ring_t *ring, bool *left)
{
    uint64_t tail, avail = otelc__ring_readable(ring, &tail), end = tail + avail;
    size_t n = 0;

    /* A ring found a quarter full fills faster than a drain a millisecond
     * empties it: the next drain follows at once. */
    if (avail > ring->capacity / 4)
        P.filling = true;
    /* Half full: it must not wait for a slow exporter (batch.c). */
    if (avail > ring->capacity / 2)
        P.rings_short = true;

    P.ring = ring;
    while (tail < end) {
        /* The bound changes only when a batch is dispatched (here) or an
         * exporter finishes one (which only makes room): checked then. */
        if (OTELC_UNLIKELY(P.blocked)) {
            *left = true;
            break;
        }
        const otelc__rec_t *h = record_at(ring, tail, end), *e;
        if (OTELC_UNLIKELY(h == NULL)) {
            /* Never written by otelc: skip the rest rather than read
             * garbage. */
            otelc__diag(OTELC_DIAG_ERROR, "ring.corrupt",
                        "a thread's buffer holds a malformed record; %llu bytes skipped",
                        (unsigned long long)(end - tail));
            tail = end;
            break;
        }
        /* A start and the end that follows it: a leaf span. */
        if ((h->type == OTELC__REC_SPAN_BEGIN || h->type == OTELC__REC_SPAN_START) &&
            (e = record_at(ring, tail + h->size, end)) != NULL && process_pair(h, e)) {
            n += 2;
            tail += h->size + e->size;
            continue;
        }
        if (h->type != OTELC__REC_PAD) {
            process(h, true);
            n++;
        }
        tail += h->size;
    }
    P.ring = NULL;
    settle_drained();
    large_release_all();
    otelc__ring_release(ring, tail);
    report_ring_counters(ring);
    return n;
}

static size_t drain_all(bool *left)
{
    size_t n = 0, k, i;
    otelc__orphan_t *orphans;

    /* Full batches that found no room last time go first; while one still
     * cannot go, the records stay in the rings. */
    for (int sig = 0; sig < 2; sig++)
        otelc__dispatch_if_full(sig);
    P.blocked = (P.building[0] != NULL && P.building[0]->pub.n >= P.building[0]->cap) ||
                (P.building[1] != NULL && P.building[1]->pub.n >= P.building[1]->cap);

    /* The rings are drained outside the registry's lock. */
    k = otelc__registry_take(&P.snapshot, &P.snapshot_cap, &orphans);

    *left = false;
    for (i = 0; i < k; i++)
        n += drain_ring(P.snapshot[i], left);
    while (orphans != NULL) {
        otelc__orphan_t *o = orphans;
        bool orphan_left = false;
        n += drain_ring(o->ring, &orphan_left);
        orphans = o->next;
        if (orphan_left) {
            /* Not empty yet: keep it for the next drain. */
            *left = true;
            otelc__registry_return_orphan(o);
        } else {
            otelc__registry_retire_orphan(o);
        }
    }
    if (!*left && P.deferred != NULL)
        age_deferred();
    return n;
}

/* ---- the pipeline thread ------------------------------------------------------------------ */

#define IDLE_MAX_NS 50000000u
#define BUSY_NS 1000000u

static void publish_cpu_time(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
        atomic_store_explicit(&P.cpu_ns, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec,
                              memory_order_relaxed);
}

void *otelc__pipeline_main(void *arg)
{
    uint64_t interval = BUSY_NS;
    (void)arg;

    pthread_mutex_lock(&P.mu);
    for (;;) {
        bool stop = P.stop, left, flushing;
        uint64_t req = P.flush_req, now;
        size_t n;
        P.wake_pending = false;
        pthread_mutex_unlock(&P.mu);

        pthread_mutex_lock(&P.work);
        P.filling = P.rings_short = false;
        n = drain_all(&left);
        now = otelc__mono_ns();
        /* A system call (the thread's CPU clock has no vDSO): once a drain
         * that found records, not once a record. */
        if (n > 0 || stop)
            publish_cpu_time();
        /* A partial batch goes when its oldest record has waited the
         * schedule delay, if an exporter has room for it (else later). */
        for (int sig = 0; sig < 2; sig++) {
            batch_t *b = P.building[sig];
            if (b != NULL && b->pub.n > 0 &&
                now - b->opened_mono >= (uint64_t)P.bopt[sig].schedule_delay_ms * 1000000u &&
                !otelc__dispatch(sig))
                left = true;
        }
        /* A flush (or the stop) is complete once everything recorded before
         * it has left the rings and the pipeline: dispatch, then ask the
         * exporters to flush. */
        flushing = req != P.flush_ack || stop;
        if (flushing && !left && !(otelc__dispatch(0) && otelc__dispatch(1)))
            left = true;
        /* Waiting for room: exporters finishing a batch wake us. */
        atomic_store(&P.throttled, left);
        if (flushing && !left) {
            for (unsigned i = 0; i < P.n_slots; i++)
                otelc__slot_flush_request(P.slots[i]);
        }
        otelc__clock_recalibrate(false);
        pthread_mutex_unlock(&P.work);

        pthread_mutex_lock(&P.mu);
        if (!left && req != P.flush_ack) {
            P.flush_ack = req;
            pthread_cond_broadcast(&P.done);
        }
        if (stop && (!left || now >= P.stop_deadline))
            break;
        if (left)
            interval = 200000u; /* exporters will wake us; this is a fallback */
        else if (n > 0)
            interval = P.filling ? 0 : BUSY_NS;
        else if (interval < BUSY_NS)
            interval = BUSY_NS;
        else
            interval = interval * 2 > IDLE_MAX_NS ? IDLE_MAX_NS : interval * 2;
        /* Wake in time for the oldest partial batch's deadline. */
        for (int sig = 0; sig < 2; sig++) {
            batch_t *b = P.building[sig];
            if (b != NULL && b->pub.n > 0) {
                uint64_t due = b->opened_mono + (uint64_t)P.bopt[sig].schedule_delay_ms * 1000000u;
                uint64_t rest = due > now ? due - now : 0;
                if (rest < interval)
                    interval = rest > 100000u ? rest : 100000u;
            }
        }
        if ((P.flush_req == req || left) && !P.wake_pending && (!P.stop || left) && interval > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t at = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + interval;
            ts.tv_sec = (time_t)(at / 1000000000u);
            ts.tv_nsec = (long)(at % 1000000000u);
            pthread_cond_timedwait(&P.wake, &P.mu, &ts);
        }
    }
    atomic_store(&P.throttled, 0);
    pthread_mutex_unlock(&P.mu);
    return NULL;
}

void otelc__pipeline_wake(void)
{
    if (!P.started)
        return;
    pthread_mutex_lock(&P.mu);
    P.wake_pending = true;
    pthread_cond_signal(&P.wake);
    pthread_mutex_unlock(&P.mu);
}

otelc_status_t otelc__pipeline_flush(uint64_t deadline_mono)
{
    uint64_t my;
    bool ok = true;

    if (!P.started)
        return OTELC_ERR_STATE;
    pthread_mutex_lock(&P.mu);
    my = ++P.flush_req;
    pthread_cond_signal(&P.wake);
    while (P.flush_ack < my && ok)
        ok = otelc__wait_until(&P.done, &P.mu, deadline_mono);
    ok = P.flush_ack >= my;
    pthread_mutex_unlock(&P.mu);
    if (!ok)
        return OTELC_ERR_TIMEOUT;
    for (unsigned i = 0; i < P.n_slots; i++)
        if (!otelc__slot_await_flush(P.slots[i], deadline_mono))
            return OTELC_ERR_TIMEOUT;
    return OTELC_OK;
}
