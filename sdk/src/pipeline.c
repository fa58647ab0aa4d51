/*
 * pipeline.c: the thread that turns rings into batches, and the exporters'
 * worker threads.
 *
 * The pipeline thread sleeps between drains (a thread spinning on the second
 * core of a small machine slows the producers down), waking every millisecond
 * while records flow and backing off to 50 ms when idle. Each drain reads
 * every thread's ring up to its head, joins span records by span id in a
 * table of open spans, and assembles finished spans and log records into the
 * batch of their signal: strings copied and NUL-terminated into the batch's
 * arena, sensitive values masked, limits applied. A batch goes to the
 * exporters when it is full (max_export_batch_size), when its oldest record
 * has waited schedule_delay, or on flush.
 *
 * Every exporter has its own worker thread and queue (workers.c), so one
 * slow or dead backend delays nobody else; a batch that finds an exporter's
 * queue full is dropped for that exporter and counted. Records waiting in
 * batches are bounded per signal by max_queue_size, as in the OpenTelemetry
 * batch processors: past it, records are dropped (reason queue_full).
 */
#include "large.h"
#include "pipeline.h"
#include "spantable.h"
#include "workers.h"

#include "console.h"
#include "config_int.h"
#include "diag.h"
#include "resource.h"
#include "settings_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ------------------------------------------------------------------ */

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

/* Keeps the chunks for the next batch, except those made for one large
 * record: a 10 MB message must not stay allocated for the life of the
 * process. */
static void arena_reset(arena_t *a)
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
    arena_reset(a);
    while (a->spare != NULL) {
        chunk_t *c = a->spare;
        a->spare = c->next;
        free(c);
    }
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

/* ---- batches ------------------------------------------------------------------ */

/* ---- open spans ------------------------------------------------------------------ */

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

/* ---- the pipeline's state ---------------------------------------------------------- */

static struct pipeline {
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
    open_span_t **borrowed; /* spans whose start points into the ring being drained */
    size_t n_borrowed, borrowed_cap;
    otelc__ring_t **snapshot;
    size_t snapshot_cap;
    deferred_t *deferred, *deferred_last; /* in the order they were read */
    size_t n_deferred;
    const otelc__rec_t **large; /* blocks taken in the drain of one ring */
    size_t n_large, large_cap;

    _Atomic uint64_t exported[2];
    _Atomic uint64_t dropped[2][OTELC_DROP_REASONS];
    _Atomic uint64_t batches_ok, batches_failed;
    _Atomic int frozen;
    /* Counts runs (init to shutdown): a batch that an abandoned exporter
     * returns late belongs to an earlier run and must not touch this one's
     * counters. */
    _Atomic uint64_t run;
    _Atomic int throttled;  /* a drain stopped at the queue bound */
    bool blocked;           /* a full batch could not be dispatched: stop draining */
    uint64_t stop_deadline; /* monotonic ns; the pipeline gives up draining then */
    char **masks;           /* lower-cased mask keys */
    uint64_t mask_len_bits; /* bit n set: some mask key is n bytes long (n < 64) */
    uint64_t mask_sig_bits; /* bit mask_sig(key) set for every mask key */
    size_t *mask_lens;
    size_t n_masks;
} P = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .work = PTHREAD_MUTEX_INITIALIZER,
    .pool_mu = PTHREAD_MUTEX_INITIALIZER,
};

static void count_drop(int sig, otelc_drop_reason_t reason, uint64_t n)
{
    atomic_fetch_add_explicit(&P.dropped[sig][reason], n, memory_order_relaxed);
}

/* The pipeline could not allocate what a record needs: the record is lost,
 * counted and reported (rate-limited) as such, not as invalid. */
static void drop_nomem(int sig)
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

static void batch_put(batch_t *b)
{
    arena_reset(&b->arena);
    pthread_mutex_lock(&P.pool_mu);
    b->next = P.pool;
    P.pool = b;
    pthread_mutex_unlock(&P.pool_mu);
}

static void batch_destroy(batch_t *b)
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
        batch_put(b);
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
    batch_put(b);
    /* The pipeline waits for room in the export queue: tell it. */
    if (atomic_load_explicit(&P.throttled, memory_order_relaxed))
        otelc__pipeline_wake();
}

/* ---- assembling records ---------------------------------------------------------------- */

static const char masked[] = "***MASKED***";

/* A key's signature: its length and its first and last bytes (lower case)
 * mixed into 0..63. Keys of a mask key's length but other ends ("symbol"
 * beside "secret", "price" beside "token") are rejected by one more test
 * instead of a walk of the mask list. */
static unsigned mask_sig(const char *key, size_t len)
{
    unsigned first = (unsigned char)key[0] | 0x20u, last = (unsigned char)key[len - 1] | 0x20u;

    return (unsigned)((len * 7u + first * 13u + last) & 63u);
}

static bool key_masked(const char *key, size_t len)
{
    /* Most keys have a length no mask key has: one test rejects them. */
    if (len < 64 && (P.mask_len_bits & (1ull << len)) == 0)
        return false;
    if (len == 0 || (P.mask_sig_bits & (1ull << mask_sig(key, len))) == 0)
        return false;
    for (size_t i = 0; i < P.n_masks; i++) {
        const char *m = P.masks[i];
        size_t j;
        if (P.mask_lens[i] != len || (m[0] != key[0] && m[0] != (key[0] | 0x20)))
            continue;
        for (j = 0; j < len; j++) {
            char c = key[j];
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            if (c != m[j])
                break;
        }
        if (j == len)
            return true;
    }
    return false;
}

/* Splits the mask list once, lower-cased, so that matching an attribute
 * key is a few compares. */
static otelc_status_t masks_build(const char *csv)
{
    const char *p = csv ? csv : OTELC__DEFAULT_MASK_KEYS;
    size_t n = 1;
    for (const char *q = p; *q; q++)
        n += *q == ',';
    P.masks = calloc(n, sizeof(*P.masks));
    P.mask_lens = calloc(n, sizeof(*P.mask_lens));
    if (P.masks == NULL || P.mask_lens == NULL)
        return OTELC_ERR_NOMEM;
    P.n_masks = 0;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len && !(len == 4 && strncmp(p, "none", 4) == 0)) {
            char *m = malloc(len + 1);
            if (m == NULL)
                return OTELC_ERR_NOMEM;
            for (size_t i = 0; i < len; i++)
                m[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] - 'A' + 'a') : p[i];
            m[len] = 0;
            P.mask_lens[P.n_masks] = len;
            P.mask_len_bits |= len < 64 ? 1ull << len : 0;
            P.mask_sig_bits |= 1ull << mask_sig(m, len);
            P.masks[P.n_masks++] = m;
        }
        if (e == NULL)
            break;
        p = e + 1;
    }
    return OTELC_OK;
}

