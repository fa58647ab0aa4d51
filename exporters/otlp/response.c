/*
 * response.c: the partial success of an export response, which says how
 * many records the backend refused and why (OTLP specification, "Partial
 * Success"). Protobuf responses are decoded by protobuf-c, from code
 * generated out of proto/ at build time; OTLP/JSON ones by a scan for the
 * two members of "partialSuccess" (their names are fixed by the mapping).
 */
#include "otlp_internal.h"

#include <opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h>
#include <opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h>

#include <stdlib.h>
#include <string.h>

/* The value after `"name":` within s[0, n), or NULL. */
static const char *json_member(const char *s, size_t n, const char *name)
{
    size_t nl = strlen(name);

    for (const char *p = s; p + nl + 2 <= s + n; p++) {
        const char *q;

        p = memchr(p, '"', (size_t)(s + n - p));
        if (p == NULL || p + nl + 2 > s + n)
            return NULL;
        if (memcmp(p + 1, name, nl) != 0 || p[nl + 1] != '"')
            continue;
        q = p + nl + 2;
        while (q < s + n && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
            q++;
        if (q < s + n && *q == ':') {
            q++;
            while (q < s + n && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
                q++;
            return q < s + n ? q : NULL;
        }
    }
    return NULL;
}

static bool json_partial(otelc_signal_t signal, const char *s, size_t n, otelc__otlp_partial_t *p)
{
    const char *ps = json_member(s, n, "partialSuccess"), *v, *end = s + n;

    if (ps == NULL)
        return true;
    v = json_member(ps, (size_t)(end - ps),
                    signal == OTELC_SIGNAL_TRACES ? "rejectedSpans" : "rejectedLogRecords");
    if (v != NULL) {
        /* An int64: a string or a number. */
        if (*v == '"')
            v++;
        p->rejected = strtoll(v, NULL, 10);
    }
    v = json_member(ps, (size_t)(end - ps), "errorMessage");
    if (v != NULL && *v == '"') {
        const char *q = v + 1;

        while (q < end && *q != '"')
            q += *q == '\\' ? 2 : 1;
        if (q > end)
            q = end;
        otelc_diag_escape(v + 1, (size_t)(q - v - 1), p->message, sizeof(p->message));
    }
    return true;
}

bool otelc__otlp_partial_success(otelc_signal_t signal, bool json, const uint8_t *body, size_t len,
                                 otelc__otlp_partial_t *p)
{
    memset(p, 0, sizeof(*p));
    if (len == 0)
        return true;
    if (json)
        return json_partial(signal, (const char *)body, len, p);
    if (signal == OTELC_SIGNAL_TRACES) {
        Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *r =
            opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
                NULL, len, body);

        if (r == NULL)
            return false;
        if (r->partial_success != NULL) {
            p->rejected = r->partial_success->rejected_spans;
            if (r->partial_success->error_message != NULL)
                otelc_diag_escape(r->partial_success->error_message,
                                  strlen(r->partial_success->error_message), p->message,
                                  sizeof(p->message));
        }
        opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(
            r, NULL);
    } else {
        Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse *r =
            opentelemetry__proto__collector__logs__v1__export_logs_service_response__unpack(
                NULL, len, body);

        if (r == NULL)
            return false;
        if (r->partial_success != NULL) {
            p->rejected = r->partial_success->rejected_log_records;
            if (r->partial_success->error_message != NULL)
                otelc_diag_escape(r->partial_success->error_message,
                                  strlen(r->partial_success->error_message), p->message,
                                  sizeof(p->message));
        }
        opentelemetry__proto__collector__logs__v1__export_logs_service_response__free_unpacked(
            r, NULL);
    }
    if (p->rejected < 0)
        p->rejected = 0;
    return true;
}
