/*
 * text.c: UTF-8, JSON strings and numbers, text for a terminal (otelc/text.h).
 *
 * One implementation for the console exporter, the exporters built as
 * libraries of their own and the otelc tool, which compiles this file into
 * itself: so it includes nothing of the core but the public header.
 *
 * The JSON writers run once per field of every record a file exporter
 * writes, so they avoid the C library's formatting: strings are scanned a
 * word at a time, integers written two digits at a time, and only doubles
 * that need more than 9 decimals go through snprintf, in the C locale. The
 * console's doubles (otelc_text_double) always do: a console is not a hot
 * path, and its form is printf's %g.
 */
#include <otelc/text.h>

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- UTF-8 and JSON strings ----------------------------------------------------- */

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
static inline size_t utf8_sequence(const unsigned char *p, size_t avail, size_t *bad)
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


size_t otelc_text_utf8_sequence(const char *p, size_t avail, size_t *bad)
{
    size_t scratch;

    if (p == NULL || avail == 0) {
        if (bad != NULL)
            *bad = avail > 0;
        return 0;
    }
    return utf8_sequence((const unsigned char *)p, avail, bad != NULL ? bad : &scratch);
}

size_t otelc_text_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, bad;

    while (i < n) {
        size_t len;

        if (p[i] < 0x80) {
            i++;
            continue;
        }
        len = utf8_sequence(p + i, n - i, &bad);
        if (len == 0)
            break;
        i += len;
    }
    return i;
}

char *otelc_text_json_escape(char *out, const char *s, size_t n, size_t *pos, size_t stop)
{
    if (s == NULL || stop > n)
        return out;
    return escape((const unsigned char *)s, n, pos, stop, out);
}

/* ---- integers ----------------------------------------------------------------------- */

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


char *otelc_text_u64(char *out, uint64_t v)
{
    return put_u64(out, v);
}

char *otelc_text_i64(char *out, int64_t v)
{
    uint64_t magnitude = (uint64_t)v;

    *out = '-';
    if (v < 0) {
        /* Negating in unsigned arithmetic is defined for INT64_MIN too. */
        magnitude = 0u - magnitude;
        out++;
    }
    return put_u64(out, magnitude);
}

/* ---- doubles ------------------------------------------------------------------------ */

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

/* Room for printf's %g of a double with 17 digits: "-1.2345678901234567e-308"
 * is 24 bytes, and a locale's decimal point may take a few more. */
#define G_ROOM (OTELC_TEXT_DOUBLE_MAX - 3)

/*
 * printf's %g with 15, 16, then 17 significant digits, the first that reads
 * back as `d` (17 always does; NaN and the infinities stop at 15), in the C
 * locale, into `text`. Returns its length, 0 when printf failed.
 *
 * printf writes into an array of the caller's, never into the `out` of the
 * public functions: its size is then the one snprintf is told, and the
 * compiler sees a destination that cannot be null. (With a pointer from the
 * caller, UBSan's null check before strtod() made gcc 12 at -O3 follow the
 * null path into the next snprintf() and fail the build with
 * -Werror=format-truncation.) The copy to `out` is the pass that repairs
 * the decimal point, which reads every byte anyway.
 */
static size_t shortest_g(char text[G_ROOM], double d)
{
    locale_t old = (locale_t)0;
    int n = 0;

    pthread_once(&c_locale_once, make_c_locale);
    if (c_locale != (locale_t)0)
        old = uselocale(c_locale);
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(text, G_ROOM, "%.*g", prec, d);
        if (n <= 0 || (size_t)n >= G_ROOM) {
            n = 0;
            break;
        }
        /* Without the C locale strtod might stop at a '.', and 17 digits
         * are right in every case. */
        if (c_locale == (locale_t)0 || prec == 17 || !isfinite(d) || strtod(text, NULL) == d)
            break;
    }
    if (c_locale != (locale_t)0)
        uselocale(old);
    return (size_t)n;
}

/*
 * Copies the `n` bytes of %g output `text` to `out`, NUL-terminated, with
 * whatever is not part of a C-locale number (digits, signs, the letters of
 * "e", "nan" and "inf") taken for the decimal point of a locale (one or
 * more bytes) and made one '.'. Returns the length; *has_point is whether
 * the number has a '.' or an exponent.
 */
static size_t repair_point(char *out, const char *text, size_t n, bool *has_point)
{
    size_t i, j;
    bool seen_point = false;

    *has_point = false;
    for (i = 0, j = 0; i < n; i++) {
        char c = text[i];

        if ((c >= '0' && c <= '9') || c == '-' || c == '+' || (c >= 'a' && c <= 'z') ||
            (c >= 'A' && c <= 'Z')) {
            out[j++] = c;
            if (c == 'e' || c == 'E')
                *has_point = true;
        } else if (!seen_point) {
            out[j++] = '.';
            seen_point = true;
            *has_point = true;
        }
    }
    out[j] = '\0';
    return j;
}

/* The slow path of otelc_text_json_double() for a finite `d`. An integral
 * value (2^53 and up, without an exponent) gets ".0" so that it reads as a
 * double. */
