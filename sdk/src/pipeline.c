/*
 * pipeline.c: the pipeline's life: start (its exporters, named or given,
 * each with a queue and worker thread), stop within a deadline, flush,
 * statistics, and fork. What the pipeline thread does is in drain.c,
 * assemble.c and batch.c (see pipeline_int.h).
 *
 * Every exporter has its own worker thread and queue (workers.c), so one
 * slow or dead backend delays nobody else; a batch that finds an exporter's
 * queue full is dropped for that exporter and counted. Records waiting in
 * batches are bounded per signal by max_queue_size, as in the OpenTelemetry
 * batch processors: past it, records are dropped (reason queue_full).
 */
#include "large.h"
#include "pipeline_int.h"

#include "console.h"
#include "config_int.h"
#include "diag.h"
#include "resource.h"
#include "settings_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

otelc__pipeline_t otelc__pipe = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .work = PTHREAD_MUTEX_INITIALIZER,
    .pool_mu = PTHREAD_MUTEX_INITIALIZER,
};

/* ---- start, stop ---------------------------------------------------------------------------- */

/* Gives exporter `e` a queue and a place among the exporters, with its own
 * batching when `own` is not NULL (an exporter of one signal). On failure
 * the exporter is reported by name and destroyed, and the others go on: its
 * records are not counted as exported, since it is not among the exporters
 * a batch waits for. */
static otelc_status_t add_slot(otelc_exporter_t *e, unsigned signals,
                               const otelc_exporter_batching_t *own)
{
    otelc__exporter_slot_t *s;
    const char *name;

    /* An exporter built against another version of exporter.h reads and
     * lays out the structs differently: none of its table can be trusted,
     * not even its name or destroy(), so it is refused untouched (and not
     * freed: leaking it is safer than calling into a table of unknown
     * shape). */
    if (e->ops->version != OTELC_EXPORTER_INTERFACE_VERSION) {
        otelc__diag(OTELC_DIAG_ERROR, "exporter.version",
                    "an exporter built for exporter interface version %lu was refused: this "
                    "otelc has version %u; rebuild the exporter against this otelc's "
                    "<otelc/exporter.h>",
                    (unsigned long)e->ops->version, OTELC_EXPORTER_INTERFACE_VERSION);
        return OTELC_ERR_UNSUPPORTED;
    }
    name = e->ops->name != NULL ? e->ops->name : "exporter";
    if (e->ops->export_batch == NULL || e->ops->destroy == NULL) {
        otelc__diag(OTELC_DIAG_ERROR, "exporter.ops",
                    "exporter '%s' was refused: its table has no %s (required)", name,
                    e->ops->export_batch == NULL ? "export_batch" : "destroy");
        return OTELC_ERR_INVALID;
    }
    if (P.n_slots >= OTELC__MAX_EXPORTERS) {
        otelc__diag(OTELC_DIAG_ERROR, "exporter.too_many", "more than %d exporters: '%s' left out",
                    OTELC__MAX_EXPORTERS, name);
        e->ops->destroy(e);
        return OTELC_ERR_FULL;
    }
    s = otelc__slot_create(e, signals, P.bopt);
    if (s == NULL) {
        char key[64];

        /* A key per exporter, so that each lost exporter is named. */
        snprintf(key, sizeof(key), "exporter.nomem.%s", name);
        otelc__diag(OTELC_DIAG_ERROR, key,
                    "exporter '%s' not started: %s (its queue of %llu batches could not be "
                    "allocated); the other exporters go on",
                    name, otelc_status_str(OTELC_ERR_NOMEM),
                    (unsigned long long)P.bopt[0].max_queue_size + P.bopt[1].max_queue_size + 1);
        e->ops->destroy(e);
        return OTELC_ERR_NOMEM;
    }
    if (own != NULL)
        otelc__slot_own_batching(s, signals == OTELC_SIGNAL_TRACES ? 0 : 1, own);
    P.slots[P.n_slots++] = s;
    return OTELC_OK;
}

