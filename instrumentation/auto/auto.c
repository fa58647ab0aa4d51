/*
 * auto.c: the compiler's function hooks (-finstrument-functions) turned
 * into spans.
 *
 * Each thread keeps a stack of the traced calls it is in: the function, its
 * entry time (an otelc clock stamp), and, once started, its span. Entry and exit of
 * a call do nothing else, so that a call that makes no span (shorter than
 * OTELC_AUTO_MIN_US) costs two clock reads and a few stores. The span of a
 * call is started only when it is known to be wanted: when the call returns
 * after the minimum duration, or when a call inside it makes a span and
 * needs its parent's id. Starting is then done bottom-up, each call's span
 * a child of the one below it, with the start time of the call's entry, so
 * that the tree is the one of the calls whatever the order of the returns.
 *
 * The first traced call after otelc_init() reads the settings (component
 * "auto", otelc/auto.h) and measures the clock's rate; before that the
 * hooks do nothing.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "auto_internal.h"

#include <otelc/auto.h>
#include <otelc/otelc.h>
#include <otelc/settings.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- settings -------------------------------------------------------------------- */

typedef struct auto_settings {
    const char *include;
    const char *exclude;
    uint32_t min_us;
    uint32_t max_depth;
} auto_settings_t;

static const otelc_setting_t rows[] = {
    { .env = "OTELC_AUTO_INCLUDE",
      .key = "otelc.auto.include",
      .type = OTELC_SETTING_LIST,
      .offset = offsetof(auto_settings_t, include),
      .def = "",
      .doc = "functions to trace (globs on the name, or file:GLOB on the source); empty: all" },
    { .env = "OTELC_AUTO_EXCLUDE",
      .key = "otelc.auto.exclude",
      .type = OTELC_SETTING_LIST,
      .offset = offsetof(auto_settings_t, exclude),
      .def = "",
      .doc = "functions not to trace (globs on the name, or file:GLOB on the source)" },
    { .env = "OTELC_AUTO_MIN_US",
      .key = "otelc.auto.min_us",
      .type = OTELC_SETTING_UINT,
      .offset = offsetof(auto_settings_t, min_us),
      .def = "0",
      .min = 0,
      .max = 3600000000u,
      .unit = "microseconds",
      .doc = "calls shorter than this make no span (0: every call)" },
    { .env = "OTELC_AUTO_MAX_DEPTH",
      .key = "otelc.auto.max_depth",
      .type = OTELC_SETTING_UINT,
      .offset = offsetof(auto_settings_t, max_depth),
      .def = "256",
      .min = 1,
      .max = 65536,
      .unit = "calls",
      .doc = "traced calls followed per thread; deeper ones make no span" },
};

static const otelc_component_t component = {
    .version = OTELC_COMPONENT_VERSION,
    .name = "auto",
    .settings = rows,
    .n_settings = sizeof(rows) / sizeof(rows[0]),
    .settings_size = sizeof(auto_settings_t),
    .create = NULL,
};

/* Registered when the library loads, so that the environment, the config
 * file and otelc_options_set() know its settings before otelc_init(); a
 * refusal is reported by otelc, and the library then stays off. */
static otelc_status_t registered = OTELC_ERR_STATE;

__attribute__((constructor)) OTELC__AUTO_NOINSTR static void register_component(void)
{
    registered = otelc_component_register(&component);
}

/* ---- the clock ------------------------------------------------------------------- */

/* Calls are timed with otelc's own clock (otelc_clock_stamp()), so that
 * their spans line up exactly with the process's other spans. When that
 * clock is the TSC, rdtsc is read here directly, without the call. */
static bool stamp_is_tsc;
static double ns_per_stamp = 1.0; /* for OTELC_AUTO_MIN_US only */

static inline OTELC__AUTO_NOINSTR uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline OTELC__AUTO_NOINSTR uint64_t ticks(void)
{
#if HAVE_TSC
    if (LIKELY(stamp_is_tsc))
        return __rdtsc();
#endif
    return otelc_clock_stamp();
}

