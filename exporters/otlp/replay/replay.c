/*
 * replay.c: otelc-replay, which `otelc replay` runs: sends OTLP spool files
 * and the file exporter's `otlp` files (one OTLP/JSON request per line,
 * gzip or not) to any OTLP endpoint, over any of the three protocols, with
 * the OTLP exporter's own retries.
 *
 *   otelc replay FILE... [--endpoint URL] [--protocol grpc|http/protobuf|http/json]
 *                [--header NAME=VALUE]... [--timeout MS] [--certificate FILE]
 *                [--client-certificate FILE] [--client-key FILE] [--insecure]
 *
 * The OTEL_EXPORTER_OTLP_* variables apply first, the options over them. A
 * progress line on a terminal (stderr), a summary at the end (stdout); the
 * exit status is 0 when every record was accepted, 1 when some were not,
 * 2 for a usage error.
 */
#include "decode.h"

#include <otelc/otelc.h>
#include <otelc/otlp.h>

#include "otlp_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

typedef struct replay {
    otelc_otlp_options_t opts;
    otelc_exporter_t *exporter[3]; /* by signal */
    uint32_t timeout_ms;
    bool progress;
    unsigned long long files, requests, records, accepted, rejected, failed_requests,
        failed_records, unreadable;
} replay_t;

static void usage(FILE *f)
{
    fprintf(f, "usage: otelc replay FILE... [--endpoint URL] [--protocol grpc|http/protobuf|"
               "http/json]\n"
               "                    [--header NAME=VALUE]... [--timeout MS] [--certificate "
               "FILE]\n"
               "                    [--client-certificate FILE] [--client-key FILE] "
               "[--insecure]\n"
               "Sends OTLP spool files (OTELC_OTLP_SPOOL_DIR) and the file exporter's otlp "
               "files\n"
               "to an OTLP endpoint. OTEL_EXPORTER_OTLP_* apply, the options over them.\n");
}

static void show_progress(const replay_t *r)
{
    if (r->progress)
        fprintf(stderr, "\rreplay: %llu requests, %llu records, %llu failed", r->requests,
                r->records, r->failed_requests);
}

static otelc_exporter_t *exporter_for(replay_t *r, otelc_signal_t signal)
{
    if (r->exporter[signal] == NULL) {
        otelc_exporter_args_t args;

        memset(&args, 0, sizeof(args));
        args.struct_size = sizeof(args);
        args.signal = signal;
        args.settings = &r->opts;
        if (otelc_component_find("otlp")->create(&args, &r->exporter[signal]) != OTELC_OK)
            r->exporter[signal] = NULL;
    }
    return r->exporter[signal];
}

/* Sends the batches of one request. */
static void send_batches(replay_t *r, const replay_batches_t *b, otelc_signal_t signal)
{
    otelc_exporter_t *x = exporter_for(r, signal);
    bool failed = false;

    r->requests++;
    r->records += b->records;
    for (size_t i = 0; i < b->n; i++) {
        otelc_export_result_t res = OTELC_EXPORT_RESULT_INIT;
        otelc_status_t st;
        size_t acc;

        if (b->batch[i].n == 0)
            continue;
        if (x == NULL) {
            failed = true;
            r->failed_records += b->batch[i].n;
            continue;
        }
        st = x->ops->export_batch(x, &b->batch[i], r->timeout_ms, &res);
        acc = res.accepted == OTELC_EXPORT_UNSET ? (st == OTELC_OK ? b->batch[i].n : 0)
                                                 : res.accepted;
        r->accepted += acc;
        r->rejected += res.rejected;
        if (acc + res.rejected < b->batch[i].n || st != OTELC_OK) {
            failed = true;
            r->failed_records += b->batch[i].n - acc - res.rejected;
            fprintf(stderr, "%sreplay: %s\n", r->progress ? "\n" : "",
                    res.message != NULL ? res.message : otelc_status_str(st));
        }
    }
    r->failed_requests += failed;
    show_progress(r);
}

