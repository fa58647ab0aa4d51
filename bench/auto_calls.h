/* auto_calls.h: the traced function of the auto_call workloads. */
#ifndef OTELC_BENCH_AUTO_CALLS_H
#define OTELC_BENCH_AUTO_CALLS_H

int bench_auto_call(int x);

#endif
