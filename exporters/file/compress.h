/*
 * compress.h: gzip of rotated files, off the exporter's thread.
 *
 * Compressing a 10 MiB piece takes a few hundred milliseconds; done on the
 * exporter's thread, that would stall its queue and drop records at modest
 * rates. A compressor owns one thread, started on the first file, and a
 * short queue of paths. When the queue is full (the disk cannot keep up) or
 * the thread cannot be started, the caller compresses the file itself: a
 * slower export, never a lost file.
 */
#ifndef OTELC_EXPORTER_FILE_COMPRESS_H
#define OTELC_EXPORTER_FILE_COMPRESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OTELC__COMPRESS_QUEUE 16

typedef struct otelc__compressor {
    pthread_mutex_t mu;
    pthread_cond_t wake; /* work queued, or stop */
    pthread_cond_t idle; /* the queue emptied */
    pthread_t thread;
    bool started, stop, busy;
    char *queue[OTELC__COMPRESS_QUEUE];
    size_t head, n;
} otelc__compressor_t;

/* Prepares `z`; no thread runs until the first otelc__compressor_add(). */
void otelc__compressor_init(otelc__compressor_t *z);

/* Compresses `path` (malloc'ed; taken over and freed) on the compressor's
 * thread, or on the calling thread when the queue is full. */
void otelc__compressor_add(otelc__compressor_t *z, char *path);

/* Waits at most `timeout_ms` until nothing is queued or being compressed.
 * Returns true when that is so. */
bool otelc__compressor_wait(otelc__compressor_t *z, uint32_t timeout_ms);

/* True when nothing is queued or being compressed: no .gz.tmp file is
 * being written by this compressor. */
bool otelc__compressor_idle(otelc__compressor_t *z);

/* Stops the thread once the file it is on is done and frees what is still
 * queued (those files stay uncompressed; `otelc compress` does them later).
 * Safe to call twice. */
void otelc__compressor_stop(otelc__compressor_t *z);

/* In a child after fork(): the thread does not exist there and the parent
 * compresses what was queued. Async-signal-safe calls only. */
void otelc__compressor_fork_child(otelc__compressor_t *z);

/* gzip `src` into `src`.gz (mode 0640, written to .gz.tmp and renamed when
 * complete), then removes `src`. Reports a failure once and returns false;
 * `src` is left as it was then. */
bool otelc__gzip_file(const char *src);

#endif /* OTELC_EXPORTER_FILE_COMPRESS_H */
