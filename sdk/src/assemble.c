/*
 * assemble.c: records into what exporters read. A log record or a span
 * that ended (its start, the operations read since and its end) becomes an
 * item of its signal's batch: strings copied and NUL-terminated into the
 * batch's arena (span names interned instead), attributes decoded,
 * sensitive values masked, the limits applied and what they cut counted.
 */
#include "pipeline_int.h"

#include "config_int.h"
#include "diag.h"
#include "scope.h"

#include <string.h>

static const char masked[] = "***MASKED***";

/* Numbers the mask lists built (one a run); a shape's masked keys were
 * decided under the list numbered shape->mask_gen. Never reset, so that a
 * shape learned in an earlier run is decided again. */
static uint32_t mask_gen;

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

/* ---- interned span names ---------------------------------------------------- */

/*
 * Span names repeat from record to record (they are mostly the literals of
 * a few call sites), so the pipeline keeps one copy of each in a table of
 * fixed slots instead of copying it into every batch. A slot is filled
 * once and never changes, and the table is never freed: batches point into
 * it, including a batch that an abandoned exporter still holds after
 * shutdown. A name too long for a slot, or whose slot holds another, is
 * copied as before. (Attribute keys interned the same way cost what they
 * saved: 805 instructions per 3-attribute log against 802.)
 */
#define INTERN_SLOTS 1024
#define INTERN_MAX 55

typedef struct intern_slot {
    uint64_t w0, w1; /* the string's first and last words (see words()) */
    uint8_t len;     /* 0: free */
    char s[INTERN_MAX + 1];
} intern_slot_t;

static intern_slot_t interned[INTERN_SLOTS];

static inline uint64_t load_le(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    memcpy(&v, p, n);
    return v;
}

/* Two words that hold every byte of a string of 1 to 16 bytes (and the
 * ends of a longer one): its first and last eight, four or single bytes,
 * as wyhash reads short keys. */
static inline void words(const unsigned char *p, size_t len, uint64_t *w0, uint64_t *w1)
{
    if (len >= 8) {
        *w0 = load_le(p, 8);
        *w1 = load_le(p + len - 8, 8);
    } else if (len >= 4) {
        *w0 = load_le(p, 4);
        *w1 = load_le(p + len - 4, 4);
    } else {
        *w0 = (uint64_t)p[0] << 16 | (uint64_t)p[len >> 1] << 8 | p[len - 1];
        *w1 = 0;
    }
}

/* The interned copy of a string, NULL when it has none and gets none. */
static inline intern_slot_t *intern(const void *str, size_t len)
{
    const unsigned char *p = str;
    intern_slot_t *slot;
    uint64_t w0, w1;

    if (len == 0 || len > INTERN_MAX)
        return NULL;
    words(p, len, &w0, &w1);
    slot = &interned[(((w0 ^ len) * 0x9e3779b97f4a7c15ull ^ w1 * 0xc2b2ae3d27d4eb4full) >> 40) %
                     INTERN_SLOTS];
    if (slot->len == len && slot->w0 == w0 && slot->w1 == w1 &&
        (len <= 16 || memcmp(slot->s + 8, p + 8, len - 16) == 0))
        return slot;
    if (slot->len != 0)
        return NULL;
    memcpy(slot->s, p, len);
    slot->s[len] = 0;
    slot->w0 = w0;
    slot->w1 = w1;
    slot->len = (uint8_t)len;
    return slot;
}

/* Splits the mask list once, lower-cased, so that matching an attribute
 * key is a few compares. */
otelc_status_t otelc__masks_build(const char *csv)
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
    mask_gen++;
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

void otelc__masks_free(void)
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

/* Copies `len` bytes and a NUL to *sp, which it advances. */
static inline char *put_str(char **sp, const void *s, size_t len)
{
    char *d = *sp;

    otelc__copy(d, s, len);
    d[len] = 0;
    *sp = d + len + 1;
    return d;
}

/* Decodes `n` encoded attributes into `out`, copying into the arena. Returns
 * how many were decoded (a malformed encoding stops early). The keys and
 * string values, with a NUL each, are shorter than their encoding plus two
 * bytes an attribute (each has a header of four), so they share one block
 * of the arena rather than taking one allocation each. */