static void unreadable(replay_t *r, const char *path, unsigned long line, const char *why)
{
    r->unreadable++;
    if (line > 0)
        fprintf(stderr, "%sreplay: %s:%lu: %s; skipped\n", r->progress ? "\n" : "", path, line,
                why);
    else
        fprintf(stderr, "%sreplay: %s: %s; skipped\n", r->progress ? "\n" : "", path, why);
}

static bool is_spool_file(const char *path)
{
    char magic[8];
    FILE *f = fopen(path, "rb");
    bool yes;

    if (f == NULL)
        return false;
    yes = fread(magic, 1, 8, f) == 8 && memcmp(magic, "OTELCSP1", 8) == 0;
    fclose(f);
    return yes;
}

static void replay_spool_file(replay_t *r, const char *path)
{
    otelc__spool_item_t item;
    otelc_signal_t signal;
    replay_batches_t b;
    char why[200];
    bool ok;

    if (!otelc__spool_read_file(path, &item, &signal, why, sizeof(why))) {
        unreadable(r, path, 0, why);
        return;
    }
    if (item.json) {
        otelc_signal_t s2;

        ok = replay_decode_json((const char *)item.body, item.len, &s2, &b, why, sizeof(why));
        signal = s2;
    } else {
        ok = replay_decode_protobuf(signal, item.body, item.len, &b, why, sizeof(why));
    }
    otelc__spool_release(NULL, &item);
    if (!ok) {
        unreadable(r, path, 0, why);
        return;
    }
    send_batches(r, &b, signal);
    replay_batches_free(&b);
}

/* The file exporter's otlp files: one request per line, plain or gzip. */
static void replay_lines(replay_t *r, const char *path)
{
    gzFile gz = gzopen(path, "rb");
    size_t cap = 1u << 16, len = 0;
    char *line = malloc(cap);
    unsigned long no = 0;

    if (gz == NULL || line == NULL) {
        unreadable(r, path, 0, gz == NULL ? strerror(errno) : "out of memory");
        free(line);
        if (gz != NULL)
            gzclose(gz);
        return;
    }
    for (;;) {
        char *got = gzgets(gz, line + len, (int)(cap - len));

        if (got == NULL && len == 0)
            break;
        if (got != NULL) {
            len += strlen(line + len);
            if (len > 0 && line[len - 1] != '\n' && !gzeof(gz)) {
                char *bigger;

                if (len + 1 < cap)
                    continue;
                bigger = realloc(line, cap * 2);
                if (bigger == NULL) {
                    unreadable(r, path, no + 1, "a line too long for memory");
                    break;
                }
                line = bigger;
                cap *= 2;
                continue;
            }
        }
        no++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (len > 0) {
            replay_batches_t b;
            otelc_signal_t signal;
            char why[200];

            if (replay_decode_json(line, len, &signal, &b, why, sizeof(why))) {
                send_batches(r, &b, signal);
                replay_batches_free(&b);
            } else {
                unreadable(r, path, no, why);
            }
        }
        len = 0;
        if (got == NULL)
            break;
    }
    free(line);
    gzclose(gz);
}

static const char *value_of(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "replay: %s needs a value\n", argv[*i]);
        usage(stderr);
        exit(2);
    }
    return argv[++*i];
}

