/*
 * sampler.h: the sampling decision on the hot path.
 *
 * The built-in samplers of the OpenTelemetry specification are decided inline
 * with no call: parent-based ones follow the parent's sampled flag; the ratio
 * sampler compares the trace id's low 56 bits (its random part per W3C
 * trace-context level 2) with a threshold, so that every service sampling a
 * trace at the same ratio makes the same decision.
 */
#ifndef OTELC_SAMPLER_H
#define OTELC_SAMPLER_H

#include <otelc/config.h>

typedef struct otelc__sampler {
    otelc_sampler_kind_t kind;
    /* Ratio samplers: sample when the trace id's low 56 bits < threshold.
     * ratio 1 gives 2^56 (always), ratio 0 gives 0 (never). */
    uint64_t threshold;
    otelc_sampler_fn fn;
    void *arg;
} otelc__sampler_t;

/* Sets `s` from the options (kind, ratio clamped to [0, 1], custom function). */
void otelc__sampler_init(otelc__sampler_t *s, const otelc_options_t *opts);

/* The 56-bit randomness of a trace id: its last 7 bytes, big-endian. */
static inline uint64_t otelc__trace_randomness(const uint8_t trace_id[OTELC_TRACE_ID_SIZE])
{
    uint64_t r = 0;
    for (int i = 9; i < 16; i++)
        r = (r << 8) | trace_id[i];
    return r;
}

static inline bool otelc__ratio_sample(const otelc__sampler_t *s,
                                       const uint8_t trace_id[OTELC_TRACE_ID_SIZE])
{
    return otelc__trace_randomness(trace_id) < s->threshold;
}

/*
 * Decides whether a new span is sampled. `parent` is NULL for a root span.
 * The custom sampler sees name, kind and the start attributes.
 */
static inline bool otelc__sampler_decide(const otelc__sampler_t *s,
                                         const otelc_span_context_t *parent,
                                         const uint8_t trace_id[OTELC_TRACE_ID_SIZE],
                                         const char *name, size_t name_len, int kind,
                                         const otelc_attr_t *attrs, size_t n_attrs)
{
    switch (s->kind) {
    case OTELC_SAMPLER_PARENTBASED_ALWAYS_ON:
        return parent == NULL || (parent->trace_flags & OTELC_TRACE_FLAG_SAMPLED) != 0;
    case OTELC_SAMPLER_ALWAYS_ON:
        return true;
    case OTELC_SAMPLER_ALWAYS_OFF:
        return false;
    case OTELC_SAMPLER_TRACEIDRATIO:
        return otelc__ratio_sample(s, trace_id);
    case OTELC_SAMPLER_PARENTBASED_ALWAYS_OFF:
        return parent != NULL && (parent->trace_flags & OTELC_TRACE_FLAG_SAMPLED) != 0;
    case OTELC_SAMPLER_PARENTBASED_TRACEIDRATIO:
        if (parent != NULL)
            return (parent->trace_flags & OTELC_TRACE_FLAG_SAMPLED) != 0;
        return otelc__ratio_sample(s, trace_id);
    case OTELC_SAMPLER_CUSTOM:
        if (s->fn == NULL)
            return true;
        return s->fn(s->arg, parent, trace_id, name, name_len, kind, attrs, n_attrs) ==
               OTELC_SAMPLING_RECORD_AND_SAMPLE;
    }
    return true;
}

#endif /* OTELC_SAMPLER_H */
