/*
 * otelc-bench-rx: the counting OTLP receiver of otelc-bench's export
 * benchmarks (otlp_http_export, otlp_grpc_export). A program of its own so
 * that its CPU time is its own: otelc-bench runs it from its directory and
 * reads its share of the CPU beside the exporter's.
 *
 *     otelc-bench-rx http    OTLP/HTTP on 127.0.0.1 (HTTP/1.1, keep-alive)
 *     otelc-bench-rx grpc    OTLP/gRPC on 127.0.0.1 (the gRPC C core)
 *     otelc-bench-rx hang    accepts connections and reads them, never answers
 *
 * It listens on an ephemeral port and prints `port N` on stdout. Then, for
 * each line read on stdin, it prints `spans=S requests=R cpu_ns=C`: the
 * records counted in the requests answered so far, those requests, and the
 * CPU time of the whole process (every thread, the gRPC core's included).
 * It exits when stdin closes.
 *
 * A receiver that only counts: every request is answered with success and
 * an empty message (an Export*ServiceResponse without partial success).
 * Records are counted by walking the protobuf just deep enough: field 1 of
 * the request (resource_spans / resource_logs), field 2 in it (scope_spans /
 * scope_logs), field 2 in that (spans / log_records), one count per
 * submessage. Traces and logs have the same shape, so both are counted.
 * Compression is not handled: the benchmarks send without it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifdef OTELC_BENCH_RX_GRPC
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#endif

static _Atomic uint64_t n_records, n_requests;

/* ---- the protobuf walk ------------------------------------------------------------ */

static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;

    for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;

        x |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *v = x;
            return true;
        }
    }
    return false;
}

/*
 * Counts the length-delimited fields along `path` (field numbers, `depth`
 * levels) in p[0, n): at the last level each field counts one. Other fields
 * are skipped; a malformed message counts what was read before the damage.
 */
static uint64_t count_path(const uint8_t *p, size_t n, const uint32_t *path, int depth)
{
    const uint8_t *end = p + n;
    uint64_t count = 0, key, len;

    while (p < end && varint(&p, end, &key)) {
        switch (key & 7) {
        case 0:
            if (!varint(&p, end, &len))
                return count;
            continue;
        case 1:
            if (end - p < 8)
                return count;
            p += 8;
            continue;
        case 5:
            if (end - p < 4)
                return count;
            p += 4;
            continue;
        case 2:
            if (!varint(&p, end, &len) || len > (uint64_t)(end - p))
                return count;
            if ((key >> 3) == path[0])
                count += depth == 1 ? 1 : count_path(p, (size_t)len, path + 1, depth - 1);
            p += len;
            continue;
        default:
            return count;
        }
    }
    return count;
}

static uint64_t count_records(const uint8_t *p, size_t n)
{
    static const uint32_t path[3] = { 1, 2, 2 };

    return count_path(p, n, path, 3);
}

/* ---- TCP -------------------------------------------------------------------------- */

/* A listening socket on 127.0.0.1, an ephemeral port (*port). */
static int listen_local(int *port)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* ---- HTTP/1.1 --------------------------------------------------------------------- */

#define MAX_REQUEST (256u << 20)

/* The value of Content-Length in the header block h[0, n), 0 when absent. */
static size_t content_length(const char *h, size_t n)
{
    static const char name[] = "\r\ncontent-length:";
    size_t k = sizeof(name) - 1;

    for (size_t i = 0; i + k <= n; i++) {
        if (strncasecmp(h + i, name, k) == 0) {
            size_t v = 0;

            for (i += k; i < n && h[i] == ' '; i++)
                ;
            for (; i < n && h[i] >= '0' && h[i] <= '9'; i++)
                v = v * 10 + (size_t)(h[i] - '0');
            return v;
        }
    }
    return 0;
}

/* One connection: requests one after the other, each answered 200 with an
 * empty protobuf body, until the peer closes. */
