/*
 * json.c: the append buffer and the JSON writers of the file exporter.
 *
 * These run once per field of every record written, so they avoid the C
 * library's formatting: integers, ids, timestamps and most doubles are
 * written digit by digit into room reserved once per value. Only doubles
 * that need more than 9 decimals go through snprintf, in the C locale.
 */
#include "json.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
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

static const char hex_digits[] = "0123456789abcdef";

#if defined(__GNUC__)
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE static inline
#endif

/* Strings are scanned a word (8 bytes) at a time on little-endian machines
 * with GCC's builtins, a byte at a time elsewhere. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define WORD_SCAN 1
#else
#define WORD_SCAN 0

/* What a byte needs in a string: 0 nothing, 1 an escape, 2 a UTF-8 check. */
static const unsigned char byte_class[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x10 */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20: '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x50: '\\' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x60 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x70: DEL passes */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0x80 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0x90 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xA0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xB0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xC0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xD0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xE0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xF0 */
};
#endif

/* The letter of the short escapes of RFC 8259 for control characters, or 0
 * for those written as \u00XX. */
static const char short_escape[32] = {
    ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r',
};

/*
 * The length of the well-formed UTF-8 sequence at `p` (`avail` bytes
 * readable), called for a byte >= 0x80. Returns 2 to 4 for a well-formed
 * sequence. Otherwise returns 0 and sets *bad to the length of its maximal
 * subpart: the longest start of a well-formed sequence (at least 1 byte),
 * which is replaced by one U+FFFD as the Unicode standard recommends
 * (chapter 3, "U+FFFD Substitution of Maximal Subparts"). The ranges of the
 * second byte are those of its table 3-7: they leave out overlong forms,
 * surrogates and code points past U+10FFFF.
 */
static size_t utf8_sequence(const unsigned char *p, size_t avail, size_t *bad)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xbf;
    size_t need, i;

    if (c >= 0xc2 && c <= 0xdf) {
        need = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        *bad = 1;
        return 0;
    }
    if (avail < 2 || p[1] < lo || p[1] > hi) {
        *bad = 1;
        return 0;
    }
    for (i = 2; i < need; i++) {
        if (i >= avail || (p[i] & 0xc0u) != 0x80u) {
            *bad = i;
            return 0;
        }
    }
    return need;
}

/*
 * Writes the byte at s[*i], one that needs an escape or a UTF-8 check, and
 * what belongs to it, advancing *i. `o` has room for 6 bytes.
 */
static char *write_special(const unsigned char *s, size_t n, size_t *i, char *o)
{
    unsigned char c = s[*i];
    size_t len, bad;

    if (c < 0x80) {
        o[0] = '\\';
        if (c == '"' || c == '\\') {
            o[1] = (char)c;
            o += 2;
        } else if (short_escape[c] != 0) {
            o[1] = short_escape[c];
            o += 2;
        } else {
            memcpy(o + 1, "u00", 3);
            o[4] = hex_digits[c >> 4];
            o[5] = hex_digits[c & 0x0f];
            o += 6;
        }
        *i += 1;
        return o;
    }
    len = utf8_sequence(s + *i, n - *i, &bad);
    if (len > 0) {
        memcpy(o, s + *i, len);
        *i += len;
        return o + len;
    }
    memcpy(o, "\xef\xbf\xbd", 3);
    *i += bad;
    return o + 3;
}

#if WORD_SCAN
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
#define PAD (ONES * 'a') /* bytes that need nothing */

/*
 * Marks (with the byte's high bit) the bytes of a little-endian word that
 * are not copied as they are: below 0x20, '"', '\\', or 0x80 and up. The
 * zero-byte tests borrow into the bytes above a match, so only the lowest
 * mark is exact: it is the first byte to handle, and all that matters.
 */
