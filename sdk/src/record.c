/*
 * record.c: encoding attributes into ring records and decoding them back.
 *
 * The encoder runs on application threads for every span and log record, so
 * it measures each string once (the lengths of the first attributes are kept
 * from the measuring pass) and copies with memcpy.
 */
#include "record.h"

#include "large.h"

#include <string.h>

size_t otelc__utf8_cut(const char *s, size_t len, size_t limit)
{
    size_t cut;

    if (len <= limit)
        return len;
    cut = limit;
    /* Step back over continuation bytes so that a multi-byte sequence is
     * either kept whole or dropped whole. */
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0u) == 0x80u)
        cut--;
    return cut;
}

/* The raw length of a string or bytes value, before any limit. */
static size_t raw_len(const otelc_attr_t *a)
{
    if (a->v.bytes == NULL)
        return 0;
    if (a->type == OTELC_ATTR_STRING && a->len == OTELC_NUL_TERMINATED)
        return strlen(a->v.s);
    return a->len;
}

/* The length kept under the limit: strings are cut on a UTF-8 boundary;
 * bytes have no character boundaries and are cut at the limit. */
static size_t kept_len(const otelc_attr_t *a, size_t raw, uint32_t value_limit)
{
    if (a->type == OTELC_ATTR_STRING)
        return otelc__utf8_cut(a->v.s, raw, value_limit);
    return raw < value_limit ? raw : value_limit;
}

static size_t key_len(const otelc_attr_t *a)
{
    size_t n = a->key_len ? a->key_len : strlen(a->key);
    return n > 65535u ? 65535u : n;
}

static size_t encoded_value_size(const otelc_attr_t *a, uint32_t value_limit, size_t *vlen)
{
    size_t size = 0, i;

    *vlen = 0;
    switch (a->type) {
    case OTELC_ATTR_BOOL:
        return 1;
    case OTELC_ATTR_INT:
    case OTELC_ATTR_DOUBLE:
        return 8;
    case OTELC_ATTR_STRING:
    case OTELC_ATTR_BYTES:
        *vlen = kept_len(a, raw_len(a), value_limit);
        return 4 + *vlen;
    case OTELC_ATTR_STRING_ARRAY:
        size = 4;
        for (i = 0; a->v.sa != NULL && i < a->len; i++) {
            const char *s = a->v.sa[i];
            size_t l = s ? strlen(s) : 0;
            size += 4 + otelc__utf8_cut(s, l, value_limit);
        }
        return size;
    case OTELC_ATTR_BOOL_ARRAY:
        return 4 + (a->v.ba ? a->len : 0);
    case OTELC_ATTR_INT_ARRAY:
        return 4 + (a->v.ia ? a->len * 8 : 0);
    case OTELC_ATTR_DOUBLE_ARRAY:
        return 4 + (a->v.da ? a->len * 8 : 0);
    default:
        return 0;
    }
}

static bool attr_usable(const otelc_attr_t *a)
{
    return a->key != NULL && a->type >= OTELC_ATTR_STRING && a->type <= OTELC_ATTR_DOUBLE_ARRAY;
}

size_t otelc__attrs_measure(const otelc_attr_t *attrs, size_t n, uint32_t count_limit,
                            uint32_t value_limit, uint16_t *kept)
{
    size_t total = 0, i, vlen;
    uint16_t k = 0;

    for (i = 0; i < n && k < count_limit && k < UINT16_MAX; i++) {
        if (!attr_usable(&attrs[i]))
            continue;
        total += 4 + key_len(&attrs[i]) + encoded_value_size(&attrs[i], value_limit, &vlen);
        k++;
    }
    *kept = k;
    return total;
}

size_t otelc__attrs_encode_fit(unsigned char *out, size_t room, const otelc_attr_t *attrs, size_t n,
                               uint32_t count_limit, uint32_t value_limit, uint16_t *kept)
{
    size_t total = 0, i, vlen, one;
    uint16_t k = 0;

    for (i = 0; i < n && k < count_limit && k < UINT16_MAX; i++) {
        if (!attr_usable(&attrs[i]))
            continue;
        one = 4 + key_len(&attrs[i]) + encoded_value_size(&attrs[i], value_limit, &vlen);
        if (one > room - total)
            continue; /* left out: counted as dropped by the caller */
        if (out != NULL)
            (void)otelc__attrs_encode(out + total, &attrs[i], 1, 1, value_limit);
        total += one;
        k++;
    }
    *kept = k;
    return total;
}