static void masks_free(void)
{
    for (size_t i = 0; i < P.n_masks; i++)
        free(P.masks[i]);
    free(P.masks);
    free(P.mask_lens);
    P.masks = NULL;
    P.mask_lens = NULL;
    P.mask_len_bits = 0;
    P.mask_sig_bits = 0;
    P.n_masks = 0;
}

/* Decodes `n` encoded attributes into `out`, copying into the arena. Returns
 * how many were decoded (a malformed encoding stops early). */
static size_t decode_attrs(arena_t *a, const unsigned char *p, size_t len, size_t n,
                           otelc_attr_t *out, uint32_t value_limit)
{
    const unsigned char *end = p + len;
    size_t i, k = 0;

    for (i = 0; i < n && p < end; i++) {
        otelc_attr_t v;
        size_t kl;
        uint8_t fl;
        const unsigned char *q = otelc__attr_decode(p, end, &v, &kl, &fl);
        if (q == NULL)
            break;
        otelc_attr_t *o = &out[k];
        o->key = arena_str(a, v.key, kl);
        if (o->key == NULL)
            break;
        o->type = v.type;
        o->key_len = (uint32_t)kl;
        o->len = v.len;
        o->v = v.v;
        if (key_masked(v.key, kl)) {
            o->type = OTELC_ATTR_STRING;
            o->v.s = masked;
            o->len = sizeof(masked) - 1;
            k++;
            p = q;
            continue;
        }
        switch (v.type) {
        case OTELC_ATTR_STRING:
        case OTELC_ATTR_BYTES: {
            size_t l = v.len;
            if (l > value_limit)
                l = v.type == OTELC_ATTR_STRING ? otelc__utf8_cut(v.v.s, l, value_limit)
                                                : value_limit;
            o->v.s = arena_str(a, v.v.s, l);
            o->len = l;
            if (o->v.s == NULL)
                return k;
            break;
        }
        case OTELC_ATTR_STRING_ARRAY: {
            const char **arr = arena_alloc(a, (v.len ? v.len : 1) * sizeof(char *));
            const unsigned char *e = v.v.bytes;
            if (arr == NULL)
                return k;
            for (size_t j = 0; j < v.len; j++) {
                uint32_t l;
                memcpy(&l, e, 4);
                arr[j] = arena_str(a, e + 4, l);
                if (arr[j] == NULL)
                    return k;
                e += 4 + l;
            }
            o->v.sa = arr;
            break;
        }
        case OTELC_ATTR_BOOL_ARRAY: {
            bool *arr = arena_alloc(a, v.len ? v.len : 1);
            if (arr == NULL)
                return k;
            for (size_t j = 0; j < v.len; j++)
                arr[j] = ((const unsigned char *)v.v.bytes)[j] != 0;
            o->v.ba = arr;
            break;
        }
        case OTELC_ATTR_INT_ARRAY:
        case OTELC_ATTR_DOUBLE_ARRAY: {
            void *arr = arena_alloc(a, v.len ? v.len * 8 : 8);
            if (arr == NULL)
                return k;
            if (v.len)
                memcpy(arr, v.v.bytes, v.len * 8);
            o->v.ia = arr;
            break;
        }
        default:
            break;
        }
        k++;
        p = q;
    }
    return k;
}

static otelc_str_t str_of(arena_t *a, const void *p, size_t len)
{
    otelc_str_t s;
    s.ptr = arena_str(a, p, len);
    s.len = s.ptr ? len : 0;
    if (s.ptr == NULL)
        s.ptr = "";
    return s;
}

static const otelc_scope_info_t unknown_scope = { { "unknown", 7 }, { "", 0 } };

static const otelc_scope_info_t *scope_of(uint32_t idx)
{
    const otelc_scope_info_t *s = otelc__scope_get(idx);
    return s ? s : &unknown_scope;
}

static uint64_t time_ns(uint64_t t, uint16_t flags)
{
    return (flags & OTELC__REC_F_TIME_NS) ? t : otelc__clock_to_ns(t);
}

/* Room for one more record of signal `sig`: a batch to write into, and the
 * queue bound respected. NULL: the record is dropped (already counted). */
static batch_t *room_for(int sig);

static void assemble_log(const otelc__rec_log_t *r)
{
    batch_t *b = room_for(1);
    const otelc_limits_t *lim = &P.limits[1];
    const unsigned char *p = (const unsigned char *)(r + 1);
    otelc_log_data_t *d;
    otelc_attr_t *attrs;
    size_t n, nb, total, cap;

    if (b == NULL)
        return;
    d = &((otelc_log_data_t *)b->items)[b->pub.n];
    memset(d, 0, sizeof(*d));
    d->time_ns = d->observed_time_ns = time_ns(r->time, r->h.flags);
    d->severity = r->severity;
    d->severity_text.ptr = otelc_severity_text(r->severity);
    d->severity_text.len = strlen(d->severity_text.ptr);
    d->body = str_of(&b->arena, p, r->msg_len);
    p += r->msg_len;
    d->event_name = str_of(&b->arena, p, r->event_len);
    p += r->event_len;
    d->correlation_id = str_of(&b->arena, p, r->corr_len);
    p += r->corr_len;
    d->scope = scope_of(r->scope);
    memcpy(d->ctx.trace_id, r->trace_id, 16);
    memcpy(d->ctx.span_id, r->span_id, 8);
    d->ctx.trace_flags = r->trace_flags;
    cap = (size_t)r->n_attrs + r->n_bound;
    attrs = arena_alloc(&b->arena, (cap ? cap : 1) * sizeof(*attrs));
    if (attrs == NULL)
        goto nomem;
    n = decode_attrs(&b->arena, p, r->attrs_len, r->n_attrs, attrs, lim->attribute_value_length);
    p += r->attrs_len;
    total = n;
    if (r->n_bound) {
        /* Bound fields come after the record's own; an own attribute with
         * the same key wins. */
        nb = decode_attrs(&b->arena, p, r->bound_len, r->n_bound, attrs + n,
                          lim->attribute_value_length);
        for (size_t i = n; i < n + nb; i++) {
            bool dup = false;
            for (size_t j = 0; j < n && !dup; j++)
                dup = strcmp(attrs[j].key, attrs[i].key) == 0;
            if (!dup)
                attrs[total++] = attrs[i];
        }
    }
    d->dropped_attrs = r->dropped_attrs;
    if (total > lim->attribute_count) {
        d->dropped_attrs += (uint32_t)(total - lim->attribute_count);
        total = lim->attribute_count;
    }
    d->attrs = attrs;
    d->n_attrs = (uint32_t)total;
    if (b->pub.n++ == 0)
        b->opened_mono = otelc__mono_ns();
    return;
nomem:
    drop_nomem(1);
    atomic_fetch_sub(&P.in_flight[1], 1);
}

