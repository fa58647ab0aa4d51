/*
 * otelc.c: the SDK's lifecycle (init, flush, shutdown), statistics, and
 * fork handling.
 */
#include "config_int.h"
#include "core.h"
#include "diag.h"
#include "large.h"
#include "pipeline.h"
#include "settings_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

otelc__hot_t otelc__hot = { .overflow = OTELC_OVERFLOW_DROP, .ring_size = 1u << 19 };

static pthread_mutex_t lifecycle_lock = PTHREAD_MUTEX_INITIALIZER;
static bool started; /* between init and shutdown (also when disabled) */
static bool print_stats;
static bool hooks_installed;
/* The component settings of the options the SDK runs with (for
 * otelc_component_settings()); sets live as long as the process. */
static const struct otelc_component_set *running_components;

static uint64_t next_pow2(uint64_t v)
{
    uint64_t p = 1;
    while (p < v)
        p <<= 1;
    return p;
}

/* Discards what the rings still hold from a previous run and zeroes their
 * counters, so that statistics start from this init. Rings of threads that
 * exited after the previous run's last drain are freed: their records and
 * counts belong to that run. Returns the smallest capacity of the rings
 * that live on (UINT64_MAX when there is none). */
static uint64_t reset_rings(void)
{
    uint64_t smallest = otelc__registry_reset();

    /* The rings no longer name the blocks of their large records. */
    otelc__large_clear();
    return smallest;
}

static void destroy_exporters(const otelc_options_t *o)
{
    for (size_t i = 0; i < o->n_exporters; i++)
        if (o->exporters[i] != NULL && o->exporters[i]->ops->destroy != NULL)
            o->exporters[i]->ops->destroy(o->exporters[i]);
}

/* Locks are taken in the order the pipeline takes them: its work lock
 * before the registry (a drain holds the first while it snapshots the
 * rings under the second), else fork() and the pipeline wait for each
 * other. */
static void fork_prepare(void)
{
    pthread_mutex_lock(&lifecycle_lock);
    otelc__scopes_lock();
    otelc__pipeline_fork_prepare();
    otelc__registry_lock();
    otelc__diag_fork_prepare();
    otelc__large_fork_prepare();
    otelc__shapes_fork_prepare();
}

static void fork_parent(void)
{
    otelc__shapes_fork_parent();
    otelc__large_fork_parent();
    otelc__diag_fork_parent();
    otelc__registry_unlock();
    otelc__pipeline_fork_parent();
    otelc__scopes_unlock();
    pthread_mutex_unlock(&lifecycle_lock);
}

static void fork_child(void)
{
    otelc__shapes_fork_child();
    otelc__registry_fork_child();
    otelc__large_fork_child();
    otelc__diag_fork_child();
    otelc__diag_reset();
    otelc__pipeline_fork_child();
    /* The child's threads start on its first use of otelc. */
    if (atomic_load(&otelc__hot.running) == OTELC__RUNNING)
        atomic_store(&otelc__hot.running, OTELC__RESTART);
    otelc__fast_bump();
    otelc__registry_unlock();
    otelc__scopes_unlock();
    pthread_mutex_unlock(&lifecycle_lock);
}

bool otelc__restart_after_fork(void)
{
    bool ok;

    pthread_mutex_lock(&lifecycle_lock);
    if (atomic_load(&otelc__hot.running) == OTELC__RESTART) {
        if (otelc__pipeline_restart()) {
            atomic_store_explicit(&otelc__hot.running, OTELC__RUNNING, memory_order_release);
        } else {
            atomic_store(&otelc__hot.running, OTELC__STOPPED);
            otelc__loggers_apply_levels(false);
        }
    }
    ok = atomic_load(&otelc__hot.running) == OTELC__RUNNING;
    pthread_mutex_unlock(&lifecycle_lock);
    return ok;
}

/* A process that exits without otelc_shutdown() still exports what it
 * recorded, within a bounded time. */
static void at_exit(void)
{
    (void)otelc_shutdown(2000);
}

