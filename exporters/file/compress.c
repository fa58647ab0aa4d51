/*
 * compress.c: gzip of rotated files on a thread of their own (compress.h).
 */
#include "compress.h"

#include <otelc/exporter.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static void report(const char *what, const char *path, int err)
{
    otelc_diag(OTELC_DIAG_ERROR, "exporter.file.compress",
                "file exporter: cannot %s %s: %s; the file stays uncompressed", what, path,
                strerror(err));
}

static char *with_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s) + strlen(suffix) + 1;
    char *p = malloc(n);

    if (p != NULL)
        snprintf(p, n, "%s%s", s, suffix);
    return p;
}

bool otelc__gzip_file(const char *src)
{
    char *dst = with_suffix(src, ".gz"), *tmp = with_suffix(src, ".gz.tmp");
    char buf[65536];
    int in = -1, out = -1;
    gzFile gz = NULL;
    bool ok = false;
    ssize_t r;

    if (dst == NULL || tmp == NULL) {
        report("compress", src, ENOMEM);
        goto done;
    }
    in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        report("read", src, errno);
        goto done;
    }
    out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (out < 0) {
        report("create", tmp, errno);
        goto done;
    }
    /* Level 6, zlib's default: logs compress about tenfold at 30-60 MB/s. */
    gz = gzdopen(out, "wb6");
    if (gz == NULL) {
        report("compress", src, ENOMEM);
        goto done;
    }
    out = -1; /* gzclose() closes it */
    while ((r = read(in, buf, sizeof(buf))) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || gzwrite(gz, buf, (unsigned)r) != (int)r) {
            report("compress", src, r < 0 ? errno : EIO);
            goto done;
        }
    }
    r = gzclose(gz);
    gz = NULL;
    if (r != Z_OK) {
        report("compress", src, r == Z_ERRNO ? errno : EIO);
        goto done;
    }
    if (rename(tmp, dst) != 0) {
        report("rename", tmp, errno);
        goto done;
    }
    (void)unlink(src);
    ok = true;
done:
    if (gz != NULL)
        (void)gzclose(gz);
    if (out >= 0)
        close(out);
    if (in >= 0)
        close(in);
    if (!ok && tmp != NULL)
        (void)unlink(tmp);
    free(dst);
    free(tmp);
    return ok;
}

void otelc__compressor_init(otelc__compressor_t *z)
{
    pthread_condattr_t ca;

    memset(z, 0, sizeof(*z));
    pthread_mutex_init(&z->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&z->wake, &ca);
    pthread_cond_init(&z->idle, &ca);
    pthread_condattr_destroy(&ca);
}

static void *compressor_main(void *arg)
{
    otelc__compressor_t *z = arg;

    pthread_mutex_lock(&z->mu);
    for (;;) {
        char *path;

        while (z->n == 0 && !z->stop)
            pthread_cond_wait(&z->wake, &z->mu);
        if (z->stop)
            break;
        path = z->queue[z->head];
        z->head = (z->head + 1) % OTELC__COMPRESS_QUEUE;
        z->n--;
        z->busy = true;
        pthread_mutex_unlock(&z->mu);
        (void)otelc__gzip_file(path);
        free(path);
        pthread_mutex_lock(&z->mu);
        z->busy = false;
        if (z->n == 0)
            pthread_cond_broadcast(&z->idle);
    }
    pthread_mutex_unlock(&z->mu);
    return NULL;
}

void otelc__compressor_add(otelc__compressor_t *z, char *path)
{
    bool queued = false;

    if (path == NULL)
        return;
    pthread_mutex_lock(&z->mu);
    if (!z->stop && z->n < OTELC__COMPRESS_QUEUE) {
        if (!z->started) {
            /* The thread takes no signal meant for the application. */
            sigset_t all, old;

            sigfillset(&all);
            pthread_sigmask(SIG_SETMASK, &all, &old);
            z->started = pthread_create(&z->thread, NULL, compressor_main, z) == 0;
            pthread_sigmask(SIG_SETMASK, &old, NULL);
        }
        if (z->started) {
            z->queue[(z->head + z->n) % OTELC__COMPRESS_QUEUE] = path;
            z->n++;
            queued = true;
            pthread_cond_signal(&z->wake);
        }
    }
    pthread_mutex_unlock(&z->mu);
    if (!queued) {
        (void)otelc__gzip_file(path);
        free(path);
    }
}

bool otelc__compressor_wait(otelc__compressor_t *z, uint32_t timeout_ms)
{
    struct timespec at;
    bool idle;

    clock_gettime(CLOCK_MONOTONIC, &at);
    at.tv_sec += (time_t)(timeout_ms / 1000u);
    at.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
    if (at.tv_nsec >= 1000000000L) {
        at.tv_sec++;
        at.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&z->mu);
    while ((z->n > 0 || z->busy) && z->started &&
           pthread_cond_timedwait(&z->idle, &z->mu, &at) == 0) {
    }
    idle = z->n == 0 && !z->busy;
    pthread_mutex_unlock(&z->mu);
    return idle;
}

bool otelc__compressor_idle(otelc__compressor_t *z)
{
    bool idle;

    pthread_mutex_lock(&z->mu);
    idle = z->n == 0 && !z->busy;
    pthread_mutex_unlock(&z->mu);
    return idle;
}

void otelc__compressor_stop(otelc__compressor_t *z)
{
    bool join;

    pthread_mutex_lock(&z->mu);
    z->stop = true;
    join = z->started;
    z->started = false;
    pthread_cond_signal(&z->wake);
    pthread_mutex_unlock(&z->mu);
    if (join)
        pthread_join(z->thread, NULL);
    while (z->n > 0) {
        free(z->queue[z->head]);
        z->head = (z->head + 1) % OTELC__COMPRESS_QUEUE;
        z->n--;
    }
}

void otelc__compressor_fork_child(otelc__compressor_t *z)
{
    /* The paths queued are the parent's to compress; forgetting them here
     * leaks a few strings in the child rather than calling free() in a
     * fork handler. */
    pthread_mutex_init(&z->mu, NULL);
    z->started = false;
    z->busy = false;
    z->n = 0;
    z->head = 0;
}
