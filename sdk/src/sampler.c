/*
 * sampler.c: turning sampler options into the state the hot path reads.
 */
#include "sampler.h"

void otelc__sampler_init(otelc__sampler_t *s, const otelc_options_t *opts)
{
    double ratio = opts->sampler_ratio;

    /* NaN and out-of-range ratios were reported by the config reader; here
     * they are clamped so that the decision stays well defined. */
    if (!(ratio > 0.0))
        ratio = 0.0;
    if (ratio > 1.0)
        ratio = 1.0;
    s->kind = opts->sampler;
    /* ratio * 2^56, written as a multiplication so that the core does not
     * need libm for ldexp(). Exact for ratio 1 and 0. */
    s->threshold = (uint64_t)(ratio * 72057594037927936.0);
    s->fn = opts->sampler_fn;
    s->arg = opts->sampler_arg;
    if (s->kind == OTELC_SAMPLER_CUSTOM && s->fn == NULL)
        s->kind = OTELC_SAMPLER_PARENTBASED_ALWAYS_ON;
}
