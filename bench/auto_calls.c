/*
 * auto_calls.c: the functions of otelc-bench's auto_call workloads, the
 * only source of the benchmark built with -finstrument-functions (see
 * CMakeLists.txt): one call of bench_auto_call() is one traced call.
 */
#include "auto_calls.h"

__attribute__((noinline)) int bench_auto_call(int x)
{
    /* Keeps the call from being folded into the loop. */
    __asm__ volatile("" : "+r"(x));
    return x + 1;
}