static OTELC__AUTO_NOINSTR void clock_start(void)
{
    uint64_t ns0, ns, t0, t;

#if HAVE_TSC
    /* otelc's stamps are TSC ticks when one read falls between two reads
     * of the TSC (nanoseconds since the epoch are far larger than any TSC
     * since boot). */
    stamp_is_tsc = false;
    for (int i = 0; i < 3; i++) {
        uint64_t a = __rdtsc(), b = otelc_clock_stamp(), c = __rdtsc();
        if (a <= b && b <= c) {
            stamp_is_tsc = true;
            break;
        }
    }
#endif
    /* Two milliseconds against CLOCK_MONOTONIC give the stamps' rate to a
     * few parts in a million: enough for a threshold. */
    ns0 = mono_ns();
    t0 = ticks();
    do {
        ns = mono_ns();
        t = ticks();
    } while (ns - ns0 < 2000000u);
    ns_per_stamp = t > t0 ? (double)(ns - ns0) / (double)(t - t0) : 1.0;
}

/* ---- per-thread call stacks ------------------------------------------------------ */

typedef struct frame {
    uintptr_t fn;
    uint64_t t0; /* entry, in ticks */
    const otelc__auto_fn_t *info;
    otelc_span_t span; /* once started */
    uint8_t inherited; /* fork child: the parent's call; its span (if any) is the parent's */
} frame_t;

/* Counters of one thread, written by it alone (relaxed loads and stores,
 * no locked instruction), read by otelc_auto_stats(). */
typedef struct counters {
    _Atomic uint64_t spans, short_calls, too_deep, unwound;
} counters_t;

typedef struct stack {
    uint32_t depth;   /* traced calls entered and not returned, those too deep included */
    uint32_t cap;     /* frames[]: 0 for the stack of a thread not followed */
    uint32_t started; /* frames [0, started) have their span started (or are inherited) */
    bool busy;        /* making spans: calls into traced code meanwhile make none */
    counters_t c;
    struct stack *prev, *next;
    frame_t frames[];
} stack_t;

static __thread stack_t *tls_stack __attribute__((tls_model("initial-exec")));

/* The stack of threads that cannot be followed (no memory): never written. */
static stack_t unfollowed = { 0 };

enum { NOT_STARTED = 0, READY = 1, FAILED = 2 };
static _Atomic int state;
static pthread_mutex_t stacks_lock = PTHREAD_MUTEX_INITIALIZER;
static stack_t *stacks;    /* every live thread's, under stacks_lock */
static counters_t retired; /* of the threads that have exited */
static pthread_key_t stack_key;
static bool key_made;
/* Written by start_once() while other threads may read them. */
static _Atomic uint64_t min_ticks;
static _Atomic uint32_t max_depth = 256;

