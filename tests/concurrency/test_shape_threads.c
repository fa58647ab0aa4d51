/*
 * test_shape_threads.c: threads that reach the same macro sites for the
 * first time together (each site learns its shape on its first call,
 * sdk/src/shape.h) all get their own values exported, under the TSan
 * build too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "capture_session.h"

#include <pthread.h>

#define THREADS 4
#define CALLS 200

static pthread_barrier_t barrier;

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    otelc_logger_t *lg = otelc_logger("shape.threads");
    char sym[16];

    snprintf(sym, sizeof(sym), "SYM%d", id);
    pthread_barrier_wait(&barrier);
    for (int i = 0; i < CALLS; i++) {
        OTELC_SPAN("together", OTELC_INT("thread", id), OTELC_INT("call", i),
                   OTELC_STR("symbol", sym));
        OTELC_INFO(lg, "together", OTELC_INT("thread", id), OTELC_INT("call", i));
    }
    return NULL;
}

static void first_calls_on_many_threads(void **state)
{
    pthread_t th[THREADS];
    unsigned seen[2][THREADS][CALLS];
    (void)state;

    memset(seen, 0, sizeof(seen));
    start(NULL);
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&barrier);
    sync_export();
    assert_int_equal(cap.n, 2 * THREADS * CALLS);
    for (size_t k = 0; k < cap.n; k++) {
        const cap_record_t *r = &cap.recs[k];
        int s = r->signal == OTELC_SIGNAL_LOGS, t, c;
        char sym[16];
        assert_string_equal(r->name, "together");
        t = atoi(cap_attr(r, "thread"));
        c = atoi(cap_attr(r, "call"));
        assert_in_range(t, 0, THREADS - 1);
        assert_in_range(c, 0, CALLS - 1);
        if (!s) {
            snprintf(sym, sizeof(sym), "SYM%d", t);
            assert_string_equal(cap_attr(r, "symbol"), sym);
        }
        seen[s][t][c]++;
    }
    for (int s = 0; s < 2; s++)
        for (int t = 0; t < THREADS; t++)
            for (int c = 0; c < CALLS; c++)
                assert_int_equal(seen[s][t][c], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(first_calls_on_many_threads, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
