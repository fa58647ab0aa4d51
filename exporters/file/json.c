/*
 * json.c: the append buffer and the JSON writers of the file exporter.
 *
 * These run once per field of every record written, so they avoid the C
 * library's formatting: ids and timestamps are written digit by digit into
 * room reserved once per value; strings, integers and doubles by the core's
 * text module (otelc/text.h), which the console and the otelc tool share.
 */
#include "json.h"

#include <otelc/text.h>

#include <stdio.h>
#include <stdlib.h>

/* ---- the buffer ------------------------------------------------------------ */

/* Marks the buffer failed; see otelc__fbuf_t for why `cap` is lowered. */
static void fail(otelc__fbuf_t *b)
{
    b->failed = true;
    b->cap = b->len;
}

bool otelc__fbuf_grow(otelc__fbuf_t *b, size_t n)
{
    size_t need, cap;
    char *data;

    if (b->failed)
        return false;
    if (b->cap - b->len >= n)
        return true;
    if (n > SIZE_MAX / 2 - b->len)
        goto fail;
    need = b->len + n;
    cap = b->cap < 256 ? 256 : b->cap;
    while (cap < need)
        cap *= 2;
    data = realloc(b->data, cap);
    if (data == NULL)
        goto fail;
    b->data = data;
    b->cap = cap;
    return true;
fail:
    fail(b);
    return false;
}

void otelc__fbuf_free(otelc__fbuf_t *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

/* ---- strings --------------------------------------------------------------- */

#if defined(__GNUC__)
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE static inline
#endif

/* Ids are written a word (8 bytes) at a time on little-endian machines with
 * GCC's builtins, a byte at a time elsewhere. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define WORD_SCAN 1
#define ONES 0x0101010101010101ull
#else
#define WORD_SCAN 0
#endif

/* Input bytes escaped per reservation of room, so that a long value does
 * not reserve six times its size at once. */
#define STRING_ROUND 4096u

/* The body of a long string, in rounds; the caller writes the quotes. */
static void long_string_body(otelc__fbuf_t *b, const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t stop = n - i > STRING_ROUND ? i + STRING_ROUND : n;
        char *o;

        if (!otelc__fbuf_reserve(b, OTELC_TEXT_JSON_ROOM(stop - i) + 6))
            return;
        o = otelc_text_json_escape(b->data + b->len, (const char *)s, n, &i, stop);
        b->len = (size_t)(o - b->data);
    }
}

/* `"s"` followed by `suffix` (0: none), preceded by `prefix` (0: none). */
ALWAYS_INLINE void quoted(otelc__fbuf_t *b, char prefix, const char *str, size_t n, char suffix)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    char *o;

    if (s == NULL)
        n = 0;
    if (OTELC_UNLIKELY(n > STRING_ROUND)) {
        if (prefix != 0)
            otelc__fbuf_putc(b, prefix);
        otelc__fbuf_putc(b, '"');
        long_string_body(b, s, n);
        otelc__fbuf_putc(b, '"');
        if (suffix != 0)
            otelc__fbuf_putc(b, suffix);
        return;
    }
    if (!otelc__fbuf_reserve(b, OTELC_TEXT_JSON_ROOM(n) + 10))
        return;
    o = b->data + b->len;
    *o = prefix;
    o += prefix != 0;
    *o++ = '"';
    o = otelc_text_json_escape_inline(o, str, n, &i, n);
    *o++ = '"';
    *o = suffix;
    o += suffix != 0;
    b->len = (size_t)(o - b->data);
}

void otelc__json_string(otelc__fbuf_t *b, const char *s, size_t n)
{
    quoted(b, 0, s, n, 0);
}

void otelc__json_cstring(otelc__fbuf_t *b, const char *s)
{
    quoted(b, 0, s, s != NULL ? strlen(s) : 0, 0);
}

void otelc__json_key(otelc__fbuf_t *b, bool comma, const char *s, size_t n)
{
    quoted(b, comma ? ',' : 0, s, n, ':');
}

/* ---- integers -------------------------------------------------------------- */

void otelc__json_u64(otelc__fbuf_t *b, uint64_t v)
{
    if (otelc__fbuf_reserve(b, OTELC_TEXT_U64_MAX))
        b->len = (size_t)(otelc_text_u64(b->data + b->len, v) - b->data);
}