otelc_status_t otelc_init(const otelc_options_t *user)
{
    otelc_options_t o;
    otelc_status_t st = OTELC_OK;
    uint64_t ring;

    if (user != NULL) {
        /* A program built against an older header passes a shorter
         * struct: what it lacks takes the defaults. */
        size_t size = otelc__options_size(user);

        otelc_options_default(&o);
        memcpy(&o, user, size);
        o.struct_size = sizeof(o);
        /* A list given as NULL with a count is read as empty, not walked. */
        o.n_exporters = OTELC__LIST_LEN(o.exporters, o.n_exporters, "otelc_init", "exporters");
        o.n_resource_attrs =
            OTELC__LIST_LEN(o.resource_attrs, o.n_resource_attrs, "otelc_init", "resource_attrs");
    } else {
        (void)otelc_options_init(&o);
    }
    pthread_mutex_lock(&lifecycle_lock);
    if (started) {
        otelc__diag(OTELC_DIAG_WARN, "init.twice", "otelc_init() called while already running");
        destroy_exporters(&o);
        st = OTELC_ERR_STATE;
        goto out;
    }
    otelc__diag_set_level(o.diag_level);
    print_stats = o.print_stats;
    otelc__loggers_configure(&o);
    if (o.disabled) {
        destroy_exporters(&o);
        /* Statistics are those of this run: all zero. */
        (void)reset_rings();
        otelc__pipeline_reset_stats();
        started = true;
        otelc__hot.traces_on = otelc__hot.logs_on = false;
        otelc__loggers_apply_levels(false);
        goto out;
    }
    if (o.ring_size != 0) {
        /* Positions in a ring are masked with its size - 1: a size that is
         * not a power of two is rounded up, not trusted. */
        ring = next_pow2(o.ring_size);
        if (ring < 4096)
            ring = 4096;
    } else {
        /* 256 bytes a queued record: 1 MiB with the default queues, about
         * 14 ms of a thread writing half a million records a second, so that
         * a pipeline thread kept off the CPU for a few ms loses nothing. */
        ring = next_pow2(((uint64_t)o.spans_batch.max_queue_size + o.logs_batch.max_queue_size) *
                         256u);
        if (ring < 65536)
            ring = 65536;
        /* Every thread gets one: queues raised to their maximum must not
         * make each thread allocate half a gigabyte. A larger ring is for
         * OTELC_RING_SIZE to ask for. */
        if (ring > (64u << 20)) {
            otelc__diag(OTELC_DIAG_INFO, "init.ring_derived",
                        "the queue sizes ask for %llu-byte buffers per thread; 64 MiB used "
                        "(set OTELC_RING_SIZE for more)",
                        (unsigned long long)ring);
            ring = 64u << 20;
        }
    }
    if (ring > (1u << 30))
        ring = 1u << 30;
    otelc__hot.ring_size = ring;
    /* Threads keep the ring they got in an earlier run, whatever its size:
     * the room kept for span ends must fit the smallest ring in use, or
     * every record of such a thread would be refused. */
    {
        uint64_t smallest = reset_rings();
        otelc__hot.end_reserve = (smallest < ring ? smallest : ring) / 16;
    }
    otelc__hot.overflow = o.overflow;
    otelc__hot.block_timeout_ms = o.block_timeout_ms;
    otelc__sampler_init(&otelc__hot.sampler, &o);
    otelc__hot.span_limits = o.span_limits;
    otelc__hot.log_limits = o.log_limits;
    otelc__hot.id_fn = o.id_fn;
    otelc__hot.id_arg = o.id_arg;
    otelc__hot.propagators = o.propagators;
    otelc__clock_setup(&o);
    otelc__hot.default_tracer_scope = otelc__scope_register("otelc", OTELC_VERSION_STRING);
    otelc__pipeline_reset_stats();
    st = otelc__pipeline_start(&o);
    if (st != OTELC_OK)
        goto out;
    if (!hooks_installed) {
        hooks_installed = true;
        pthread_atfork(fork_prepare, fork_parent, fork_child);
        atexit(at_exit);
    }
    started = true;
    running_components = o.components;
    atomic_store_explicit(&otelc__hot.running, 1, memory_order_release);
    otelc__fast_bump();
    otelc__loggers_apply_levels(true);
out:
    pthread_mutex_unlock(&lifecycle_lock);
    return st;
}

const void *otelc_component_settings(const char *name)
{
    const otelc_component_t *c = otelc_component_find(name);
    const void *values = NULL;

    if (c == NULL || c->settings_size == 0)
        return NULL;
    pthread_mutex_lock(&lifecycle_lock);
    if (started && otelc__running())
        values = otelc__component_set_find(running_components, c);
    pthread_mutex_unlock(&lifecycle_lock);
    return values;
}

bool otelc_is_enabled(void)
{
    return otelc__running();
}

