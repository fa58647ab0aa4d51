/*
 * capture_session.h: the setup most SDK tests share. One capture exporter
 * (`cap`, deep copies kept) is the only exporter; start() initialises the
 * SDK with it (or with the given options), sync_export() flushes, and
 * teardown() shuts down and clears what a failed test may have left open on
 * the thread. Include after <cmocka.h>.
 */
#ifndef OTELC_TEST_CAPTURE_SESSION_H
#define OTELC_TEST_CAPTURE_SESSION_H

#include "session.h"

static cap_exporter_t cap;

/* Options with the capture exporter as the only exporter. */
CAP_FN void opts(otelc_options_t *o)
{
    cap_init(&cap, true);
    cap_options(o, &cap);
}

/* Starts the SDK with `o`, or with opts() when NULL. */
CAP_FN void start(const otelc_options_t *o)
{
    otelc_options_t d;
    if (o == NULL) {
        opts(&d);
        o = &d;
    }
    assert_int_equal(otelc_init(o), OTELC_OK);
}

/* Returns once everything recorded so far reached the exporter. */
CAP_FN void sync_export(void)
{
    assert_int_equal(otelc_flush(5000), OTELC_OK);
}

/* Every span produced so far was exported or counted as dropped. */
CAP_FN void assert_span_stats_exact(void)
{
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.spans.pending, 0);
    assert_int_equal(st.spans.produced, st.spans.exported + otelc_signal_stats_dropped(&st.spans));
}

CAP_FN int teardown(void **state)
{
    (void)state;
    session_end(&cap);
    return 0;
}

#endif /* OTELC_TEST_CAPTURE_SESSION_H */
