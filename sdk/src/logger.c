/*
 * logger.c: the scope registry (tracers and loggers) and emitting log records.
 *
 * Scopes are kept in a two-level table that only grows: a reader on any
 * thread (the pipeline resolving a record's scope index) finds a published
 * entry without a lock, and nothing is ever moved or freed while the process
 * lives, so the pointers users keep (loggers, tracers) stay valid.
 */
#include "config_int.h"
#include "scope.h"
#include "tls.h"
#include "diag.h"
#include "large.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_BITS 8
#define CHUNK_SIZE (1u << CHUNK_BITS)
#define MAX_CHUNKS 256

typedef struct scope_entry {
    otelc_scope_info_t info;
    char *name, *version;        /* owned; info points at them */
    struct otelc_logger *logger; /* when the scope is a logger's */
    struct otelc_tracer *tracer;
} scope_entry_t;

static pthread_mutex_t scopes_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(scope_entry_t *) chunks[MAX_CHUNKS];
static _Atomic uint32_t n_scopes;

/* Level rules in force (copied at init, read under scopes_lock). */
static char *level_rules;
static int default_level = OTELC_SEV_INFO;
static bool levels_running;

/* The logger handed out when memory is short: records nothing. */
static char null_name[] = "otelc.null";
static struct otelc_logger null_logger = { { OTELC_SEV_OFF, UINT32_MAX },
                                           OTELC_SEV_OFF,
                                           null_name };

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d != NULL)
        memcpy(d, s, n + 1);
    return d;
}

const otelc_scope_info_t *otelc__scope_get(uint32_t index)
{
    scope_entry_t *c;

    if (index >= atomic_load_explicit(&n_scopes, memory_order_acquire))
        return NULL;
    c = atomic_load_explicit(&chunks[index >> CHUNK_BITS], memory_order_acquire);
    return c ? &c[index & (CHUNK_SIZE - 1)].info : NULL;
}

/* Finds or adds a scope; called with scopes_lock held. */
static scope_entry_t *scope_find_or_add(const char *name, const char *version, bool *added)
{
    uint32_t n = atomic_load_explicit(&n_scopes, memory_order_relaxed), i;
    scope_entry_t *e, *c;

    if (version == NULL)
        version = "";
    *added = false;
    for (i = 0; i < n; i++) {
        e = &atomic_load_explicit(&chunks[i >> CHUNK_BITS],
                                  memory_order_relaxed)[i & (CHUNK_SIZE - 1)];
        if (strcmp(e->info.name.ptr, name) == 0 && strcmp(e->info.version.ptr, version) == 0)
            return e;
    }
    if (n >= CHUNK_SIZE * MAX_CHUNKS)
        return NULL;
    c = atomic_load_explicit(&chunks[n >> CHUNK_BITS], memory_order_relaxed);
    if (c == NULL) {
        c = calloc(CHUNK_SIZE, sizeof(*c));
        if (c == NULL)
            return NULL;
        atomic_store_explicit(&chunks[n >> CHUNK_BITS], c, memory_order_release);
    }
    e = &c[n & (CHUNK_SIZE - 1)];
    e->name = dup_str(name);
    e->version = dup_str(version);
    if (e->name == NULL || e->version == NULL) {
        free(e->name);
        free(e->version);
        e->name = e->version = NULL;
        return NULL;
    }
    e->info.name.ptr = e->name;
    e->info.version.ptr = e->version;
    e->info.name.len = strlen(name);
    e->info.version.len = strlen(version);
    atomic_store_explicit(&n_scopes, n + 1, memory_order_release);
    *added = true;
    return e;
}

static uint32_t entry_index(const scope_entry_t *e)
{
    uint32_t n = atomic_load_explicit(&n_scopes, memory_order_relaxed);
    for (uint32_t k = 0; k < (n + CHUNK_SIZE - 1) / CHUNK_SIZE; k++) {
        scope_entry_t *c = atomic_load_explicit(&chunks[k], memory_order_relaxed);
        if (e >= c && e < c + CHUNK_SIZE)
            return k * CHUNK_SIZE + (uint32_t)(e - c);
    }
    return UINT32_MAX;
}

