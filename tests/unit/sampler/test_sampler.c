/*
 * test_sampler.c: the built-in samplers and the custom sampler hook.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sampler.h"

static otelc__sampler_t make(otelc_sampler_kind_t kind, double ratio)
{
    otelc_options_t o;
    otelc__sampler_t s;

    otelc_options_default(&o);
    o.sampler = kind;
    o.sampler_ratio = ratio;
    otelc__sampler_init(&s, &o);
    return s;
}

static bool decide(const otelc__sampler_t *s, const otelc_span_context_t *parent,
                   const uint8_t trace_id[OTELC_TRACE_ID_SIZE])
{
    return otelc__sampler_decide(s, parent, trace_id, "op", 2, 0, NULL, 0);
}

/* A fixed-seed generator, so that a failure can be reproduced. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static void random_trace_id(uint8_t id[OTELC_TRACE_ID_SIZE])
{
    uint64_t a = next_random(), b = next_random();

    memcpy(id, &a, 8);
    memcpy(id + 8, &b, 8);
}

static otelc_span_context_t parent_ctx(bool sampled, bool remote)
{
    otelc_span_context_t p;

    memset(&p, 0, sizeof(p));
    memset(p.trace_id, 0x11, sizeof(p.trace_id));
    memset(p.span_id, 0x22, sizeof(p.span_id));
    p.trace_flags = sampled ? OTELC_TRACE_FLAG_SAMPLED : 0;
    p.is_remote = remote;
    return p;
}

static const uint8_t any_id[OTELC_TRACE_ID_SIZE] = { 1, 2,  3,  4,  5,  6,  7,  8,
                                                     9, 10, 11, 12, 13, 14, 15, 16 };

static void test_always_on_and_off(void **state)
{
    otelc__sampler_t on = make(OTELC_SAMPLER_ALWAYS_ON, 0.0);
    otelc__sampler_t off = make(OTELC_SAMPLER_ALWAYS_OFF, 1.0);
    otelc_span_context_t sampled = parent_ctx(true, false);
    otelc_span_context_t unsampled = parent_ctx(false, true);

    (void)state;
    assert_int_equal(on.kind, OTELC_SAMPLER_ALWAYS_ON);
    assert_true(decide(&on, NULL, any_id));
    assert_true(decide(&on, &sampled, any_id));
    assert_true(decide(&on, &unsampled, any_id));
    assert_int_equal(off.kind, OTELC_SAMPLER_ALWAYS_OFF);
    assert_false(decide(&off, NULL, any_id));
    assert_false(decide(&off, &sampled, any_id));
    assert_false(decide(&off, &unsampled, any_id));
}

static void test_parentbased_always_on(void **state)
{
    otelc__sampler_t s = make(OTELC_SAMPLER_PARENTBASED_ALWAYS_ON, 0.0);
    otelc_span_context_t sampled = parent_ctx(true, false);
    otelc_span_context_t unsampled = parent_ctx(false, false);
    otelc_span_context_t remote_sampled = parent_ctx(true, true);
    otelc_span_context_t remote_unsampled = parent_ctx(false, true);

    (void)state;
    assert_true(decide(&s, NULL, any_id));
    assert_true(decide(&s, &sampled, any_id));
    assert_false(decide(&s, &unsampled, any_id));
    assert_true(decide(&s, &remote_sampled, any_id));
    assert_false(decide(&s, &remote_unsampled, any_id));
    /* Only bit 0 of the flags means "sampled". */
    unsampled.trace_flags = 0xfe;
    assert_false(decide(&s, &unsampled, any_id));
}

static void test_parentbased_always_off(void **state)
{
    otelc__sampler_t s = make(OTELC_SAMPLER_PARENTBASED_ALWAYS_OFF, 1.0);
    otelc_span_context_t sampled = parent_ctx(true, true);
    otelc_span_context_t unsampled = parent_ctx(false, false);

    (void)state;
    assert_false(decide(&s, NULL, any_id));
    assert_true(decide(&s, &sampled, any_id));
    assert_false(decide(&s, &unsampled, any_id));
}

static void test_default_is_parentbased_always_on(void **state)
{
    otelc_options_t o;
    otelc__sampler_t s;

    (void)state;
    otelc_options_default(&o);
    otelc__sampler_init(&s, &o);
    assert_int_equal(s.kind, OTELC_SAMPLER_PARENTBASED_ALWAYS_ON);
    assert_int_equal(s.threshold, 1ull << 56);
}

