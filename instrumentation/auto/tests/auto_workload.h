/* auto_workload.h: the functions test_auto.c calls, built with
 * -finstrument-functions (auto_workload.c, auto_other.c); the test itself is
 * not, so that only these make spans. */
#ifndef AUTO_WORKLOAD_H
#define AUTO_WORKLOAD_H

#include <setjmp.h>

int top_level(int x);          /* -> middle -> leaf, leaf (static) */
int fib(int n);                /* recursion: fib(n) makes fib_calls(n) calls */
void slow_parent(unsigned us); /* -> fast_child, slow_leaf(us), fast_child */
int catch_jump(void);          /* -> jump_a -> jump_b, which longjmps back */
int uses_sdk_inline(void);     /* calls an inline function of otelc's headers */
void exit_inside(void);        /* -> pthread_exit() */
int other_square(int x);       /* in auto_other.c */
int calls_other(int x);        /* auto_workload.c -> other_square */
int fork_and_run(void (*in_child)(void)); /* fork(); the child runs in_child() and returns 0 */

#endif
