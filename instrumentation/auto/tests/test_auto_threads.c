/*
 * test_auto_threads.c: automatic spans from several threads at once, with
 * otelc_auto_stats() read meanwhile (run under TSan too: label
 * concurrency). Every thread's calls make their spans, none lost, the
 * counts exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "capture_session.h"

#include <otelc/auto.h>

#include "auto_internal.h"
#include "auto_workload.h"

#define THREADS 4
#define ROUNDS 200
/* top_level(): 4 calls; fib(5): 15. */
#define CALLS_PER_ROUND (4 + 15)

static atomic_int running;

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        (void)top_level(i);
        (void)fib(5);
    }
    atomic_fetch_sub(&running, 1);
    return NULL;
}

static void test_threads_at_once(void **state)
{
    pthread_t th[THREADS];
    otelc_options_t o;
    otelc_auto_stats_t before, st;
    uint64_t reads = 0;

    (void)state;
    cap_init(&cap, false); /* counts only */
    cap_options(&o, &cap);
    start(&o);
    otelc__auto_reset();
    otelc_auto_stats(&before);
    atomic_store(&running, THREADS);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, worker, NULL), 0);
    while (atomic_load(&running) > 0) {
        otelc_auto_stats(&st);
        assert_true(st.spans - before.spans <= (uint64_t)THREADS * ROUNDS * CALLS_PER_ROUND);
        reads++;
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    sync_export();
    otelc_auto_stats(&st);
    assert_int_equal(st.spans - before.spans, THREADS * ROUNDS * CALLS_PER_ROUND);
    assert_int_equal(cap.counted[OTELC_SIGNAL_TRACES], THREADS * ROUNDS * CALLS_PER_ROUND);
    assert_true(reads > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_threads_at_once, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
