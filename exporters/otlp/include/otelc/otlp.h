/*
 * otelc/otlp.h: the OTLP exporter, a library of its own (libotelc_otlp,
 * CMake target otelc::otlp, pkg-config otelc-otlp), with its transports as
 * libraries of their own: libotelc_otlp_http (libcurl: http/protobuf and
 * http/json, CMake otelc::otlp_http) and libotelc_otlp_grpc (the gRPC C
 * core, CMake otelc::otlp_grpc). A service links the transport it uses; the
 * transport brings libotelc_otlp with it.
 *
 * OTEL_TRACES_EXPORTER=otlp and OTEL_LOGS_EXPORTER=otlp (and the config
 * file's otlp_http / otlp_grpc exporters) name it. Its settings are the
 * specification's (OTEL_EXPORTER_OTLP_ENDPOINT, _PROTOCOL, _HEADERS,
 * _TIMEOUT, _COMPRESSION, _CERTIFICATE, _CLIENT_KEY, _CLIENT_CERTIFICATE,
 * _INSECURE, each also as OTEL_EXPORTER_OTLP_TRACES_* and _LOGS_*, the
 * per-signal one winning), plus otelc's retry and spool settings; README
 * "OTLP exporter" lists them.
 *
 * What the exporter guarantees: the application and the pipeline never
 * wait on the network (each exporter sends from a thread of its own, a
 * bounded time per request); transient failures are retried with
 * exponential backoff and jitter, honouring Retry-After and RetryInfo;
 * when the backend stays down, encoded requests go to the spool directory
 * and are sent, oldest first, when it answers again -- by this process or
 * the next one. Every record is exported or counted as dropped with a
 * reason.
 */
#ifndef OTELC_OTLP_H
#define OTELC_OTLP_H

#include <otelc/config.h>
#include <otelc/exporter.h>
#include <otelc/settings.h>

#ifdef __cplusplus
extern "C" {
#endif

/* OTEL_EXPORTER_OTLP_PROTOCOL. 0 in a per-signal field: not set. */
typedef enum otelc_otlp_protocol {
    OTELC_OTLP_GRPC = 1,
    OTELC_OTLP_HTTP_PROTOBUF = 2,
    OTELC_OTLP_HTTP_JSON = 3,
} otelc_otlp_protocol_t;

/* A tri-state for per-signal booleans and enums: 0 means "not set here". */
#define OTELC_OTLP_UNSET 0
#define OTELC_OTLP_NO 1
#define OTELC_OTLP_YES 2

/*
 * The settings of one signal, or the general ones. In the per-signal
 * struct, NULL and 0 mean "not set": the general value applies.
 */
typedef struct otelc_otlp_endpoint_options {
    const char *endpoint;    /* _ENDPOINT: general default http://localhost:4318 (http) or
                                http://localhost:4317 (grpc); the general one gets /v1/traces
                                or /v1/logs appended for http, a per-signal one is used as it is */
    int protocol;            /* _PROTOCOL: otelc_otlp_protocol_t, default http/protobuf */
    const char *headers;     /* _HEADERS: "name=value,name=value", values percent-decoded;
                                secrets: never shown in a diagnostic */
    uint32_t timeout_ms;     /* _TIMEOUT: per export (retries included), default 10000 */
    int compression;         /* _COMPRESSION: OTELC_OTLP_NO (none) or OTELC_OTLP_YES (gzip) */
    const char *certificate; /* _CERTIFICATE: PEM file of the CAs to trust */
    const char *client_key;  /* _CLIENT_KEY: PEM file of the client's key (mTLS) */
    const char *client_certificate; /* _CLIENT_CERTIFICATE: PEM file (mTLS) */
    int insecure;                   /* _INSECURE (grpc, endpoint without a scheme): OTELC_OTLP_YES
                                       plaintext */
} otelc_otlp_endpoint_options_t;

typedef struct otelc_otlp_options {
    size_t struct_size;
    otelc_otlp_endpoint_options_t all;    /* OTEL_EXPORTER_OTLP_* */
    otelc_otlp_endpoint_options_t traces; /* OTEL_EXPORTER_OTLP_TRACES_* */
    otelc_otlp_endpoint_options_t logs;   /* OTEL_EXPORTER_OTLP_LOGS_* */
    /* Retries (OTELC_OTLP_RETRY_*): the first backoff, its ceiling; each
     * wait is drawn from [backoff/2, backoff] (jitter) and the backoff grows
     * 1.5x, within the export timeout. */
    uint32_t retry_initial_ms; /* default 1000 */
    uint32_t retry_max_ms;     /* default 5000 */
    /* The spool (OTELC_OTLP_SPOOL_DIR, OTELC_OTLP_SPOOL_MAX_MB): requests the
     * backend did not take go there, and are sent, oldest first, when it
     * answers again. NULL or "": no spool (what retries do not deliver is
     * dropped and counted). */
    const char *spool_dir;
    uint32_t spool_max_mb; /* MiB, default 256 */
} otelc_otlp_options_t;

/* The exporter's own counters, over the process (every instance). */
typedef struct otelc_otlp_stats {
    uint64_t requests;      /* export requests that reached the backend */
    uint64_t retries;       /* requests sent again after a transient failure */
    uint64_t spooled;       /* records written to the spool */
    uint64_t unspooled;     /* records sent from the spool and acknowledged */
    uint64_t spool_dropped; /* records dropped from the spool (rejected, corrupt file) */
    uint64_t spool_bytes;   /* bytes in the spool now (this process's view) */
    uint64_t rejected;      /* records the backend refused (partial success) */
} otelc_otlp_stats_t;

OTELC_API void otelc_otlp_stats(otelc_otlp_stats_t *out);

/* The component's settings within `opts` (see otelc_options_component()). */
static inline otelc_otlp_options_t *otelc_otlp_options(otelc_options_t *opts)
{
    return (otelc_otlp_options_t *)otelc_options_component(opts, "otlp");
}

/* Registers "otlp" (done when the library loads; harmless to repeat). */
OTELC_API otelc_status_t otelc_otlp_register(void);

#ifdef __cplusplus
}
#endif

#endif /* OTELC_OTLP_H */