uint32_t otelc__scope_register(const char *name, const char *version)
{
    bool added;
    scope_entry_t *e;
    uint32_t idx = UINT32_MAX;

    pthread_mutex_lock(&scopes_lock);
    e = scope_find_or_add(name, version, &added);
    if (e != NULL)
        idx = entry_index(e);
    pthread_mutex_unlock(&scopes_lock);
    return idx;
}

otelc_tracer_t *otelc_tracer(const char *scope_name, const char *version)
{
    static struct otelc_tracer fallback = { 0 };
    scope_entry_t *e;
    bool added;
    otelc_tracer_t *t;

    if (scope_name == NULL)
        scope_name = "otelc";
    pthread_mutex_lock(&scopes_lock);
    e = scope_find_or_add(scope_name, version, &added);
    if (e == NULL) {
        t = &fallback;
    } else if (e->tracer == NULL) {
        e->tracer = malloc(sizeof(*e->tracer));
        if (e->tracer != NULL)
            e->tracer->scope = entry_index(e);
        t = e->tracer ? e->tracer : &fallback;
    } else {
        t = e->tracer;
    }
    pthread_mutex_unlock(&scopes_lock);
    return t;
}

/* The level a logger gets from the rules; called with scopes_lock held. */
static int configured_level(const struct otelc_logger *lg)
{
    if (!levels_running)
        return OTELC_SEV_OFF;
    if (lg->explicit_level >= 0)
        return lg->explicit_level;
    return otelc__logger_level_for(level_rules, lg->name, default_level);
}

otelc_logger_t *otelc_logger(const char *name)
{
    scope_entry_t *e;
    bool added;
    struct otelc_logger *lg;

    if (name == NULL)
        name = "";
    pthread_mutex_lock(&scopes_lock);
    e = scope_find_or_add(name, NULL, &added);
    if (e == NULL) {
        lg = &null_logger;
    } else if (e->logger == NULL) {
        lg = malloc(sizeof(*lg));
        if (lg != NULL) {
            lg->head.scope = entry_index(e);
            lg->explicit_level = -1;
            lg->name = e->name;
            atomic_init(&lg->head.min_severity, configured_level(lg));
            e->logger = lg;
        } else {
            lg = &null_logger;
        }
    } else {
        lg = e->logger;
    }
    pthread_mutex_unlock(&scopes_lock);
    return lg;
}

const char *otelc_logger_name(const otelc_logger_t *logger)
{
    return logger ? logger->name : "";
}

void otelc_logger_set_level(otelc_logger_t *logger, int severity)
{
    if (logger == NULL || logger == &null_logger)
        return;
    if (severity < 1)
        severity = 1;
    if (severity > OTELC_SEV_OFF)
        severity = OTELC_SEV_OFF;
    pthread_mutex_lock(&scopes_lock);
    logger->explicit_level = severity;
    atomic_store_explicit(&logger->head.min_severity, configured_level(logger),
                          memory_order_relaxed);
    pthread_mutex_unlock(&scopes_lock);
}

int otelc_logger_level(const otelc_logger_t *logger)
{
    if (logger == NULL)
        return OTELC_SEV_OFF;
    return atomic_load_explicit(&logger->head.min_severity, memory_order_relaxed);
}

/* Sets the level rules from the options (init) and applies them. */
void otelc__loggers_configure(const otelc_options_t *opts)
{
    pthread_mutex_lock(&scopes_lock);
    free(level_rules);
    level_rules = opts->logger_levels ? dup_str(opts->logger_levels) : NULL;
    default_level = opts->level;
    pthread_mutex_unlock(&scopes_lock);
}

