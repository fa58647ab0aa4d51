/*
 * record.h: the layout of records in a ring, and the attribute encoding.
 *
 * Records are written by application threads and read by the pipeline. All
 * fixed parts are 8-byte aligned structs; variable parts (names, messages,
 * attributes) follow, packed, and the record is padded to a multiple of 8.
 * Nothing in a record is a pointer: a record can be read by another process.
 *
 * An encoded attribute is: u8 type, u8 flags, u16 key length, the key bytes,
 * then the value: bool as one byte; int and double as 8 bytes; string and
 * bytes as u32 length + bytes; arrays as u32 count + elements (string
 * elements as u32 length + bytes, bool elements one byte each).
 *
 * A span or log macro whose call matched its site's shape (shape.h) writes
 * the small records SPAN_BEGIN and LOG_SITE: the shape's id in the fixed
 * part, no name, keys or (when the shape holds it) message, and the values
 * alone, in the shape's order, encoded as above (the shaped values). Their
 * optional parts are named by flags (ring.h): a trace id only when it is not
 * the one the ring's previous small record carried (OTELC__REC_F_TRACE; the
 * ring keeps it on both sides, trace_w and trace_r), a parent or span id
 * only when there is one, context strings only when there are some. Shape
 * ids are valid in the process that wrote the record.
 */
#ifndef OTELC_RECORD_H
#define OTELC_RECORD_H

#include "ring.h"

#include <otelc/attr.h>
#include <otelc/common.h>
#include <otelc/fast.h>

#include <string.h>

typedef struct otelc__rec_span_start {
    otelc__rec_t h;
    uint64_t time;
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t parent_id[8];
    uint32_t scope;
    uint8_t kind;
    uint8_t trace_flags;
    uint8_t parent_remote;
    uint8_t corr_len;
    uint16_t name_len;
    uint16_t tracestate_len;
    uint16_t n_attrs;
    uint16_t dropped_attrs;
    uint32_t attrs_len;
    uint32_t n_links;
    /* name, correlation id, tracestate, attributes, links (each: trace id,
     * span id, flags byte, padding to 4, as otelc__rec_link_t) */
} otelc__rec_span_start_t;

typedef struct otelc__rec_link {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t trace_flags;
} otelc__rec_link_t;

typedef struct otelc__rec_span_end {
    otelc__rec_t h;
    uint64_t time;
    uint8_t span_id[8];
} otelc__rec_span_end_t;

/*
 * SPAN_BEGIN: a span start in its site's shape, sampled, without links.
 * Flags: the kind (OTELC__REC_KIND_SHIFT), TIME_NS, TRACE (trace id, 16
 * bytes), IDS (parent span id, 8 bytes), REMOTE (the parent is remote), CTX
 * (otelc__rec_ctx_t and its strings: correlation id, tracestate), in
 * that order, then the shaped values. 72 bytes for a root span with the
 * three attributes of span_3attrs, 64 for a child of the same trace.
 */
typedef struct otelc__rec_span_begin {
    otelc__rec_t h;
    uint64_t time;
    uint8_t span_id[8];
    uint32_t shape;
    uint32_t scope;
} otelc__rec_span_begin_t;

/* The lengths of a small record's context strings (OTELC__REC_F_CTX); a
 * SPAN_BEGIN has a correlation id and a tracestate, a LOG_SITE a
 * correlation id, an event name and bound attributes. */
typedef struct otelc__rec_ctx {
    uint16_t corr_len;
    uint16_t ts_len;
    uint16_t event_len;
    uint16_t n_bound;
    uint32_t bound_len;
} otelc__rec_ctx_t;

/* SPAN_ATTRS, SPAN_EVENT, SPAN_LINK and SPAN_STATUS share one header. */
typedef struct otelc__rec_span_op {
    otelc__rec_t h;
    uint64_t time; /* event time */
    uint8_t span_id[8];
    uint8_t link_trace_id[16]; /* SPAN_LINK */
    uint8_t link_span_id[8];   /* SPAN_LINK */
    uint8_t link_flags;        /* SPAN_LINK */
    uint8_t status;            /* SPAN_STATUS */
    uint16_t name_len;         /* event name, or status description */
    uint16_t n_attrs;
    uint16_t dropped_attrs;
    uint32_t attrs_len;
    uint32_t pad_;
    /* name, attributes */
} otelc__rec_span_op_t;