static size_t decode_attrs(arena_t *a, const unsigned char *p, size_t len, size_t n,
                           otelc_attr_t *out, uint32_t value_limit)
{
    const unsigned char *end = p + len;
    size_t i, k = 0;
    char *sp;

    if (n == 0 || (sp = arena_alloc(a, len + 2 * n)) == NULL)
        return 0;
    for (i = 0; i < n && p < end; i++) {
        otelc_attr_t v;
        size_t kl;
        const unsigned char *q = otelc__attr_decode(p, end, &v, &kl, NULL);
        if (q == NULL)
            break;
        otelc_attr_t *o = &out[k];
        o->key = put_str(&sp, v.key, kl);
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
            o->v.s = put_str(&sp, v.v.s, l);
            o->len = l;
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

/* Decodes a shaped attribute area (record.h) of `n` attributes into `out`:
 * keys from the shape (not copied: the table outlives every batch), the
 * masked ones decided once per shape and run, string values copied into
 * the arena. Returns how many were decoded (a malformed area stops early). */
static size_t decode_shaped(arena_t *a, otelc__shape_t *sh, const unsigned char *p, size_t len,
                            size_t n, otelc_attr_t *out, uint32_t value_limit, char *sp)
{
    const unsigned char *end = p + len;
    size_t i, rest;

    /* The values hold at least their fixed part (the caller's
     * otelc__shape_fit() saw to it) and n <= sh->n: scalars need no bound
     * check of their own; a string's bytes must leave room for the fixed
     * part still to come (`rest`). */
    rest = sh->fixed;
    if (OTELC_UNLIKELY(sh->mask_gen != mask_gen)) {
        sh->masked = 0;
        for (i = 0; i < sh->n; i++)
            if (key_masked(sh->keys[i], (uint32_t)(sh->tk[i] >> 32)))
                sh->masked |= 1u << i;
        sh->mask_gen = mask_gen;
    }
    for (i = 0; i < n; i++) {
        otelc_attr_t *o = &out[i];
        uint64_t tk = sh->tk[i];
        uint32_t l;
        const char *v;

        o->key = sh->keys[i];
        memcpy(&o->type, &tk, 8); /* type and key_len, as the shape has them */
        o->len = 0;
        if ((uint32_t)tk == OTELC_ATTR_STRING) {
            memcpy(&l, p, 4);
            p += 4;
            rest -= 4;
            if ((size_t)(end - p) - rest < l)
                return i;
            v = (const char *)p;
            p += l;
            if (OTELC_UNLIKELY(l > value_limit))
                l = (uint32_t)otelc__utf8_cut(v, l, value_limit);
            /* Values' bytes with a NUL each fit in the area's length: `sp`
             * has that room when the caller gave one. */
            if (sp == NULL && (sp = arena_alloc(a, len)) == NULL)
                return i;
            o->v.s = put_str(&sp, v, l);
            o->len = l;
        } else if ((uint32_t)tk == OTELC_ATTR_BOOL) {
            o->v.b = *p++ != 0;
            rest -= 1;
        } else { /* int, double */
            memcpy(&o->v.i, p, 8);
            p += 8;
            rest -= 8;
        }
    }
    if (OTELC_UNLIKELY(sh->masked != 0)) {
        for (i = 0; i < n; i++) {
            if (sh->masked & (1u << i)) {
                out[i].type = OTELC_ATTR_STRING;
                out[i].v.s = masked;
                out[i].len = sizeof(masked) - 1;
            }
        }
    }
    return i;
}

/* A string of the record in the batch's arena; an empty one (most
 * correlation ids, trace states, event names) costs nothing. */
static otelc_str_t str_of(arena_t *a, const void *p, size_t len)
{
    otelc_str_t s;
    if (len == 0) {
        s.ptr = "";
        s.len = 0;
        return s;
    }
    s.ptr = arena_str(a, p, len);
    s.len = s.ptr ? len : 0;
    if (s.ptr == NULL)
        s.ptr = "";
    return s;
}

/* A span's name: interned when it can be, else as str_of(). */
static otelc_str_t name_of(arena_t *a, const void *p, size_t len)
{
    intern_slot_t *slot = intern(p, len);
    otelc_str_t s;

    if (slot == NULL)
        return str_of(a, p, len);
    s.ptr = slot->s;
    s.len = len;
    return s;
}

static const otelc_scope_info_t unknown_scope = { { "unknown", 7 }, { "", 0 } };

/* The scope at `idx`; the last one looked up is kept (records come in runs
 * of one scope, and scopes are never freed nor moved). */
static const otelc_scope_info_t *scope_of(uint32_t idx)
{
    static uint32_t last_idx = UINT32_MAX;
    static const otelc_scope_info_t *last;
    const otelc_scope_info_t *s;

    if (idx == last_idx)
        return last;
    s = otelc__scope_get(idx);
    if (s == NULL)
        return &unknown_scope;
    last_idx = idx;
    last = s;
    return s;
}

static uint64_t time_ns(uint64_t t, uint16_t flags)
{
    return (flags & OTELC__REC_F_TIME_NS) ? t : otelc__clock_to_ns(t);
}

/* The severity's short name (otelc_severity_text), looked up and measured
 * once per severity. `sev` is 1..24: otelc__rec_check() saw to it. */
static otelc_str_t severity_text(int sev)
{
    static otelc_str_t texts[25];

    if (OTELC_UNLIKELY(texts[sev].ptr == NULL)) {
        texts[sev].len = strlen(otelc_severity_text(sev));
        texts[sev].ptr = otelc_severity_text(sev);
    }
    return texts[sev];
}

/* A log record as its assembly reads it, from a LOG or a LOG_SITE. */
typedef struct log_view {
    uint64_t time;
    uint16_t flags;
    uint8_t severity, trace_flags;
    uint32_t scope;
    const uint8_t *trace, *span_id;
    const unsigned char *msg, *event, *corr, *attrs, *bound;
    uint32_t msg_len, event_len, corr_len, attrs_len, bound_len;
    uint32_t n_attrs, n_bound, dropped_attrs;
    otelc__shape_t *sh; /* a LOG_SITE's: `attrs` are its values */
} log_view_t;

static const uint8_t zero_ids[16];

OTELC__INLINE void assemble_log(const log_view_t *v)
{
    batch_t *b;
    const otelc_limits_t *lim = &P.limits[1];
    otelc_log_data_t *d;
    otelc_attr_t *attrs;
    size_t n, nb, total, cap;

    if ((b = otelc__room_for(1)) == NULL)
        return;
    d = &((otelc_log_data_t *)b->items)[b->pub.n];
    /* Every field is set below, none cleared first (a memset of the item
     * was a tenth of a log's cost): a field added to the struct must be
     * set here too. */
#if UINTPTR_MAX > 0xffffffffu
    _Static_assert(sizeof(otelc_log_data_t) == 144, "otelc_log_data_t changed: set every field");
#endif
    d->time_ns = d->observed_time_ns = time_ns(v->time, v->flags);
    d->severity = v->severity;
    d->severity_text = severity_text(v->severity);
    if ((v->flags & OTELC__REC_F_SITE_MSG) && v->sh->msg != NULL) {
        d->body.ptr = v->sh->msg;
        d->body.len = v->sh->msg_len;
    } else {
        d->body = str_of(&b->arena, v->msg, v->msg_len);
    }
    d->event_name = str_of(&b->arena, v->event, v->event_len);
    d->correlation_id = str_of(&b->arena, v->corr, v->corr_len);
    d->scope = scope_of(v->scope);
    memcpy(d->ctx.trace_id, v->trace, 16);
    memcpy(d->ctx.span_id, v->span_id, 8);
    d->ctx.trace_flags = v->trace_flags;
    d->ctx.is_remote = false;
    cap = (size_t)v->n_attrs + v->n_bound;
    if (cap == 0)
        cap = 1;
    /* A shaped record's strings go right after the attributes: one
     * allocation (the values' length bounds their bytes with a NUL each). */
    attrs = arena_alloc(&b->arena, cap * sizeof(*attrs) + (v->sh != NULL ? v->attrs_len : 0));
    if (attrs == NULL)
        goto nomem;
    if (v->sh != NULL)
        n = decode_shaped(&b->arena, v->sh, v->attrs, v->attrs_len, v->n_attrs, attrs,
                          lim->attribute_value_length, (char *)(attrs + cap));
    else
        n = decode_attrs(&b->arena, v->attrs, v->attrs_len, v->n_attrs, attrs,
                         lim->attribute_value_length);
    total = n;
    if (v->n_bound) {
        /* Bound fields come after the record's own; an own attribute with
         * the same key wins. */
        nb = decode_attrs(&b->arena, v->bound, v->bound_len, v->n_bound, attrs + n,
                          lim->attribute_value_length);
        for (size_t i = n; i < n + nb; i++) {
            bool dup = false;
            for (size_t j = 0; j < n && !dup; j++)
                dup = strcmp(attrs[j].key, attrs[i].key) == 0;
            if (!dup)
                attrs[total++] = attrs[i];
        }
    }
    d->dropped_attrs = v->dropped_attrs;
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
    otelc__drop_nomem(1);
    atomic_fetch_sub(&P.in_flight[1], 1);
}

void otelc__assemble_log(const otelc__rec_log_t *r)
{
    const unsigned char *p = (const unsigned char *)(r + 1);
    log_view_t v;

    v.time = r->time;
    v.flags = r->h.flags & OTELC__REC_F_TIME_NS;
    v.severity = r->severity;
    v.trace_flags = r->trace_flags;
    v.scope = r->scope;
    v.trace = r->trace_id;
    v.span_id = r->span_id;
    v.msg = p;
    v.msg_len = r->msg_len;
    v.event = p += r->msg_len;
    v.event_len = r->event_len;
    v.corr = p += r->event_len;
    v.corr_len = r->corr_len;
    v.attrs = p += r->corr_len;
    v.attrs_len = r->attrs_len;
    v.bound = p + r->attrs_len;
    v.bound_len = r->bound_len;
    v.n_attrs = r->n_attrs;
    v.n_bound = r->n_bound;
    v.dropped_attrs = r->dropped_attrs;
    v.sh = NULL;
    assemble_log(&v);
}

void otelc__assemble_log_site(const otelc__rec_log_site_t *r)
{
    const unsigned char *base = (const unsigned char *)r, *p;
    otelc__small_parts_t parts, *sp = &parts;
    otelc__shape_t *sh;
    const uint8_t *trace = zero_ids;
    log_view_t v;

    if (!otelc__small_parts(&r->h, sizeof(*r), r->msg_len, sp) ||
        (sp->ids && (trace = otelc__small_trace(&r->h, sp)) == NULL) ||
        (sh = otelc__shape_fit(r->shape, r->h.size - sp->values)) == NULL) {
        otelc__reject(&r->h);
        return;
    }
    p = base + sp->ctx_str;
    v.time = r->time;
    v.flags = r->h.flags;
    v.severity = r->severity;
    v.trace_flags = r->trace_flags;
    v.scope = r->scope;
    v.trace = trace;
    v.span_id = sp->ids ? base + sp->ids : zero_ids;
    v.msg = p;
    v.msg_len = r->msg_len;
    v.event = p += r->msg_len;
    v.event_len = sp->ev_len;
    v.corr = p += sp->ev_len;
    v.corr_len = sp->corr_len;
    v.bound = p += sp->corr_len;
    v.bound_len = sp->bound_len;
    v.n_bound = sp->n_bound;
    v.attrs = base + sp->values;
    v.attrs_len = r->h.size - sp->values;
    v.n_attrs = sh->n;
    v.dropped_attrs = 0;
    v.sh = sh;
    assemble_log(&v);
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

/* A span's start as its assembly reads it, from a SPAN_START or a
 * SPAN_BEGIN. */
typedef struct start_view {
    uint64_t time;
    uint16_t flags;
    uint8_t kind, parent_remote;
    uint32_t scope;
    const uint8_t *span_id, *parent_id;
    const unsigned char *name, *corr, *ts, *attrs, *links;
    uint32_t name_len, corr_len, ts_len, attrs_len, n_attrs, dropped_attrs, n_links;
} start_view_t;

/* The views of the two records, inline in otelc__assemble_span()'s two
 * calls of assemble_span(), so that each is read where it is (no stores of
 * the view) and what a SPAN_BEGIN cannot have (links, dropped attributes)
 * is left out of its assembly. */
OTELC__INLINE void begin_view(const open_span_t *os, start_view_t *v)
{
    const otelc__rec_t *h = (const otelc__rec_t *)(const void *)os->start;
    const otelc__rec_span_begin_t *r = (const otelc__rec_span_begin_t *)(const void *)h;
    const otelc__small_parts_t *sp = &os->parts;
    v->time = r->time;
    v->flags = h->flags;
    v->kind = (uint8_t)(h->flags >> OTELC__REC_KIND_SHIFT);
    v->parent_remote = (h->flags & OTELC__REC_F_REMOTE) != 0;
    v->scope = r->scope;
    v->span_id = r->span_id;
    v->parent_id = sp->ids ? os->start + sp->ids : zero_ids;
    v->name = (const unsigned char *)os->shape->name;
    v->name_len = os->shape->name_len;
    v->corr = os->start + sp->ctx_str;
    v->corr_len = sp->corr_len;
    v->ts = v->corr + sp->corr_len;
    v->ts_len = sp->ts_len;
    v->attrs = os->start + sp->values;
    v->attrs_len = h->size - sp->values;
    v->n_attrs = os->shape->n;
    v->dropped_attrs = 0;
    v->links = NULL;
    v->n_links = 0;
}

OTELC__INLINE void start_view(const open_span_t *os, start_view_t *v)
{
    const otelc__rec_t *h = (const otelc__rec_t *)(const void *)os->start;
    const otelc__rec_span_start_t *r = (const otelc__rec_span_start_t *)(const void *)h;
    v->time = r->time;
    v->flags = h->flags;
    v->kind = r->kind;
    v->parent_remote = r->parent_remote != 0;
    v->scope = r->scope;
    v->span_id = r->span_id;
    v->parent_id = r->parent_id;
    v->name = (const unsigned char *)(r + 1);
    v->name_len = r->name_len;
    v->corr = v->name + r->name_len;
    v->corr_len = r->corr_len;
    v->ts = v->corr + r->corr_len;
    v->ts_len = r->tracestate_len;
    v->attrs = v->ts + r->tracestate_len;
    v->attrs_len = r->attrs_len;
    v->n_attrs = r->n_attrs;
    v->dropped_attrs = r->dropped_attrs;
    v->links = v->attrs + r->attrs_len;
    v->n_links = r->n_links;
}

/* `no_ops` (a constant at each call): the span has no records between
 * its start and end (attributes, events, links, status), the usual case,
 * whose assembly leaves their loops out. */
OTELC__INLINE void assemble_span(open_span_t *os, const otelc__rec_span_end_t *end,
                                 const start_view_t *vp, bool no_ops)
{
    const start_view_t v = *vp;
    const otelc_limits_t *lim = &P.limits[0];
    const unsigned char *p;
    batch_t *b;
    otelc_span_data_t *d;
    otelc_attr_t *attrs;
    size_t attr_cap, str_at, n_events = 0, n_links, ev_cap, ln_cap;
    otelc_event_data_t *events = NULL;
    otelc_link_data_t *links = NULL;
    otelc__shape_t *sh = os->shape; /* checked when the start was read (drain.c) */
    arena_t *a;
    op_rec_t *o;

    if ((b = otelc__room_for(0)) == NULL)
        return;
    n_links = v.n_links;
    a = &b->arena;
    d = &((otelc_span_data_t *)b->items)[b->pub.n];
    /* Every field is set, none cleared first (as for logs): a field added
     * to the struct must be set here too. */
#if UINTPTR_MAX > 0xffffffffu
    _Static_assert(sizeof(otelc_span_data_t) == 192, "otelc_span_data_t changed: set every field");
#endif
    d->ctx.is_remote = false;
    d->status_code = OTELC_STATUS_UNSET;
    d->attrs = NULL;
    d->n_attrs = d->dropped_attrs = 0;
    d->events = NULL;
    d->n_events = d->dropped_events = 0;
    d->links = NULL;
    d->n_links = d->dropped_links = 0;
    memcpy(d->ctx.trace_id, os->trace, 16);
    memcpy(d->ctx.span_id, v.span_id, 8);
    d->ctx.trace_flags = OTELC_TRACE_FLAG_SAMPLED; /* only sampled spans are recorded */
    memcpy(d->parent_span_id, v.parent_id, 8);
    d->parent_is_remote = v.parent_remote;
    d->kind = v.kind;
    d->scope = scope_of(v.scope);
    d->start_ns = time_ns(v.time, v.flags);
    /* An end converted as every time is, not as start + duration: spans
     * that end at the same tick (a parent and the children a longjmp left)
     * end at the same nanosecond, where adding each one's rounded duration
     * to its rounded start could put a child 1 ns after its parent. */
    if (end->h.flags & OTELC__REC_F_TIME_NS)
        d->end_ns = end->time;
    else
        d->end_ns = otelc__clock_to_ns(end->time);
    if (d->end_ns < d->start_ns)
        d->end_ns = d->start_ns;
    if (sh != NULL) {
        d->name.ptr = sh->name;
        d->name.len = sh->name_len;
    } else {
        d->name = name_of(a, v.name, v.name_len);
    }
    d->correlation_id = str_of(a, v.corr, v.corr_len);
    d->trace_state = str_of(a, v.ts, v.ts_len);
    d->status_message = str_of(a, "", 0);

    /* Room for as many attributes as the span can have: its own, those
     * set later, and correlation.id, within the limit. */
    attr_cap = (size_t)v.n_attrs + (v.corr_len > 0);
    for (o = no_ops ? NULL : os->ops; o != NULL; o = o->next) {
        const otelc__rec_span_op_t *op = (const otelc__rec_span_op_t *)(const void *)o->data;
        n_events += op->h.type == OTELC__REC_SPAN_EVENT;
        n_links += op->h.type == OTELC__REC_SPAN_LINK;
        if (op->h.type == OTELC__REC_SPAN_ATTRS)
            attr_cap += op->n_attrs;
    }
    if (attr_cap > lim->attribute_count)
        attr_cap = lim->attribute_count;
    /* As for logs: a shaped start's strings after the attributes (room for
     * them taken for a self-describing start too: fewer tests). With no
     * attribute and no value the block is empty: nothing is written to it. */
    str_at = attr_cap * sizeof(*attrs);
    attrs = arena_alloc(a, str_at + v.attrs_len);
    if (attrs == NULL)
        goto nomem;
    d->attrs = attrs;
    d->dropped_attrs = v.dropped_attrs;
    /* Start attributes go in as they are (no key was set before them);
     * only the ones set later are merged. */
    {
        size_t n0 = v.n_attrs < attr_cap ? v.n_attrs : attr_cap;
        if (sh != NULL)
            d->n_attrs =
                (uint32_t)decode_shaped(a, sh, v.attrs, v.attrs_len, n0, attrs,
                                        lim->attribute_value_length, (char *)attrs + str_at);
        else
            d->n_attrs = (uint32_t)decode_attrs(a, v.attrs, v.attrs_len, n0, attrs,
                                                lim->attribute_value_length);
        d->dropped_attrs += (uint32_t)(v.n_attrs - n0);
    }
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

    if (no_ops && n_links == 0)
        goto done; /* no events, links or later records */
    ev_cap = n_events < lim->event_count ? n_events : lim->event_count;
    ln_cap = n_links < lim->link_count ? n_links : lim->link_count;
    if (ev_cap && (events = arena_alloc(a, ev_cap * sizeof(*events))) == NULL)
        goto nomem;
    if (ln_cap && (links = arena_alloc(a, ln_cap * sizeof(*links))) == NULL)
        goto nomem;
    p = v.links;
    for (uint32_t i = 0; i < v.n_links; i++) {
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
    for (o = no_ops ? NULL : os->ops; o != NULL; o = o->next) {
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
done:
    if (b->pub.n++ == 0)
        b->opened_mono = otelc__mono_ns();
    return;
nomem:
    otelc__drop_nomem(0);
    atomic_fetch_sub(&P.in_flight[0], 1);
}

void otelc__assemble_span(open_span_t *os, const otelc__rec_span_end_t *end)
{
    start_view_t v;

    if (os->shape != NULL) {
        begin_view(os, &v);
        if (os->ops == NULL)
            assemble_span(os, end, &v, true);
        else
            assemble_span(os, end, &v, false);
    } else {
        start_view(os, &v);
        assemble_span(os, end, &v, false);
    }
}