void otelc__loggers_apply_levels(bool running)
{
    uint32_t n, i;

    pthread_mutex_lock(&scopes_lock);
    levels_running = running && otelc__hot.logs_on;
    n = atomic_load_explicit(&n_scopes, memory_order_relaxed);
    for (i = 0; i < n; i++) {
        scope_entry_t *e = &atomic_load_explicit(&chunks[i >> CHUNK_BITS],
                                                 memory_order_relaxed)[i & (CHUNK_SIZE - 1)];
        if (e->logger != NULL) {
            if (!running)
                e->logger->explicit_level = -1;
            atomic_store_explicit(&e->logger->head.min_severity, configured_level(e->logger),
                                  memory_order_relaxed);
        }
    }
    pthread_mutex_unlock(&scopes_lock);
}

void otelc__scopes_fork_child(void)
{
    pthread_mutex_init(&scopes_lock, NULL);
}

void otelc__scopes_lock(void)
{
    pthread_mutex_lock(&scopes_lock);
}

void otelc__scopes_unlock(void)
{
    pthread_mutex_unlock(&scopes_lock);
}

/* ---- emitting ------------------------------------------------------------- */

/* Learns a log site's shape from its first recorded call (shape.h): its
 * message when the macro passed a literal's length. */
static __attribute__((noinline)) const otelc__shape_t *
learn_site(otelc_log_site_t *site, const char *message, size_t message_len,
           const otelc_attr_t *attrs, size_t n)
{
    const otelc__shape_t *s = otelc__shape_learn(
        NULL, 0, message_len != OTELC_NUL_TERMINATED ? message : NULL, message_len, attrs, n);
    __atomic_store_n(&site->shape, (const void *)s, __ATOMIC_RELEASE);
    return s;
}

/* The site's shape (learned on its first call), or NULL when it has none. */
OTELC__INLINE const otelc__shape_t *site_shape(otelc_log_site_t *site, const char *message,
                                               size_t message_len, const otelc_attr_t *attrs,
                                               size_t n)
{
    const otelc__shape_t *s = __atomic_load_n(&site->shape, __ATOMIC_ACQUIRE);

    if (OTELC_UNLIKELY(s == NULL || (const void *)s == (const void *)&otelc__site_unlearned_v2))
        s = learn_site(site, message, message_len, attrs, n);
    return s == &otelc__shape_none ? NULL : s;
}

/* What a log record holds besides its attributes. */
typedef struct log_args {
    const otelc_logger_t *logger;
    int severity;
    const char *message;
    size_t msg_len;
    const char *event_name;
    size_t ev_len;
    const otelc_attr_t *attrs;
    size_t n_attrs;
} log_args_t;

/* Fills the record at `base` whose attributes end at `q` (the head is
 * head_len bytes; `kept` attributes were encoded); returns its size, for
 * the caller to publish. */
OTELC__INLINE size_t fill_log(otelc__thread_t *t, unsigned char *base, unsigned char *q,
                              size_t head_len, uint16_t kept, const log_args_t *a)
{
    otelc__rec_log_t *r = (otelc__rec_log_t *)(void *)base;
    size_t size;

    r->h.type = OTELC__REC_LOG;
    r->h.flags = 0;
    r->time = otelc__now_raw();
    if (t->depth > 0) {
        const otelc__frame_t *f = &t->frames[t->depth - 1];
        memcpy(r->trace_id, f->span.trace_id, 16);
        memcpy(r->span_id, f->span.span_id, 8);
        r->trace_flags = f->span.trace_flags;
    } else {
        memset(r->trace_id, 0, 24);
        r->trace_flags = 0;
    }
    r->scope = a->logger->head.scope;
    r->severity = (uint8_t)a->severity;
    r->corr_len = (uint8_t)t->corr_len;
    r->pad_ = 0;
    r->msg_len = (uint32_t)a->msg_len;
    r->event_len = (uint16_t)a->ev_len;
    r->n_attrs = kept;
    r->n_bound = (uint16_t)t->bound_n;
    r->dropped_attrs = (uint16_t)(a->n_attrs - kept);
    r->attrs_len = (uint32_t)(q - (base + head_len));
    r->bound_len = t->bound_len;
    base += sizeof(*r);
    otelc__copy(base, a->message, a->msg_len);
    base += a->msg_len;
    if (OTELC_UNLIKELY(a->ev_len)) {
        otelc__copy(base, a->event_name, a->ev_len);
        base += a->ev_len;
    }
    if (t->corr_len)
        otelc__copy(base, t->corr, t->corr_len);
    if (t->bound_len) {
        memcpy(q, t->bound, t->bound_len);
        q += t->bound_len;
    }
    size = OTELC__ALIGN8((size_t)(q - (unsigned char *)r));
    r->h.size = (uint32_t)size;
    return size;
}

