/*
 * A program that uses an installed otelc the way a user's service does: its
 * exporters are named in the environment (OTEL_LOGS_EXPORTER), read by
 * otelc_options_init(). It logs one record, flushes and prints the counts.
 */
#include <otelc/otelc.h>

#include <stdio.h>

int main(void)
{
    otelc_options_t o;
    otelc_stats_t st;

    if (otelc_options_init(&o) != OTELC_OK)
        return 1;
    o.console_color = 0;
    if (otelc_init(&o) != OTELC_OK)
        return 2;
    OTELC_INFO(otelc_logger("consumer"), "installed otelc works", OTELC_INT("answer", 42));
    if (otelc_flush(5000) != OTELC_OK)
        return 3;
    otelc_stats(&st);
    if (otelc_shutdown(5000) != OTELC_OK)
        return 4;
    printf("consumer: logs produced=%llu exported=%llu\n", (unsigned long long)st.logs.produced,
           (unsigned long long)st.logs.exported);
    return st.logs.produced == 1 && st.logs.exported == 1 ? 0 : 5;
}