/* Sets or replaces span attributes in `d` from an encoded list: a key
 * already present takes the new value; a new key is added while the count
 * limit allows, else counted as dropped. */
static void merge_attrs(arena_t *a, otelc_span_data_t *d, otelc_attr_t *attrs, size_t cap,
                        const unsigned char *p, size_t len, size_t n, uint32_t value_limit)
{
    otelc_attr_t *in = arena_alloc(a, (n ? n : 1) * sizeof(*in));
    size_t k;

    if (in == NULL)
        return;
    k = decode_attrs(a, p, len, n, in, value_limit);
    for (size_t i = 0; i < k; i++) {
        size_t j;
        for (j = 0; j < d->n_attrs; j++) {
            if (strcmp(attrs[j].key, in[i].key) == 0) {
                attrs[j] = in[i];
                break;
            }
        }
        if (j < d->n_attrs)
            continue;
        if (d->n_attrs < cap)
            attrs[d->n_attrs++] = in[i];
        else
            d->dropped_attrs++;
    }
}

/* Decodes the attributes of an event or link record (at `p`) into a new
 * array in the arena; returns how many (0 when memory is short). */
static uint32_t decode_list(arena_t *a, const unsigned char *p, const otelc__rec_span_op_t *op,
                            const otelc_limits_t *lim, const otelc_attr_t **out)
{
    otelc_attr_t *list = arena_alloc(a, (op->n_attrs ? op->n_attrs : 1) * sizeof(*list));

    *out = list;
    if (list == NULL)
        return 0;
    return (uint32_t)decode_attrs(a, p, op->attrs_len, op->n_attrs, list,
                                  lim->attribute_value_length);
}

static void assemble_span(open_span_t *os, const otelc__rec_span_end_t *end)
{
    const otelc__rec_span_start_t *r = (const otelc__rec_span_start_t *)(const void *)os->start;
    const otelc_limits_t *lim = &P.limits[0];
    const unsigned char *p = (const unsigned char *)(r + 1);
    batch_t *b = room_for(0);
    otelc_span_data_t *d;
    otelc_attr_t *attrs;
    size_t attr_cap, n_events = 0, n_links = r->n_links, ev_cap, ln_cap;
    otelc_event_data_t *events = NULL;
    otelc_link_data_t *links = NULL;
    arena_t *a;
    op_rec_t *o;

    if (b == NULL)
        return;
    a = &b->arena;
    d = &((otelc_span_data_t *)b->items)[b->pub.n];
    memset(d, 0, sizeof(*d));
    memcpy(d->ctx.trace_id, r->trace_id, 16);
    memcpy(d->ctx.span_id, r->span_id, 8);
    d->ctx.trace_flags = r->trace_flags;
    memcpy(d->parent_span_id, r->parent_id, 8);
    d->parent_is_remote = r->parent_remote != 0;
    d->kind = r->kind;
    d->scope = scope_of(r->scope);
    d->start_ns = time_ns(r->time, r->h.flags);
    if (end->h.flags & OTELC__REC_F_TIME_NS)
        d->end_ns = end->time;
    else if (r->h.flags & OTELC__REC_F_TIME_NS)
        d->end_ns = otelc__clock_to_ns(end->time);
    else
        d->end_ns = d->start_ns + otelc__clock_span_ns(r->time, end->time);
    if (d->end_ns < d->start_ns)
        d->end_ns = d->start_ns;
    d->name = str_of(a, p, r->name_len);
    p += r->name_len;
    d->correlation_id = str_of(a, p, r->corr_len);
    p += r->corr_len;
    d->trace_state = str_of(a, p, r->tracestate_len);
    p += r->tracestate_len;
    d->status_message = str_of(a, "", 0);

    for (o = os->ops; o != NULL; o = o->next) {
        const otelc__rec_span_op_t *op = (const otelc__rec_span_op_t *)(const void *)o->data;
        n_events += op->h.type == OTELC__REC_SPAN_EVENT;
        n_links += op->h.type == OTELC__REC_SPAN_LINK;
    }
    attr_cap = lim->attribute_count;
    if (attr_cap > (size_t)r->n_attrs + 64 * (os->n_ops + 1))
        attr_cap = (size_t)r->n_attrs + 64 * (os->n_ops + 1);
    attrs = arena_alloc(a, (attr_cap ? attr_cap : 1) * sizeof(*attrs));
    if (attrs == NULL)
        goto nomem;
    d->attrs = attrs;
    d->dropped_attrs = r->dropped_attrs;
    /* Start attributes go in as they are (no key was set before them);
     * only the ones set later are merged. */
    {
        size_t n0 = r->n_attrs < attr_cap ? r->n_attrs : attr_cap;
        d->n_attrs =
            (uint32_t)decode_attrs(a, p, r->attrs_len, n0, attrs, lim->attribute_value_length);
        d->dropped_attrs += (uint32_t)(r->n_attrs - n0);
    }
    p += r->attrs_len;
    /* The correlation id is also an attribute, so that every backend shows
     * it and can search by it. */
    if (d->correlation_id.len > 0) {
        size_t j;
        for (j = 0; j < d->n_attrs && strcmp(attrs[j].key, "correlation.id") != 0; j++)
            ;
        if (j == d->n_attrs && d->n_attrs < attr_cap) {
            attrs[d->n_attrs++] =
                OTELC_STRN("correlation.id", d->correlation_id.ptr, d->correlation_id.len);
        }
    }

    ev_cap = n_events < lim->event_count ? n_events : lim->event_count;
    ln_cap = n_links < lim->link_count ? n_links : lim->link_count;
    if (ev_cap && (events = arena_alloc(a, ev_cap * sizeof(*events))) == NULL)
        goto nomem;
    if (ln_cap && (links = arena_alloc(a, ln_cap * sizeof(*links))) == NULL)
        goto nomem;
    for (uint32_t i = 0; i < r->n_links; i++) {
        otelc__rec_link_t l;
        memcpy(&l, p, sizeof(l));
        p += sizeof(l);
        if (d->n_links < ln_cap) {
            otelc_link_data_t *ld = &links[d->n_links++];
            memset(ld, 0, sizeof(*ld));
            memcpy(ld->ctx.trace_id, l.trace_id, 16);
            memcpy(ld->ctx.span_id, l.span_id, 8);
            ld->ctx.trace_flags = l.trace_flags;
        } else {
            d->dropped_links++;
        }
    }
    for (o = os->ops; o != NULL; o = o->next) {
        const otelc__rec_span_op_t *op = (const otelc__rec_span_op_t *)(const void *)o->data;
        const unsigned char *q = (const unsigned char *)(op + 1);
        switch (op->h.type) {
        case OTELC__REC_SPAN_ATTRS:
            d->dropped_attrs += op->dropped_attrs;
            merge_attrs(a, d, attrs, attr_cap, q + op->name_len, op->attrs_len, op->n_attrs,
                        lim->attribute_value_length);
            break;
        case OTELC__REC_SPAN_EVENT: {
            otelc_event_data_t *e;
            if (d->n_events >= ev_cap) {
                d->dropped_events++;
                break;
            }
            e = &events[d->n_events++];
            e->time_ns = time_ns(op->time, op->h.flags);
            e->name = str_of(a, q, op->name_len);
            e->n_attrs = decode_list(a, q + op->name_len, op, lim, &e->attrs);
            e->dropped_attrs = op->dropped_attrs;
            break;
        }
        case OTELC__REC_SPAN_LINK: {
            otelc_link_data_t *ld;
            if (d->n_links >= ln_cap) {
                d->dropped_links++;
                break;
            }
            ld = &links[d->n_links++];
            memcpy(ld->ctx.trace_id, op->link_trace_id, 16);
            memcpy(ld->ctx.span_id, op->link_span_id, 8);
            ld->ctx.trace_flags = op->link_flags;
            ld->ctx.is_remote = false;
            ld->n_attrs = decode_list(a, q, op, lim, &ld->attrs);
            ld->dropped_attrs = op->dropped_attrs;
            break;
        }
        case OTELC__REC_SPAN_STATUS:
            /* OpenTelemetry: once OK is set the status is final; UNSET
             * never overrides. */
            if (d->status_code == OTELC_STATUS_OK || op->status == OTELC_STATUS_UNSET)
                break;
            d->status_code = op->status;
            d->status_message =
                op->status == OTELC_STATUS_ERROR ? str_of(a, q, op->name_len) : str_of(a, "", 0);
            break;
        default:
            break;
        }
    }
    d->events = events;
    d->links = links;
    if (b->pub.n++ == 0)
        b->opened_mono = otelc__mono_ns();
    return;
nomem:
    drop_nomem(0);
    atomic_fetch_sub(&P.in_flight[0], 1);
}