static unsigned char *put_u32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
    return p + 4;
}

size_t otelc__attrs_encode(unsigned char *out, const otelc_attr_t *attrs, size_t n,
                           uint32_t count_limit, uint32_t value_limit)
{
    unsigned char *p = out;
    size_t i, j, k = 0;

    for (i = 0; i < n && k < count_limit && k < UINT16_MAX; i++) {
        const otelc_attr_t *a = &attrs[i];
        unsigned char *hdr = p;
        size_t kl, vlen = 0;
        uint16_t kl16;

        if (!attr_usable(a))
            continue;
        k++;
        kl = key_len(a);
        kl16 = (uint16_t)kl;
        p[0] = (unsigned char)a->type;
        p[1] = 0;
        memcpy(p + 2, &kl16, 2);
        memcpy(p + 4, a->key, kl);
        p += 4 + kl;
        switch (a->type) {
        case OTELC_ATTR_BOOL:
            *p++ = a->v.b ? 1 : 0;
            break;
        case OTELC_ATTR_INT:
            memcpy(p, &a->v.i, 8);
            p += 8;
            break;
        case OTELC_ATTR_DOUBLE:
            memcpy(p, &a->v.d, 8);
            p += 8;
            break;
        case OTELC_ATTR_STRING:
        case OTELC_ATTR_BYTES: {
            size_t raw = raw_len(a);
            vlen = kept_len(a, raw, value_limit);
            if (vlen < raw)
                hdr[1] |= OTELC__ATTR_F_TRUNCATED;
            p = put_u32(p, (uint32_t)vlen);
            if (vlen)
                memcpy(p, a->v.bytes, vlen);
            p += vlen;
            break;
        }
        case OTELC_ATTR_STRING_ARRAY:
            p = put_u32(p, a->v.sa ? (uint32_t)a->len : 0);
            for (j = 0; a->v.sa != NULL && j < a->len; j++) {
                const char *s = a->v.sa[j];
                size_t l = s ? strlen(s) : 0;
                l = otelc__utf8_cut(s, l, value_limit);
                p = put_u32(p, (uint32_t)l);
                if (l)
                    memcpy(p, s, l);
                p += l;
            }
            break;
        case OTELC_ATTR_BOOL_ARRAY:
            p = put_u32(p, a->v.ba ? (uint32_t)a->len : 0);
            for (j = 0; a->v.ba != NULL && j < a->len; j++)
                *p++ = a->v.ba[j] ? 1 : 0;
            break;
        case OTELC_ATTR_INT_ARRAY:
            p = put_u32(p, a->v.ia ? (uint32_t)a->len : 0);
            if (a->v.ia && a->len) {
                memcpy(p, a->v.ia, a->len * 8);
                p += a->len * 8;
            }
            break;
        case OTELC_ATTR_DOUBLE_ARRAY:
            p = put_u32(p, a->v.da ? (uint32_t)a->len : 0);
            if (a->v.da && a->len) {
                memcpy(p, a->v.da, a->len * 8);
                p += a->len * 8;
            }
            break;
        }
    }
    return (size_t)(p - out);
}

static bool get_u32(const unsigned char **p, const unsigned char *end, uint32_t *v)
{
    if (end - *p < 4)
        return false;
    memcpy(v, *p, 4);
    *p += 4;
    return true;
}

const unsigned char *otelc__attr_decode_rest(const unsigned char *p, const unsigned char *end,
                                             otelc_attr_t *out)
{
    uint32_t n, i, l;
    const unsigned char *q;

    switch (out->type) {
    case OTELC_ATTR_BYTES:
        if (!get_u32(&p, end, &l) || (size_t)(end - p) < l)
            return NULL;
        out->v.bytes = p;
        out->len = l;
        return p + l;
    case OTELC_ATTR_STRING_ARRAY:
        if (!get_u32(&p, end, &n))
            return NULL;
        out->v.bytes = p;
        out->len = n;
        q = p;
        for (i = 0; i < n; i++) {
            if (!get_u32(&q, end, &l) || (size_t)(end - q) < l)
                return NULL;
            q += l;
        }
        return q;
    case OTELC_ATTR_BOOL_ARRAY:
        if (!get_u32(&p, end, &n) || (size_t)(end - p) < n)
            return NULL;
        out->v.bytes = p;
        out->len = n;
        return p + n;
    case OTELC_ATTR_INT_ARRAY:
    case OTELC_ATTR_DOUBLE_ARRAY:
        if (!get_u32(&p, end, &n) || (size_t)(end - p) / 8 < n)
            return NULL;
        out->v.bytes = p;
        out->len = n;
        return p + (size_t)n * 8;
    default:
        return NULL;
    }
}