static inline uint64_t special_bytes(uint64_t x)
{
    uint64_t control = (x - ONES * 0x20u) & ~x;
    uint64_t quote = x ^ (ONES * '"');
    uint64_t backslash = x ^ (ONES * '\\');

    quote = (quote - ONES) & ~quote;
    backslash = (backslash - ONES) & ~backslash;
    return (control | quote | backslash | x) & HIGHS;
}

/* The n < 8 bytes at p in the low bytes of a word and PAD above them, read
 * with two overlapping loads and never past p + n. */
static inline uint64_t load_short(const unsigned char *p, size_t n)
{
    uint64_t x, keep;

    if (n >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + n - 4, 4);
        x = (uint64_t)lo | (uint64_t)hi << (8 * (n - 4));
    } else if (n >= 2) {
        uint16_t lo, hi;
        memcpy(&lo, p, 2);
        memcpy(&hi, p + n - 2, 2);
        x = (uint64_t)lo | (uint64_t)hi << (8 * (n - 2));
    } else if (n == 1) {
        x = p[0];
    } else {
        return PAD;
    }
    keep = (1ull << (8 * n)) - 1u;
    return (x & keep) | (PAD & ~keep);
}

/*
 * Escapes s[*i, stop) into `o` and returns the end of what it wrote; *i
 * ends at stop or just past it (a UTF-8 sequence begun before `stop` is
 * taken whole, up to `n`). `o` needs room for 6 bytes per input byte plus
 * 10: words of 8 bytes are stored before they are checked, and the part
 * before the first byte that needs something kept.
 */
ALWAYS_INLINE char *escape(const unsigned char *s, size_t n, size_t *i, size_t stop, char *o)
{
    size_t at = *i;

    while (at < stop) {
        size_t left = stop - at, take = left < 8 ? left : 8;
        uint64_t x, m;

        if (left >= 8)
            memcpy(&x, s + at, 8);
        else
            x = load_short(s + at, left);
        memcpy(o, &x, 8);
        m = special_bytes(x);
        if (m == 0) {
            o += take;
            at += take;
            continue;
        }
        take = (size_t)__builtin_ctzll(m) >> 3; /* PAD bytes are never marked */
        o += take;
        at += take;
        o = write_special(s, n, &at, o);
    }
    *i = at;
    return o;
}
#else
static char *escape(const unsigned char *s, size_t n, size_t *i, size_t stop, char *o)
{
    size_t at = *i;

    while (at < stop) {
        if (byte_class[s[at]] == 0)
            *o++ = (char)s[at++];
        else
            o = write_special(s, n, &at, o);
    }
    *i = at;
    return o;
}
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

        if (!otelc__fbuf_reserve(b, 6 * (stop - i) + 16))
            return;
        o = escape(s, n, &i, stop, b->data + b->len);
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
    if (!otelc__fbuf_reserve(b, 6 * n + 20))
        return;
    o = b->data + b->len;
    *o = prefix;
    o += prefix != 0;
    *o++ = '"';
    o = escape(s, n, &i, n, o);
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

static const char digit_pairs[201] = "00010203040506070809"
                                     "10111213141516171819"
                                     "20212223242526272829"
                                     "30313233343536373839"
                                     "40414243444546474849"
                                     "50515253545556575859"
                                     "60616263646566676869"
                                     "70717273747576777879"
                                     "80818283848586878889"
                                     "90919293949596979899";

static const uint64_t powers_of_ten_u64[20] = {
    1u,
    10u,
    100u,
    1000u,
    10000u,
    100000u,
    1000000u,
    10000000u,
    100000000u,
    1000000000u,
    10000000000u,
    100000000000u,
    1000000000000u,
    10000000000000u,
    100000000000000u,
    1000000000000000u,
    10000000000000000u,
    100000000000000000u,
    1000000000000000000u,
    10000000000000000000u,
};

/* The number of decimal digits of v: log10 from the bit length (1233/4096
 * is just above log10(2)), corrected by one comparison. */