/* Calls a component's create() with its settings from `o` (or its defaults). */
static otelc_status_t make_named(const otelc_component_t *c, const otelc_options_t *o,
                                 otelc_signal_t sig, otelc_exporter_batching_t *batching,
                                 otelc_exporter_t **out)
{
    const otelc_batch_options_t *b = &P.bopt[sig == OTELC_SIGNAL_TRACES ? 0 : 1];
    otelc_exporter_args_t args = {
        .struct_size = sizeof(args),
        .signal = sig,
        .resource = &P.resource.pub,
        .limits = sig == OTELC_SIGNAL_TRACES ? &o->span_limits : &o->log_limits,
        .batch = b,
        .clock_fn = o->clock_fn,
        .clock_arg = o->clock_arg,
        .batching = batching,
    };
    void *defaults = NULL;
    otelc_status_t st;

    batching->max_export_batch_size = b->max_export_batch_size;
    batching->schedule_delay_ms = b->schedule_delay_ms;
    if (otelc__is_console(c)) {
        args.settings = o;
    } else if (c->settings_size > 0) {
        args.settings = otelc__component_set_find(o->components, c);
        if (args.settings == NULL) {
            /* Registered after the options were made: its defaults. */
            defaults = calloc(1, c->settings_size);
            if (defaults == NULL)
                return OTELC_ERR_NOMEM;
            otelc__settings_defaults(c->settings, c->n_settings, defaults);
            args.settings = defaults;
        }
    }
    st = c->create(&args, out);
    free(defaults);
    return st;
}

/* Makes the exporters named in a comma list for one signal. */
static void add_named(const char *list, otelc_signal_t sig, const otelc_options_t *o)
{
    const char *p = list;

    while (p != NULL && *p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *q = p;
        while (len && (*q == ' ' || *q == '\t')) {
            q++;
            len--;
        }
        while (len && (q[len - 1] == ' ' || q[len - 1] == '\t'))
            len--;
        if (len && !(len == 4 && strncmp(q, "none", 4) == 0)) {
            char name[32];
            const otelc_component_t *c = NULL;
            otelc_exporter_t *x = NULL;
            otelc_exporter_batching_t batching;
            otelc_status_t st = OTELC_OK;

            if (len < sizeof(name)) {
                memcpy(name, q, len);
                name[len] = '\0';
                c = otelc_component_find(name);
            }
            if (c == NULL || c->create == NULL) {
                otelc__diag(OTELC_DIAG_WARN, "exporter.unknown",
                            "%s: no exporter '%.*s' is known to this program; left out (link "
                            "the library that provides it, such as libotelc_%.*s, or register "
                            "its factory before otelc_init())",
                            sig == OTELC_SIGNAL_TRACES ? "OTEL_TRACES_EXPORTER"
                                                       : "OTEL_LOGS_EXPORTER",
                            (int)len, q, (int)len, q);
            } else if ((st = make_named(c, o, sig, &batching, &x)) != OTELC_OK || x == NULL) {
                char key[64];

                snprintf(key, sizeof(key), "exporter.create.%.*s", (int)len, q);
                otelc__diag(OTELC_DIAG_WARN, key,
                            "exporter '%.*s' not started: %s; the other exporters go on", (int)len,
                            q, st != OTELC_OK ? otelc_status_str(st) : "its factory made none");
            } else {
                (void)add_slot(x, (unsigned)sig, &batching);
            }
        }
        p = e ? e + 1 : NULL;
    }
}