unsigned char *otelc__attrs_encode_bounded(unsigned char *p, unsigned char *end,
                                           const otelc_attr_t *attrs, size_t n,
                                           uint32_t count_limit, uint32_t value_limit,
                                           uint16_t *kept)
{
    size_t i;

    /* Only the common case here: scalars and strings within the limits.
     * Everything else (limits in play, arrays, bytes, NULL keys) returns
     * NULL and takes the measured path, which handles it all. */
    if (OTELC_UNLIKELY(n > count_limit || n > UINT16_MAX))
        return NULL;
    for (i = 0; i < n; i++) {
        const otelc_attr_t *a = &attrs[i];
        size_t kl, vl = 0, need;
        uint16_t kl16;
        uint32_t vl32;

        if (OTELC_UNLIKELY(a->key == NULL))
            return NULL;
        kl = a->key_len ? a->key_len : strlen(a->key);
        if (OTELC_UNLIKELY(kl > 65535))
            return NULL;
        /* The room is checked before anything is written: nothing lands
         * past `end`, whatever the caller reserved. */
        switch (a->type) {
        case OTELC_ATTR_INT:
        case OTELC_ATTR_DOUBLE:
            need = 12 + kl;
            break;
        case OTELC_ATTR_BOOL:
            need = 5 + kl;
            break;
        case OTELC_ATTR_STRING:
            if (a->v.s != NULL)
                vl = a->len == OTELC_NUL_TERMINATED ? strlen(a->v.s) : a->len;
            if (OTELC_UNLIKELY(vl > value_limit))
                return NULL;
            need = 8 + kl + vl;
            break;
        default:
            return NULL;
        }
        if (OTELC_UNLIKELY((size_t)(end - p) < need))
            return NULL;
        p[0] = (unsigned char)a->type;
        p[1] = 0;
        kl16 = (uint16_t)kl;
        memcpy(p + 2, &kl16, 2);
        otelc__copy(p + 4, a->key, kl);
        p += 4 + kl;
        switch (a->type) {
        case OTELC_ATTR_INT:
        case OTELC_ATTR_DOUBLE:
            memcpy(p, &a->v.i, 8);
            p += 8;
            break;
        case OTELC_ATTR_BOOL:
            *p++ = a->v.b ? 1 : 0;
            break;
        default: /* string */
            vl32 = (uint32_t)vl;
            memcpy(p, &vl32, 4);
            otelc__copy(p + 4, a->v.s, vl);
            p += 4 + vl;
            break;
        }
    }
    *kept = (uint16_t)n;
    return p;
}

otelc__small_parts_t otelc__small_parts_ctx(const otelc__rec_t *h, uint64_t at, uint64_t msg_len)
{
    otelc__small_parts_t o;
    otelc__rec_ctx_t x;

    memset(&o, 0, sizeof(o));
    if (at + sizeof(x) > h->size)
        return o;
    memcpy(&x, (const unsigned char *)h + at, sizeof(x));
    o.corr_len = x.corr_len;
    o.ts_len = x.ts_len;
    o.ev_len = x.event_len;
    o.n_bound = x.n_bound;
    o.bound_len = x.bound_len;
    at += sizeof(x);
    o.ctx_str = (uint32_t)at;
    at += msg_len + o.corr_len + o.ts_len + o.ev_len + o.bound_len;
    if (at <= h->size)
        o.values = (uint32_t)at;
    return o;
}

bool otelc__rec_check_rare(const otelc__rec_t *h)
{
    if (h->type == OTELC__REC_LARGE)
        return h->size >= sizeof(otelc__rec_large_t);
    return false;
}
