/*
 * propagation_int.h: what otelc_inject() and otelc_extract() call to move a
 * context through a carrier with the configured propagators.
 *
 * The public parsers and formatters (otelc/propagation.h) work on one header
 * at a time; these two functions know which headers each propagator uses,
 * in which order they are read, and what is kept when some are invalid. They
 * hold no state, allocate nothing and are thread-safe.
 */
#ifndef OTELC_PROPAGATION_INT_H
#define OTELC_PROPAGATION_INT_H

#include <otelc/config.h>
#include <otelc/context.h>
#include <otelc/propagation.h>

/*
 * What extraction found. The strings are NUL-terminated at their length; an
 * empty string (length 0) means "none". The struct is about 8.7 KiB: give it
 * static or heap storage rather than a small thread stack where that matters.
 */
typedef struct otelc__propagated {
    /* Zero when no valid context was found; is_remote is set otherwise. */
    otelc_span_context_t span;
    /* Normalised tracestate, kept only when the traceparent was valid. */
    char tracestate[OTELC_TRACESTATE_MAX + 1];
    size_t tracestate_len;
    /* Normalised W3C baggage header (otelc_baggage_parse). */
    char baggage[OTELC_BAGGAGE_MAX + 1];
    size_t baggage_len;
    /*
     * OTELC_PROPAGATOR_* bits of the propagators whose headers were present
     * but not valid (a baggage header cut to the W3C limits and a tracestate
     * kept in part count too). Extraction reports the tracestate's cause at
     * debug level itself. Never an error.
     */
    unsigned rejected;
} otelc__propagated_t;

/*
 * Writes headers for `span` with the propagators in the bit set `propagators`
 * (OTELC_PROPAGATOR_* from otelc/config.h), calling `set` once per header
 * with a lower-case name and a NUL-terminated value that lives only for the
 * call:
 *
 *   tracecontext  "traceparent", and "tracestate" when tracestate_len > 0
 *   baggage       "baggage", only when baggage_len > 0
 *   b3            "b3" ("{trace}-{span}-{1|0}")
 *   b3multi       "x-b3-traceid", "x-b3-spanid", "x-b3-sampled"
 *
 * Span headers (all but baggage) are written only for a valid span context.
 * `tracestate` and `baggage` are pointer + length and need no NUL; they are
 * expected in normalised form. One that is longer than its W3C limit
 * (OTELC_TRACESTATE_MAX, OTELC_BAGGAGE_MAX) is not written at all rather than
 * cut in the middle of a member. `span` may be NULL (no span headers).
 */
void otelc__propagation_inject(unsigned propagators, const otelc_span_context_t *span,
                               const char *tracestate, size_t tracestate_len, const char *baggage,
                               size_t baggage_len, otelc_setter_fn set, void *carrier);

/*
 * Reads headers with `get` and fills `out` (always completely initialised).
 * When several propagators are set, the span context comes from the first
 * that yields a valid one, in this order: tracecontext, b3 single, b3multi.
 * tracestate is kept only when the traceparent was valid (and so gave the
 * span context). Baggage is read when OTELC_PROPAGATOR_BAGGAGE is set; a
 * header over the W3C limits keeps the members that fit. Invalid input is
 * ignored, never an error: the affected fields stay zero and the
 * propagator's bit is set in out->rejected.
 */
void otelc__propagation_extract(unsigned propagators, otelc_getter_fn get, void *carrier,
                                otelc__propagated_t *out);

#endif /* OTELC_PROPAGATION_INT_H */
