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
 * A record written by a macro whose call matched its site's shape
 * (shape.h) has OTELC__REC_F_SHAPED set and a shaped attribute area: the
 * u32 id of the shape, then the values alone, in the shape's order, encoded
 * as above. Such a record has no name (a span's name_len is 0) and, when
 * the shape holds the message, no message (a log's msg_len is 0): both are
 * the shape's. Shape ids are valid in the process that wrote the record.
 */
#ifndef OTELC_RECORD_H
#define OTELC_RECORD_H

#include "ring.h"

#include <otelc/attr.h>
#include <otelc/common.h>

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
 * PLT costs more than the copy.
 */
static inline void otelc__copy(void *dst, const void *src, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    uint64_t a, b, c, e;

    if (n > 32) {
        memcpy(d, s, n);
    } else if (n >= 16) {
        memcpy(&a, s, 8);
        memcpy(&b, s + 8, 8);
        memcpy(&c, s + n - 16, 8);
        memcpy(&e, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + 8, &b, 8);
        memcpy(d + n - 16, &c, 8);
        memcpy(d + n - 8, &e, 8);
    } else if (n >= 8) {
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + n - 4, 4);
        memcpy(d, &x, 4);
        memcpy(d + n - 4, &y, 4);
    } else if (n > 0) {
        d[0] = s[0];
        d[n / 2] = s[n / 2];
        d[n - 1] = s[n - 1];
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
