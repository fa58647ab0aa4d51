/*
 * service.c: a program that uses the example exporter without naming it in
 * its code: OTEL_TRACES_EXPORTER=lines OTEL_LOGS_EXPORTER=lines select it,
 * and linking libotelc_example_lines makes the name known.
 */
#include <otelc/otelc.h>

#include <stdio.h>

int main(void)
{
    otelc_options_t o;
    otelc_stats_t st;
    char line[256];

    if (otelc_options_init(&o) != OTELC_OK)
        return 1;
    if (otelc_init(&o) != OTELC_OK)
        return 2;
    otelc_logger_t *lg = otelc_logger("example");
    {
        OTELC_SPAN("checkout");
        OTELC_INFO(lg, "order accepted", OTELC_INT("qty", 3));
        otelc_log(lg, OTELC_SEV_WARN, NULL, "", 0, NULL, 0); /* refused: no body */
    }
    (void)otelc_flush(5000);
    otelc_stats(&st);
    (void)otelc_shutdown(5000);
    otelc_stats_format(&st, line, sizeof(line));
    fprintf(stderr, "%s\n", line);
    return 0;
}
