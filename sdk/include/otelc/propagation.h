/*
 * otelc/propagation.h: the wire formats that carry a context between
 * processes, as pure functions on strings.
 *
 * otelc_inject() and otelc_extract() (context.h) use these with the
 * propagators chosen by OTEL_PROPAGATORS; they are public for programs that
 * move headers themselves (message queues, custom RPC).
 *
 * - W3C Trace Context (https://www.w3.org/TR/trace-context/): `traceparent`
 *   and `tracestate`.
 * - W3C Baggage (https://www.w3.org/TR/baggage/): `baggage`.
 * - B3 (Zipkin): the single `b3` header and the X-B3-* headers.
 *
 * Every parser takes a pointer and a length, needs no NUL terminator, never
 * reads past `len`, and rejects what the specification rejects (invalid
 * versions, all-zero ids, bad lengths, upper-case hex in traceparent,
 * oversize headers) by returning OTELC_ERR_INVALID and leaving `out` zeroed.
 * All functions are thread-safe and allocate nothing.
 */
#ifndef OTELC_PROPAGATION_H
#define OTELC_PROPAGATION_H

#include <otelc/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OTELC_TRACEPARENT_LEN 55 /* "00-<32 hex>-<16 hex>-<2 hex>" */
#define OTELC_TRACESTATE_MAX 512 /* bytes kept of tracestate (W3C: at least 512) */
#define OTELC_TRACESTATE_MEMBERS 32
#define OTELC_BAGGAGE_MAX 8192    /* bytes of a baggage header (W3C limit) */
#define OTELC_BAGGAGE_MEMBERS 180 /* list members of a baggage header (W3C limit) */
#define OTELC_B3_MAX 68           /* longest single b3 header otelc writes, without NUL */

/*
 * Parses a traceparent header. Versions other than 00 are accepted when the
 * header is longer and the next character is '-' (forward compatibility);
 * version ff is invalid. On success `out` holds the ids and flags, with
 * is_remote set.
 */
OTELC_API otelc_status_t otelc_traceparent_parse(const char *s, size_t len,
                                                 otelc_span_context_t *out);

/*
 * Writes "00-<trace>-<span>-<flags>" and a NUL into `out` (size >=
 * OTELC_TRACEPARENT_LEN + 1). Returns OTELC_TRACEPARENT_LEN, or 0 when the
 * context is invalid or `size` too small (nothing written).
 */
OTELC_API size_t otelc_traceparent_format(const otelc_span_context_t *ctx, char *out, size_t size);

/*
 * Validates a tracestate header and writes its normalised form (members
 * trimmed of optional white space, empty members removed, at most 32
 * members) with a NUL into `out`. Keys follow the current W3C draft: 1 to
 * 256 of a-z 0-9 _ - * / @, starting with a letter or a digit ("foo@",
 * "t@vendor@x" are keys). An invalid member or more than 32 members make the
 * whole header invalid (W3C: discard it). A key that appears again keeps
 * only its first (left-most) member; the later ones are dropped. A header
 * longer than OTELC_TRACESTATE_MAX is truncated by whole members, large ones
 * (over 128 bytes) first. `*out_len` gets the length written.
 */
OTELC_API otelc_status_t otelc_tracestate_parse(const char *s, size_t len, char *out, size_t size,
                                                size_t *out_len);

/*
 * Parses a single `b3` header: "{trace}-{span}[-{sampled}[-{parent}]]", or a
 * lone sampling state "0", "1", "d". A 16-hex-digit trace id is left-padded
 * with zeros. For a lone sampling state, `out` gets no ids and the function
 * returns OTELC_ERR_NOT_FOUND with trace_flags set from it.
 */
OTELC_API otelc_status_t otelc_b3_parse(const char *s, size_t len, otelc_span_context_t *out);

/* Writes "{trace}-{span}-{1|0}" and a NUL. Returns its length, or 0 (invalid / no room). */
OTELC_API size_t otelc_b3_format(const otelc_span_context_t *ctx, char *out, size_t size);

/*
 * Parses a baggage header and writes it normalised (white space trimmed,
 * members that are not valid dropped, properties kept) into `out` with a
 * NUL. Fails only when nothing valid is left or the header is over
 * OTELC_BAGGAGE_MAX bytes or OTELC_BAGGAGE_MEMBERS members (then the members
 * that fit are kept and OTELC_ERR_FULL is returned).
 */
OTELC_API otelc_status_t otelc_baggage_parse(const char *s, size_t len, char *out, size_t size,
                                             size_t *out_len);

/*
 * Looks `name` up in a normalised baggage header and writes its value,
 * percent-decoded, with a NUL into `out`. The value is always valid UTF-8:
 * decoded octets that are not (W3C: "do not match the UTF-8 encoding
 * scheme") become U+FFFD, one per maximal ill-formed subpart as Unicode
 * recommends, so "%FF" and "%E2%82" each read as EF BF BD. A value longer
 * than size - 1 bytes is cut between characters. Returns the full decoded
 * length (more than size - 1 when cut), or -1 when absent.
 */
OTELC_API long otelc_baggage_lookup(const char *header, size_t len, const char *name, char *out,
                                    size_t size);

/*
 * Writes into `out` the header `header` with `name` set to `value` (added at
 * the end, or replacing an entry of that name; the value is percent-encoded as
 * needed, every byte outside baggage-octet and '%' included, so non-ASCII
 * travels; a value that is not UTF-8 is written with U+FFFD in place of its
 * ill-formed parts, as a receiver would read it). Returns OTELC_ERR_FULL
 * when the result would pass the W3C limits, OTELC_ERR_INVALID for a name
 * that is not a token.
 */
OTELC_API otelc_status_t otelc_baggage_put(const char *header, size_t len, const char *name,
                                           const char *value, char *out, size_t size,
                                           size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif /* OTELC_PROPAGATION_H */
