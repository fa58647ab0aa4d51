/*
 * fuzz_attr_roundtrip.c: attributes built from the input are measured and
 * encoded with otelc__attrs_measure() / otelc__attrs_encode(), decoded back
 * with otelc__attr_decode(), and compared with what went in.
 *
 * Input, read front to back (missing bytes read as zero):
 *   u8 count limit selector, u8 value limit selector, u8 attribute count,
 *   then per attribute: u8 type (values past DOUBLE_ARRAY and a NULL key are
 *   made too, which must be dropped), u8 key length (255: a key of 65535 +
 *   a few bytes, which must be cut), key bytes, then the value: bytes for a
 *   string (u8 length, 255 meaning NUL-terminated) or bytes value; u8 count
 *   and elements for arrays. A NUL in a key ends it, as keys are C strings.
 *
 * Invariants: encode writes exactly the measured size (into a heap block of
 * that size, so ASan sees any write past it); decoding yields exactly the
 * kept attributes, in order, and ends at the end; each has its type, key
 * (cut to 65535), flags (TRUNCATED exactly when a value was cut) and value;
 * strings are cut to the limit at a UTF-8 boundary, bytes at the limit.
 */
#include "fuzz_check.h"
#include "record.h"

#include <string.h>

#define MAX_ATTRS 24
#define MAX_ELEMS 16
#define LONG_KEY (65535u + 8u)

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader_t;

static uint8_t u8(reader_t *r)
{
    uint8_t v = 0;
    if (r->n > 0) {
        v = r->p[0];
        r->p++;
        r->n--;
    }
    return v;
}

/* Up to `want` bytes of the input, as a pointer into it (no copy). */
static const uint8_t *take(reader_t *r, size_t want, size_t *got)
{
    const uint8_t *p = r->p;
    *got = want < r->n ? want : r->n;
    r->p += *got;
    r->n -= *got;
    return p;
}

/* Everything an attribute points at lives here, freed after the run. */
typedef struct arena {
    void *blocks[MAX_ATTRS * (MAX_ELEMS + 3)];
    size_t n;
} arena_t;

static void *alloc(arena_t *a, size_t size)
{
    void *p = malloc(size > 0 ? size : 1);
    FUZZ_CHECK(p != NULL && a->n < sizeof(a->blocks) / sizeof(a->blocks[0]));
    a->blocks[a->n++] = p;
    return p;
}

/* A NUL-terminated string of the input's next bytes, cut at a NUL. */
static char *string(arena_t *a, reader_t *r, size_t want)
{
    size_t got;
    const uint8_t *src = take(r, want, &got);
    char *s = alloc(a, got + 1);
    const uint8_t *nul = memchr(src, 0, got);

    if (nul != NULL)
        got = (size_t)(nul - src);
    memcpy(s, src, got);
    s[got] = '\0';
    return s;
}

static uint32_t pick_limit(uint8_t sel, uint32_t big)
{
    switch (sel % 8) {
    case 0:
        return big;
    case 1:
        return 0;
    case 2:
        return 1;
    default:
        return sel / 8u; /* 0 .. 31 */
    }
}