static void test_ratio_thresholds(void **state)
{
    volatile double zero = 0.0;

    (void)state;
    assert_int_equal(make(OTELC_SAMPLER_TRACEIDRATIO, 0.0).threshold, 0);
    assert_int_equal(make(OTELC_SAMPLER_TRACEIDRATIO, 1.0).threshold, 1ull << 56);
    assert_int_equal(make(OTELC_SAMPLER_TRACEIDRATIO, 0.5).threshold, 1ull << 55);
    assert_int_equal(make(OTELC_SAMPLER_TRACEIDRATIO, 0.25).threshold, 1ull << 54);
    assert_int_equal(make(OTELC_SAMPLER_TRACEIDRATIO, 0.001).threshold, 72057594037927ull);
    /* Out of range and NaN are clamped. */
    assert_int_equal(make(OTELC_SAMPLER_TRACEIDRATIO, 2.0).threshold, 1ull << 56);
    assert_int_equal(make(OTELC_SAMPLER_TRACEIDRATIO, -1.0).threshold, 0);
    assert_int_equal(make(OTELC_SAMPLER_TRACEIDRATIO, zero / zero).threshold, 0);
}

static void test_trace_randomness(void **state)
{
    const uint8_t id[OTELC_TRACE_ID_SIZE] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                              0xff, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd };

    (void)state;
    /* The last 7 bytes, big-endian; the first 9 do not count. */
    assert_int_equal(otelc__trace_randomness(id), 0x0123456789abcdull);
}

static void test_ratio_zero_never_one_always(void **state)
{
    otelc__sampler_t never = make(OTELC_SAMPLER_TRACEIDRATIO, 0.0);
    otelc__sampler_t always = make(OTELC_SAMPLER_TRACEIDRATIO, 1.0);
    uint8_t id[OTELC_TRACE_ID_SIZE];
    int n_never = 0, n_always = 0;

    (void)state;
    for (int i = 0; i < 10000; i++) {
        random_trace_id(id);
        n_never += decide(&never, NULL, id);
        n_always += decide(&always, NULL, id);
    }
    assert_int_equal(n_never, 0);
    assert_int_equal(n_always, 10000);
    /* The extremes of the randomness. */
    memset(id, 0, sizeof(id));
    assert_false(decide(&never, NULL, id));
    assert_true(decide(&always, NULL, id));
    memset(id, 0xff, sizeof(id));
    assert_false(decide(&never, NULL, id));
    assert_true(decide(&always, NULL, id));
}

static void test_ratio_quarter(void **state)
{
    otelc__sampler_t s = make(OTELC_SAMPLER_TRACEIDRATIO, 0.25);
    otelc__sampler_t other_service = make(OTELC_SAMPLER_TRACEIDRATIO, 0.25);
    uint8_t id[OTELC_TRACE_ID_SIZE];
    int sampled = 0;

    (void)state;
    for (int i = 0; i < 100000; i++) {
        bool first;

        random_trace_id(id);
        first = decide(&s, NULL, id);
        sampled += first;
        /* The decision is a function of the trace id: the same again, and
         * the same in another process sampling at the same ratio. */
        assert_int_equal(decide(&s, NULL, id), first);
        assert_int_equal(decide(&other_service, NULL, id), first);
    }
    assert_in_range(sampled, 23000, 27000);
}

static void test_ratio_boundary(void **state)
{
    otelc__sampler_t s = make(OTELC_SAMPLER_TRACEIDRATIO, 0.25);
    uint8_t id[OTELC_TRACE_ID_SIZE];

    (void)state;
    /* Randomness 2^54 - 1: just under the threshold. */
    memset(id, 0xff, sizeof(id));
    id[9] = 0x3f;
    assert_true(decide(&s, NULL, id));
    /* Randomness 2^54: the threshold itself is not sampled. */
    memset(id + 9, 0, 7);
    id[9] = 0x40;
    assert_false(decide(&s, NULL, id));
}

static void test_parentbased_ratio(void **state)
{
    otelc__sampler_t zero = make(OTELC_SAMPLER_PARENTBASED_TRACEIDRATIO, 0.0);
    otelc__sampler_t one = make(OTELC_SAMPLER_PARENTBASED_TRACEIDRATIO, 1.0);
    otelc__sampler_t half = make(OTELC_SAMPLER_PARENTBASED_TRACEIDRATIO, 0.5);
    otelc_span_context_t sampled = parent_ctx(true, true);
    otelc_span_context_t unsampled = parent_ctx(false, false);
    uint8_t low[OTELC_TRACE_ID_SIZE] = { 0 }, high[OTELC_TRACE_ID_SIZE];

    (void)state;
    memset(high, 0xff, sizeof(high));
    /* The parent decides, whatever the ratio. */
    assert_true(decide(&zero, &sampled, high));
    assert_false(decide(&one, &unsampled, low));
    /* Roots follow the ratio. */
    assert_false(decide(&zero, NULL, low));
    assert_true(decide(&one, NULL, high));
    assert_true(decide(&half, NULL, low));
    assert_false(decide(&half, NULL, high));
}