int main(int argc, char **argv)
{
    replay_t r;
    otelc_options_t o;
    char *headers = NULL;
    size_t headers_len = 0;
    int first_file = 0, n_files = 0;
    char **files = calloc((size_t)argc + 1, sizeof(*files));

    memset(&r, 0, sizeof(r));
    if (files == NULL)
        return 2;
    /* The environment's OTEL_EXPORTER_OTLP_* (and a config file's). */
    (void)otelc_options_init(&o);
    if (otelc_otlp_options(&o) == NULL) {
        fprintf(stderr, "replay: the OTLP exporter is not there\n");
        return 2;
    }
    r.opts = *otelc_otlp_options(&o);
    r.opts.spool_dir = NULL; /* replay sends; it does not spool */
    r.timeout_ms = 30000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--endpoint") == 0) {
            r.opts.all.endpoint = value_of(argc, argv, &i);
            r.opts.traces.endpoint = r.opts.logs.endpoint = NULL;
        } else if (strcmp(a, "--protocol") == 0) {
            const char *p = value_of(argc, argv, &i);

            r.opts.traces.protocol = r.opts.logs.protocol = OTELC_OTLP_UNSET;
            if (strcmp(p, "grpc") == 0)
                r.opts.all.protocol = OTELC_OTLP_GRPC;
            else if (strcmp(p, "http/protobuf") == 0)
                r.opts.all.protocol = OTELC_OTLP_HTTP_PROTOBUF;
            else if (strcmp(p, "http/json") == 0)
                r.opts.all.protocol = OTELC_OTLP_HTTP_JSON;
            else {
                fprintf(stderr, "replay: unknown protocol '%s' (grpc, http/protobuf, http/json)\n",
                        p);
                return 2;
            }
        } else if (strcmp(a, "--header") == 0) {
            const char *h = value_of(argc, argv, &i);
            size_t hl = strlen(h);
            char *grown = realloc(headers, headers_len + hl + 2);

            if (grown == NULL || strchr(h, '=') == NULL) {
                fprintf(stderr, "replay: --header takes NAME=VALUE\n");
                return 2;
            }
            headers = grown;
            if (headers_len > 0)
                headers[headers_len++] = ',';
            memcpy(headers + headers_len, h, hl + 1);
            headers_len += hl;
            r.opts.all.headers = headers;
            r.opts.traces.headers = r.opts.logs.headers = NULL;
        } else if (strcmp(a, "--timeout") == 0) {
            long t = strtol(value_of(argc, argv, &i), NULL, 10);

            if (t <= 0) {
                fprintf(stderr, "replay: --timeout takes milliseconds above 0\n");
                return 2;
            }
            r.timeout_ms = (uint32_t)t;
        } else if (strcmp(a, "--certificate") == 0) {
            r.opts.all.certificate = value_of(argc, argv, &i);
        } else if (strcmp(a, "--client-certificate") == 0) {
            r.opts.all.client_certificate = value_of(argc, argv, &i);
        } else if (strcmp(a, "--client-key") == 0) {
            r.opts.all.client_key = value_of(argc, argv, &i);
        } else if (strcmp(a, "--insecure") == 0) {
            r.opts.all.insecure = OTELC_OTLP_YES;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-' && a[1] == '-' && a[2] == '\0') {
            first_file = i + 1;
            break;
        } else if (a[0] == '-') {
            fprintf(stderr, "replay: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else {
            files[n_files++] = argv[i];
        }
    }
    for (int i = first_file; first_file > 0 && i < argc; i++)
        files[n_files++] = argv[i];
    if (n_files == 0) {
        usage(stderr);
        return 2;
    }
    r.progress = isatty(2);
    for (int i = 0; i < n_files; i++) {
        r.files++;
        if (is_spool_file(files[i]))
            replay_spool_file(&r, files[i]);
        else
            replay_lines(&r, files[i]);
    }
    for (int s = 0; s < 3; s++) {
        if (r.exporter[s] != NULL) {
            r.exporter[s]->ops->shutdown(r.exporter[s], 5000);
            r.exporter[s]->ops->destroy(r.exporter[s]);
        }
    }
    if (r.progress)
        fputc('\n', stderr);
    printf("replay: %llu files, %llu requests, %llu records: %llu accepted, %llu rejected, "
           "%llu not delivered (%llu requests failed); %llu unreadable\n",
           r.files, r.requests, r.records, r.accepted, r.rejected, r.failed_records,
           r.failed_requests, r.unreadable);
    free(headers);
    free(files);
    return r.failed_records == 0 && r.rejected == 0 && r.unreadable == 0 ? 0 : 1;
}