otelc_status_t otelc__pipeline_start(const otelc_options_t *o)
{
    otelc_status_t st;
    unsigned i;

    P.bopt[0] = o->spans_batch;
    P.bopt[1] = o->logs_batch;
    for (i = 0; i < 2; i++) {
        otelc_batch_options_t *b = &P.bopt[i];
        const char *field = i == 0 ? "spans_batch" : "logs_batch";

        /* The environment and the config file keep to these bounds; a
         * program's struct may not, and a queue too large to allocate would
         * lose every exporter. The program asked for a large value, so it
         * gets the largest rather than the default. */
        if (b->max_queue_size > OTELC__MAX_QUEUE_SIZE) {
            otelc__diag(OTELC_DIAG_WARN, i == 0 ? "init.spans_queue" : "init.logs_queue",
                        "options %s.max_queue_size %u is over the %u records otelc holds; "
                        "using %u",
                        field, (unsigned)b->max_queue_size, OTELC__MAX_QUEUE_SIZE,
                        OTELC__MAX_QUEUE_SIZE);
            b->max_queue_size = OTELC__MAX_QUEUE_SIZE;
        }
        if (b->max_export_batch_size > OTELC__MAX_EXPORT_BATCH_SIZE) {
            otelc__diag(OTELC_DIAG_WARN, i == 0 ? "init.spans_batch" : "init.logs_batch",
                        "options %s.max_export_batch_size %u is over the %u records otelc "
                        "exports at once; using %u",
                        field, (unsigned)b->max_export_batch_size, OTELC__MAX_EXPORT_BATCH_SIZE,
                        OTELC__MAX_EXPORT_BATCH_SIZE);
            b->max_export_batch_size = OTELC__MAX_EXPORT_BATCH_SIZE;
        }
        if (b->max_queue_size == 0)
            b->max_queue_size = 2048;
        if (b->max_export_batch_size == 0 || b->max_export_batch_size > b->max_queue_size)
            b->max_export_batch_size = b->max_queue_size;
    }
    P.limits[0] = o->span_limits;
    P.limits[1] = o->log_limits;
    otelc__masks_free();
    st = otelc__masks_build(o->mask_keys);
    if (st != OTELC_OK)
        return st;
    st = otelc__resource_build(o, &P.resource);
    if (st != OTELC_OK)
        return st;
    P.n_slots = 0;
    otelc__factories_init();
    add_named(o->traces_exporter, OTELC_SIGNAL_TRACES, o);
    add_named(o->logs_exporter, OTELC_SIGNAL_LOGS, o);
    for (size_t k = 0; k < o->n_exporters; k++) {
        otelc_exporter_t *e = o->exporters[k];
        if (e != NULL && e->ops != NULL)
            (void)add_slot(e, e->ops->signals & (OTELC_SIGNAL_TRACES | OTELC_SIGNAL_LOGS), NULL);
    }
    otelc__hot.traces_on = otelc__slots_for(0) > 0;
    otelc__hot.logs_on = otelc__slots_for(1) > 0;
    P.stop = false;
    P.flush_req = P.flush_ack = 0;
    otelc__cond_init_mono(&P.wake);
    otelc__cond_init_mono(&P.done);
    for (i = 0; i < P.n_slots; i++) {
        if (!otelc__slot_start(P.slots[i])) {
            otelc__diag(OTELC_DIAG_ERROR, "exporter.thread", "cannot start a thread for '%s'",
                        P.slots[i]->name);
            otelc__slot_destroy(P.slots[i]);
            P.slots[i--] = P.slots[--P.n_slots];
        }
    }
    otelc__hot.traces_on = otelc__slots_for(0) > 0;
    otelc__hot.logs_on = otelc__slots_for(1) > 0;
    P.started = true;
    if (otelc__start_thread(&P.thread, otelc__pipeline_main, NULL) != 0) {
        P.started = false;
        otelc__pipeline_stop(otelc__mono_ns());
        return OTELC_ERR_IO;
    }
    return OTELC_OK;
}