typedef struct otelc__rec_log {
    otelc__rec_t h;
    uint64_t time;
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint32_t scope; /* logger */
    uint8_t severity;
    uint8_t trace_flags;
    uint8_t corr_len;
    uint8_t pad_;
    uint32_t msg_len;
    uint16_t event_len;
    uint16_t n_attrs;
    uint16_t n_bound;
    uint16_t dropped_attrs;
    uint32_t attrs_len;
    uint32_t bound_len;
    uint32_t pad2_;
    /* message, event name, correlation id, attributes, bound attributes */
} otelc__rec_log_t;

/*
 * LOG_SITE: a log record in its site's shape. Flags: TIME_NS, SITE_MSG (the
 * message is the shape's: msg_len 0), TRACE (trace id), IDS (span id: the
 * record has a span context), CTX (otelc__rec_ctx_t), in that order,
 * then the message, the event name, the correlation id, the bound
 * attributes (a self-describing area) and the shaped values. 64 bytes for log_3attrs
 * inside a span.
 */
typedef struct otelc__rec_log_site {
    otelc__rec_t h;
    uint64_t time;
    uint32_t shape;
    uint32_t scope; /* logger */
    uint8_t severity;
    uint8_t trace_flags;
    uint16_t pad_;
    uint32_t msg_len;
} otelc__rec_log_site_t;

/* Where the parts of a SPAN_BEGIN or LOG_SITE lie: offsets from the
 * record's start (a record kept by the pipeline moves), 0 for a part it
 * does not have; the strings' lengths; the values run to the end. */
typedef struct otelc__small_parts {
    uint32_t trace, ids, ctx_str, values; /* offsets */
    uint32_t corr_len, ts_len;            /* BEGIN */
    uint32_t ev_len, n_bound, bound_len;  /* LOG_SITE; its message at ctx_str */
} otelc__small_parts_t;

/* otelc__small_parts() for a record with context strings: the parts of
 * `h` whose ids end at `at`, `values` 0 when they do not fit. By value, so
 * that the caller's copy stays in registers on the usual path. */
otelc__small_parts_t otelc__small_parts_ctx(const otelc__rec_t *h, uint64_t at, uint64_t msg_len);

/* Finds the parts of a SPAN_BEGIN (`fixed` its fixed part's size, msg_len
 * 0) or LOG_SITE (its msg_len), checking that they lie inside the record;
 * false when not. */
static inline bool otelc__small_parts(const otelc__rec_t *h, size_t fixed, uint64_t msg_len,
                                      otelc__small_parts_t *o)
{
    unsigned f = h->flags;
    uint64_t at = fixed + (f & OTELC__REC_F_TRACE) * 2; /* 16 bytes */

    o->trace = (f & OTELC__REC_F_TRACE) ? (uint32_t)fixed : 0;
    o->ids = (f & OTELC__REC_F_IDS) ? (uint32_t)at : 0;
    at += (f & OTELC__REC_F_IDS) / 2; /* 8 bytes */
    if (OTELC_UNLIKELY(f & OTELC__REC_F_CTX)) {
        /* Field by field: a whole-struct copy keeps `o` in memory on the
         * usual path too (3-4 more instructions a record, measured). */
        otelc__small_parts_t c = otelc__small_parts_ctx(h, at, msg_len);
        o->ctx_str = c.ctx_str;
        o->values = c.values;
        o->corr_len = c.corr_len;
        o->ts_len = c.ts_len;
        o->ev_len = c.ev_len;
        o->n_bound = c.n_bound;
        o->bound_len = c.bound_len;
        return c.values != 0;
    }
    o->corr_len = o->ts_len = o->ev_len = o->n_bound = o->bound_len = 0;
    o->ctx_str = (uint32_t)at;
    at += msg_len;
    o->values = (uint32_t)at;
    return at <= h->size;
}

