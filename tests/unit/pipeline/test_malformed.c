/*
 * test_malformed.c: the pipeline never trusts a length inside a record.
 * Records whose lengths point past their end (as a half-overwritten record
 * would) are written straight into the thread's ring; the pipeline must
 * drop each one, count it (reason invalid), report it, and go on exporting
 * the well-formed records around them. Under ASan a read outside a record
 * fails the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "capture_session.h"
#include "core.h"
#include "diag.h"

/* Reserves, fills and publishes one raw record in the calling thread's
 * ring; `fill` gets the zeroed record. */
static void write_raw(uint16_t type, size_t size, void (*fill)(void *rec))
{
    otelc__thread_t *t = otelc__tls;
    uint64_t at = 0;
    otelc__rec_t *h;

    assert_non_null(t);
    h = otelc__ring_reserve(t->ring, (uint32_t)size, 0, &at);
    assert_non_null(h);
    /* A loop rather than memset: gcc cannot see the ring's flexible data
     * array's bounds and warns. */
    for (size_t i = 0; i < size; i++)
        ((volatile unsigned char *)h)[i] = 0;
    h->size = (uint32_t)size;
    h->type = type;
    fill(h);
    otelc__ring_commit(t->ring, at + size);
}

static void log_message_past_end(void *rec)
{
    otelc__rec_log_t *r = rec;
    r->severity = OTELC_SEV_INFO;
    r->msg_len = 1u << 30; /* far past the record and the ring */
}

static void log_attrs_past_end(void *rec)
{
    otelc__rec_log_t *r = rec;
    r->severity = OTELC_SEV_INFO;
    r->msg_len = 4;
    memcpy(r + 1, "body", 4);
    r->n_attrs = 3;
    r->attrs_len = 70000;
}

static void log_bad_severity(void *rec)
{
    otelc__rec_log_t *r = rec;
    r->severity = 200;
}

static void start_name_past_end(void *rec)
{
    otelc__rec_span_start_t *r = rec;
    memset(r->trace_id, 0x11, 16);
    memset(r->span_id, 0x22, 8);
    r->kind = OTELC_SPAN_KIND_INTERNAL;
    r->name_len = 60000;
}

static void start_links_past_end(void *rec)
{
    otelc__rec_span_start_t *r = rec;
    memset(r->trace_id, 0x11, 16);
    memset(r->span_id, 0x33, 8);
    r->kind = OTELC_SPAN_KIND_INTERNAL;
    r->n_links = 1000000;
}

static void op_name_past_end(void *rec)
{
    otelc__rec_span_op_t *r = rec;
    r->name_len = 65535;
}

/* Shapes the small records below name (sdk/src/shape.h, record.h). */
static uint32_t int_shape, str_shape;

static void begin_unknown_shape(void *rec)
{
    otelc__rec_span_begin_t *r = rec;
    r->h.flags = OTELC__REC_F_TRACE;
    memset(r + 1, 0x44, 16);
    r->span_id[0] = 1;
    r->shape = 0x7ffffff0u; /* no such shape */
}

/* No trace id of its own, and the ring has none yet: nothing before it in
 * the ring carried one. */
static void begin_without_trace(void *rec)
{
    otelc__rec_span_begin_t *r = rec;
    r->span_id[0] = 2;
    r->shape = int_shape;
}

static void begin_trace_past_end(void *rec)
{
    otelc__rec_span_begin_t *r = rec;
    r->h.flags = OTELC__REC_F_TRACE | OTELC__REC_F_IDS; /* 24 bytes that are not there */
    r->span_id[0] = 3;
    r->shape = int_shape;
}

/* Values shorter than the shape's fixed part: 4 bytes for an int's 8. */
static void log_site_values_short(void *rec)
{
    otelc__rec_log_site_t *r = rec;
    otelc__rec_ctx_t c = { 0 };
    r->h.flags = OTELC__REC_F_CTX;
    r->severity = OTELC_SEV_INFO;
    r->shape = int_shape;
    memcpy(r + 1, &c, sizeof(c));
}

static void log_site_bound_past_end(void *rec)
{
    otelc__rec_log_site_t *r = rec;
    otelc__rec_ctx_t c = { 0 };
    c.n_bound = 1;
    c.bound_len = 1u << 30;
    r->h.flags = OTELC__REC_F_CTX;
    r->severity = OTELC_SEV_INFO;
    r->shape = int_shape;
    memcpy(r + 1, &c, sizeof(c));
}

static void log_site_bad_severity(void *rec)
{
    otelc__rec_log_site_t *r = rec;
    r->severity = 0;
    r->shape = int_shape;
}

/* Well-formed but for a string length past the values: the log goes out
 * without the attribute, nothing is read outside the record. */