bool otelc__pipeline_stop(uint64_t deadline_mono)
{
    bool all = true;

    if (P.started) {
        pthread_mutex_lock(&P.mu);
        P.stop = true;
        P.stop_deadline = deadline_mono;
        pthread_cond_signal(&P.wake);
        pthread_mutex_unlock(&P.mu);
        if (!otelc__join_until(P.thread, deadline_mono)) {
            /* It is stuck in a drain; it holds no exporter, so wait for it:
             * a drain is bounded by the records in the rings. */
            pthread_join(P.thread, NULL);
        }
        P.started = false;
    }
    for (unsigned i = 0; i < P.n_slots; i++)
        otelc__slot_stop_request(P.slots[i]);
    for (unsigned i = 0; i < P.n_slots; i++)
        if (!otelc__slot_finish(P.slots[i], deadline_mono))
            all = false;
    P.n_slots = 0;
    for (int sig = 0; sig < 2; sig++) {
        if (P.building[sig] != NULL) {
            batch_t *b = P.building[sig];
            count_drop(sig, OTELC_DROP_SHUTDOWN, b->pub.n);
            atomic_fetch_sub(&P.in_flight[sig], b->pub.n);
            P.building[sig] = NULL;
            otelc__batch_put(b);
        }
    }
    otelc__table_clear(&P.open);
    otelc__span_pool_clear();
    otelc__deferred_clear();
    pthread_mutex_lock(&P.pool_mu);
    while (P.pool != NULL) {
        batch_t *b = P.pool;
        P.pool = b->next;
        otelc__batch_destroy(b);
    }
    pthread_mutex_unlock(&P.pool_mu);
    otelc__resource_free(&P.resource);
    otelc__masks_free();
    return all;
}

size_t otelc__pipeline_open_spans(void)
{
    size_t n;
    pthread_mutex_lock(&P.work);
    n = P.open.n;
    pthread_mutex_unlock(&P.work);
    return n;
}

/* ---- statistics ------------------------------------------------------------------------------ */

void otelc__pipeline_reset_stats(void)
{
    atomic_fetch_add(&P.run, 1);
    atomic_store(&P.frozen, 0);
    for (int s = 0; s < 2; s++) {
        atomic_store(&P.exported[s], 0);
        atomic_store(&P.in_flight[s], 0);
        for (int r = 0; r < OTELC_DROP_REASONS; r++)
            atomic_store(&P.dropped[s][r], 0);
    }
    atomic_store(&P.batches_ok, 0);
    atomic_store(&P.batches_failed, 0);
    atomic_store(&P.cpu_ns, 0);
}

void otelc__pipeline_stats(otelc_stats_t *out)
{
    otelc__counts_t c;
    uint64_t n_threads;

    memset(out, 0, sizeof(*out));
    otelc__registry_counts(&c, &n_threads);
    out->threads = n_threads;

    otelc_signal_stats_t *ss[2] = { &out->spans, &out->logs };
    for (int s = 0; s < 2; s++) {
        otelc_signal_stats_t *x = ss[s];
        /* A record a signal handler could not write is produced too. */
        x->produced = c.produced[s] + c.dropped_reentrant[s];
        x->exported = atomic_load(&P.exported[s]);
        for (int r = 0; r < OTELC_DROP_REASONS; r++)
            x->dropped[r] = atomic_load(&P.dropped[s][r]);
        x->dropped[OTELC_DROP_QUEUE_FULL] += c.dropped_full[s];
        x->dropped[OTELC_DROP_LIMIT] += c.dropped_limit[s];
        x->dropped[OTELC_DROP_REENTRANT] += c.dropped_reentrant[s];
        x->truncated = c.truncated[s];
        if (s == 0)
            x->dropped[OTELC_DROP_SAMPLER] += c.dropped_sampler;
        uint64_t settled = x->exported + otelc_signal_stats_dropped(x);
        x->pending = x->produced > settled ? x->produced - settled : 0;
    }
    out->batches_exported = atomic_load(&P.batches_ok);
    out->batches_failed = atomic_load(&P.batches_failed);
    out->pipeline_cpu_ns = atomic_load_explicit(&P.cpu_ns, memory_order_relaxed);
}

/* Counts what is still pending as dropped at shutdown, then freezes the
 * counters so that an abandoned exporter finishing late changes nothing. */
void otelc__pipeline_settle(void)
{
    otelc_stats_t st;
    otelc__pipeline_stats(&st);
    count_drop(0, OTELC_DROP_SHUTDOWN, st.spans.pending);
    count_drop(1, OTELC_DROP_SHUTDOWN, st.logs.pending);
    atomic_store(&P.frozen, 1);
}

/* ---- fork ------------------------------------------------------------------- */