static size_t format_g(char *out, double d)
{
    char text[G_ROOM];
    size_t n = shortest_g(text, d), len;
    bool has_point;

    if (n == 0) {
        memcpy(out, "0.0", 4);
        return 3;
    }
    len = repair_point(out, text, n, &has_point);
    if (!has_point) {
        memcpy(out + len, ".0", 3);
        len += 2;
    }
    return len;
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

size_t otelc_text_json_double(char out[OTELC_TEXT_DOUBLE_MAX], double d)
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
     * what strtod makes of the decimal text: the text reads back exactly,
     * and it is written without trailing zeros.
     */
    if (a < TWO_POW_53) {
        for (unsigned k = 0; k < 10; k++) {
            double t = a * powers_of_ten[k];
            uint64_t m;
            unsigned decimals = k;

            if (t >= TWO_POW_53)
                break;
            m = (uint64_t)t;
            if ((double)m != t || (double)m / powers_of_ten[k] != a)
                continue;
            /* 4.35 * 100 is 434.99999999999994 and 4.35 * 1000 exactly
             * 4350: drop the zeros that k = 3 leaves. m / 10^k and the
             * shorter quotient are the same real number, so they round to
             * the same double. */
            while (decimals > 0 && m % 10u == 0) {
                m /= 10u;
                decimals--;
            }
            *p = '-';
            p += signbit(d) ? 1 : 0;
            return (size_t)(put_decimal(p, m, decimals) - out);
        }
    }
    return format_g(out, d);
}

size_t otelc_text_double(char out[OTELC_TEXT_DOUBLE_MAX], double d)
{
    char text[G_ROOM];
    size_t n = shortest_g(text, d);
    bool has_point;

    if (n == 0) {
        memcpy(out, "?", 2);
        return 1;
    }
    return repair_point(out, text, n, &has_point);
}


/* ---- text for a terminal --------------------------------------------------------------- */

/* The C1 controls U+0080..U+009F, encoded C2 80 to C2 9F. */
static bool is_c1(const unsigned char *p, size_t len)
{
    return len == 2 && p[0] == 0xc2 && p[1] <= 0x9f;
}

static void put_byte_escape(otelc_text_sink_fn sink, void *ctx, unsigned char b)
{
    char esc[4] = { '\\', 'x', hex_digits[b >> 4], hex_digits[b & 0x0f] };

    sink(ctx, esc, sizeof(esc));
}

void otelc_text_terminal(const char *s, size_t n, bool quoted, otelc_text_sink_fn sink, void *ctx)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0; /* bytes before p[i] that are copied as they are */
    size_t i = 0, bad;

    if (s == NULL || n == 0)
        return;
    while (i < n) {
        unsigned char b = p[i];
        size_t seq = 0;

        if (b >= 0x20 && b < 0x7f && !(quoted && (b == '"' || b == '\\'))) {
            i++;
            continue;
        }
        if (b >= 0x80) {
            seq = utf8_sequence(p + i, n - i, &bad);
            if (seq > 0 && !is_c1(p + i, seq)) {
                i += seq;
                continue;
            }
        }
        if (i > run)
            sink(ctx, s + run, i - run);
        if (b == '\n')
            sink(ctx, "\\n", 2);
        else if (b == '\t')
            sink(ctx, "\\t", 2);
        else if (b == '\r')
            sink(ctx, "\\r", 2);
        else if (b == '"')
            sink(ctx, "\\\"", 2);
        else if (b == '\\')
            sink(ctx, "\\\\", 2);
        else if (seq > 0) {
            /* A C1 control: both of its bytes. */
            put_byte_escape(sink, ctx, p[i]);
            put_byte_escape(sink, ctx, p[i + 1]);
            i += seq - 1;
        } else {
            put_byte_escape(sink, ctx, b);
        }
        i++;
        run = i;
    }
    if (n > run)
        sink(ctx, s + run, n - run);
}

bool otelc_text_needs_quotes(const char *s, size_t n, bool in_array)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t bad;

    if (s == NULL || n == 0)
        return true;
    for (size_t i = 0; i < n;) {
        unsigned char b = p[i];
        size_t seq;

        if (b <= 0x20 || b == 0x7f || b == '"' || b == '=')
            return true;
        if (in_array && (b == ',' || b == '[' || b == ']'))
            return true;
        if (b < 0x80) {
            i++;
            continue;
        }
        seq = utf8_sequence(p + i, n - i, &bad);
        if (seq == 0 || is_c1(p + i, seq))
            return true;
        i += seq;
    }
    return false;
}

void otelc_text_level(int severity, const char **name, const char **color)
{
    static const struct {
        const char *name, *color;
    } levels[6] = {
        { "TRACE", "\x1b[2m" },  { "DEBUG", "\x1b[36m" }, { "INFO", "\x1b[32m" },
        { "WARNING", "\x1b[33m" }, { "ERROR", "\x1b[31m" }, { "CRITICAL", "\x1b[1;31m" },
    };
    int i = severity < 5 ? 0 : severity >= 21 ? 5 : (severity - 1) / 4;

    *name = levels[i].name;
    *color = levels[i].color;
}