static void log_site_string_past_end(void *rec)
{
    otelc__rec_log_site_t *r = rec;
    uint32_t l = 1000;
    r->severity = OTELC_SEV_INFO;
    r->shape = str_shape;
    memcpy(r + 1, &l, 4);
}

static void lying_lengths_are_dropped_and_counted(void **state)
{
    (void)state;
    otelc_stats_t st;
    unsigned long diag_before;

    start(NULL);
    otelc_logger_t *lg = otelc_logger("malformed");
    OTELC_INFO(lg, "before", OTELC_INT("n", 1));
    diag_before = otelc__diag_count();
    {
        const otelc_attr_t i1[] = { OTELC_INT("n", 1) }, s1[] = { OTELC_STR("s", "v") };
        const otelc__shape_t *a = otelc__shape_learn(NULL, 0, NULL, 0, i1, 1);
        const otelc__shape_t *b = otelc__shape_learn(NULL, 0, NULL, 0, s1, 1);
        assert_true(a->id != 0 && b->id != 0);
        int_shape = a->id;
        str_shape = b->id;
    }

    write_raw(OTELC__REC_LOG, 64 + sizeof(otelc__rec_log_t), log_message_past_end);
    write_raw(OTELC__REC_LOG, 64 + sizeof(otelc__rec_log_t), log_attrs_past_end);
    write_raw(OTELC__REC_LOG, sizeof(otelc__rec_log_t), log_bad_severity);
    write_raw(OTELC__REC_LOG, 8, log_bad_severity); /* shorter than its type */
    write_raw(OTELC__REC_SPAN_START, sizeof(otelc__rec_span_start_t) + 16, start_name_past_end);
    write_raw(OTELC__REC_SPAN_START, sizeof(otelc__rec_span_start_t), start_links_past_end);
    write_raw(OTELC__REC_SPAN_EVENT, sizeof(otelc__rec_span_op_t), op_name_past_end);
    write_raw(77, 16, log_bad_severity); /* a type otelc never writes */
    write_raw(OTELC__REC_SPAN_BEGIN, sizeof(otelc__rec_span_begin_t) + 8, begin_without_trace);
    write_raw(OTELC__REC_SPAN_BEGIN, sizeof(otelc__rec_span_begin_t) + 24, begin_unknown_shape);
    write_raw(OTELC__REC_SPAN_BEGIN, sizeof(otelc__rec_span_begin_t) + 8, begin_trace_past_end);
    write_raw(OTELC__REC_LOG_SITE, sizeof(otelc__rec_log_site_t) + 16, log_site_values_short);
    write_raw(OTELC__REC_LOG_SITE, sizeof(otelc__rec_log_site_t) + 16, log_site_bound_past_end);
    write_raw(OTELC__REC_LOG_SITE, sizeof(otelc__rec_log_site_t) + 8, log_site_bad_severity);
    write_raw(OTELC__REC_LOG_SITE, sizeof(otelc__rec_log_site_t) + 8, log_site_string_past_end);
    OTELC_INFO(lg, "after", OTELC_INT("n", 2));
    {
        OTELC_SPAN("fine", OTELC_STR("k", "v"));
    }
    sync_export();
    otelc_stats(&st);

    /* The well-formed records around them are exported whole. */
    const cap_record_t *r = cap_find(&cap, OTELC_SIGNAL_LOGS, "before");
    assert_non_null(r);
    assert_string_equal(cap_attr(r, "n"), "1");
    r = cap_find(&cap, OTELC_SIGNAL_LOGS, "after");
    assert_non_null(r);
    assert_string_equal(cap_attr(r, "n"), "2");
    r = cap_find(&cap, OTELC_SIGNAL_TRACES, "fine");
    assert_non_null(r);
    assert_string_equal(cap_attr(r, "k"), "v");
    r = cap_find(&cap, OTELC_SIGNAL_LOGS, "");
    assert_non_null(r);
    assert_int_equal(r->n_attrs, 0);
    assert_int_equal(cap.counted[OTELC_SIGNAL_LOGS], 3);
    assert_int_equal(cap.counted[OTELC_SIGNAL_TRACES], 1);

    /* Seven malformed logs and five malformed span starts are counted. The
     * raw records went around the producer's counters, so the produced
     * counts do not include them. */
    assert_int_equal(st.logs.dropped[OTELC_DROP_INVALID], 7);
    assert_int_equal(st.spans.dropped[OTELC_DROP_INVALID], 5);
    assert_int_equal(st.logs.exported, 3);
    assert_int_equal(st.spans.exported, 1);
    assert_true(otelc__diag_count() > diag_before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(lying_lengths_are_dropped_and_counted, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