static inline OTELC__AUTO_NOINSTR void count(_Atomic uint64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static inline OTELC__AUTO_NOINSTR void add(_Atomic uint64_t *to, const _Atomic uint64_t *from)
{
    atomic_store_explicit(to,
                          atomic_load_explicit(to, memory_order_relaxed) +
                              atomic_load_explicit(from, memory_order_relaxed),
                          memory_order_relaxed);
}

/* The context the span of frame `i` is a child of: the nearest frame below
 * with a span (an unsampled one included: its children are not sampled
 * either), or NULL for the thread's active span. Frames below `i` have
 * started theirs; a frame without ids is one whose span otelc did not make
 * (not running, buffer full) or, in a fork child, a call the parent had
 * not made a span for: skipped. */
static OTELC__AUTO_NOINSTR const otelc_span_context_t *parent_of(const stack_t *s, uint32_t i)
{
    while (i-- > 0) {
        if (otelc_span_context_is_valid(&s->frames[i].span.ctx))
            return &s->frames[i].span.ctx;
    }
    return NULL;
}

/* Starts the spans of frames [started, i]. */
static OTELC__AUTO_NOINSTR void start_up_to(stack_t *s, uint32_t i)
{
    for (uint32_t j = s->started; j <= i; j++) {
        frame_t *f = &s->frames[j];
        otelc_attr_t attrs[2];
        otelc_span_options_t o;
        size_t n = 0;

        attrs[n++] = OTELC_STRN("code.function.name", f->info->name, f->info->name_len);
        if (f->info->file != NULL)
            attrs[n++] = OTELC_STR("code.file.path", f->info->file);
        memset(&o, 0, sizeof(o));
        o.name = f->info->name;
        o.name_len = f->info->name_len;
        o.kind = OTELC_SPAN_KIND_INTERNAL;
        o.parent = parent_of(s, j);
        o.no_activate = true;
        o.struct_size = sizeof(o);
        o.start_stamp = f->t0;
        o.attrs = attrs;
        o.n_attrs = n;
        f->span = otelc_span_start_ex(&o);
    }
    s->started = i + 1;
}

/* The call of frame `i` returned at `t1` (ticks) and makes a span. */
static OTELC__AUTO_NOINSTR void finish(stack_t *s, uint32_t i, uint64_t t1)
{
    frame_t *f = &s->frames[i];

    if (s->busy)
        return; /* traced code called by otelc while it makes a span */
    s->busy = true;
    if (i >= s->started)
        start_up_to(s, i);
    if (!f->inherited) {
        otelc_span_end_stamp(&f->span, t1);
        count(&s->c.spans);
    } else {
        f->inherited = 0; /* the frame is free for the child's own calls */
    }
    s->started = i;
    s->busy = false;
}

/* Ends the calls above `keep`, whose returns were skipped (longjmp): each
 * makes its span, ending at `t1`, as a return then would have. */
static OTELC__AUTO_NOINSTR void unwind_to(stack_t *s, uint32_t keep, uint64_t t1)
{
    uint32_t top = s->depth < s->cap ? s->depth : s->cap;

    while (top > keep) {
        top--;
        count(&s->c.unwound);
        if (top < s->started ||
            t1 - s->frames[top].t0 >= atomic_load_explicit(&min_ticks, memory_order_relaxed))
            finish(s, top, t1);
    }
    s->depth = keep;
}

static OTELC__AUTO_NOINSTR void stack_destroy(void *arg)
{
    stack_t *s = arg;

    if (s == NULL || s == &unfollowed)
        return;
    /* Spans still open when the thread exits (pthread_exit from inside a
     * traced call) end now. */
    if (s->depth > 0)
        unwind_to(s, 0, ticks());
    pthread_mutex_lock(&stacks_lock);
    add(&retired.spans, &s->c.spans);
    add(&retired.short_calls, &s->c.short_calls);
    add(&retired.too_deep, &s->c.too_deep);
    add(&retired.unwound, &s->c.unwound);
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        stacks = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    pthread_mutex_unlock(&stacks_lock);
    if (tls_stack == s)
        tls_stack = NULL;
    free(s);
}

/* In a child after fork(): the calls open at fork are the parent's. Their
 * spans stay the parents of the child's new ones, none is ended here; the
 * other threads' stacks are gone with the threads. */
static OTELC__AUTO_NOINSTR void fork_child(void)
{
    stack_t *self = tls_stack, *s = stacks;

    while (s != NULL) {
        stack_t *next = s->next;
        if (s != self)
            free(s);
        s = next;
    }
    stacks = NULL;
    pthread_mutex_init(&stacks_lock, NULL);
    if (self != NULL && self != &unfollowed) {
        uint32_t top = self->depth < self->cap ? self->depth : self->cap;
        for (uint32_t i = 0; i < top; i++) {
            self->frames[i].inherited = 1;
            /* A span the parent had not started is nobody's here. */
            if (i >= self->started)
                memset(&self->frames[i].span, 0, sizeof(self->frames[i].span));
        }
        self->started = top;
        self->prev = self->next = NULL;
        stacks = self;
    }
}

static OTELC__AUTO_NOINSTR void fork_prepare(void)
{
    pthread_mutex_lock(&stacks_lock);
}

static OTELC__AUTO_NOINSTR void fork_parent(void)
{
    pthread_mutex_unlock(&stacks_lock);
}

/* The first traced call after otelc_init(): settings, clock, symbols. */
static OTELC__AUTO_NOINSTR void start_once(void)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    auto_settings_t st;
    const auto_settings_t *running;
    int result = FAILED;

    pthread_mutex_lock(&lock);
    if (atomic_load_explicit(&state, memory_order_relaxed) != NOT_STARTED || registered != OTELC_OK)
        goto out;
    running = otelc_component_settings("auto");
    if (running != NULL)
        st = *running;
    else if (otelc_component_defaults("auto", &st, sizeof(st)) != OTELC_OK)
        goto out;
    clock_start();
    atomic_store_explicit(&max_depth, st.max_depth, memory_order_relaxed);
    atomic_store_explicit(&min_ticks, (uint64_t)((double)st.min_us * 1000.0 / ns_per_stamp),
                          memory_order_relaxed);
    if (!otelc__auto_symbols_init(st.include, st.exclude))
        goto out;
    if (!key_made) {
        if (pthread_key_create(&stack_key, stack_destroy) != 0)
            goto out;
        pthread_atfork(fork_prepare, fork_parent, fork_child);
        key_made = true;
    }
    result = READY;
out:
    if (atomic_load_explicit(&state, memory_order_relaxed) == NOT_STARTED)
        atomic_store_explicit(&state, result, memory_order_release);
    pthread_mutex_unlock(&lock);
}