/* Writes a LOG_SITE (record.h) into the reserved `base` (`budget` bytes at
 * position `at`) when the call matches its site's shape `sh`; false when it
 * does not, with nothing published. `site_msg`: the message is the shape's.
 * The trace id is left out when it is the one the ring's previous small
 * record carried. */
OTELC__INLINE bool write_log_site(otelc__thread_t *t, unsigned char *base, size_t budget,
                                  uint64_t at, const log_args_t *a, const otelc__shape_t *sh,
                                  bool site_msg)
{
    otelc__rec_log_site_t *r = (otelc__rec_log_site_t *)(void *)base;
    otelc__ring_t *ring = t->ring;
    unsigned char *p = base + sizeof(*r), *q;
    size_t msg_len = site_msg ? 0 : a->msg_len, corr_len = t->corr_len, size;
    uint32_t bound_len = t->bound_len;
    uint16_t flags = site_msg ? OTELC__REC_F_SITE_MSG : 0;
    uint64_t th = 0, tl = 0;
    uint8_t trace_flags = 0;
    bool new_trace = false;

    if (t->depth > 0) {
        const otelc__frame_t *f = &t->frames[t->depth - 1];
        memcpy(&th, f->span.trace_id, 8);
        memcpy(&tl, f->span.trace_id + 8, 8);
        if ((th | tl) != 0) {
            new_trace = ((th ^ ring->trace_w[0]) | (tl ^ ring->trace_w[1])) != 0;
            if (new_trace) {
                memcpy(p, &th, 8);
                memcpy(p + 8, &tl, 8);
                p += 16;
                flags |= OTELC__REC_F_TRACE;
            }
            memcpy(p, f->span.span_id, 8);
            p += 8;
            flags |= OTELC__REC_F_IDS;
            trace_flags = f->span.trace_flags;
        }
    }
    if (OTELC_UNLIKELY((corr_len | a->ev_len | bound_len) != 0)) {
        otelc__rec_ctx_t c = { (uint16_t)corr_len, 0, (uint16_t)a->ev_len, (uint16_t)t->bound_n,
                               bound_len };
        memcpy(p, &c, sizeof(c));
        p += sizeof(c);
        flags |= OTELC__REC_F_CTX;
    }
    if (msg_len) {
        otelc__copy(p, a->message, msg_len);
        p += msg_len;
    }
    if (OTELC_UNLIKELY(a->ev_len)) {
        otelc__copy(p, a->event_name, a->ev_len);
        p += a->ev_len;
    }
    if (corr_len) {
        otelc__copy(p, t->corr, corr_len);
        p += corr_len;
    }
    if (bound_len) {
        memcpy(p, t->bound, bound_len);
        p += bound_len;
    }
    q = otelc__shape_write(p, base + budget, sh, a->attrs, a->n_attrs,
                           otelc__hot.log_limits.attribute_value_length);
    if (OTELC_UNLIKELY(q == NULL))
        return false;
    size = OTELC__ALIGN8((size_t)(q - base));
    r->h.size = (uint32_t)size;
    r->h.type = OTELC__REC_LOG_SITE;
    r->h.flags = flags;
    r->time = otelc__now_raw();
    r->shape = sh->id;
    r->scope = a->logger->head.scope;
    r->severity = (uint8_t)a->severity;
    r->trace_flags = trace_flags;
    r->pad_ = 0;
    r->msg_len = (uint32_t)msg_len;
    otelc__ring_commit(ring, at + size);
    if (new_trace) {
        ring->trace_w[0] = th;
        ring->trace_w[1] = tl;
    }
    return true;
}