static unsigned digit_count(uint64_t v)
{
#if defined(__GNUC__)
    uint64_t w = v | 1u;
    unsigned t = ((64u - (unsigned)__builtin_clzll(w)) * 1233u) >> 12;
    return t + 1u - (w < powers_of_ten_u64[t] ? 1u : 0u);
#else
    unsigned n = 1;
    while (n < 20 && v >= powers_of_ten_u64[n])
        n++;
    return n;
#endif
}

/* Writes the digits of v at `o`, two at a time from the last; returns the
 * end. */
static char *put_u64(char *o, uint64_t v)
{
    char *end = o + digit_count(v);
    char *p = end;

    while (v >= 100) {
        p -= 2;
        memcpy(p, digit_pairs + 2 * (v % 100u), 2);
        v /= 100u;
    }
    if (v >= 10)
        memcpy(p - 2, digit_pairs + 2 * v, 2);
    else
        p[-1] = (char)('0' + v);
    return end;
}

/* An integer with its sign and, when `quote`, between quotes. */
static void write_integer(otelc__fbuf_t *b, bool negative, uint64_t magnitude, bool quote)
{
    char *o;

    if (!otelc__fbuf_reserve(b, 24))
        return;
    o = b->data + b->len;
    *o = '"';
    o += quote;
    *o = '-';
    o += negative;
    o = put_u64(o, magnitude);
    *o = '"';
    o += quote;
    b->len = (size_t)(o - b->data);
}

void otelc__json_u64(otelc__fbuf_t *b, uint64_t v)
{
    write_integer(b, false, v, false);
}

/* Negating in unsigned arithmetic is defined for INT64_MIN too. */
void otelc__json_i64(otelc__fbuf_t *b, int64_t v)
{
    write_integer(b, v < 0, v < 0 ? 0u - (uint64_t)v : (uint64_t)v, false);
}

void otelc__json_u64_string(otelc__fbuf_t *b, uint64_t v)
{
    write_integer(b, false, v, true);
}

void otelc__json_i64_string(otelc__fbuf_t *b, int64_t v)
{
    write_integer(b, v < 0, v < 0 ? 0u - (uint64_t)v : (uint64_t)v, true);
}

/* ---- doubles --------------------------------------------------------------- */

static const double powers_of_ten[10] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9 };

#define TWO_POW_53 9007199254740992.0

/*
 * The C locale for snprintf and strtod: a host that called setlocale() with
 * a decimal comma must not change the numbers. Made once; NULL when that
 * failed, and then the decimal point is repaired by hand.
 */
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

static void make_c_locale(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/*
 * The slow path: printf's %g with 15, 16, then 17 significant digits, the
 * first that reads back as `d` (17 always does). `d` is finite. Writes into
 * `out` (room for OTELC__JSON_DOUBLE_MAX bytes).
 *
 * printf writes into an array of this function, never into `out`: its size
 * is then the one snprintf is told, whatever the caller passed, and the
 * compiler sees a destination that cannot be null. (With a pointer from the
 * caller, UBSan's null check before strtod() made gcc 12 at -O3 follow the
 * null path into the next snprintf() and fail the build with
 * -Werror=format-truncation.) The copy to `out` is the pass that repairs
 * the decimal point, which reads every byte anyway.
 */
static size_t format_g(char *out, double d)
{
    /* Three bytes short of `out`: room for the ".0" an integral value
     * gets, and the NUL. */
    char text[OTELC__JSON_DOUBLE_MAX - 3];
    locale_t old = (locale_t)0;
    int n = 0;
    size_t i, j;
    bool seen_point = false, need_point = true;

    pthread_once(&c_locale_once, make_c_locale);
    if (c_locale != (locale_t)0)
        old = uselocale(c_locale);
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(text, sizeof(text), "%.*g", prec, d);
        if (n <= 0 || (size_t)n >= sizeof(text)) {
            n = 0;
            break;
        }
        /* Without the C locale strtod might stop at a '.', and 17 digits
         * are right in every case. */
        if (c_locale == (locale_t)0 || prec == 17 || strtod(text, NULL) == d)
            break;
    }
    if (c_locale != (locale_t)0)
        uselocale(old);
    if (n == 0) {
        memcpy(out, "0.0", 4);
        return 3;
    }
    /* Whatever is not part of a C-locale number is a locale's decimal point
     * (one or more bytes): make it one '.'. An integral value (2^53 and
     * up, without an exponent) gets ".0" so that it reads as a double. */
    for (i = 0, j = 0; i < (size_t)n; i++) {
        char c = text[i];

        if ((c >= '0' && c <= '9') || c == '-' || c == '+') {
            out[j++] = c;
        } else if (c == 'e' || c == 'E') {
            out[j++] = 'e';
            need_point = false;
        } else if (!seen_point) {
            out[j++] = '.';
            seen_point = true;
            need_point = false;
        }
    }
    if (need_point) {
        memcpy(out + j, ".0", 2);
        j += 2;
    }
    out[j] = '\0';
    return j;
}

