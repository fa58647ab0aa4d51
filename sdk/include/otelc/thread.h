/*
 * otelc/thread.h: threads and tasks that carry their creator's context.
 *
 * A thread started with otelc_thread_create() begins with the context of
 * the thread that created it: its spans are children of the creator's
 * active span, in the same trace, and its logs carry the creator's
 * correlation id, bound fields and baggage.
 *
 *     OTELC_SPAN("load_book") {
 *         otelc_thread_create(&th, NULL, loader_main, &job);  // loader's spans: children
 *     }
 *
 * A unit of work handed to another thread (a pool, an event loop) carries
 * it the same way in an otelc_task_t, which the caller embeds in its own
 * queue entry; nothing is allocated but the captured context:
 *
 *     otelc_task_init(&entry->task, handle_order, entry);  // on the submitting thread
 *     ...
 *     otelc_task_run(&entry->task);                          // on the worker
 *
 * Both are thread-safe. When the context cannot be captured (the SDK is not
 * initialised, memory is short), the thread or task runs without it: the
 * application's work is never refused for the sake of its telemetry.
 */
#ifndef OTELC_THREAD_H
#define OTELC_THREAD_H

#include <otelc/common.h>
#include <otelc/context.h>

#include <pthread.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * pthread_create() whose new thread runs `fn(arg)` with the calling
 * thread's context attached, detached again when `fn` returns or the
 * thread exits (pthread_exit, cancellation). Returns what pthread_create()
 * returns: 0, or an error number (EAGAIN, EINVAL, EPERM, and ENOMEM when
 * not even the few bytes the hand-off needs could be allocated).
 */
OTELC_API int otelc_thread_create(pthread_t *thread, const pthread_attr_t *attr,
                                  void *(*fn)(void *), void *arg);

/* A unit of work with the context it was created in; fields are private. */
typedef struct otelc_task {
    void (*fn)(void *arg);
    void *arg;
    otelc_context_t *ctx; /* captured by otelc_task_init(); NULL: none */
} otelc_task_t;

/* Fills `task` with `fn(arg)` and the calling thread's context. */
OTELC_API void otelc_task_init(otelc_task_t *task, void (*fn)(void *), void *arg);

/*
 * Runs the task on the calling thread with its context attached, then
 * detaches it and releases the context, so that the thread's own context
 * is as it was. The context goes with the first run: run again, the task
 * runs in the calling thread's own context.
 * The task may be freed by `fn` itself.
 */
OTELC_API void otelc_task_run(otelc_task_t *task);

/* Releases the context of a task that will not run. */
OTELC_API void otelc_task_discard(otelc_task_t *task);

#ifdef __cplusplus
}
#endif

#endif /* OTELC_THREAD_H */