/* The measured path: attributes too large for the budget, a ring too full
 * for it, or a record too large for the ring (built in a block of its own,
 * or beyond the blocks' bounds shortened to fit, see large.h). The
 * arguments by value, as the span's slow path takes them. */
static __attribute__((noinline)) void log_write_slow(otelc__thread_t *t, log_args_t a)
{
    const otelc_limits_t *lim = &otelc__hot.log_limits;
    uint32_t vlimit = lim->attribute_value_length;
    size_t max = t->ring->capacity / 4, room = 0, alen, size, head_len;
    bool large = false, truncated = false;
    uint16_t kept = 0;
    uint64_t at = 0;
    unsigned char *base = NULL, *q;

    head_len = sizeof(otelc__rec_log_t) + a.msg_len + a.ev_len + t->corr_len;
    alen = otelc__attrs_measure(a.attrs, a.n_attrs, lim->attribute_count, vlimit, &kept);
    size = OTELC__ALIGN8(head_len + alen + t->bound_len);
    if (size > max && (base = otelc__large_alloc(size)) != NULL) {
        /* Too large for the ring: built whole in a block of its own. */
        large = true;
    } else if (size > max) {
        /* Beyond the bounds of blocks too: keep the record with shorter
         * values, the message included, rather than lose it; what still
         * does not fit is left out and counted. */
        vlimit = (uint32_t)(max / (2 * (a.n_attrs + 2)));
        a.msg_len = otelc__utf8_cut(a.message, a.msg_len, vlimit);
        head_len = sizeof(otelc__rec_log_t) + a.msg_len + a.ev_len + t->corr_len;
        if (head_len + t->bound_len + 8 > max) {
            otelc__counter_inc(&t->ring->counters.dropped_limit[1]);
            return;
        }
        room = max - head_len - t->bound_len - 8;
        alen = otelc__attrs_encode_fit(NULL, room, a.attrs, a.n_attrs, lim->attribute_count, vlimit,
                                       &kept);
        size = OTELC__ALIGN8(head_len + alen + t->bound_len);
        truncated = true;
    }
    if (!large) {
        base = otelc__reserve(t, (uint32_t)size, otelc__hot.end_reserve, &at);
        if (OTELC_UNLIKELY(base == NULL)) {
            otelc__counter_inc(&t->ring->counters.dropped_full[1]);
            return;
        }
    }
    q = base + head_len;
    if (truncated)
        q += otelc__attrs_encode_fit(q, room, a.attrs, a.n_attrs, lim->attribute_count, vlimit,
                                     &kept);
    else
        q += otelc__attrs_encode(q, a.attrs, a.n_attrs, lim->attribute_count, vlimit);
    size = fill_log(t, base, q, head_len, kept, &a);
    if (!large)
        otelc__ring_commit(t->ring, at + size);
    else if (!otelc__large_commit(t->ring, base, otelc__hot.end_reserve))
        otelc__counter_inc(&t->ring->counters.dropped_full[1]);
    if (truncated)
        otelc__counter_inc(&t->ring->counters.truncated[1]);
}