otelc_status_t otelc_flush(uint32_t timeout_ms)
{
    if (!otelc__running())
        return OTELC_ERR_STATE;
    return otelc__pipeline_flush(otelc__mono_ns() + (uint64_t)timeout_ms * 1000000u);
}

otelc_status_t otelc_shutdown(uint32_t timeout_ms)
{
    uint64_t deadline = otelc__mono_ns() + (uint64_t)timeout_ms * 1000000u;
    otelc_status_t st = OTELC_OK;
    bool was_running;

    pthread_mutex_lock(&lifecycle_lock);
    if (!started)
        goto out;
    started = false;
    /* A child that never used otelc after fork has nothing to export: its
     * threads are not started just to stop them. */
    was_running = atomic_load(&otelc__hot.running) == OTELC__RUNNING;
    /* From here every call is a no-op; what was recorded is flushed. */
    atomic_store_explicit(&otelc__hot.running, 0, memory_order_release);
    otelc__fast_bump(); /* after `running`: see otelc__fast_sync() */
    otelc__loggers_apply_levels(false);
    if (was_running) {
        st = otelc__pipeline_flush(deadline);
        if (!otelc__pipeline_stop(deadline) && st == OTELC_OK)
            st = OTELC_ERR_TIMEOUT;
        otelc__pipeline_settle();
        if (print_stats) {
            otelc_stats_t s;
            char line[512];
            otelc_stats(&s);
            otelc_stats_format(&s, line, sizeof(line));
            fprintf(stderr, "%s\n", line);
        }
    }
out:
    pthread_mutex_unlock(&lifecycle_lock);
    return st;
}

void otelc_stats_sized(otelc_stats_t *out, size_t struct_size)
{
    otelc_stats_t s;

    if (out == NULL)
        return;
    otelc__pipeline_stats(&s);
    memcpy(out, &s, struct_size < sizeof(s) ? struct_size : sizeof(s));
}

uint64_t otelc_signal_stats_dropped(const otelc_signal_stats_t *s)
{
    uint64_t n = 0;
    for (int r = 0; s != NULL && r < OTELC_DROP_REASONS; r++)
        n += s->dropped[r];
    return n;
}

_Static_assert(OTELC_DROP_REASONS <= OTELC_DROP_SLOTS,
               "otelc_signal_stats_t has no slot for a reason");

const char *otelc_drop_reason_str(otelc_drop_reason_t reason)
{
    static const char *const names[OTELC_DROP_REASONS] = {
        "queue_full", "sampler",  "exporter", "shutdown", "invalid",
        "reentrant",  "rejected", "nomem",    "limit",
    };
    return (unsigned)reason < OTELC_DROP_REASONS ? names[reason] : "unknown";
}

static size_t format_signal(char *buf, size_t size, const char *name, const otelc_signal_stats_t *s)
{
    size_t n = (size_t)snprintf(buf, size, "%s produced=%llu exported=%llu dropped=%llu", name,
                                (unsigned long long)s->produced, (unsigned long long)s->exported,
                                (unsigned long long)otelc_signal_stats_dropped(s));
    if (otelc_signal_stats_dropped(s) > 0) {
        const char *sep = " (";
        for (int r = 0; r < OTELC_DROP_REASONS; r++) {
            if (s->dropped[r] == 0)
                continue;
            n += (size_t)snprintf(buf + (n < size ? n : size), n < size ? size - n : 0, "%s%s=%llu",
                                  sep, otelc_drop_reason_str((otelc_drop_reason_t)r),
                                  (unsigned long long)s->dropped[r]);
            sep = " ";
        }
        n += (size_t)snprintf(buf + (n < size ? n : size), n < size ? size - n : 0, ")");
    }
    if (s->truncated > 0)
        n += (size_t)snprintf(buf + (n < size ? n : size), n < size ? size - n : 0,
                              " truncated=%llu", (unsigned long long)s->truncated);
    return n;
}

size_t otelc_stats_format(const otelc_stats_t *s, char *buf, size_t size)
{
    size_t n;
    if (s == NULL)
        return 0;
    if (buf == NULL)
        size = 0;
    n = (size_t)snprintf(buf, size, "otelc: ");
    n += format_signal(buf ? buf + (n < size ? n : size) : NULL, n < size ? size - n : 0, "spans",
                       &s->spans);
    n += (size_t)snprintf(buf ? buf + (n < size ? n : size) : NULL, n < size ? size - n : 0, " ");
    n += format_signal(buf ? buf + (n < size ? n : size) : NULL, n < size ? size - n : 0, "logs",
                       &s->logs);
    return n;
}
