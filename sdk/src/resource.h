/*
 * resource.h: the resource every record of the process shares.
 *
 * Built once by otelc_init() from the options and what the process can learn
 * about itself (host name, pid, executable), then handed read-only to every
 * exporter batch until shutdown.
 */
#ifndef OTELC_RESOURCE_H
#define OTELC_RESOURCE_H

#include <otelc/config.h>
#include <otelc/exporter.h>

typedef struct otelc__resource {
    otelc_resource_t pub; /* what exporters see */
    void *mem;            /* the one allocation holding attributes, keys and values */
} otelc__resource_t;

/*
 * Builds the resource from `opts` (NULL: the defaults). Attributes, in this
 * order, keys unique:
 *   service.name     opts->service_name, else service.name from
 *                    opts->resource_attributes, else
 *                    "unknown_service:<executable name>";
 *   service.version  opts->service_version, else service.version from the
 *                    list; absent when neither is given;
 *   the other entries of opts->resource_attributes, in their order (a later
 *                    duplicate key replaces the earlier value in place),
 *                    then opts->resource_attrs (typed: string, bool, int,
 *                    double; a key already there takes the typed value);
 *   host.name, process.pid (an integer), process.executable.name,
 *   telemetry.sdk.name "otelc", telemetry.sdk.language "c",
 *   telemetry.sdk.version OTELC_VERSION_STRING -- each unless the list
 *                    already gave that key, since the user's word wins.
 * Empty strings in service_name and service_version count as not given.
 * A resource_attributes list that does not parse is reported and ignored as
 * a whole (see otelc__resource_attributes_error()); that is not an error of
 * this function. String values are OTELC_ATTR_STRING with `len` set and a
 * terminating NUL.
 *
 * Everything lives in one allocation owned by `out`; release it with
 * otelc__resource_free(). Returns OTELC_OK, OTELC_ERR_INVALID when `out` is
 * NULL, or OTELC_ERR_NOMEM (then *out is empty and safe to free).
 */
otelc_status_t otelc__resource_build(const otelc_options_t *opts, otelc__resource_t *out);

/* Frees what otelc__resource_build() made and empties `r`. NULL-safe and
 * idempotent. */
void otelc__resource_free(otelc__resource_t *r);

/*
 * Checks a resource attribute list in the format of OTEL_RESOURCE_ATTRIBUTES:
 * comma-separated key=value entries, blanks around keys and values ignored,
 * keys and values percent-decoded, keys not empty; empty entries (",,") are
 * allowed and ignored. Returns NULL when `list` is valid (or NULL), else a
 * static English description of the first problem.
 */
const char *otelc__resource_attributes_error(const char *list);

#endif /* OTELC_RESOURCE_H */
