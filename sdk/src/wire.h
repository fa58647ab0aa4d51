/*
 * wire.h: small helpers of the propagation formats (propagation.c,
 * baggage.c): hex digits, HTTP optional white space, list members. They
 * read strictly below the lengths they are given.
 */
#ifndef OTELC_WIRE_H
#define OTELC_WIRE_H

#include <otelc/common.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Optional white space of HTTP (RFC 7230 OWS): space and horizontal tab. */
#define IS_OWS(c) ((c) == ' ' || (c) == '\t')

/*
 * The value of a lower-case hex digit, or -1. Upper case is rejected on
 * purpose: W3C trace-context and B3 both define lower-hex only, and the W3C
 * test suite treats "ABCDEF" in a traceparent as invalid.
 */
static inline int lower_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Percent-decoding (baggage) accepts either case, as RFC 3986 says. */
static inline int any_hex_value(char c)
{
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return lower_hex_value(c);
}

/*
 * Decodes 2*n lower-case hex digits into n bytes. Returns false (with `out`
 * partly written) when a character is not lower-case hex.
 */
static inline bool decode_hex(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi = lower_hex_value(s[2 * i]);
        int lo = lower_hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/*
 * Lower-case hex of `n` bytes into out[0 .. 2n), no NUL. common.h declares
 * otelc_hex_encode() for the same job; it lives in util.c, and this file keeps
 * its own copy so that the propagation module builds and is tested alone.
 */
static inline void encode_hex(const uint8_t *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
}

static inline bool all_zero(const uint8_t *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (bytes[i] != 0)
            return false;
    return true;
}

/* Same rule as otelc_span_context_is_valid(), kept local for the reason above. */
static inline bool span_context_valid(const otelc_span_context_t *ctx)
{
    return ctx != NULL && !all_zero(ctx->trace_id, OTELC_TRACE_ID_SIZE) &&
           !all_zero(ctx->span_id, OTELC_SPAN_ID_SIZE);
}

/* Narrows [*s, *s + *len) to exclude leading and trailing OWS. */
static inline void trim_ows(const char **s, size_t *len)
{
    const char *p = *s;
    size_t n = *len;

    while (n > 0 && IS_OWS(p[0])) {
        p++;
        n--;
    }
    while (n > 0 && IS_OWS(p[n - 1]))
        n--;
    *s = p;
    *len = n;
}

static inline size_t skip_ows(const char *s, size_t len, size_t i)
{
    while (i < len && IS_OWS(s[i]))
        i++;
    return i;
}

/*
 * The end of the list member that starts at `i`: the next ',' or `len`.
 * Neither tracestate nor baggage allows a comma inside a member, so splitting
 * on commas first and validating each piece afterwards is exact.
 */
static inline size_t member_end(const char *s, size_t len, size_t i)
{
    const char *comma = memchr(s + i, ',', len - i);
    return comma != NULL ? (size_t)(comma - s) : len;
}

/* Puts an empty string in a string out-parameter, where there is room. */
static inline void clear_string_out(char *out, size_t size, size_t *out_len)
{
    if (out != NULL && size > 0)
        out[0] = '\0';
    if (out_len != NULL)
        *out_len = 0;
}

static inline bool is_lcalpha(char c)
{
    return c >= 'a' && c <= 'z';
}

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

#endif /* OTELC_WIRE_H */