/* The calling thread's stack, made at its first traced call; NULL while
 * otelc does not run. */
static OTELC__AUTO_NOINSTR stack_t *stack_slow(void)
{
    stack_t *s;
    uint32_t cap;
    int st = atomic_load_explicit(&state, memory_order_acquire);

    if (st == NOT_STARTED) {
        if (!otelc_is_enabled())
            return NULL;
        start_once();
        st = atomic_load_explicit(&state, memory_order_acquire);
    }
    if (st != READY) {
        tls_stack = &unfollowed;
        return tls_stack;
    }
    cap = atomic_load_explicit(&max_depth, memory_order_relaxed);
    s = calloc(1, sizeof(*s) + (size_t)cap * sizeof(frame_t));
    if (s == NULL) {
        tls_stack = &unfollowed;
        return tls_stack;
    }
    s->cap = cap;
    pthread_mutex_lock(&stacks_lock);
    s->next = stacks;
    if (stacks != NULL)
        stacks->prev = s;
    stacks = s;
    pthread_mutex_unlock(&stacks_lock);
    (void)pthread_setspecific(stack_key, s);
    tls_stack = s;
    return s;
}

/* ---- the hooks ------------------------------------------------------------------- */

/* A function not in the table: read its object's symbols, after the
 * settings when otelc_auto_reload() asked for them again. */
static OTELC__AUTO_NOINSTR __attribute__((noinline)) const otelc__auto_fn_t *resolve(void *fn)
{
    if (atomic_load_explicit(&state, memory_order_acquire) == NOT_STARTED && otelc_is_enabled())
        start_once();
    return otelc__auto_resolve((uintptr_t)fn);
}

static OTELC__AUTO_NOINSTR __attribute__((noinline)) void enter_deep(stack_t *s)
{
    if (s == &unfollowed)
        return;
    s->depth++;
    count(&s->c.too_deep);
}

/* Any return but that of the top call with the TSC as clock: too deep,
 * below the top (longjmp), or timed with otelc_clock_stamp(). */
static OTELC__AUTO_NOINSTR __attribute__((noinline)) void exit_slow(stack_t *s, uintptr_t fn)
{
    const otelc__auto_fn_t *info = otelc__auto_lookup(fn);
    uint32_t i;
    uint64_t t1;

    if (info == NULL || !info->traced)
        return; /* not traced: its entry pushed nothing */
    if (s->depth > s->cap) {
        s->depth--; /* a call too deep to follow */
        return;
    }
    /* The return of a call below the top: the calls above it were left by
     * longjmp (or an exception) without returning. */
    for (i = s->depth; i-- > 0;) {
        if (s->frames[i].fn == fn)
            break;
    }
    if (i == UINT32_MAX)
        return; /* entered before the library followed this thread */
    t1 = ticks();
    unwind_to(s, i + 1, t1);
    s->depth = i;
    if (t1 - s->frames[i].t0 < atomic_load_explicit(&min_ticks, memory_order_relaxed) &&
        i >= s->started) {
        count(&s->c.short_calls);
        return;
    }
    finish(s, i, t1);
}

/* Pushes a traced call (`info` known, the thread followed), its entry time
 * `now()`. */
#define PUSH(stack, addr, what, now)                                                               \
    do {                                                                                           \
        uint32_t d_ = (stack)->depth;                                                              \
        if (UNLIKELY(d_ >= (stack)->cap)) {                                                        \
            enter_deep(stack);                                                                     \
            break;                                                                                 \
        }                                                                                          \
        (stack)->frames[d_].fn = (addr);                                                           \
        (stack)->frames[d_].info = (what);                                                         \
        (stack)->frames[d_].t0 = now();                                                            \
        (stack)->depth = d_ + 1;                                                                   \
    } while (0)