static void *http_conn(void *arg)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                             "Content-Length: 0\r\n\r\n";
    int fd = (int)(intptr_t)arg;
    size_t cap = 1u << 20, len = 0;
    char *buf = malloc(cap);

    while (buf != NULL) {
        char *eoh = len >= 4 ? memmem(buf, len, "\r\n\r\n", 4) : NULL;
        ssize_t r;

        if (eoh != NULL) {
            size_t head = (size_t)(eoh - buf) + 4;
            size_t body = content_length(buf, head);

            if (head + body > MAX_REQUEST)
                break;
            if (len >= head + body) {
                atomic_fetch_add_explicit(&n_records,
                                          count_records((const uint8_t *)buf + head, body),
                                          memory_order_relaxed);
                atomic_fetch_add_explicit(&n_requests, 1, memory_order_relaxed);
                if (!write_all(fd, ok, sizeof(ok) - 1))
                    break;
                memmove(buf, buf + head + body, len - head - body);
                len -= head + body;
                continue;
            }
            if (head + body > cap) {
                char *grown = realloc(buf, head + body);

                if (grown == NULL)
                    break;
                buf = grown;
                cap = head + body;
            }
        } else if (len == cap) {
            break; /* a header block of a megabyte is not ours */
        }
        r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    free(buf);
    close(fd);
    return NULL;
}

/* Reads what the peer sends and throws it away, never answering. */
static void *hang_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[65536];

    for (;;) {
        ssize_t r = read(fd, buf, sizeof(buf));

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
    }
    close(fd);
    return NULL;
}

typedef struct acceptor {
    int fd;
    void *(*serve)(void *);
} acceptor_t;

static void *accept_main(void *arg)
{
    acceptor_t *a = arg;

    for (;;) {
        int c = accept4(a->fd, NULL, NULL, SOCK_CLOEXEC), one = 1;
        pthread_t th;

        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
                continue;
            return NULL;
        }
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (pthread_create(&th, NULL, a->serve, (void *)(intptr_t)c) != 0) {
            close(c);
            continue;
        }
        pthread_detach(th);
    }
}

static bool start_tcp(void *(*serve)(void *), int *port)
{
    static acceptor_t a;
    pthread_t th;

    a.fd = listen_local(port);
    a.serve = serve;
    return a.fd >= 0 && pthread_create(&th, NULL, accept_main, &a) == 0;
}

/* ---- gRPC ------------------------------------------------------------------------- */

#ifdef OTELC_BENCH_RX_GRPC
/*
 * Unregistered methods (any path is an Export), on one completion queue
 * served by one thread. Each call goes through three batches, each call
 * context holding one call at a time: requested (the server fills call,
 * details, metadata), reading (initial metadata sent, the message
 * received), finishing (the empty reply and the status OK sent, the close
 * received); then the context asks for the next call. Several contexts
 * keep calls requested while one is served.
 */
#define GRPC_CONTEXTS 8

typedef enum { CALL_REQUESTED, CALL_READING, CALL_FINISHING } call_state_t;

typedef struct call_ctx {
    call_state_t state;
    grpc_call *call;
    grpc_call_details details;
    grpc_metadata_array metadata;
    grpc_byte_buffer *message, *reply;
    int cancelled;
} call_ctx_t;

static grpc_server *server;
static grpc_completion_queue *cq;

static void request_call(call_ctx_t *c)
{
    c->state = CALL_REQUESTED;
    c->call = NULL;
    c->message = c->reply = NULL;
    grpc_call_details_init(&c->details);
    grpc_metadata_array_init(&c->metadata);
    if (grpc_server_request_call(server, &c->call, &c->details, &c->metadata, cq, cq, c) !=
        GRPC_CALL_OK)
        fprintf(stderr, "otelc-bench-rx: grpc_server_request_call refused\n");
}

static void count_message(grpc_byte_buffer *bb)
{
    grpc_byte_buffer_reader reader;
    grpc_slice all;

    if (!grpc_byte_buffer_reader_init(&reader, bb))
        return;
    /* One contiguous slice (a copy only when the message came in pieces):
     * the walk does not cross slice boundaries. */
    all = grpc_byte_buffer_reader_readall(&reader);
    atomic_fetch_add_explicit(&n_records,
                              count_records(GRPC_SLICE_START_PTR(all), GRPC_SLICE_LENGTH(all)),
                              memory_order_relaxed);
    grpc_slice_unref(all);
    grpc_byte_buffer_reader_destroy(&reader);
}

