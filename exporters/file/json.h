/*
 * json.h: an append buffer and the JSON writing primitives of the file
 * exporter's two line formats (format.h).
 *
 * Every writer appends to an otelc__fbuf_t. The buffer grows with realloc;
 * when memory runs out it is marked `failed`, its content is incomplete, and
 * every later append is a no-op, so that a formatter never checks a result:
 * the caller looks at `failed` once per line or per batch, discards the
 * buffer's content and counts the records as dropped.
 *
 * What the writers guarantee, whatever bytes they are given (see FORMAT.md):
 * - strings come out as RFC 8259 strings: `"` and `\` escaped, control
 *   characters as \b \f \n \r \t or \u00XX, DEL as it is, and every byte
 *   that is not part of well-formed UTF-8 replaced by U+FFFD, so that the
 *   output is always valid UTF-8;
 * - numbers read back exactly: 64-bit integers as their decimal text,
 *   doubles with the fewest digits that give the same double back;
 * - nothing depends on the locale.
 *
 * None of the functions keeps a pointer to its arguments. They are
 * thread-safe as long as each thread uses its own buffer and clock cache.
 */
#ifndef OTELC_FILE_JSON_H
#define OTELC_FILE_JSON_H

#include <otelc/common.h>

#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * An append buffer. A zeroed struct is an empty buffer. `data` holds `len`
 * bytes (not NUL-terminated) in a heap block of `cap` bytes.
 *
 * Once `failed` is set, `cap` is lowered to `len`, so that the inline check
 * of otelc__fbuf_reserve() sends every later append to the slow path, which
 * refuses it. To reuse the buffer after a failure, call otelc__fbuf_reset().
 */
typedef struct otelc__fbuf {
    char *data;
    size_t len, cap;
    bool failed;
} otelc__fbuf_t;

/* The slow path of otelc__fbuf_reserve(): grows the block (doubling). */
bool otelc__fbuf_grow(otelc__fbuf_t *b, size_t n);

/*
 * Makes room for `n` more bytes after `len`. Returns false when the buffer
 * has failed before or the memory cannot be had (then `failed` is set).
 */
static inline bool otelc__fbuf_reserve(otelc__fbuf_t *b, size_t n)
{
    if (OTELC_LIKELY(b->cap - b->len >= n))
        return true;
    return otelc__fbuf_grow(b, n);
}

/* Empties the buffer and clears `failed`; the memory is kept for reuse. */
static inline void otelc__fbuf_reset(otelc__fbuf_t *b)
{
    b->len = 0;
    b->failed = false;
}

/* Frees the memory and leaves a zeroed (empty) buffer. Accepts NULL. */
void otelc__fbuf_free(otelc__fbuf_t *b);

/* Appends `n` raw bytes. */
static inline void otelc__fbuf_append(otelc__fbuf_t *b, const void *p, size_t n)
{
    if (otelc__fbuf_reserve(b, n)) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    }
}

static inline void otelc__fbuf_putc(otelc__fbuf_t *b, char c)
{
    if (otelc__fbuf_reserve(b, 1))
        b->data[b->len++] = c;
}

/* Appends a string literal (JSON punctuation and keys written by hand). */
#define OTELC__FBUF_LITERAL(b, lit) otelc__fbuf_append((b), (lit), sizeof(lit) - 1u)

/* Appends a string literal, after a comma when `comma` is true. */
#define OTELC__FBUF_LITERAL_AFTER(b, comma, lit)                                                   \
    ((comma) ? OTELC__FBUF_LITERAL((b), "," lit) : OTELC__FBUF_LITERAL((b), lit))

/* ---- values -------------------------------------------------------------- */

/*
 * A JSON string (with its quotes) holding `n` bytes of `s`, escaped as the
 * top of this file says. `s` may be NULL when `n` is 0.
 */
void otelc__json_string(otelc__fbuf_t *b, const char *s, size_t n);

/* A NUL-terminated `s` (NULL: the empty string) as a JSON string. */
void otelc__json_cstring(otelc__fbuf_t *b, const char *s);

/* An object member's key: `"s":`, preceded by a comma when `comma`. */
void otelc__json_key(otelc__fbuf_t *b, bool comma, const char *s, size_t n);

/* Integers as JSON numbers, exact to the last digit. */
void otelc__json_i64(otelc__fbuf_t *b, int64_t v);
void otelc__json_u64(otelc__fbuf_t *b, uint64_t v);

/* Integers as JSON strings ("123"), as the proto3 JSON mapping writes
 * int64 and fixed64 fields. */
void otelc__json_i64_string(otelc__fbuf_t *b, int64_t v);
void otelc__json_u64_string(otelc__fbuf_t *b, uint64_t v);

/*
 * A double as a JSON number that reads back as the same double (sign of
 * zero included), in the shortest form found: integral values with ".0"
 * ("150.0"), values with up to 9 decimals as plain decimals ("150.25",
 * "0.1"), others in the shortest of 15, 16 or 17 significant digits
 * ("1e+300"). JSON has no NaN or infinities: they are written as
 * the strings "NaN", "Infinity" and "-Infinity", as the proto3 JSON mapping
 * does.
 */
void otelc__json_double(otelc__fbuf_t *b, double d);

/* `n` bytes as a JSON string in base64 (RFC 4648, with padding). */
void otelc__json_base64(otelc__fbuf_t *b, const void *p, size_t n);

/* `n` bytes as a JSON string of lower-case hex (trace and span ids). */
void otelc__json_hex(otelc__fbuf_t *b, const uint8_t *p, size_t n);

/* ---- time ---------------------------------------------------------------- */

/*
 * The text of the last second formatted, so that records of one second cost
 * a copy of 19 bytes instead of a date computation. A zeroed struct is an
 * empty cache. Each thread (or each buffer) keeps its own.
 */
typedef struct otelc__json_clock {
    bool valid;
    uint64_t sec;  /* seconds since the epoch that `text` shows */
    uint64_t day;  /* days since the epoch of the date in `text` */
    char text[20]; /* "2026-11-21T10:30:00" */
} otelc__json_clock_t;

/*
 * `ns` (nanoseconds since the Unix epoch) as a JSON string in ISO 8601 UTC
 * with microseconds (truncated): "2026-11-21T10:30:00.123456Z", always 27
 * characters between the quotes.
 */
void otelc__json_time(otelc__fbuf_t *b, otelc__json_clock_t *clock, uint64_t ns);

/*
 * A duration of `ns` nanoseconds as a JSON number of milliseconds with up to
 * 6 decimals, trailing zeros left out but one: 1234567 ns gives 1.234567,
 * 1500000 gives 1.5, 2000000 gives 2.0.
 */
void otelc__json_ms(otelc__fbuf_t *b, uint64_t ns);

#ifdef __cplusplus
}
#endif

#endif /* OTELC_FILE_JSON_H */