#if HAVE_TSC
#define TSC() __rdtsc()
#endif

/* The entry of a call whose thread has no stack yet, or whose function is
 * not in the table yet. */
static OTELC__AUTO_NOINSTR __attribute__((noinline)) void enter_slow(uintptr_t fn)
{
    stack_t *s = tls_stack;
    const otelc__auto_fn_t *info;

    if (s == NULL && (s = stack_slow()) == NULL)
        return;
    if (s == &unfollowed)
        return;
    info = otelc__auto_lookup(fn);
    if (info == NULL)
        info = resolve((void *)fn);
    if (info->traced)
        PUSH(s, fn, info, ticks);
}

/* The fast path, free of calls (rdtsc read inline; otelc's stamp through
 * the slow path otherwise) so that it needs no saved registers: the stack,
 * one table lookup, the push. */
void __cyg_profile_func_enter(void *fn, void *call_site)
{
    stack_t *s = tls_stack;
    const otelc__auto_fn_t *info;

    (void)call_site;
#if HAVE_TSC
    if (UNLIKELY(s == NULL || !stamp_is_tsc) ||
        (info = otelc__auto_lookup((uintptr_t)fn)) == NULL) {
        enter_slow((uintptr_t)fn);
        return;
    }
    if (info->traced)
        PUSH(s, (uintptr_t)fn, info, TSC);
#else
    (void)s;
    (void)info;
    enter_slow((uintptr_t)fn);
#endif
}

void __cyg_profile_func_exit(void *fn, void *call_site)
{
    stack_t *s = tls_stack;
    frame_t *f;
    uint32_t d;
    uint64_t t1;

    (void)call_site;
    if (s == NULL || (d = s->depth) == 0)
        return;
    f = &s->frames[d - 1];
#if HAVE_TSC
    if (UNLIKELY(d > s->cap || f->fn != (uintptr_t)fn || !stamp_is_tsc)) {
        exit_slow(s, (uintptr_t)fn);
        return;
    }
    t1 = __rdtsc();
#else
    (void)f;
    (void)t1;
    exit_slow(s, (uintptr_t)fn);
    return;
#endif
    s->depth = d - 1;
    if (LIKELY(t1 - f->t0 < atomic_load_explicit(&min_ticks, memory_order_relaxed)) &&
        d - 1 >= s->started) {
        count(&s->c.short_calls);
        return;
    }
    finish(s, d - 1, t1);
}

/* ---- statistics ------------------------------------------------------------------ */

void otelc_auto_stats(otelc_auto_stats_t *out)
{
    counters_t sum;

    if (out == NULL)
        return;
    memset(out, 0, sizeof(*out));
    memset(&sum, 0, sizeof(sum));
    pthread_mutex_lock(&stacks_lock);
    add(&sum.spans, &retired.spans);
    add(&sum.short_calls, &retired.short_calls);
    add(&sum.too_deep, &retired.too_deep);
    add(&sum.unwound, &retired.unwound);
    for (const stack_t *s = stacks; s != NULL; s = s->next) {
        add(&sum.spans, &s->c.spans);
        add(&sum.short_calls, &s->c.short_calls);
        add(&sum.too_deep, &s->c.too_deep);
        add(&sum.unwound, &s->c.unwound);
    }
    pthread_mutex_unlock(&stacks_lock);
    out->spans = atomic_load_explicit(&sum.spans, memory_order_relaxed);
    out->short_calls = atomic_load_explicit(&sum.short_calls, memory_order_relaxed);
    out->too_deep = atomic_load_explicit(&sum.too_deep, memory_order_relaxed);
    out->unwound = atomic_load_explicit(&sum.unwound, memory_order_relaxed);
    if (atomic_load_explicit(&state, memory_order_acquire) == READY)
        otelc__auto_symbols_counts(&out->functions, &out->traced);
}

void otelc_auto_reload(void)
{
    otelc__auto_symbols_reset();
    atomic_store_explicit(&state, NOT_STARTED, memory_order_release);
}

void otelc__auto_reset(void)
{
    stack_t *s = tls_stack;

    if (s != NULL && s != &unfollowed) {
        (void)pthread_setspecific(stack_key, NULL);
        stack_destroy(s);
    }
    tls_stack = NULL;
    otelc__auto_symbols_reset();
    atomic_store_explicit(&state, NOT_STARTED, memory_order_release);
}