/* What the custom sampler saw. */
typedef struct seen {
    int calls;
    void *arg;
    const otelc_span_context_t *parent;
    const uint8_t *trace_id;
    char name[32];
    int kind;
    size_t n_attrs;
    int64_t qty;
} seen_t;

static otelc_sampling_decision_t custom_fn(void *arg, const otelc_span_context_t *parent,
                                           const uint8_t trace_id[OTELC_TRACE_ID_SIZE],
                                           const char *name, size_t name_len, int kind,
                                           const otelc_attr_t *attrs, size_t n_attrs)
{
    seen_t *seen = arg;

    seen->calls++;
    seen->arg = arg;
    seen->parent = parent;
    seen->trace_id = trace_id;
    snprintf(seen->name, sizeof(seen->name), "%.*s", (int)name_len, name);
    seen->kind = kind;
    seen->n_attrs = n_attrs;
    seen->qty = n_attrs > 0 ? attrs[0].v.i : -1;
    /* Sample large orders only. */
    return seen->qty >= 100 ? OTELC_SAMPLING_RECORD_AND_SAMPLE : OTELC_SAMPLING_DROP;
}

static void test_custom_sampler(void **state)
{
    seen_t seen;
    otelc_options_t o;
    otelc__sampler_t s;
    otelc_span_context_t parent = parent_ctx(false, true);
    const otelc_attr_t big[] = { OTELC_INT("qty", 500), OTELC_STR("symbol", "AAPL") };
    const otelc_attr_t small[] = { OTELC_INT("qty", 5) };

    (void)state;
    memset(&seen, 0, sizeof(seen));
    otelc_options_default(&o);
    o.sampler = OTELC_SAMPLER_CUSTOM;
    o.sampler_fn = custom_fn;
    o.sampler_arg = &seen;
    otelc__sampler_init(&s, &o);
    assert_int_equal(s.kind, OTELC_SAMPLER_CUSTOM);

    assert_true(otelc__sampler_decide(&s, &parent, any_id, "place_order_x", 11, 3, big, 2));
    assert_int_equal(seen.calls, 1);
    assert_ptr_equal(seen.arg, &seen);
    assert_ptr_equal(seen.parent, &parent);
    assert_ptr_equal(seen.trace_id, any_id);
    assert_string_equal(seen.name, "place_order");
    assert_int_equal(seen.kind, 3);
    assert_int_equal(seen.n_attrs, 2);
    assert_int_equal(seen.qty, 500);

    /* The custom sampler overrides the parent: here it drops under a
     * sampled parent. */
    parent = parent_ctx(true, false);
    assert_false(otelc__sampler_decide(&s, &parent, any_id, "place_order", 11, 1, small, 1));
    assert_int_equal(seen.calls, 2);
    assert_int_equal(seen.qty, 5);
    assert_false(otelc__sampler_decide(&s, NULL, any_id, "x", 1, 0, NULL, 0));
    assert_int_equal(seen.calls, 3);
    assert_null(seen.parent);
    assert_int_equal(seen.n_attrs, 0);
}

static void test_custom_without_function(void **state)
{
    otelc_options_t o;
    otelc__sampler_t s;
    otelc_span_context_t unsampled = parent_ctx(false, false);

    (void)state;
    otelc_options_default(&o);
    o.sampler = OTELC_SAMPLER_CUSTOM;
    otelc__sampler_init(&s, &o);
    /* Falls back to the default sampler. */
    assert_int_equal(s.kind, OTELC_SAMPLER_PARENTBASED_ALWAYS_ON);
    assert_true(decide(&s, NULL, any_id));
    assert_false(decide(&s, &unsampled, any_id));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_always_on_and_off),
        cmocka_unit_test(test_parentbased_always_on),
        cmocka_unit_test(test_parentbased_always_off),
        cmocka_unit_test(test_default_is_parentbased_always_on),
        cmocka_unit_test(test_ratio_thresholds),
        cmocka_unit_test(test_trace_randomness),
        cmocka_unit_test(test_ratio_zero_never_one_always),
        cmocka_unit_test(test_ratio_quarter),
        cmocka_unit_test(test_ratio_boundary),
        cmocka_unit_test(test_parentbased_ratio),
        cmocka_unit_test(test_custom_sampler),
        cmocka_unit_test(test_custom_without_function),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
