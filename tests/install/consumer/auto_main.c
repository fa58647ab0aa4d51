/*
 * A program built as a user builds code for automatic spans: this file with
 * -finstrument-functions, linked with libotelc_auto. One call of a traced
 * function must make one span (printed by the console exporter).
 */
#include <otelc/auto.h>
#include <otelc/otelc.h>

#include <stdio.h>

__attribute__((noinline)) static int traced_by_the_compiler(int x)
{
    return x + 1;
}

int main(void)
{
    otelc_auto_stats_t st;
    int r;

    if (otelc_init(NULL) != OTELC_OK)
        return 1;
    r = traced_by_the_compiler(1);
    if (otelc_flush(5000) != OTELC_OK)
        return 2;
    otelc_auto_stats(&st);
    (void)otelc_shutdown(5000);
    printf("consumer: automatic spans=%llu\n", (unsigned long long)st.spans);
    return r == 2 && st.spans == 1 ? 0 : 3;
}