void otelc__json_i64(otelc__fbuf_t *b, int64_t v)
{
    if (otelc__fbuf_reserve(b, OTELC_TEXT_I64_MAX))
        b->len = (size_t)(otelc_text_i64(b->data + b->len, v) - b->data);
}

void otelc__json_u64_string(otelc__fbuf_t *b, uint64_t v)
{
    char *o;

    if (!otelc__fbuf_reserve(b, OTELC_TEXT_U64_MAX + 2))
        return;
    o = b->data + b->len;
    *o++ = '"';
    o = otelc_text_u64(o, v);
    *o++ = '"';
    b->len = (size_t)(o - b->data);
}

void otelc__json_i64_string(otelc__fbuf_t *b, int64_t v)
{
    char *o;

    if (!otelc__fbuf_reserve(b, OTELC_TEXT_I64_MAX + 2))
        return;
    o = b->data + b->len;
    *o++ = '"';
    o = otelc_text_i64(o, v);
    *o++ = '"';
    b->len = (size_t)(o - b->data);
}

/* ---- doubles --------------------------------------------------------------- */

void otelc__json_double(otelc__fbuf_t *b, double d)
{
    if (otelc__fbuf_reserve(b, OTELC_TEXT_DOUBLE_MAX))
        b->len += otelc_text_json_double(b->data + b->len, d);
}

/* ---- bytes ----------------------------------------------------------------- */