#define OTELC__ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

/* Attribute flag: the value was truncated to the length limit. */
#define OTELC__ATTR_F_TRUNCATED 0x1u

/*
 * Measures `n` attributes for encoding under `value_limit` (bytes of a string
 * or bytes value; arrays' strings too) and `count_limit`. Returns the encoded
 * size; *kept gets how many are encoded (the others are dropped: NULL keys
 * and those past the count limit). Keys longer than 65535 bytes are cut.
 */
size_t otelc__attrs_measure(const otelc_attr_t *attrs, size_t n, uint32_t count_limit,
                            uint32_t value_limit, uint16_t *kept);

/* Encodes what otelc__attrs_measure() measured, with the same limits, into
 * `out`. Returns the bytes written (equal to the measured size). */
size_t otelc__attrs_encode(unsigned char *out, const otelc_attr_t *attrs, size_t n,
                           uint32_t count_limit, uint32_t value_limit);

/* otelc__attr_decode() past the key, for the types it does not decode
 * inline: bytes and arrays (record.c). `q` is the value's first byte. */
const unsigned char *otelc__attr_decode_rest(const unsigned char *q, const unsigned char *end,
                                             otelc_attr_t *out);

/*
 * Decodes one encoded attribute at `p` (with `end` the end of the encoded
 * area) into a view whose key and string values point into the record (NOT
 * NUL-terminated; key length in *key_len; arrays: v.bytes points at the
 * encoded elements and len is their count). Returns the next position, or NULL
 * on a malformed encoding; `flags` may be NULL. Inline, with the common
 * types (int, double, bool, string) here: the pipeline decodes every
 * attribute of every record.
 */
static inline const unsigned char *otelc__attr_decode(const unsigned char *p,
                                                      const unsigned char *end, otelc_attr_t *out,
                                                      size_t *key_len, uint8_t *flags)
{
    uint16_t kl;
    uint32_t l;

    if (end - p < 4)
        return NULL;
    out->type = p[0];
    if (flags != NULL)
        *flags = p[1];
    memcpy(&kl, p + 2, 2);
    p += 4;
    if ((size_t)(end - p) < kl)
        return NULL;
    out->key = (const char *)p;
    *key_len = kl;
    p += kl;
    switch (out->type) {
    case OTELC_ATTR_INT:
    case OTELC_ATTR_DOUBLE:
        if (end - p < 8)
            return NULL;
        memcpy(&out->v.i, p, 8); /* a double's bytes as they are */
        out->len = 0;
        return p + 8;
    case OTELC_ATTR_BOOL:
        if (end - p < 1)
            return NULL;
        out->v.b = *p != 0;
        out->len = 0;
        return p + 1;
    case OTELC_ATTR_STRING:
        if (end - p < 4)
            return NULL;
        memcpy(&l, p, 4);
        p += 4;
        if ((size_t)(end - p) < l)
            return NULL;
        out->v.bytes = p;
        out->len = l;
        return p + l;
    default:
        return otelc__attr_decode_rest(p, end, out);
    }
}

/*
 * Encodes attributes in one pass into [out, end), measuring strings while
 * copying them, with the same limits and result as otelc__attrs_encode().
 * Returns the end of what was written, or NULL when it does not fit before
 * `end` (the caller then measures and reserves the exact size). *kept gets
 * how many attributes were encoded.
 */
unsigned char *otelc__attrs_encode_bounded(unsigned char *out, unsigned char *end,
                                           const otelc_attr_t *attrs, size_t n,
                                           uint32_t count_limit, uint32_t value_limit,
                                           uint16_t *kept);

/*
 * Copies a short byte string without a call: names, ids and messages on
 * the hot path are mostly under 32 bytes, where a libc memcpy through the
 * PLT costs more than the copy (up to 16 bytes: otelc__copy16, otelc/fast.h).
 */