/* ---- draining ------------------------------------------------------------------------- */

static unsigned slots_for(int sig)
{
    unsigned k = 0, bit = sig == 0 ? OTELC_SIGNAL_TRACES : OTELC_SIGNAL_LOGS;
    for (unsigned i = 0; i < P.n_slots; i++)
        k += (P.slots[i]->signals & bit) != 0;
    return k;
}

/* True when some exporter of `sig` can take `n` more records now. */
static bool anyone_takes(int sig, uint64_t n)
{
    unsigned bit = sig == 0 ? OTELC_SIGNAL_TRACES : OTELC_SIGNAL_LOGS;
    for (unsigned i = 0; i < P.n_slots; i++)
        if ((P.slots[i]->signals & bit) != 0 && otelc__slot_takes(P.slots[i], sig, n))
            return true;
    return false;
}

/*
 * Sends the batch being built to the exporters. When none of them can take
 * it (all hold their queue's worth), the batch stays here and false is
 * returned: the records wait, in the batch and then in the rings, rather
 * than being dropped. When some can, an exporter that cannot loses the
 * batch (reason exporter) and the others carry on.
 */
static bool dispatch(int sig)
{
    batch_t *b = P.building[sig];
    unsigned bit = sig == 0 ? OTELC_SIGNAL_TRACES : OTELC_SIGNAL_LOGS, k;

    if (b == NULL || b->pub.n == 0)
        return true;
    k = slots_for(sig);
    if (k > 0 && !anyone_takes(sig, b->pub.n))
        return false;
    P.building[sig] = NULL;
    /* The run whose counters it settles (a batch being built survives a
     * fork; its records are then the child's). */
    b->run = atomic_load(&P.run);
    k = slots_for(sig);
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

static batch_t *room_for(int sig)
{
    batch_t *b = P.building[sig];

    if (b == NULL) {
        b = P.building[sig] = batch_get(sig);
        if (b == NULL) {
            drop_nomem(sig);
            return NULL;
        }
    }
    atomic_fetch_add_explicit(&P.in_flight[sig], 1, memory_order_relaxed);
    return b;
}

/* After a record went into a batch: send the batch when it is full. */
static void maybe_dispatch_full(int sig)
{
    batch_t *b = P.building[sig];
    if (b != NULL && b->pub.n >= b->cap && !dispatch(sig))
        P.blocked = true; /* full and nowhere to go: stop draining */
}

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

/* Before a ring's space is released: spans that ended go back to the pool;
 * spans still open get their own copy of the start record. */
static void settle_borrowed(void)
{
    for (size_t i = 0; i < P.n_borrowed; i++) {
        open_span_t *s = P.borrowed[i];
        s->borrowed = false;
        if (s->dead) {
            otelc__open_span_free(s);
            continue;
        }
        if (s->size <= OPEN_INLINE) {
            memcpy(s->own, s->start, s->size);
            s->start = s->own;
        } else if ((s->heap = malloc(s->size)) != NULL) {
            memcpy(s->heap, s->start, s->size);
            s->start = s->heap;
        } else {
            /* No memory for it: the span is lost; count it now rather
             * than leave a pointer into released ring space. */
            open_span_t **slot = otelc__table_find(&P.open, s->key);
            if (slot != NULL)
                otelc__table_remove(&P.open, slot);
            drop_nomem(0);
            otelc__open_span_free(s);
        }
    }
    P.n_borrowed = 0;
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

static void deferred_clear(void)
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
static void reject(const otelc__rec_t *h)
{
    const char *what = "a span operation";

    if (h->type == OTELC__REC_LOG) {
        count_drop(1, OTELC_DROP_INVALID, 1);
        what = "a log record";
    } else if (h->type == OTELC__REC_SPAN_START) {
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
        reject(&fake);
        if (inner != NULL)
            otelc__large_release(inner);
        return;
    }
    if (P.n_large == P.large_cap) {
        size_t ncap = P.large_cap ? P.large_cap * 2 : 16;
        const otelc__rec_t **nl = realloc(P.large, ncap * sizeof(*nl));
        if (nl == NULL) {
            otelc__rec_t fake = { 0, r->inner, 0 };
            reject(&fake);
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

static void process(const otelc__rec_t *h, bool may_defer)
{
    if (OTELC_UNLIKELY(!otelc__rec_check(h))) {
        reject(h);
        return;
    }
    switch (h->type) {
    case OTELC__REC_LARGE:
        process_large(h, may_defer);
        break;
    case OTELC__REC_LOG:
        assemble_log((const otelc__rec_log_t *)(const void *)h);
        maybe_dispatch_full(1);
        break;
    case OTELC__REC_SPAN_START: {
        const otelc__rec_span_start_t *r = (const otelc__rec_span_start_t *)(const void *)h;
        open_span_t *s;
        if (P.open.n >= MAX_OPEN_SPANS) {
            count_drop(0, OTELC_DROP_LIMIT, 1);
            otelc__diag(OTELC_DIAG_WARN, "spans.open",
                        "too many spans open at once (%zu): a span was dropped (reason limit)",
                        P.open.n);
            break;
        }
        if ((s = otelc__open_span_get()) == NULL) {
            drop_nomem(0);
            break;
        }
        memcpy(&s->key, r->span_id, 8);
        s->size = h->size;
        if (!borrow(s, h)) {
            otelc__open_span_free(s);
            drop_nomem(0);
            break;
        }
        if (!otelc__table_insert(&P.open, s)) {
            s->dead = true; /* released with the drain's borrowed spans */
            drop_nomem(0);
            break;
        }
        if (OTELC_UNLIKELY(P.deferred != NULL))
            apply_deferred(s->key);
        break;
    }
    case OTELC__REC_SPAN_END: {
        const otelc__rec_span_end_t *r = (const otelc__rec_span_end_t *)(const void *)h;
        uint64_t key;
        open_span_t **slot, *s;
        memcpy(&key, r->span_id, 8);
        slot = otelc__table_find(&P.open, key);
        if (slot == NULL) {
            /* Its start is in a ring not read yet, or was dropped (and
             * counted). */
            if (may_defer)
                defer_record(h, key);
            break;
        }
        s = *slot;
        otelc__table_remove(&P.open, slot);
        assemble_span(s, r);
        if (s->borrowed)
            unborrow_free(s);
        else
            otelc__open_span_free(s);
        maybe_dispatch_full(0);
        break;
    }
    case OTELC__REC_SPAN_ATTRS:
    case OTELC__REC_SPAN_EVENT:
    case OTELC__REC_SPAN_LINK:
    case OTELC__REC_SPAN_STATUS: {
        const otelc__rec_span_op_t *r = (const otelc__rec_span_op_t *)(const void *)h;
        uint64_t key;
        open_span_t **slot;
        op_rec_t *o;
        memcpy(&key, r->span_id, 8);
        slot = otelc__table_find(&P.open, key);
        if (slot == NULL) {
            if (may_defer)
                defer_record(h, key);
            break;
        }
        if ((*slot)->n_ops >= 4096 || (o = malloc(sizeof(*o) + h->size)) == NULL)
            break;
        memcpy(o->data, h, h->size);
        o->next = NULL;
        *(*slot)->ops_tail = o;
        (*slot)->ops_tail = &o->next;
        (*slot)->n_ops++;
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

/* Drains one ring; *left is set when records stay behind (queue bound). */
static size_t drain_ring(otelc__ring_t *ring, bool *left)
{
    uint64_t tail, avail = otelc__ring_readable(ring, &tail), end = tail + avail;
    uint64_t mask = ring->capacity - 1;
    size_t n = 0;

    while (tail < end) {
        /* The bound changes only when a batch is dispatched (here) or an
         * exporter finishes one (which only makes room): checked then. */
        if (OTELC_UNLIKELY(P.blocked)) {
            *left = true;
            break;
        }
        const otelc__rec_t *h = (const otelc__rec_t *)(const void *)(ring->data + (tail & mask));
        uint64_t remaining = end - tail;
        if (h->size < sizeof(*h) || (h->size & 7u) != 0 || h->size > remaining ||
            (tail & mask) + h->size > ring->capacity) {
            /* Never written by otelc: skip the rest rather than read
             * garbage. */
            otelc__diag(OTELC_DIAG_ERROR, "ring.corrupt",
                        "a thread's buffer holds a malformed record; %llu bytes skipped",
                        (unsigned long long)remaining);
            tail = end;
            break;
        }
        if (h->type != OTELC__REC_PAD) {
            process(h, true);
            n++;
        }
        tail += h->size;
    }
    settle_borrowed();
    large_release_all();
    otelc__ring_release(ring, tail);
    report_ring_counters(ring);
    return n;
}

static size_t drain_all(bool *left)
{
    size_t n = 0, k = 0, i;
    otelc__thread_t *t;
    otelc__orphan_t *orphans;

    /* Full batches that found no room last time go first; while one still
     * cannot go, the records stay in the rings. */
    for (int sig = 0; sig < 2; sig++)
        maybe_dispatch_full(sig);
    P.blocked = (P.building[0] != NULL && P.building[0]->pub.n >= P.building[0]->cap) ||
                (P.building[1] != NULL && P.building[1]->pub.n >= P.building[1]->cap);

    /* Snapshot the rings under the lock; drain them without it. A live
     * thread's ring is freed only by this thread (as an orphan), so the
     * pointers stay valid. */
    pthread_mutex_lock(&otelc__registry_lock);
    for (t = otelc__threads; t != NULL; t = t->next)
        k++;
    if (k > P.snapshot_cap) {
        otelc__ring_t **ns = realloc(P.snapshot, (k + 16) * sizeof(*ns));
        if (ns != NULL) {
            P.snapshot = ns;
            P.snapshot_cap = k + 16;
        }
    }
    k = 0;
    for (t = otelc__threads; t != NULL && k < P.snapshot_cap; t = t->next)
        P.snapshot[k++] = t->ring;
    orphans = otelc__orphans;
    otelc__orphans = NULL;
    pthread_mutex_unlock(&otelc__registry_lock);

    *left = false;
    for (i = 0; i < k; i++)
        n += drain_ring(P.snapshot[i], left);
    while (orphans != NULL) {
        otelc__orphan_t *o = orphans;
        bool orphan_left = false;
        n += drain_ring(o->ring, &orphan_left);
        if (orphan_left) {
            /* Not empty yet: keep it for the next drain. */
            *left = true;
            pthread_mutex_lock(&otelc__registry_lock);
            orphans = o->next;
            o->next = otelc__orphans;
            otelc__orphans = o;
            pthread_mutex_unlock(&otelc__registry_lock);
            continue;
        }
        orphans = o->next;
        pthread_mutex_lock(&otelc__registry_lock);
        otelc__ring_counters_sum(&o->ring->counters, &otelc__retired);
        pthread_mutex_unlock(&otelc__registry_lock);
        otelc__ring_destroy(o->ring);
        free(o);
    }
    if (!*left && P.deferred != NULL)
        age_deferred();
    return n;
}

/* ---- exporter workers ------------------------------------------------------------------ */

/* ---- the pipeline thread ------------------------------------------------------------------ */

#define IDLE_MAX_NS 50000000u
#define BUSY_NS 1000000u

static void *pipeline_main(void *arg)
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
        n = drain_all(&left);
        now = otelc__mono_ns();
        /* A partial batch goes when its oldest record has waited the
         * schedule delay, if an exporter has room for it (else later). */
        for (int sig = 0; sig < 2; sig++) {
            batch_t *b = P.building[sig];
            if (b != NULL && b->pub.n > 0 &&
                now - b->opened_mono >= (uint64_t)P.bopt[sig].schedule_delay_ms * 1000000u &&
                !dispatch(sig))
                left = true;
        }
        /* A flush (or the stop) is complete once everything recorded before
         * it has left the rings and the pipeline: dispatch, then ask the
         * exporters to flush. */
        flushing = req != P.flush_ack || stop;
        if (flushing && !left && !(dispatch(0) && dispatch(1)))
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
        if ((P.flush_req == req || left) && !P.wake_pending && (!P.stop || left)) {
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

/* ---- start, stop ---------------------------------------------------------------------------- */

/* Gives exporter `e` a queue and a place among the exporters, with its own
 * batching when `own` is not NULL (an exporter of one signal). On failure
 * the exporter is reported by name and destroyed, and the others go on: its
 * records are not counted as exported, since it is not among the exporters
 * a batch waits for. */
static otelc_status_t add_slot(otelc_exporter_t *e, unsigned signals,
                               const otelc_exporter_batching_t *own)
{
    otelc__exporter_slot_t *s;
    const char *name;

    /* An exporter built against another version of exporter.h reads and
     * lays out the structs differently: none of its table can be trusted,
     * not even its name or destroy(), so it is refused untouched (and not
     * freed: leaking it is safer than calling into a table of unknown
     * shape). */
    if (e->ops->version != OTELC_EXPORTER_INTERFACE_VERSION) {
        otelc__diag(OTELC_DIAG_ERROR, "exporter.version",
                    "an exporter built for exporter interface version %lu was refused: this "
                    "otelc has version %u; rebuild the exporter against this otelc's "
                    "<otelc/exporter.h>",
                    (unsigned long)e->ops->version, OTELC_EXPORTER_INTERFACE_VERSION);
        return OTELC_ERR_UNSUPPORTED;
    }
    name = e->ops->name != NULL ? e->ops->name : "exporter";
    if (e->ops->export_batch == NULL || e->ops->destroy == NULL) {
        otelc__diag(OTELC_DIAG_ERROR, "exporter.ops",
                    "exporter '%s' was refused: its table has no %s (required)", name,
                    e->ops->export_batch == NULL ? "export_batch" : "destroy");
        return OTELC_ERR_INVALID;
    }
    if (P.n_slots >= OTELC__MAX_EXPORTERS) {
        otelc__diag(OTELC_DIAG_ERROR, "exporter.too_many", "more than %d exporters: '%s' left out",
                    OTELC__MAX_EXPORTERS, name);
        e->ops->destroy(e);
        return OTELC_ERR_FULL;
    }
    s = otelc__slot_create(e, signals, P.bopt);
    if (s == NULL) {
        char key[64];

        /* A key per exporter, so that each lost exporter is named. */
        snprintf(key, sizeof(key), "exporter.nomem.%s", name);
        otelc__diag(OTELC_DIAG_ERROR, key,
                    "exporter '%s' not started: %s (its queue of %llu batches could not be "
                    "allocated); the other exporters go on",
                    name, otelc_status_str(OTELC_ERR_NOMEM),
                    (unsigned long long)P.bopt[0].max_queue_size + P.bopt[1].max_queue_size + 1);
        e->ops->destroy(e);
        return OTELC_ERR_NOMEM;
    }
    if (own != NULL)
        otelc__slot_own_batching(s, signals == OTELC_SIGNAL_TRACES ? 0 : 1, own);
    P.slots[P.n_slots++] = s;
    return OTELC_OK;
}

/* Calls a component's create() with its settings from `o` (or its defaults). */
static otelc_status_t make_named(const otelc_component_t *c, const otelc_options_t *o,
                                 otelc_signal_t sig, otelc_exporter_batching_t *batching,
                                 otelc_exporter_t **out)
{
    const otelc_batch_options_t *b = &P.bopt[sig == OTELC_SIGNAL_TRACES ? 0 : 1];
    otelc_exporter_args_t args = {
        .struct_size = sizeof(args),
        .signal = sig,
        .resource = &P.resource.pub,
        .limits = sig == OTELC_SIGNAL_TRACES ? &o->span_limits : &o->log_limits,
        .batch = b,
        .clock_fn = o->clock_fn,
        .clock_arg = o->clock_arg,
        .batching = batching,
    };
    void *defaults = NULL;
    otelc_status_t st;

    batching->max_export_batch_size = b->max_export_batch_size;
    batching->schedule_delay_ms = b->schedule_delay_ms;
    if (otelc__is_console(c)) {
        args.settings = o;
    } else if (c->settings_size > 0) {
        args.settings = otelc__component_set_find(o->components, c);
        if (args.settings == NULL) {
            /* Registered after the options were made: its defaults. */
            defaults = calloc(1, c->settings_size);
            if (defaults == NULL)
                return OTELC_ERR_NOMEM;
            otelc__settings_defaults(c->settings, c->n_settings, defaults);
            args.settings = defaults;
        }
    }
    st = c->create(&args, out);
    free(defaults);
    return st;
}

/* Makes the exporters named in a comma list for one signal. */
static void add_named(const char *list, otelc_signal_t sig, const otelc_options_t *o)
{
    const char *p = list;

    while (p != NULL && *p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *q = p;
        while (len && (*q == ' ' || *q == '\t')) {
            q++;
            len--;
        }
        while (len && (q[len - 1] == ' ' || q[len - 1] == '\t'))
            len--;
        if (len && !(len == 4 && strncmp(q, "none", 4) == 0)) {
            char name[32];
            const otelc_component_t *c = NULL;
            otelc_exporter_t *x = NULL;
            otelc_exporter_batching_t batching;
            otelc_status_t st = OTELC_OK;

            if (len < sizeof(name)) {
                memcpy(name, q, len);
                name[len] = '\0';
                c = otelc_component_find(name);
            }
            if (c == NULL || c->create == NULL) {
                otelc__diag(OTELC_DIAG_WARN, "exporter.unknown",
                            "%s: no exporter '%.*s' is known to this program; left out (link "
                            "the library that provides it, such as libotelc_%.*s, or register "
                            "its factory before otelc_init())",
                            sig == OTELC_SIGNAL_TRACES ? "OTEL_TRACES_EXPORTER"
                                                       : "OTEL_LOGS_EXPORTER",
                            (int)len, q, (int)len, q);
            } else if ((st = make_named(c, o, sig, &batching, &x)) != OTELC_OK || x == NULL) {
                char key[64];

                snprintf(key, sizeof(key), "exporter.create.%.*s", (int)len, q);
                otelc__diag(OTELC_DIAG_WARN, key,
                            "exporter '%.*s' not started: %s; the other exporters go on", (int)len,
                            q, st != OTELC_OK ? otelc_status_str(st) : "its factory made none");
            } else {
                (void)add_slot(x, (unsigned)sig, &batching);
            }
        }
        p = e ? e + 1 : NULL;
    }
}

otelc_status_t otelc__pipeline_start(const otelc_options_t *o)
{
    otelc_status_t st;
    unsigned i;

    P.bopt[0] = o->spans_batch;
    P.bopt[1] = o->logs_batch;
    for (i = 0; i < 2; i++) {
        otelc_batch_options_t *b = &P.bopt[i];
        const char *field = i == 0 ? "spans_batch" : "logs_batch";

        /* The environment and the config file keep to these bounds; a
         * program's struct may not, and a queue too large to allocate would
         * lose every exporter. The program asked for a large value, so it
         * gets the largest rather than the default. */
        if (b->max_queue_size > OTELC__MAX_QUEUE_SIZE) {
            otelc__diag(OTELC_DIAG_WARN, i == 0 ? "init.spans_queue" : "init.logs_queue",
                        "options %s.max_queue_size %u is over the %u records otelc holds; "
                        "using %u",
                        field, (unsigned)b->max_queue_size, OTELC__MAX_QUEUE_SIZE,
                        OTELC__MAX_QUEUE_SIZE);
            b->max_queue_size = OTELC__MAX_QUEUE_SIZE;
        }
        if (b->max_export_batch_size > OTELC__MAX_EXPORT_BATCH_SIZE) {
            otelc__diag(OTELC_DIAG_WARN, i == 0 ? "init.spans_batch" : "init.logs_batch",
                        "options %s.max_export_batch_size %u is over the %u records otelc "
                        "exports at once; using %u",
                        field, (unsigned)b->max_export_batch_size, OTELC__MAX_EXPORT_BATCH_SIZE,
                        OTELC__MAX_EXPORT_BATCH_SIZE);
            b->max_export_batch_size = OTELC__MAX_EXPORT_BATCH_SIZE;
        }
        if (b->max_queue_size == 0)
            b->max_queue_size = 2048;
        if (b->max_export_batch_size == 0 || b->max_export_batch_size > b->max_queue_size)
            b->max_export_batch_size = b->max_queue_size;
    }
    P.limits[0] = o->span_limits;
    P.limits[1] = o->log_limits;
    masks_free();
    st = masks_build(o->mask_keys);
    if (st != OTELC_OK)
        return st;
    st = otelc__resource_build(o, &P.resource);
    if (st != OTELC_OK)
        return st;
    P.n_slots = 0;
    otelc__factories_init();
    add_named(o->traces_exporter, OTELC_SIGNAL_TRACES, o);
    add_named(o->logs_exporter, OTELC_SIGNAL_LOGS, o);
    for (size_t k = 0; k < o->n_exporters; k++) {
        otelc_exporter_t *e = o->exporters[k];
        if (e != NULL && e->ops != NULL)
            (void)add_slot(e, e->ops->signals & (OTELC_SIGNAL_TRACES | OTELC_SIGNAL_LOGS), NULL);
    }
    otelc__hot.traces_on = slots_for(0) > 0;
    otelc__hot.logs_on = slots_for(1) > 0;
    P.stop = false;
    P.flush_req = P.flush_ack = 0;
    otelc__cond_init_mono(&P.wake);
    otelc__cond_init_mono(&P.done);
    for (i = 0; i < P.n_slots; i++) {
        if (!otelc__slot_start(P.slots[i])) {
            otelc__diag(OTELC_DIAG_ERROR, "exporter.thread", "cannot start a thread for '%s'",
                        P.slots[i]->name);
            otelc__slot_destroy(P.slots[i]);
            P.slots[i--] = P.slots[--P.n_slots];
        }
    }
    otelc__hot.traces_on = slots_for(0) > 0;
    otelc__hot.logs_on = slots_for(1) > 0;
    P.started = true;
    if (otelc__start_thread(&P.thread, pipeline_main, NULL) != 0) {
        P.started = false;
        otelc__pipeline_stop(otelc__mono_ns());
        return OTELC_ERR_IO;
    }
    return OTELC_OK;
}

bool otelc__pipeline_stop(uint64_t deadline_mono)
{
    bool all = true;

    if (P.started) {
        pthread_mutex_lock(&P.mu);
        P.stop = true;
        P.stop_deadline = deadline_mono;
        pthread_cond_signal(&P.wake);
        pthread_mutex_unlock(&P.mu);
        if (!otelc__join_until(P.thread, deadline_mono)) {
            /* It is stuck in a drain; it holds no exporter, so wait for it:
             * a drain is bounded by the records in the rings. */
            pthread_join(P.thread, NULL);
        }
        P.started = false;
    }
    for (unsigned i = 0; i < P.n_slots; i++)
        otelc__slot_stop_request(P.slots[i]);
    for (unsigned i = 0; i < P.n_slots; i++)
        if (!otelc__slot_finish(P.slots[i], deadline_mono))
            all = false;
    P.n_slots = 0;
    for (int sig = 0; sig < 2; sig++) {
        if (P.building[sig] != NULL) {
            batch_t *b = P.building[sig];
            count_drop(sig, OTELC_DROP_SHUTDOWN, b->pub.n);
            atomic_fetch_sub(&P.in_flight[sig], b->pub.n);
            P.building[sig] = NULL;
            batch_put(b);
        }
    }
    otelc__table_clear(&P.open);
    otelc__span_pool_clear();
    deferred_clear();
    pthread_mutex_lock(&P.pool_mu);
    while (P.pool != NULL) {
        batch_t *b = P.pool;
        P.pool = b->next;
        batch_destroy(b);
    }
    pthread_mutex_unlock(&P.pool_mu);
    otelc__resource_free(&P.resource);
    masks_free();
    return all;
}

size_t otelc__pipeline_open_spans(void)
{
    size_t n;
    pthread_mutex_lock(&P.work);
    n = P.open.n;
    pthread_mutex_unlock(&P.work);
    return n;
}

/* ---- statistics ------------------------------------------------------------------------------ */

void otelc__pipeline_reset_stats(void)
{
    atomic_fetch_add(&P.run, 1);
    atomic_store(&P.frozen, 0);
    for (int s = 0; s < 2; s++) {
        atomic_store(&P.exported[s], 0);
        atomic_store(&P.in_flight[s], 0);
        for (int r = 0; r < OTELC_DROP_REASONS; r++)
            atomic_store(&P.dropped[s][r], 0);
    }
    atomic_store(&P.batches_ok, 0);
    atomic_store(&P.batches_failed, 0);
}

void otelc__pipeline_stats(otelc_stats_t *out)
{
    otelc__counts_t c;
    otelc__thread_t *t;
    otelc__orphan_t *o;

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&otelc__registry_lock);
    c = otelc__retired;
    for (t = otelc__threads; t != NULL; t = t->next) {
        otelc__ring_counters_sum(&t->ring->counters, &c);
        out->threads++;
    }
    for (o = otelc__orphans; o != NULL; o = o->next)
        otelc__ring_counters_sum(&o->ring->counters, &c);
    pthread_mutex_unlock(&otelc__registry_lock);

    otelc_signal_stats_t *ss[2] = { &out->spans, &out->logs };
    for (int s = 0; s < 2; s++) {
        otelc_signal_stats_t *x = ss[s];
        /* A record a signal handler could not write is produced too. */
        x->produced = c.produced[s] + c.dropped_reentrant[s];
        x->exported = atomic_load(&P.exported[s]);
        for (int r = 0; r < OTELC_DROP_REASONS; r++)
            x->dropped[r] = atomic_load(&P.dropped[s][r]);
        x->dropped[OTELC_DROP_QUEUE_FULL] += c.dropped_full[s];
        x->dropped[OTELC_DROP_LIMIT] += c.dropped_limit[s];
        x->dropped[OTELC_DROP_REENTRANT] += c.dropped_reentrant[s];
        x->truncated = c.truncated[s];
        if (s == 0)
            x->dropped[OTELC_DROP_SAMPLER] += c.dropped_sampler;
        uint64_t settled = x->exported + otelc_signal_stats_dropped(x);
        x->pending = x->produced > settled ? x->produced - settled : 0;
    }
    out->batches_exported = atomic_load(&P.batches_ok);
    out->batches_failed = atomic_load(&P.batches_failed);
}

/* Counts what is still pending as dropped at shutdown, then freezes the
 * counters so that an abandoned exporter finishing late changes nothing. */
void otelc__pipeline_settle(void)
{
    otelc_stats_t st;
    otelc__pipeline_stats(&st);
    count_drop(0, OTELC_DROP_SHUTDOWN, st.spans.pending);
    count_drop(1, OTELC_DROP_SHUTDOWN, st.logs.pending);
    atomic_store(&P.frozen, 1);
}

/* ---- fork -------------------------------------------------------------------------------------
 */

void otelc__pipeline_fork_prepare(void)
{
    pthread_mutex_lock(&P.work);
    pthread_mutex_lock(&P.mu);
    pthread_mutex_lock(&P.pool_mu);
    for (unsigned i = 0; i < P.n_slots; i++)
        otelc__slot_lock(P.slots[i]);
}

void otelc__pipeline_fork_parent(void)
{
    for (unsigned i = P.n_slots; i > 0; i--)
        otelc__slot_unlock(P.slots[i - 1]);
    pthread_mutex_unlock(&P.pool_mu);
    pthread_mutex_unlock(&P.mu);
    pthread_mutex_unlock(&P.work);
}

void otelc__pipeline_fork_child(void)
{
    /* Only the forking thread exists here, and it holds every lock (taken
     * in prepare). The other threads' work belongs to the parent: queued
     * batches and open spans are the parent's to export, so the child
     * forgets them and starts its own threads. */
    otelc__cond_init_mono(&P.wake);
    otelc__cond_init_mono(&P.done);
    for (unsigned i = 0; i < P.n_slots; i++)
        otelc__slot_fork_child(P.slots[i]);
    for (int sig = 0; sig < 2; sig++) {
        if (P.building[sig] != NULL) {
            arena_reset(&P.building[sig]->arena);
            P.building[sig]->pub.n = 0;
        }
    }
    otelc__table_clear(&P.open);
    otelc__span_pool_clear();
    deferred_clear();
    otelc__pipeline_reset_stats();
    P.flush_req = P.flush_ack = 0;
    P.wake_pending = false;
    /* Exporters reset what the parent's threads may have left half done
     * (their locks, connections); they run again once the child uses otelc. */
    for (unsigned i = 0; i < P.n_slots; i++) {
        otelc_exporter_t *e = P.slots[i]->exp;
        if (e->ops->fork_child != NULL)
            e->ops->fork_child(e);
    }
    pthread_mutex_unlock(&P.pool_mu);
    pthread_mutex_unlock(&P.mu);
    pthread_mutex_unlock(&P.work);
}

/* POSIX allows only async-signal-safe calls in a fork handler, so the
 * child's threads start here, on its first use of otelc. */
bool otelc__pipeline_restart(void)
{
    bool ok = true;

    if (!P.started)
        return false;
    for (unsigned i = 0; i < P.n_slots; i++)
        if (!otelc__slot_start(P.slots[i]))
            otelc__diag(OTELC_DIAG_ERROR, "fork.thread",
                        "child process: cannot restart exporter '%s'", P.slots[i]->name);
    if (otelc__start_thread(&P.thread, pipeline_main, NULL) != 0) {
        P.started = false;
        ok = false;
        otelc__diag(OTELC_DIAG_ERROR, "fork.pipeline",
                    "child process: cannot start the pipeline thread; records are not exported");
    }
    return ok;
}

/* ---- exporters by name ---------------------------------------------------------------------------
 */

/* The console exporter is the core's: its settings are rows of the core
 * (OTELC_CONSOLE_LEVEL, OTELC_CONSOLE_COLOR), so it receives the options. */
static otelc_status_t console_create(const otelc_exporter_args_t *args, otelc_exporter_t **out)
{
    return otelc__console_factory(args->settings, args->signal, out);
}

static const otelc_component_t console_component = {
    .version = OTELC_COMPONENT_VERSION,
    .name = "console",
    .create = console_create,
};

bool otelc_exporter_factory_exists(const char *name)
{
    const otelc_component_t *c;

    if (name == NULL)
        return false;
    otelc__factories_init();
    c = otelc_component_find(name);
    return c != NULL && c->create != NULL;
}

void otelc__factories_init(void)
{
    if (otelc_component_find("console") == NULL &&
        otelc_component_register(&console_component) != OTELC_OK)
        otelc__diag(OTELC_DIAG_ERROR, "exporter.console", "cannot register the console exporter");
}

bool otelc__is_console(const otelc_component_t *c)
{
    return c == &console_component;
}