/* Gives the context's call back and asks for the next one. */
static void recycle(call_ctx_t *c)
{
    if (c->message != NULL)
        grpc_byte_buffer_destroy(c->message);
    if (c->reply != NULL)
        grpc_byte_buffer_destroy(c->reply);
    grpc_call_unref(c->call);
    grpc_call_details_destroy(&c->details);
    grpc_metadata_array_destroy(&c->metadata);
    request_call(c);
}

static void advance(call_ctx_t *c, bool ok)
{
    grpc_op ops[3];

    memset(ops, 0, sizeof(ops));
    switch (c->state) {
    case CALL_REQUESTED:
        if (!ok)
            return; /* the server is shutting down */
        ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[1].op = GRPC_OP_RECV_MESSAGE;
        ops[1].data.recv_message.recv_message = &c->message;
        c->state = CALL_READING;
        if (grpc_call_start_batch(c->call, ops, 2, c, NULL) != GRPC_CALL_OK)
            recycle(c);
        return;
    case CALL_READING:
        if (c->message != NULL) {
            count_message(c->message);
            grpc_byte_buffer_destroy(c->message);
            c->message = NULL;
        }
        c->reply = grpc_raw_byte_buffer_create(NULL, 0);
        ops[0].op = GRPC_OP_SEND_MESSAGE;
        ops[0].data.send_message.send_message = c->reply;
        ops[1].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
        ops[1].data.send_status_from_server.status = GRPC_STATUS_OK;
        ops[2].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
        ops[2].data.recv_close_on_server.cancelled = &c->cancelled;
        c->state = CALL_FINISHING;
        if (grpc_call_start_batch(c->call, ops, 3, c, NULL) != GRPC_CALL_OK)
            recycle(c);
        return;
    case CALL_FINISHING:
        if (!c->cancelled)
            atomic_fetch_add_explicit(&n_requests, 1, memory_order_relaxed);
        recycle(c);
        return;
    }
}

static void *grpc_main(void *arg)
{
    (void)arg;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);

        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            return NULL;
        if (ev.type == GRPC_OP_COMPLETE)
            advance(ev.tag, ev.success != 0);
    }
}

static bool start_grpc(int *port)
{
    static call_ctx_t calls[GRPC_CONTEXTS];
    grpc_server_credentials *creds;
    grpc_arg arg;
    grpc_channel_args args = { 1, &arg };
    pthread_t th;

    grpc_init();
    arg.type = GRPC_ARG_INTEGER;
    arg.key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    arg.value.integer = -1;
    server = grpc_server_create(&args, NULL);
    cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(server, cq, NULL);
    creds = grpc_insecure_server_credentials_create();
    *port = grpc_server_add_http2_port(server, "127.0.0.1:0", creds);
    grpc_server_credentials_release(creds);
    if (*port == 0)
        return false;
    grpc_server_start(server);
    for (int i = 0; i < GRPC_CONTEXTS; i++)
        request_call(&calls[i]);
    return pthread_create(&th, NULL, grpc_main, NULL) == 0;
}
#endif

/* ---- main ------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    char line[64];
    int port = 0;
    bool started = false;

    if (argc != 2) {
        fprintf(stderr, "usage: otelc-bench-rx http|grpc|hang\n");
        return 2;
    }
    if (strcmp(argv[1], "http") == 0) {
        started = start_tcp(http_conn, &port);
    } else if (strcmp(argv[1], "hang") == 0) {
        started = start_tcp(hang_conn, &port);
    } else if (strcmp(argv[1], "grpc") == 0) {
#ifdef OTELC_BENCH_RX_GRPC
        started = start_grpc(&port);
#else
        fprintf(stderr, "otelc-bench-rx: built without gRPC\n");
        return 3;
#endif
    } else {
        fprintf(stderr, "usage: otelc-bench-rx http|grpc|hang\n");
        return 2;
    }
    if (!started) {
        fprintf(stderr, "otelc-bench-rx: cannot listen (%s)\n", strerror(errno));
        return 1;
    }
    printf("port %d\n", port);
    fflush(stdout);
    while (fgets(line, sizeof(line), stdin) != NULL) {
        struct timespec ts;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        printf("spans=%llu requests=%llu cpu_ns=%llu\n",
               (unsigned long long)atomic_load(&n_records),
               (unsigned long long)atomic_load(&n_requests),
               (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec);
        fflush(stdout);
    }
    /* stdin closed: otelc-bench is done with us. The threads go with the
     * process. */
    return 0;
}
