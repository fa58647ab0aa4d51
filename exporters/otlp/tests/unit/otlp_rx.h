/*
 * otlp_rx.h: the OTLP receiver of tests/otlp-receiver (Node.js, the official
 * @grpc/grpc-js and protobufjs reading proto/), started and steered by a
 * test: rx_start() runs it on free loopback ports, rx_get()/rx_post() speak
 * to its control port, rx_records() returns what it decoded as json-c
 * objects. The receiver exits when its stdin closes, so a test that dies
 * leaves nothing running.
 *
 * Where node or the receiver's npm packages are missing the tests skip,
 * unless OTELC_REQUIRE_RECEIVER=1 (set by scripts/test.sh, which installs
 * them), where they fail.
 */
#ifndef OTELC_OTLP_RX_H
#define OTELC_OTLP_RX_H

#include <curl/curl.h>
#include <dirent.h>
#include <json-c/json.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Tests skip without the receiver (rx_start() failed or was not asked). */
#define NEED_RECEIVER()                                                                            \
    do {                                                                                           \
        if (rx.pid <= 0)                                                                           \
            skip();                                                                                \
    } while (0)

#ifndef OTELC_RECEIVER_DIR
#error "OTELC_RECEIVER_DIR: the path of tests/otlp-receiver"
#endif

typedef struct rx {
    pid_t pid;
    int in_fd; /* the receiver's stdin: closed, it exits */
    int grpc_port, http_port, control_port;
} rx_t;

/* 0: started; -1: not available here (the caller skips). Fails the test
 * when required. `args` are extra arguments (NULL-terminated), may be NULL. */
