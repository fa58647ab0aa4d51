/* auto_workload.c: a program of known shape, built with -finstrument-functions
 * -g (see CMakeLists.txt). noinline keeps every call a call. */
#include "auto_workload.h"

#include <otelc/otelc.h>

#include <pthread.h>
#include <unistd.h>
#include <time.h>

#define NOINLINE __attribute__((noinline))

static NOINLINE int leaf(int x)
{
    return x * 2;
}

NOINLINE int middle(int x);
NOINLINE int middle(int x)
{
    return leaf(x) + leaf(x + 1);
}

NOINLINE int top_level(int x)
{
    return middle(x) + 1;
}

NOINLINE int fib(int n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static NOINLINE int fast_child(void)
{
    return 7;
}

static NOINLINE void slow_leaf(unsigned us)
{
    struct timespec t0, t;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < (long)us * 1000L);
}

NOINLINE void slow_parent(unsigned us)
{
    (void)fast_child();
    slow_leaf(us);
    (void)fast_child();
}

static jmp_buf jump_buf;

static NOINLINE void jump_b(void)
{
    longjmp(jump_buf, 1);
}

static NOINLINE void jump_a(void)
{
    jump_b();
}

NOINLINE int catch_jump(void)
{
    if (setjmp(jump_buf) == 0) {
        jump_a();
        return 0;
    }
    return 1;
}

NOINLINE int uses_sdk_inline(void)
{
    otelc_span_t s = otelc_span_current();
    return otelc_span_is_recording(&s);
}

static NOINLINE void exit_now(void)
{
    pthread_exit(NULL);
}

NOINLINE void exit_inside(void)
{
    exit_now();
}

NOINLINE int calls_other(int x)
{
    return other_square(x) + 1;
}

NOINLINE int fork_and_run(void (*in_child)(void))
{
    pid_t pid;

    /* A span made inside before the fork: this call's own span has started. */
    (void)other_square(2);
    pid = fork();
    if (pid == 0)
        in_child();
    return (int)pid;
}