static void build(arena_t *a, reader_t *r, otelc_attr_t *attr)
{
    uint8_t type = u8(r) % 12, key_sel = u8(r);
    size_t n;

    memset(attr, 0, sizeof(*attr));
    attr->type = type;
    if (key_sel == 254) {
        attr->key = NULL; /* dropped */
    } else if (key_sel == 255) {
        char *k = alloc(a, LONG_KEY + 1);
        memset(k, 'k', LONG_KEY);
        k[LONG_KEY] = '\0';
        attr->key = k;
    } else {
        attr->key = string(a, r, key_sel % 16);
    }

    switch (type) {
    case OTELC_ATTR_STRING: {
        uint8_t len = u8(r);
        if (len == 255) {
            attr->len = OTELC_NUL_TERMINATED;
            attr->v.s = u8(r) & 1 ? NULL : string(a, r, 40);
        } else {
            /* With an explicit length a string may hold NULs. */
            char *s = alloc(a, len);
            const uint8_t *src = take(r, len, &n);
            memcpy(s, src, n);
            memset(s + n, 'x', len - n);
            attr->len = len;
            attr->v.s = len == 0 && (key_sel & 1) ? NULL : s;
        }
        break;
    }
    case OTELC_ATTR_BYTES: {
        uint8_t len = u8(r);
        char *b = alloc(a, len);
        const uint8_t *src = take(r, len, &n);
        memcpy(b, src, n);
        memset(b + n, 0, len - n);
        attr->len = len;
        attr->v.bytes = len == 0 && (key_sel & 1) ? NULL : b;
        break;
    }
    case OTELC_ATTR_BOOL:
        attr->v.b = u8(r) & 1;
        break;
    case OTELC_ATTR_INT:
    case OTELC_ATTR_DOUBLE: {
        const uint8_t *src = take(r, 8, &n);
        uint8_t raw[8] = { 0 };
        memcpy(raw, src, n);
        memcpy(type == OTELC_ATTR_INT ? (void *)&attr->v.i : (void *)&attr->v.d, raw, 8);
        break;
    }
    case OTELC_ATTR_STRING_ARRAY: {
        size_t count = u8(r) % (MAX_ELEMS + 2);
        const char **sa;
        if (count == MAX_ELEMS + 1) { /* a NULL array with a count */
            attr->len = 3;
            break;
        }
        sa = alloc(a, count * sizeof(*sa));
        for (size_t i = 0; i < count; i++) {
            uint8_t len = u8(r);
            sa[i] = len == 255 ? NULL : string(a, r, len % 32);
        }
        attr->len = count;
        attr->v.sa = sa;
        break;
    }
    case OTELC_ATTR_BOOL_ARRAY:
    case OTELC_ATTR_INT_ARRAY:
    case OTELC_ATTR_DOUBLE_ARRAY: {
        size_t count = u8(r) % (MAX_ELEMS + 2), elem = type == OTELC_ATTR_BOOL_ARRAY ? 1 : 8;
        unsigned char *arr;
        if (count == MAX_ELEMS + 1) {
            attr->len = 3;
            break;
        }
        arr = alloc(a, count * elem);
        for (size_t i = 0; i < count; i++) {
            if (type == OTELC_ATTR_BOOL_ARRAY) {
                ((bool *)(void *)arr)[i] = u8(r) & 1;
            } else {
                const uint8_t *src = take(r, 8, &n);
                memset(arr + 8 * i, 0, 8);
                memcpy(arr + 8 * i, src, n);
            }
        }
        attr->len = count;
        attr->v.bytes = arr;
        break;
    }
    default:
        /* Type 0, 10 and 11: not a type; the attribute is dropped. */
        break;
    }
}

static bool usable(const otelc_attr_t *a)
{
    return a->key != NULL && a->type >= OTELC_ATTR_STRING && a->type <= OTELC_ATTR_DOUBLE_ARRAY;
}

/* Checks a cut of s[0 .. raw) to `kept` bytes under `limit` as a string. */
static void check_utf8_cut(const char *s, size_t raw, size_t kept, uint32_t limit)
{
    if (raw <= limit) {
        FUZZ_CHECK(kept == raw);
        return;
    }
    FUZZ_CHECK(kept <= limit);
    /* A cut never leaves a continuation byte first in the dropped part,
     * unless it had to go back to the start. */
    FUZZ_CHECK(kept == 0 || ((unsigned char)s[kept] & 0xC0u) != 0x80u);
    /* It goes back only over continuation bytes. */
    for (size_t i = kept + 1; i <= limit; i++)
        FUZZ_CHECK(((unsigned char)s[i] & 0xC0u) == 0x80u);
}