static int rx_start(rx_t *rx, const char *const *args)
{
    int in[2], out[2];
    char line[512];
    size_t len = 0;
    char nm[1024];
    struct stat st;
    const char *req = getenv("OTELC_REQUIRE_RECEIVER");
    bool required = req != NULL && strcmp(req, "1") == 0;
    json_object *o, *v;

    memset(rx, 0, sizeof(*rx));
    rx->pid = -1;
    snprintf(nm, sizeof(nm), "%s/node_modules/@grpc/grpc-js", OTELC_RECEIVER_DIR);
    if (stat(nm, &st) != 0) {
        printf("receiver: %s missing (run tests/otlp-receiver/install.sh)\n", nm);
        assert_false(required);
        return -1;
    }
    assert_int_equal(pipe2(in, O_CLOEXEC), 0);
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    fflush(stdout);
    fflush(stderr);
    rx->pid = fork();
    assert_true(rx->pid >= 0);
    if (rx->pid == 0) {
        char *argv[32];
        size_t n = 0;
        char js[1024];

        snprintf(js, sizeof(js), "%s/receiver.js", OTELC_RECEIVER_DIR);
        dup2(in[0], 0);
        dup2(out[1], 1);
        argv[n++] = "node";
        argv[n++] = js;
        for (size_t i = 0; args != NULL && args[i] != NULL && n < 31; i++)
            argv[n++] = strdup(args[i]);
        argv[n] = NULL;
        execvp("node", argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    rx->in_fd = in[1];
    /* The one line with the ports, when every listener is up. */
    while (len < sizeof(line) - 1) {
        ssize_t r = read(out[0], line + len, 1);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (line[len] == '\n')
            break;
        len++;
    }
    line[len] = '\0';
    close(out[0]);
    o = json_tokener_parse(line);
    if (o == NULL) {
        int status;

        printf("receiver: did not start (said '%s')\n", line);
        close(rx->in_fd);
        waitpid(rx->pid, &status, 0);
        rx->pid = -1;
        assert_false(required);
        return -1;
    }
    assert_true(json_object_object_get_ex(o, "grpc", &v));
    rx->grpc_port = json_object_get_int(v);
    assert_true(json_object_object_get_ex(o, "http", &v));
    rx->http_port = json_object_get_int(v);
    assert_true(json_object_object_get_ex(o, "control", &v));
    rx->control_port = json_object_get_int(v);
    json_object_put(o);
    return 0;
}

static void rx_stop(rx_t *rx)
{
    int status;

    if (rx->pid <= 0)
        return;
    close(rx->in_fd);
    kill(rx->pid, SIGTERM);
    waitpid(rx->pid, &status, 0);
    rx->pid = -1;
}

typedef struct rx_buf {
    char *p;
    size_t n;
} rx_buf_t;

static size_t rx_collect(char *p, size_t size, size_t n, void *arg)
{
    rx_buf_t *b = arg;
    char *q = realloc(b->p, b->n + size * n + 1);

    assert_non_null(q);
    memcpy(q + b->n, p, size * n);
    b->n += size * n;
    q[b->n] = '\0';
    b->p = q;
    return size * n;
}

/* A control request; returns the parsed JSON answer (the caller puts it)
 * and the HTTP status in *status when not NULL. */
static json_object *rx_call(const rx_t *rx, const char *method, const char *path, const char *body,
                            long *status)
{
    CURL *c = curl_easy_init();
    char url[512];
    rx_buf_t b = { NULL, 0 };
    long code = 0;
    json_object *o;

    assert_non_null(c);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", rx->control_port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, rx_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body : "{}");
    }
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    if (status != NULL)
        *status = code;
    o = b.p != NULL ? json_tokener_parse(b.p) : NULL;
    free(b.p);
    return o;
}

static void rx_mode(const rx_t *rx, const char *json)
{
    long code;
    json_object *o = rx_call(rx, "POST", "/mode", json, &code);

    assert_int_equal(code, 200);
    json_object_put(o);
}

static void rx_reset(const rx_t *rx)
{
    long code;
    json_object *o = rx_call(rx, "POST", "/reset", "{}", &code);

    assert_int_equal(code, 200);
    json_object_put(o);
}

/* Awaits at least n records of the signal ("traces", "logs"); true when
 * they came within timeout_ms. */
static bool rx_wait(const rx_t *rx, const char *signal, int n, int timeout_ms)
{
    char path[128];
    long code;
    json_object *o;

    snprintf(path, sizeof(path), "/wait?signal=%s&records=%d&timeout_ms=%d", signal, n, timeout_ms);
    o = rx_call(rx, "GET", path, NULL, &code);
    json_object_put(o);
    return code == 200;
}

/* The records of the signal, as a json-c array (owned by *holder, which the
 * caller puts). */
static json_object *rx_records(const rx_t *rx, const char *signal, json_object **holder)
{
    char path[64];
    json_object *records;

    snprintf(path, sizeof(path), "/records?signal=%s", signal);
    *holder = rx_call(rx, "GET", path, NULL, NULL);
    assert_non_null(*holder);
    assert_true(json_object_object_get_ex(*holder, "records", &records));
    return records;
}

/* counts.<signal>.<field> ("requests", "records", "rejected", "failed"). */
static int64_t rx_count(const rx_t *rx, const char *signal, const char *field)
{
    json_object *o = rx_call(rx, "GET", "/counts", NULL, NULL), *s, *v;
    int64_t n = -1;

    assert_non_null(o);
    if (json_object_object_get_ex(o, signal, &s) && json_object_object_get_ex(s, field, &v))
        n = json_object_get_int64(v);
    json_object_put(o);
    return n;
}

/* o.a.b... by a dotted path of member names and [i] indexes ("spans.0.name"
 * is "spans[0].name" here written "spans.0.name"); NULL when absent. */
static json_object *jpath(json_object *o, const char *path)
{
    char part[128];

    while (o != NULL && *path != '\0') {
        const char *dot = strchr(path, '.');
        size_t n = dot != NULL ? (size_t)(dot - path) : strlen(path);

        assert_true(n < sizeof(part));
        memcpy(part, path, n);
        part[n] = '\0';
        if (json_object_is_type(o, json_type_array)) {
            size_t i = strtoul(part, NULL, 10);

            o = i < json_object_array_length(o) ? json_object_array_get_idx(o, i) : NULL;
        } else if (!json_object_object_get_ex(o, part, &o)) {
            o = NULL;
        }
        path = dot != NULL ? dot + 1 : path + n;
    }
    return o;
}

static const char *jstr(json_object *o, const char *path)
{
    json_object *v = jpath(o, path);

    return v != NULL ? json_object_get_string(v) : NULL;
}

static int64_t jint(json_object *o, const char *path)
{
    json_object *v = jpath(o, path);

    return v != NULL ? json_object_get_int64(v) : 0;
}

/* Requests held by mode "hang" (GET /mode); -1 when it does not answer. */
static inline int64_t rx_held(const rx_t *rx)
{
    long code;
    json_object *o = rx_call(rx, "GET", "/mode", NULL, &code);
    int64_t n = code == 200 ? jint(o, "held") : -1;

    json_object_put(o);
    return n;
}

/* ---- time and files ------------------------------------------------------ */

static inline uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The files of `dir` whose names end in `suffix`. */
static inline size_t files_in(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0, sl = strlen(suffix);

    if (d == NULL)
        return 0;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);

        n += l > sl && strcmp(de->d_name + l - sl, suffix) == 0;
    }
    closedir(d);
    return n;
}

/* Removes `dir` and the files in it. */
static inline void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[512];

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

#endif /* OTELC_OTLP_RX_H */