/*
 * m / 10^k in decimal at `o`: at least one digit before the point, k after
 * it, ".0" when k is 0. NUL-terminated; returns the end (before the NUL).
 */
static char *put_decimal(char *o, uint64_t m, unsigned k)
{
    unsigned nd = digit_count(m);
    unsigned total = nd > k ? nd : k + 1u; /* 5 with 2 decimals is 0.05 */
    char *end, *p;
    unsigned j = 0;

    if (k == 0) {
        p = put_u64(o, m);
        memcpy(p, ".0", 3);
        return p + 2;
    }
    end = o + total + 1u;
    *end = '\0';
    p = end;
    for (; j + 2 <= k; j += 2) {
        p -= 2;
        memcpy(p, digit_pairs + 2 * (m % 100u), 2);
        m /= 100u;
    }
    if (j < k) {
        *--p = (char)('0' + m % 10u);
        m /= 10u;
    }
    *--p = '.';
    /* What is left of m is the integer part, total - k digits (a 0). */
    put_u64(o, m);
    return end;
}

size_t otelc__json_format_double(char out[OTELC__JSON_DOUBLE_MAX], double d)
{
    double a = signbit(d) ? -d : d;
    char *p = out;

    if (isnan(d)) {
        memcpy(out, "\"NaN\"", 6);
        return 5;
    }
    if (isinf(d)) {
        if (d > 0) {
            memcpy(out, "\"Infinity\"", 11);
            return 10;
        }
        memcpy(out, "\"-Infinity\"", 12);
        return 11;
    }
    /*
     * The fast path: the fewest decimals k (up to 9) for which |d| * 10^k is
     * an integer m below 2^53 and m / 10^k gives |d| back. m and 10^k are
     * exact doubles and IEEE division rounds correctly, so that quotient is
     * what strtod makes of the decimal text: the text reads back exactly.
     */
    if (a < TWO_POW_53) {
        for (unsigned k = 0; k < 10; k++) {
            double t = a * powers_of_ten[k];
            uint64_t m;

            if (t >= TWO_POW_53)
                break;
            m = (uint64_t)t;
            if ((double)m != t || (double)m / powers_of_ten[k] != a)
                continue;
            *p = '-';
            p += signbit(d) ? 1 : 0;
            return (size_t)(put_decimal(p, m, k) - out);
        }
    }
    return format_g(out, d);
}

void otelc__json_double(otelc__fbuf_t *b, double d)
{
    if (otelc__fbuf_reserve(b, OTELC__JSON_DOUBLE_MAX))
        b->len += otelc__json_format_double(b->data + b->len, d);
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
    memcpy(o, digit_pairs + 2 * v, 2);
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
    o = put_u64(b->data + b->len, ns / 1000000u);
    *o++ = '.';
    put2(o, frac / 10000u);
    put2(o + 2, frac / 100u % 100u);
    put2(o + 4, frac % 100u);
    /* Six decimals, trailing zeros dropped but the first. */
    while (digits > 1 && o[digits - 1] == '0')
        digits--;
    b->len = (size_t)(o + digits - b->data);
}
