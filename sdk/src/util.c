/*
 * util.c: small public helpers that belong to no larger module: status
 * strings, span context validity, hex encoding of ids, severity text.
 */
#include <otelc/common.h>
#include <otelc/log.h>

const char *otelc_status_str(otelc_status_t status)
{
    switch (status) {
    case OTELC_OK:
        return "success";
    case OTELC_ERR_INVALID:
        return "invalid argument or configuration value";
    case OTELC_ERR_NOMEM:
        return "out of memory";
    case OTELC_ERR_STATE:
        return "call does not fit the SDK's state";
    case OTELC_ERR_TIMEOUT:
        return "deadline passed";
    case OTELC_ERR_IO:
        return "input/output error";
    case OTELC_ERR_UNSUPPORTED:
        return "not supported";
    case OTELC_ERR_FULL:
        return "buffer or queue full";
    case OTELC_ERR_NOT_FOUND:
        return "not found";
    case OTELC_ERR_EXPORT:
        return "export failed";
    }
    /* The switch has no default so that the compiler flags a new status
     * missing here; values outside the enum end up below. */
    return "unknown status";
}

static bool all_zero(const uint8_t *bytes, size_t len)
{
    uint8_t acc = 0;

    for (size_t i = 0; i < len; i++)
        acc |= bytes[i];
    return acc == 0;
}

bool otelc_span_context_is_valid(const otelc_span_context_t *ctx)
{
    if (ctx == NULL)
        return false;
    return !all_zero(ctx->trace_id, sizeof(ctx->trace_id)) &&
           !all_zero(ctx->span_id, sizeof(ctx->span_id));
}

char *otelc_hex_encode(const uint8_t *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";

    if (out == NULL)
        return NULL;
    if (bytes == NULL)
        len = 0;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    out[2 * len] = '\0';
    return out;
}

const char *otelc_severity_text(int severity)
{
    /* The short names of the OpenTelemetry log data model, one per
     * severity number; the first of each range of four has no digit. */
    static const char *const names[24] = {
        "TRACE", "TRACE2", "TRACE3", "TRACE4", "DEBUG", "DEBUG2", "DEBUG3", "DEBUG4",
        "INFO",  "INFO2",  "INFO3",  "INFO4",  "WARN",  "WARN2",  "WARN3",  "WARN4",
        "ERROR", "ERROR2", "ERROR3", "ERROR4", "FATAL", "FATAL2", "FATAL3", "FATAL4",
    };

    if (severity < 1 || severity > 24)
        return "UNSPECIFIED";
    return names[severity - 1];
}
