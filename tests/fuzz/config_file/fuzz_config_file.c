/*
 * fuzz_config_file.c: the YAML config file loader on arbitrary content.
 *
 * Whatever the bytes, the load must return one of its documented statuses,
 * never crash, and leave options that otelc_init() could take: every string
 * it set is NUL-terminated, the core's and every linked component's.
 * The environment is ignored (env_ignored), so `${VAR}` references read
 * variables that are unset here and resolve to their defaults or nothing.
 * Diagnostics are silenced: a fuzzer makes thousands of them.
 */
#include "fuzz_check.h"
#include "config_file.h"
#include "diag.h"
#include "settings_int.h"

#include <string.h>

static void check_string(const char *s)
{
    if (s != NULL)
        FUZZ_CHECK(strlen(s) < (1u << 24));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    otelc_options_t o;
    otelc_status_t st;
    bool applied = false;

    otelc__diag_set_level(OTELC_DIAG_NONE);
    otelc_options_default(&o);
    st = otelc__config_file_load_buffer("fuzz.yaml", data, size, true, &o, &applied);
    FUZZ_CHECK(st == OTELC_OK || st == OTELC_ERR_INVALID || st == OTELC_ERR_IO ||
               st == OTELC_ERR_NOMEM || st == OTELC_ERR_UNSUPPORTED);
    check_string(o.service_name);
    check_string(o.service_version);
    check_string(o.resource_attributes);
    check_string(o.traces_exporter);
    check_string(o.logs_exporter);
    check_string(o.logger_levels);
    check_string(o.mask_keys);
    for (size_t i = 0; o.components != NULL && i < o.components->n; i++) {
        const otelc_component_t *c = o.components->item[i].component;

        for (size_t j = 0; j < c->n_settings; j++) {
            const otelc_setting_t *row = &c->settings[j];

            if (row->type == OTELC_SETTING_STRING || row->type == OTELC_SETTING_LIST ||
                row->type == OTELC_SETTING_KEYED)
                check_string(
                    *(const char *const *)((const char *)o.components->item[i].values +
                                           row->offset));
        }
    }
    FUZZ_CHECK(o.sampler_ratio >= 0.0 && o.sampler_ratio <= 1.0);
    otelc__config_file_release();
    return 0;
}
