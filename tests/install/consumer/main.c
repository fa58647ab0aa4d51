/* Records a span and a log through an installed otelc and checks the counts. */
#include <otelc/otelc.h>

#include <stdio.h>

int main(void)
{
    otelc_options_t o;
    otelc_stats_t st;

    otelc_options_default(&o);
    o.traces_exporter = "none";
    o.logs_exporter = "console";
    o.console_color = 0;
    if (otelc_init(&o) != OTELC_OK)
        return 1;
    OTELC_INFO(otelc_logger("consumer"), "installed otelc works", OTELC_INT("answer", 42));
    if (otelc_flush(5000) != OTELC_OK)
        return 2;
    otelc_stats(&st);
    if (otelc_shutdown(5000) != OTELC_OK)
        return 3;
    printf("consumer: logs produced=%llu exported=%llu\n", (unsigned long long)st.logs.produced,
           (unsigned long long)st.logs.exported);
    return st.logs.produced == 1 && st.logs.exported == 1 ? 0 : 4;
}