/* Compares one decoded attribute with the one it was made from. */
static void compare(const otelc_attr_t *in, const otelc_attr_t *out, size_t key_len, uint8_t flags,
                    uint32_t value_limit)
{
    size_t in_key_len = strlen(in->key), raw, kept;
    bool truncated = false;

    FUZZ_CHECK(out->type == in->type);
    FUZZ_CHECK(key_len == (in_key_len > 65535u ? 65535u : in_key_len));
    FUZZ_CHECK(memcmp(out->key, in->key, key_len) == 0);
    FUZZ_CHECK((flags & ~OTELC__ATTR_F_TRUNCATED) == 0);

    switch (in->type) {
    case OTELC_ATTR_BOOL:
        FUZZ_CHECK(out->v.b == in->v.b);
        break;
    case OTELC_ATTR_INT:
        FUZZ_CHECK(out->v.i == in->v.i);
        break;
    case OTELC_ATTR_DOUBLE:
        FUZZ_CHECK(memcmp(&out->v.d, &in->v.d, 8) == 0);
        break;
    case OTELC_ATTR_STRING:
        raw = in->v.s == NULL ? 0 : in->len == OTELC_NUL_TERMINATED ? strlen(in->v.s) : in->len;
        kept = out->len;
        check_utf8_cut(in->v.s, raw, kept, value_limit);
        FUZZ_CHECK(kept == 0 || memcmp(out->v.s, in->v.s, kept) == 0);
        truncated = kept < raw;
        break;
    case OTELC_ATTR_BYTES:
        raw = in->v.bytes == NULL ? 0 : in->len;
        kept = raw < value_limit ? raw : value_limit;
        FUZZ_CHECK(out->len == kept);
        FUZZ_CHECK(kept == 0 || memcmp(out->v.bytes, in->v.bytes, kept) == 0);
        truncated = kept < raw;
        break;
    case OTELC_ATTR_STRING_ARRAY: {
        const unsigned char *q = out->v.bytes;
        FUZZ_CHECK(out->len == (in->v.sa != NULL ? in->len : 0));
        for (size_t i = 0; i < out->len; i++) {
            const char *s = in->v.sa[i];
            uint32_t l;
            memcpy(&l, q, 4);
            raw = s != NULL ? strlen(s) : 0;
            check_utf8_cut(s, raw, l, value_limit);
            FUZZ_CHECK(l == 0 || memcmp(q + 4, s, l) == 0);
            q += 4 + l;
        }
        /* Arrays do not set the flag: it belongs to a single value. */
        break;
    }
    case OTELC_ATTR_BOOL_ARRAY:
        FUZZ_CHECK(out->len == (in->v.ba != NULL ? in->len : 0));
        for (size_t i = 0; i < out->len; i++)
            FUZZ_CHECK(((const unsigned char *)out->v.bytes)[i] == (in->v.ba[i] ? 1 : 0));
        break;
    case OTELC_ATTR_INT_ARRAY:
    case OTELC_ATTR_DOUBLE_ARRAY:
        FUZZ_CHECK(out->len == (in->v.bytes != NULL ? in->len : 0));
        FUZZ_CHECK(out->len == 0 || memcmp(out->v.bytes, in->v.bytes, out->len * 8) == 0);
        break;
    }
    FUZZ_CHECK(((flags & OTELC__ATTR_F_TRUNCATED) != 0) == truncated);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader_t r = { data, size };
    arena_t arena = { { NULL }, 0 };
    otelc_attr_t attrs[MAX_ATTRS];
    uint32_t count_limit = pick_limit(u8(&r), UINT32_MAX);
    uint32_t value_limit = pick_limit(u8(&r), UINT32_MAX);
    size_t n = u8(&r) % (MAX_ATTRS + 1), usable_count = 0, measured, written, k = 0;
    const unsigned char *p, *end;
    unsigned char *buf;
    uint16_t kept = 0xbeef;

    for (size_t i = 0; i < n; i++) {
        build(&arena, &r, &attrs[i]);
        usable_count += usable(&attrs[i]);
    }

    measured = otelc__attrs_measure(attrs, n, count_limit, value_limit, &kept);
    FUZZ_CHECK(kept == (usable_count < count_limit ? usable_count : count_limit));
    buf = malloc(measured > 0 ? measured : 1);
    FUZZ_CHECK(buf != NULL);
    written = otelc__attrs_encode(buf, attrs, n, count_limit, value_limit);
    FUZZ_CHECK(written == measured);

    p = buf;
    end = buf + written;
    for (size_t i = 0; i < n && k < kept; i++) {
        otelc_attr_t out;
        size_t key_len = 0;
        uint8_t flags = 0xff;

        if (!usable(&attrs[i]))
            continue;
        FUZZ_CHECK(p < end);
        memset(&out, 0, sizeof(out));
        p = otelc__attr_decode(p, end, &out, &key_len, &flags);
        FUZZ_CHECK(p != NULL);
        compare(&attrs[i], &out, key_len, flags, value_limit);
        k++;
    }
    FUZZ_CHECK(k == kept && p == end);

    free(buf);
    for (size_t i = 0; i < arena.n; i++)
        free(arena.blocks[i]);
    return 0;
}