static const char base64_digits[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void otelc__json_base64(otelc__fbuf_t *b, const void *data, size_t n)
{
    const unsigned char *p = data;
    size_t i;
    char *o;

    if (p == NULL)
        n = 0;
    if (n > (SIZE_MAX - 8) / 4 * 3 || !otelc__fbuf_reserve(b, (n + 2) / 3 * 4 + 2)) {
        fail(b);
        return;
    }
    o = b->data + b->len;
    *o++ = '"';
    for (i = 0; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        o[0] = base64_digits[v >> 18];
        o[1] = base64_digits[(v >> 12) & 63];
        o[2] = base64_digits[(v >> 6) & 63];
        o[3] = base64_digits[v & 63];
        o += 4;
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        o[0] = base64_digits[v >> 18];
        o[1] = base64_digits[(v >> 12) & 63];
        o[2] = o[3] = '=';
        o += 4;
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        o[0] = base64_digits[v >> 18];
        o[1] = base64_digits[(v >> 12) & 63];
        o[2] = base64_digits[(v >> 6) & 63];
        o[3] = '=';
        o += 4;
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
}

static const char hex_pairs[513] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

#if WORD_SCAN
/*
 * Four bytes as eight hex digits, in a word: each byte is spread to a
 * 16-bit lane, its high nibble to the lane's first byte and its low nibble
 * to the second, then every nibble n becomes '0' + n, plus 39 when n > 9
 * ('a' - '0' - 10).
 */
static inline uint64_t hex4(uint32_t v)
{
    uint64_t y = (uint64_t)v;
    uint64_t nib, over;

    y = (y | y << 16) & 0x0000ffff0000ffffull;
    y = (y | y << 8) & 0x00ff00ff00ff00ffull;
    nib = ((y >> 4) & 0x000f000f000f000full) | ((y & 0x000f000f000f000full) << 8);
    over = ((nib + ONES * 6u) >> 4) & ONES;
    return nib + ONES * '0' + over * 39u;
}

/* `words` groups of 4 bytes of p as hex at o; a constant count unrolls. */
ALWAYS_INLINE char *put_hex_words(char *o, const uint8_t *p, size_t words)
{
    for (size_t w = 0; w < words; w++) {
        uint32_t v;
        uint64_t h;

        memcpy(&v, p + 4 * w, 4);
        h = hex4(v);
        memcpy(o + 8 * w, &h, 8);
    }
    return o + 8 * words;
}
#endif

void otelc__json_hex(otelc__fbuf_t *b, const uint8_t *p, size_t n)
{
    size_t i = 0;
    char *o;

    if (n > SIZE_MAX / 2 - 2 || !otelc__fbuf_reserve(b, 2 * n + 2)) {
        fail(b);
        return;
    }
    o = b->data + b->len;
    *o++ = '"';
#if WORD_SCAN
    /* Trace ids and span ids get code of their own. */
    if (n == 16) {
        o = put_hex_words(o, p, 4);
        i = 16;
    } else if (n == 8) {
        o = put_hex_words(o, p, 2);
        i = 8;
    }
#endif
    for (; i < n; i++, o += 2)
        memcpy(o, hex_pairs + 2 * p[i], 2);
    *o++ = '"';
    b->len = (size_t)(o - b->data);
}

/* ---- time ------------------------------------------------------------------ */

/*
 * The proleptic Gregorian date of a day counted from 1970-01-01, by the
 * civil-from-days method of H. Hinnant: the year is shifted to start on
 * March 1st, so that the leap day ends it, and split into 400-year eras of
 * 146097 days. `days` is below 2^64 / 86400, far from overflowing.
 */
static void civil_from_days(uint64_t days, unsigned *year, unsigned *month, unsigned *day)
{
    uint64_t z = days + 719468u; /* days from 0000-03-01 */
    uint64_t era = z / 146097u;
    unsigned doe = (unsigned)(z - era * 146097u);                             /* [0, 146096] */
    unsigned yoe = (doe - doe / 1460u + doe / 36524u - doe / 146096u) / 365u; /* [0, 399] */
    unsigned doy = doe - (365u * yoe + yoe / 4u - yoe / 100u);                /* [0, 365] */
    unsigned mp = (5u * doy + 2u) / 153u;                                     /* [0, 11], March 0 */

    *day = doy - (153u * mp + 2u) / 5u + 1u;
    *month = mp < 10u ? mp + 3u : mp - 9u;
    *year = (unsigned)(yoe + era * 400u) + (*month <= 2u ? 1u : 0u);
}

static void put2(char *o, unsigned v)
{
    o[0] = (char)('0' + v / 10u);
    o[1] = (char)('0' + v % 10u);
}

/* Brings the cache to second `sec`: the time of day always, the date when
 * the day changed. */
static void clock_set(otelc__json_clock_t *c, uint64_t sec)
{
    uint64_t day = sec / 86400u;
    unsigned in_day = (unsigned)(sec % 86400u);

    if (!c->valid || c->day != day) {
        unsigned y, m, d;

        civil_from_days(day, &y, &m, &d);
        /* Years past 9999 cannot occur: 2^64 ns is in the year 2554. */
        put2(c->text, y / 100u % 100u);
        put2(c->text + 2, y % 100u);
        c->text[4] = '-';
        put2(c->text + 5, m);
        c->text[7] = '-';
        put2(c->text + 8, d);
        c->text[10] = 'T';
        c->text[13] = ':';
        c->text[16] = ':';
        c->day = day;
    }
    put2(c->text + 11, in_day / 3600u);
    put2(c->text + 14, in_day / 60u % 60u);
    put2(c->text + 17, in_day % 60u);
    c->sec = sec;
    c->valid = true;
}

void otelc__json_time(otelc__fbuf_t *b, otelc__json_clock_t *clock, uint64_t ns)
{
    uint64_t sec = ns / 1000000000u;
    unsigned us = (unsigned)(ns % 1000000000u / 1000u);
    char *o;

    if (!otelc__fbuf_reserve(b, 29))
        return;
    if (OTELC_UNLIKELY(!clock->valid || clock->sec != sec))
        clock_set(clock, sec);
    o = b->data + b->len;
    o[0] = '"';
    memcpy(o + 1, clock->text, 19);
    o[20] = '.';
    put2(o + 21, us / 10000u);
    put2(o + 23, us / 100u % 100u);
    put2(o + 25, us % 100u);
    o[27] = 'Z';
    o[28] = '"';
    b->len += 29;
}

void otelc__json_ms(otelc__fbuf_t *b, uint64_t ns)
{
    unsigned frac = (unsigned)(ns % 1000000u);
    size_t digits = 6;
    char *o;

    if (!otelc__fbuf_reserve(b, 28))
        return;
    o = otelc_text_u64(b->data + b->len, ns / 1000000u);
    *o++ = '.';
    put2(o, frac / 10000u);
    put2(o + 2, frac / 100u % 100u);
    put2(o + 4, frac % 100u);
    /* Six decimals, trailing zeros dropped but the first. */
    while (digits > 1 && o[digits - 1] == '0')
        digits--;
    b->len = (size_t)(o + digits - b->data);
}
