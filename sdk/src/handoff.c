/*
 * handoff.c: threads and tasks that start with their creator's context
 * (otelc/thread.h), over otelc_context_capture() and attach().
 */
#include "tls.h"
#include "diag.h"

#include <otelc/thread.h>

#include <errno.h>
#include <stdlib.h>

typedef struct start {
    void *(*fn)(void *);
    void *arg;
    otelc_context_t *ctx;
    otelc_token_t token;
} start_t;

/* Runs when the thread's function returns, and when the thread exits by
 * pthread_exit() or is cancelled inside it. */
static void start_done(void *p)
{
    start_t *s = p;

    otelc_context_detach(s->token);
    otelc_context_release(s->ctx);
    free(s);
}

static void *start_main(void *p)
{
    start_t *s = p;
    void *(*fn)(void *) = s->fn;
    void *arg = s->arg;
    void *ret;

    s->token = otelc_context_attach(s->ctx);
    pthread_cleanup_push(start_done, s);
    ret = fn(arg);
    pthread_cleanup_pop(1);
    return ret;
}

int otelc_thread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *),
                        void *arg)
{
    start_t *s = malloc(sizeof(*s));
    int rc;

    if (s == NULL) {
        otelc__diag(OTELC_DIAG_ERROR, "thread.create",
                    "otelc_thread_create: %s for the context hand-off; the thread starts "
                    "without its creator's context",
                    otelc_status_str(OTELC_ERR_NOMEM));
        return pthread_create(thread, attr, fn, arg);
    }
    s->fn = fn;
    s->arg = arg;
    s->ctx = otelc_context_capture();
    rc = pthread_create(thread, attr, start_main, s);
    if (rc != 0) {
        otelc_context_release(s->ctx);
        free(s);
    }
    return rc;
}

void otelc_task_init(otelc_task_t *task, void (*fn)(void *), void *arg)
{
    task->fn = fn;
    task->arg = arg;
    task->ctx = otelc_context_capture();
}

void otelc_task_run(otelc_task_t *task)
{
    /* Copied out first: `fn` may free the task. */
    void (*fn)(void *) = task->fn;
    void *arg = task->arg;
    otelc_context_t *ctx = task->ctx;
    otelc_token_t t;

    task->ctx = NULL;
    t = otelc_context_attach(ctx);
    fn(arg);
    otelc_context_detach(t);
    otelc_context_release(ctx);
}

void otelc_task_discard(otelc_task_t *task)
{
    otelc_context_release(task->ctx);
    task->ctx = NULL;
}
