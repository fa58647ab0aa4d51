/*
 * auto_instrumented: automatic function spans (instrumentation/auto).
 *
 * book.c is built with -finstrument-functions and this file is not: each
 * call in book.c becomes a span, children of this file's "replay" span,
 * without a line of otelc in book.c. With no exporter chosen the spans go
 * to ./logs/traces.log (JSON lines):
 *
 *   ./build/examples/auto_instrumented --orders 20
 *   jq -c '{name, span_id, parent_span_id}' logs/traces.log
 *
 * The filters of otelc/auto.h apply: OTELC_AUTO_EXCLUDE=parse_order,
 * OTELC_AUTO_INCLUDE=process_order,match_order, OTELC_AUTO_MIN_US=5.
 */
#include "book.h"

#include <otelc/auto.h>
#include <otelc/otelc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_unset(const char *name)
{
    const char *v = getenv(name);
    return v == NULL || v[0] == '\0';
}

int main(int argc, char **argv)
{
    int orders = 10, filled;
    otelc_options_t opts;
    otelc_auto_stats_t st;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--orders") == 0 && i + 1 < argc) {
            orders = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: auto_instrumented [--orders N]\n");
            return 2;
        }
    }
    /* As trading_demo: the config file and OTEL_* variables, else JSON
     * lines under ./logs. */
    (void)otelc_options_init(&opts);
    if (opts.config_file == NULL && is_unset("OTEL_TRACES_EXPORTER") &&
        otelc_exporter_factory_exists("file"))
        opts.traces_exporter = "file";
    if (otelc_init(&opts) != OTELC_OK)
        fprintf(stderr, "auto_instrumented: otelc_init failed; running without telemetry\n");
    {
        OTELC_SPAN("replay", OTELC_INT("orders", orders));
        filled = run_book(orders);
    }
    otelc_auto_stats(&st);
    printf("%d orders, %d filled; automatic spans: %llu (functions known %llu, traced %llu)\n",
           orders, filled, (unsigned long long)st.spans, (unsigned long long)st.functions,
           (unsigned long long)st.traced);
    (void)otelc_shutdown(5000);
    return 0;
}
