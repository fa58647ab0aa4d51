/*
 * common.h: what the two processes of examples/two_services share: how each
 * picks its exporters when none is chosen (JSON-lines files under
 * ./logs/<service name>/, as trading_demo writes under ./logs), and the
 * risk service's route.
 */
#ifndef TWO_SERVICES_COMMON_H
#define TWO_SERVICES_COMMON_H

#include <otelc/file.h>
#include <otelc/otelc.h>

#include <stdio.h>
#include <stdlib.h>

#define RISK_ROUTE "/risk/check"

static inline int is_unset(const char *name)
{
    const char *v = getenv(name);
    return v == NULL || v[0] == '\0';
}

/*
 * Initialises otelc as service `name`. With no config file and no exporter
 * named in the environment, spans and logs go to files under
 * <the file exporter's directory>/<name>/ (./logs/<name>/ by default, the
 * base from OTELC_FILE_DIR), and WARNING and above to the console. The
 * directory string is borrowed by otelc: `dir` must outlive it.
 */
static inline void service_init(const char *name, char *dir, size_t dir_size)
{
    otelc_options_t opts;
    otelc_status_t st;

    (void)otelc_options_init(&opts);
    opts.service_name = name; /* the program's word is final */
    if (opts.config_file == NULL && is_unset("OTEL_TRACES_EXPORTER") &&
        is_unset("OTEL_LOGS_EXPORTER") && otelc_exporter_factory_exists("file")) {
        otelc_file_options_t *fo = otelc_file_options(&opts);
        if (fo != NULL) {
            snprintf(dir, dir_size, "%s/%s", fo->directory ? fo->directory : "logs", name);
            fo->directory = dir;
        }
        opts.traces_exporter = "file";
        opts.logs_exporter = "file,console";
        if (is_unset("OTELC_CONSOLE_LEVEL"))
            opts.console_level = OTELC_SEV_WARN;
    }
    st = otelc_init(&opts);
    if (st != OTELC_OK)
        fprintf(stderr, "%s: otelc_init: %s\n", name, otelc_status_str(st));
}

#endif /* TWO_SERVICES_COMMON_H */
