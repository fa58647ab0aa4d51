/*
 * otelc/text.h: UTF-8, JSON strings and numbers, and text for a terminal --
 * the one implementation that the core's console exporter, the exporters
 * built as libraries of their own (the file exporter's JSON writer) and the
 * `otelc` tool (which compiles sdk/src/text.c into itself) share.
 *
 * Every function is pure: no allocation, no global state but the C locale
 * made once for the rare double that needs printf, safe on any thread. They
 * write into room the caller reserved (the sizes are given with each), so
 * that a writer reserves once per value and calls no function per byte.
 */
#ifndef OTELC_TEXT_H
#define OTELC_TEXT_H

#include <otelc/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- UTF-8 ------------------------------------------------------------------------ */

/*
 * The length of the well-formed UTF-8 sequence at `p` (`avail` bytes
 * readable, avail >= 1, p[0] >= 0x80): 2 to 4. For an ill-formed one
 * returns 0 and sets *bad (when not NULL) to the length of its maximal
 * subpart (at least 1), the bytes that one U+FFFD replaces, as the Unicode
 * standard recommends ("U+FFFD Substitution of Maximal Subparts"). Overlong
 * forms, surrogates and code points past U+10FFFF are ill-formed (RFC 3629).
 */
OTELC_API size_t otelc_text_utf8_sequence(const char *p, size_t avail, size_t *bad);

/* The length of the longest prefix of `s` that is well-formed UTF-8. */
OTELC_API size_t otelc_text_utf8_valid(const char *s, size_t n);

/* The value of hex digit `c` (0-9, a-f, A-F), or -1 for any other byte. */
static inline int otelc_text_hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* ---- JSON ------------------------------------------------------------------------- */

/* Room otelc_text_json_escape() needs for `n` input bytes. */
#define OTELC_TEXT_JSON_ROOM(n) (6u * (n) + 10u)

/*
 * Writes s[*pos, stop) as the inside of a JSON string (no quotes) at `out`
 * and returns the end of what it wrote; *pos ends at `stop`, or just past
 * it when a UTF-8 sequence begun before `stop` ends after it (it is taken
 * whole, up to `n`), so that a long string can be written in rounds. `"`
 * and `\` are escaped, control characters as \n, \t, \r, \b, \f or \u00XX
 * (RFC 8259), ill-formed UTF-8 becomes U+FFFD (one per maximal subpart);
 * the rest, DEL and well-formed UTF-8 included, is copied. `out` needs
 * OTELC_TEXT_JSON_ROOM(stop - *pos) bytes.
 */
OTELC_API char *otelc_text_json_escape(char *out, const char *s, size_t n, size_t *pos,
                                       size_t stop);

/*
 * The same, with the common case inline: the bytes that need nothing are
 * copied 8 at a time here, in the caller, and only from the first byte
 * that needs an escape or a UTF-8 check on is the rest left to
 * otelc_text_json_escape(). For writers that escape many short strings
 * (keys, names), where a call per string would cost more than the string.
 */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
static inline __attribute__((always_inline)) char *
otelc_text_json_escape_inline(char *out, const char *s, size_t n, size_t *pos, size_t stop)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    const uint64_t pad = ones * 'a'; /* bytes that need nothing */
    size_t at = *pos;

    while (at < stop) {
        size_t left = stop - at, take = left < 8 ? left : 8;
        uint64_t x, control, quote, backslash, m;

        if (left >= 8) {
            __builtin_memcpy(&x, s + at, 8);
        } else {
            /* The left < 8 bytes in the low bytes, `pad` above, read
             * with two overlapping loads and never past s + stop. */
            const unsigned char *p = (const unsigned char *)s + at;
            uint64_t keep = (1ull << (8 * left)) - 1u;

            if (left >= 4) {
                uint32_t lo, hi;
                __builtin_memcpy(&lo, p, 4);
                __builtin_memcpy(&hi, p + left - 4, 4);
                x = (uint64_t)lo | (uint64_t)hi << (8 * (left - 4));
            } else if (left >= 2) {
                uint16_t lo, hi;
                __builtin_memcpy(&lo, p, 2);
                __builtin_memcpy(&hi, p + left - 2, 2);
                x = (uint64_t)lo | (uint64_t)hi << (8 * (left - 2));
            } else {
                x = p[0];
            }
            x = (x & keep) | (pad & ~keep);
        }
        __builtin_memcpy(out, &x, 8);
        /* The high bit marks bytes below 0x20, '"', '\\' and 0x80 up; only
         * the lowest mark is exact, and only it matters. */
        control = (x - ones * 0x20u) & ~x;
        quote = x ^ (ones * '"');
        backslash = x ^ (ones * '\\');
        quote = (quote - ones) & ~quote;
        backslash = (backslash - ones) & ~backslash;
        m = (control | quote | backslash | x) & highs;
        if (m != 0) {
            take = (size_t)__builtin_ctzll(m) >> 3;
            *pos = at + take;
            return otelc_text_json_escape(out + take, s, n, pos, stop);
        }
        out += take;
        at += take;
    }
    *pos = at;
    return out;
}
#else
static inline char *otelc_text_json_escape_inline(char *out, const char *s, size_t n,
                                                  size_t *pos, size_t stop)
{
    return otelc_text_json_escape(out, s, n, pos, stop);
}
#endif