/* A log record; `site` is a macro's (NULL from otelc_log). */
OTELC__INLINE void log_write(otelc_logger_t *logger, int severity, otelc_log_site_t *site,
                             const char *event_name, const char *message, size_t message_len,
                             const otelc_attr_t *attrs, size_t n_attrs)
{
    const otelc_limits_t *lim = &otelc__hot.log_limits;
    uint32_t vlimit = lim->attribute_value_length;
    otelc__thread_t *t;
    log_args_t a;
    size_t head_len, budget;
    uint16_t kept = 0;
    uint64_t at;
    unsigned char *base, *q = NULL;
    const otelc__shape_t *sh;

    if (logger == NULL || !otelc_logger_enabled(logger, severity) || !otelc__running() ||
        (t = otelc__thread_enter(1)) == NULL)
        return;
    if (OTELC_UNLIKELY(severity > 24))
        severity = 24;
    if (OTELC_UNLIKELY(message == NULL)) {
        /* NULL with a length is an empty message, never bytes read from
         * beside the NULL. */
        message = "";
        message_len = 0;
    }
    a.logger = logger;
    a.severity = severity;
    a.message = message;
    a.attrs = attrs;
    a.n_attrs = OTELC__LIST_LEN(attrs, n_attrs, "otelc_log", "attributes");
    a.msg_len = message_len == OTELC_NUL_TERMINATED ? strlen(message) : message_len;
    a.event_name = event_name;
    a.ev_len = 0;
    if (OTELC_UNLIKELY(event_name != NULL)) {
        a.ev_len = strlen(event_name);
        if (a.ev_len > 1024)
            a.ev_len = otelc__utf8_cut(event_name, a.ev_len, 1024);
    }
    otelc__counter_inc(&t->ring->counters.produced[1]);
    head_len = sizeof(otelc__rec_log_t) + a.msg_len + a.ev_len + t->corr_len;

    /* Fast path: a generous budget, attributes encoded in one pass, the
     * record committed at its actual size. */
    budget = OTELC__ALIGN8(head_len + t->bound_len + 64 + a.n_attrs * 96);
    if (OTELC_LIKELY(budget <= t->ring->capacity / 4) &&
        OTELC_LIKELY((base = otelc__ring_reserve(t->ring, (uint32_t)budget, otelc__hot.end_reserve,
                                                 &at)) != NULL)) {
        /* A macro's call that matches its site's shape: a LOG_SITE, with
         * no message when the shape has it. */
        if (site != NULL && OTELC_LIKELY(a.n_attrs <= lim->attribute_count) &&
            (sh = site_shape(site, message, message_len, attrs, a.n_attrs)) != NULL &&
            OTELC_LIKELY(write_log_site(t, base, budget, at, &a, sh,
                                        sh->msg_src == message && sh->msg_len == a.msg_len &&
                                            message_len == a.msg_len))) {
            /* The site's next call may take the inline path (otelc/fast.h). */
            otelc__fast_after(t);
            otelc__thread_leave(t);
            return;
        }
        q = otelc__attrs_encode_bounded(base + head_len, base + budget - t->bound_len, attrs,
                                        a.n_attrs, lim->attribute_count, vlimit, &kept);
        if (OTELC_LIKELY(q != NULL)) {
            otelc__ring_commit(t->ring, at + fill_log(t, base, q, head_len, kept, &a));
            otelc__thread_leave(t);
            return;
        }
    }
    log_write_slow(t, a);
    otelc__thread_leave(t);
}

void otelc_log(otelc_logger_t *logger, int severity, const char *event_name, const char *message,
               size_t message_len, const otelc_attr_t *attrs, size_t n_attrs)
{
    log_write(logger, severity, NULL, event_name, message, message_len, attrs, n_attrs);
}

void otelc__log_site(otelc_logger_t *logger, int severity, otelc_log_site_t *site,
                     const char *event_name, const char *message, size_t message_len,
                     const otelc_attr_t *attrs, size_t n_attrs)
{
    log_write(logger, severity, site, event_name, message, message_len, attrs, n_attrs);
}