static inline void otelc__copy(void *dst, const void *src, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    uint64_t a, b, c, e;

    if (n > 32 || n < 16) {
        otelc__copy16(d, s, n);
    } else {
        memcpy(&a, s, 8);
        memcpy(&b, s + 8, 8);
        memcpy(&c, s + n - 16, 8);
        memcpy(&e, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + 8, &b, 8);
        memcpy(d + n - 16, &c, 8);
        memcpy(d + n - 8, &e, 8);
    }
}

/*
 * For records that must be shortened to fit: encodes, in order, the
 * attributes that fit in `room` bytes with values cut to `value_limit`, and
 * leaves out those that do not (at most `count_limit` kept). With `out` NULL
 * it only measures. Returns the bytes written; *kept gets how many were
 * encoded (the others count as dropped attributes).
 */
size_t otelc__attrs_encode_fit(unsigned char *out, size_t room, const otelc_attr_t *attrs, size_t n,
                               uint32_t count_limit, uint32_t value_limit, uint16_t *kept);

/*
 * Checks that a record read from a ring is whole: its header's size covers
 * the fixed part of its type, and the lengths inside it (names, messages,
 * attribute areas, links) add up to no more than `h->size`. The pipeline
 * reads only records that pass, and decodes each attribute area bounded by
 * its length (otelc__attr_decode), so no length a producer wrote can make it
 * read outside the record. Returns true for a usable record (padding
 * included).
 */
/* otelc__rec_check() for the types record.h does not describe (large
 * records, unknown types). */
bool otelc__rec_check_rare(const otelc__rec_t *h);
/* Inline: the pipeline calls it for every record, and its switch then
 * merges with the caller's switch on the same type. */
static inline bool otelc__rec_check(const otelc__rec_t *h)
{
    /* Sums of 16- and 32-bit lengths in 64 bits cannot wrap. Enumerations
     * are checked too: exporters index tables by kind, status and severity. */
    uint64_t size = h->size, need;

    switch (h->type) {
    case OTELC__REC_PAD:
        return true;
    case OTELC__REC_LOG: {
        const otelc__rec_log_t *r = (const otelc__rec_log_t *)(const void *)h;
        if (size < sizeof(*r) || r->severity < 1 || r->severity > 24)
            return false;
        need = sizeof(*r) + (uint64_t)r->msg_len + r->event_len + r->corr_len + r->attrs_len +
               r->bound_len;
        return need <= size;
    }
    case OTELC__REC_SPAN_START: {
        const otelc__rec_span_start_t *r = (const otelc__rec_span_start_t *)(const void *)h;
        if (size < sizeof(*r) || r->kind > 5)
            return false;
        need = sizeof(*r) + (uint64_t)r->name_len + r->corr_len + r->tracestate_len + r->attrs_len +
               (uint64_t)r->n_links * sizeof(otelc__rec_link_t);
        return need <= size;
    }
    case OTELC__REC_SPAN_END:
        return size >= sizeof(otelc__rec_span_end_t);
    /* The small records' parts are checked where they are read
     * (otelc__small_parts), their values against their shape. */
    case OTELC__REC_SPAN_BEGIN:
        return size >= sizeof(otelc__rec_span_begin_t) && (h->flags >> OTELC__REC_KIND_SHIFT) <= 5;
    case OTELC__REC_LOG_SITE: {
        const otelc__rec_log_site_t *r = (const otelc__rec_log_site_t *)(const void *)h;
        return size >= sizeof(*r) && r->severity >= 1 && r->severity <= 24;
    }
    case OTELC__REC_SPAN_ATTRS:
    case OTELC__REC_SPAN_EVENT:
    case OTELC__REC_SPAN_LINK:
    case OTELC__REC_SPAN_STATUS: {
        const otelc__rec_span_op_t *r = (const otelc__rec_span_op_t *)(const void *)h;
        if (size < sizeof(*r) || r->status > 2)
            return false;
        need = sizeof(*r) + (uint64_t)r->name_len + r->attrs_len;
        return need <= size;
    }
    default:
        return otelc__rec_check_rare(h);
    }
}

/* Length of the longest prefix of s[0..len) that does not split a UTF-8
 * sequence, at most `limit`. */
size_t otelc__utf8_cut(const char *s, size_t len, size_t limit);

#endif /* OTELC_RECORD_H */