/* Room for the numbers below. */
#define OTELC_TEXT_U64_MAX 20    /* 18446744073709551615 */
#define OTELC_TEXT_I64_MAX 20    /* -9223372036854775808 */
#define OTELC_TEXT_DOUBLE_MAX 40 /* with the NUL */

/* The decimal digits of `v` at `out` (not NUL-terminated); returns the
 * end. */
OTELC_API char *otelc_text_u64(char *out, uint64_t v);

/* The same for a signed `v`, with a '-' when it is negative (INT64_MIN
 * included). */
OTELC_API char *otelc_text_i64(char *out, int64_t v);

/*
 * A double as a JSON number that reads back as the same double (sign of
 * zero included), in the shortest form found: integral values with ".0"
 * ("150.0"), values with up to 9 decimals as plain decimals ("150.25",
 * "0.1"), others in the shortest of 15, 16 or 17 significant digits
 * ("1e+300"), whatever the program's locale. JSON has no NaN or
 * infinities: they are written as the strings "NaN", "Infinity" and
 * "-Infinity" (with the quotes), as the proto3 JSON mapping does.
 * NUL-terminated; returns the length.
 */
OTELC_API size_t otelc_text_json_double(char out[OTELC_TEXT_DOUBLE_MAX], double d);

/*
 * A double for people (a console line, not JSON): the fewest of 15, 16 or
 * 17 significant digits that read back as the same value, as printf's %g
 * writes them in the C locale, whatever the program's locale: 0.1 is
 * "0.1", 150 is "150", -0 is "-0", 1e300 is "1e+300", and NaN and the
 * infinities are "nan", "inf" and "-inf" (glibc writes "-nan" for a NaN
 * with its sign bit set). NUL-terminated; returns the length.
 */
OTELC_API size_t otelc_text_double(char out[OTELC_TEXT_DOUBLE_MAX], double d);

/* ---- text for a terminal ------------------------------------------------------------ */

/* Where otelc_text_terminal() puts its output, in pieces. */
typedef void (*otelc_text_sink_fn)(void *ctx, const char *p, size_t n);

/*
 * Writes `s` with every byte that must not reach a terminal escaped: \n \r
 * \t, \xNN for the other control characters, DEL, the C1 controls U+0080 to
 * U+009F (some terminals act on them: U+009B is a CSI) and the bytes of
 * ill-formed UTF-8. With `quoted`, `"` and `\` are escaped too, so that a
 * quoted value reads back unambiguously; free text keeps its backslashes.
 */
OTELC_API void otelc_text_terminal(const char *s, size_t n, bool quoted, otelc_text_sink_fn sink,
                                   void *ctx);

/*
 * True when a value must be quoted to read back as one token on a line of
 * key=value fields: it is empty, or holds a blank or a control, `"`, `=`,
 * a C1 control or ill-formed UTF-8 (in an array also `,`, `[` and `]`).
 */
OTELC_API bool otelc_text_needs_quotes(const char *s, size_t n, bool in_array);

/*
 * The level name a console line shows for a severity number, those of the
 * users' Python designs, one per OpenTelemetry severity range (1-4 TRACE,
 * 5-8 DEBUG, 9-12 INFO, 13-16 WARNING, 17-20 ERROR, 21-24 CRITICAL), and its
 * ANSI colour sequence. Static strings.
 */
OTELC_API void otelc_text_level(int severity, const char **name, const char **color);

#ifdef __cplusplus
}
#endif

#endif /* OTELC_TEXT_H */