void otelc__pipeline_fork_prepare(void)
{
    pthread_mutex_lock(&P.work);
    pthread_mutex_lock(&P.mu);
    pthread_mutex_lock(&P.pool_mu);
    for (unsigned i = 0; i < P.n_slots; i++)
        otelc__slot_lock(P.slots[i]);
}

void otelc__pipeline_fork_parent(void)
{
    for (unsigned i = P.n_slots; i > 0; i--)
        otelc__slot_unlock(P.slots[i - 1]);
    pthread_mutex_unlock(&P.pool_mu);
    pthread_mutex_unlock(&P.mu);
    pthread_mutex_unlock(&P.work);
}

void otelc__pipeline_fork_child(void)
{
    /* Only the forking thread exists here, and it holds every lock (taken
     * in prepare). The other threads' work belongs to the parent: queued
     * batches and open spans are the parent's to export, so the child
     * forgets them and starts its own threads. */
    otelc__cond_init_mono(&P.wake);
    otelc__cond_init_mono(&P.done);
    for (unsigned i = 0; i < P.n_slots; i++)
        otelc__slot_fork_child(P.slots[i]);
    for (int sig = 0; sig < 2; sig++) {
        if (P.building[sig] != NULL) {
            otelc__arena_reset(&P.building[sig]->arena);
            P.building[sig]->pub.n = 0;
        }
    }
    otelc__table_clear(&P.open);
    otelc__span_pool_clear();
    otelc__deferred_clear();
    otelc__pipeline_reset_stats();
    P.flush_req = P.flush_ack = 0;
    P.wake_pending = false;
    /* Exporters reset what the parent's threads may have left half done
     * (their locks, connections); they run again once the child uses otelc. */
    for (unsigned i = 0; i < P.n_slots; i++) {
        otelc_exporter_t *e = P.slots[i]->exp;
        if (e->ops->fork_child != NULL)
            e->ops->fork_child(e);
    }
    pthread_mutex_unlock(&P.pool_mu);
    pthread_mutex_unlock(&P.mu);
    pthread_mutex_unlock(&P.work);
}

/* POSIX allows only async-signal-safe calls in a fork handler, so the
 * child's threads start here, on its first use of otelc. */
bool otelc__pipeline_restart(void)
{
    bool ok = true;

    if (!P.started)
        return false;
    for (unsigned i = 0; i < P.n_slots; i++)
        if (!otelc__slot_start(P.slots[i]))
            otelc__diag(OTELC_DIAG_ERROR, "fork.thread",
                        "child process: cannot restart exporter '%s'", P.slots[i]->name);
    if (otelc__start_thread(&P.thread, otelc__pipeline_main, NULL) != 0) {
        P.started = false;
        ok = false;
        otelc__diag(OTELC_DIAG_ERROR, "fork.pipeline",
                    "child process: cannot start the pipeline thread; records are not exported");
    }
    return ok;
}

/* ---- exporters by name ------------------------------------------------------ */

/* The console exporter is the core's: its settings are rows of the core
 * (OTELC_CONSOLE_LEVEL, OTELC_CONSOLE_COLOR), so it receives the options. */
static otelc_status_t console_create(const otelc_exporter_args_t *args, otelc_exporter_t **out)
{
    return otelc__console_factory(args->settings, args->signal, out);
}

static const otelc_component_t console_component = {
    .version = OTELC_COMPONENT_VERSION,
    .name = "console",
    .create = console_create,
};

bool otelc_exporter_factory_exists(const char *name)
{
    const otelc_component_t *c;

    if (name == NULL)
        return false;
    otelc__factories_init();
    c = otelc_component_find(name);
    return c != NULL && c->create != NULL;
}

void otelc__factories_init(void)
{
    if (otelc_component_find("console") == NULL &&
        otelc_component_register(&console_component) != OTELC_OK)
        otelc__diag(OTELC_DIAG_ERROR, "exporter.console", "cannot register the console exporter");
}

bool otelc__is_console(const otelc_component_t *c)
{
    return c == &console_component;
}
