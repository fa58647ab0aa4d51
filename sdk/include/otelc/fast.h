/*
 * otelc/fast.h: the macros' inline path (internal, not an API).
 *
 * A log macro whose call matches its site's shape (the same message
 * literal, keys and types as the site's first call) writes its record
 * itself, inlined into the caller: a LOG_SITE record, byte for byte the one
 * the library writes for that call, reserved and committed in the thread's
 * ring through the thread-local state below; the thread's correlation id
 * and bound fields, when it has some (256 bytes at most), are copied from
 * a context part the library laid out. Anything else (a site's first call,
 * more than 8 attributes, a full ring, a wrap of the ring, a string beyond
 * the value limit, more context than that, an otelc that is not running, a
 * clock that is not the TSC) returns 0 before
 * writing a byte, and the macro calls the library, which does what it
 * always did and brings the thread-local state up to date.
 *
 * A span macro does the same for its start and its end: the ids, the
 * sampler's decision when it needs no call (always on or off, a parent's
 * flag, a root's trace-id ratio), the SPAN_BEGIN and SPAN_END records and
 * the span's frame on the thread's context stack, as the library writes
 * them. A span with a tracestate to carry, a custom sampler, ids from the
 * user's generator, the stack's depth limit, and an end that is not the
 * innermost frame's are the library's.
 *
 * The layouts here (otelc__fast_t, the shape's first fields, the ring's
 * producer words, the first fields of the library's thread state and of
 * its context-stack frames, the LOG_SITE, SPAN_BEGIN and SPAN_END records)
 * are an ABI between a program and the library it runs with, as lttng-ust
 * versions its ring ABI: its version is in the symbols' names, so that a
 * program built against another layout does not link, and the library
 * checks its own structures against these (sdk/src/fast.c). Only C, on
 * x86-64 with GCC or clang; elsewhere, in C++ and with OTELC_NO_FAST
 * defined, the macros call the library.
 */
#ifndef OTELC_FAST_H
#define OTELC_FAST_H

#include <otelc/attr.h>
#include <otelc/common.h>
#include <otelc/log.h>   /* which includes this file where it needs it */
#include <otelc/trace.h> /* as log.h */

#include <stdint.h>
#include <string.h>

#if !defined(OTELC_NO_FAST) && !defined(__cplusplus) && defined(__x86_64__) &&                     \
    (defined(__GNUC__) || defined(__clang__))
#define OTELC__FAST 1
#else
#define OTELC__FAST 0
#endif

/* The version of the layouts below is in the names of their symbols
 * (the _v2 suffix): change all of them together with any layout. */
/* Attributes a call may have for the inline path; more take the library's. */
#define OTELC__FAST_MAX 8
/* Attributes a shape holds (the library's OTELC__SHAPE_MAX). */
#define OTELC__FAST_SHAPE_MAX 16
/* An attribute's type and key length (< 2048) in 15 bits, at its place in
 * a shape's signature: word 0 holds the count (4 bits) and attributes 0-3,
 * word 1 attributes 4-7. */
#define OTELC__FAST_SIG(i, type, key_len)                                                          \
    (((uint64_t)(type) | (uint64_t)(key_len) << 4) << ((i) < 4 ? 4 + 15 * (i) : 15 * ((i)-4)))

/* The producer's words of a thread's ring: what it has published, the last
 * consumer position it saw, the trace id of its last small record, and its
 * counts of what it produced. */
typedef struct otelc__ring_w {
    uint64_t head;
    uint64_t tail_seen;
    uint64_t trace_w[2];
    uint64_t produced[2];                         /* spans, logs */
    uint64_t dropped_full_[2], dropped_limit_[2]; /* the library's */
    uint64_t dropped_sampler;                     /* spans the sampler dropped */
} otelc__ring_w_t;

/* The library's thread state as the span macros read it: the id
 * generator's state, the depth of the context stack and the serial number
 * of its last frame (the library's otelc__thread_t, from its `rng`). */
typedef struct otelc__fast_thr {
    uint64_t rng;
    uint32_t depth;
    uint32_t serial;
} otelc__fast_thr_t;

/* A frame of the thread's context stack, its first fields (the library's
 * otelc__frame_t, OTELC__FAST_FRAME_SIZE bytes). */
typedef struct otelc__fast_frame {
    otelc_span_context_t span;
    const char *tracestate;
    uint16_t tracestate_len;
    uint8_t kind; /* OTELC__FAST_FRAME_SPAN for a span's frame */
    uint8_t owns_span;
    uint32_t serial;
    otelc_span_t owned;
    void *ctx;
} otelc__fast_frame_t;
#define OTELC__FAST_FRAME_SIZE 152u
#define OTELC__FAST_MAX_DEPTH 128u
#define OTELC__FAST_FRAME_SPAN 1u

/* otelc__fast_t.sflags: the span starts the inline path may make, by what
 * the sampler decides without a call for a root (bit 0), a child of a
 * sampled parent (bit 1) and a child of one not sampled (bit 2): recorded
 * (the bit) or dropped (the bit << OTELC__FAST_S_DROP). 0: none. */
#define OTELC__FAST_S_ROOT 1u
#define OTELC__FAST_S_CHILD_SAMPLED 2u
#define OTELC__FAST_S_CHILD_UNSAMPLED 4u
#define OTELC__FAST_S_DROP 3
/* Roots the ratio sampler decides: recorded when the trace id's
 * randomness (its last 7 bytes, big-endian) is below ratio_threshold. */
#define OTELC__FAST_S_ROOT_RATIO 0x40u

/* A thread's state for the inline path. `ready` and `busy` are read as one
 * word: equal to the epoch when the inline path may write. */
#ifdef __cplusplus
/* ISO C++ has no anonymous structs: the same layout, named (C++ code never
 * reads these fields). */
typedef struct otelc__fast_rb {
    uint32_t ready, busy;
} otelc__fast_rb_t;
#endif
typedef struct otelc__fast {
    union {
#ifdef __cplusplus
        otelc__fast_rb_t rb;
#else
        struct {
            uint32_t ready; /* otelc__fast_epoch_v2 when the fields below are current */
            uint32_t busy;  /* the thread is inside otelc (the signal-handler guard) */
        };
#endif
        uint64_t word;
    };
    otelc__ring_w_t *w;
    /* A record at ring position `head` goes at base + head, when head plus
     * its size is at most `lim`: the end of the ring's current lap, or the
     * room the consumer left (less the bytes kept for span ends) when the
     * library last looked, whichever comes first. Past it, the library
     * writes the record (padding to the lap's end, or finding the room the
     * consumer made since) and moves `lim`. */
    uintptr_t base;
    uint64_t lim;
    uint64_t max;                    /* larger records take the library's path */
    const otelc_span_context_t *cur; /* the thread's active span context */
    uint32_t value_limit;            /* bytes of a string value */
    uint32_t checked;                /* the library's: the epoch it last synced at */
    /* The context part of the thread's records (its correlation id and
     * bound fields with their lengths, as record.h lays it out) and its
     * bytes, 0 without them. */
    uint32_t ctx_len;
    /* Derived from ctx_len, kept because deriving them at each call
     * measured 6 instructions more a record: */
    uint32_t head_len; /* 32, the fixed part, plus ctx_len */
    uint32_t flags;    /* SITE_MSG, and CTX with a context part */
    /* For the span macros: */
    otelc__fast_thr_t *thr;
    unsigned char *frames; /* the context stack's first frame */
    uint32_t span_scope;   /* the default tracer's scope */
    uint32_t sflags;       /* OTELC__FAST_S_* */
    uint64_t ratio_threshold;
    /* A SPAN_BEGIN's context part (the thread's correlation id, as
     * record.h lays it out) and its bytes, 0 without one. */
    uint32_t sctx_len;
    unsigned char sctx[144];
    unsigned char ctx[256];
} otelc__fast_t;

/* The first fields of a call site's shape (the library's otelc__shape_t). */
typedef struct otelc__fast_shape {
    uint32_t id;
    uint32_t msg_len;    /* the library's (a literal's pointer gives its length) */
    const char *msg_src; /* the message literal */
    /* The count, types and key lengths of the attributes (OTELC__FAST_SIG)
     * when the inline path may write the site's calls; else ~0. */
    uint64_t sig[2];
    const char *src[OTELC__FAST_SHAPE_MAX]; /* the keys as the first call passed them */
} otelc__fast_shape_t;

#if defined(__GNUC__) || defined(__clang__)
#define OTELC__FAST_TLS __thread __attribute__((tls_model("initial-exec")))
#else
#define OTELC__FAST_TLS _Thread_local
#endif
OTELC_API extern OTELC__FAST_TLS otelc__fast_t otelc__fast_v2;
/* Changes at every start and stop of otelc and in a fork's child; never 0. */
OTELC_API extern uint32_t otelc__fast_epoch_v2;
/* The frame the thread's state points at when no span is active: all zero. */
OTELC_API extern const otelc__fast_frame_t otelc__no_frame_v2;

/* The LOG_SITE record's type and flags (the library's record.h and ring.h;
 * fast.c checks them), outside the inline path's block: the library uses
 * them on every architecture. */
#define OTELC__REC_LOG_SITE_TYPE 10u
#define OTELC__FAST_F_SITE_MSG 0x4u
#define OTELC__FAST_F_TRACE 0x8u
#define OTELC__FAST_F_IDS 0x10u
#define OTELC__FAST_F_CTX 0x40u
/* SPAN_BEGIN and SPAN_END (the span macros' records). */
#define OTELC__REC_SPAN_BEGIN_TYPE 9u
#define OTELC__REC_SPAN_END_TYPE 2u
#define OTELC__FAST_F_REMOTE 0x20u
#define OTELC__FAST_KIND_SHIFT 8u

/* Copies `n` bytes, up to 16 without a call (names, ids and short values on
 * the hot path, where a libc memcpy through the PLT costs more than the
 * copy); longer ones with memcpy. The library's otelc__copy() too. */
#if defined(__GNUC__) && !defined(__clang__)
/* Inlined into a caller that passes a short literal, GCC warns of the
 * branches for longer lengths, which that call never takes: the user's
 * -Werror must not fail on them. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
static inline void otelc__copy16(void *dst, const void *src, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    uint64_t a, b;

    if (n > 16) {
        memcpy(d, s, n);
    } else if (n >= 8) {
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + n - 4, 4);
        memcpy(d, &x, 4);
        memcpy(d + n - 4, &y, 4);
    } else if (n > 0) {
        d[0] = s[0];
        d[n / 2] = s[n / 2];
        d[n - 1] = s[n - 1];
    }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#if OTELC__FAST

#define OTELC__FAST_INLINE static inline __attribute__((always_inline))

/* An attribute's parts, read before the first store of the record (a store
 * through the ring's pointer could alias the caller's array otherwise). */
typedef struct otelc__fast_val {
    uint32_t type;
    uint32_t len;
    const char *s;
    uint64_t w;    /* an int's or double's bytes */
    uint64_t diff; /* non-zero when the attribute is not the shape's */
    unsigned char b;
} otelc__fast_val_t;

/* True when the attribute's type is a constant of a type a shape holds. */
OTELC__FAST_INLINE int otelc__fast_const(const otelc_attr_t *a)
{
    return __builtin_constant_p(a->type) && __builtin_constant_p(a->key_len) &&
           a->type >= OTELC_ATTR_STRING && a->type <= OTELC_ATTR_DOUBLE && a->key_len < 2048;
}

OTELC__FAST_INLINE void otelc__fast_get(otelc__fast_val_t *v, const otelc_attr_t *a,
                                        const otelc__fast_shape_t *s, unsigned i,
                                        uint32_t value_limit)
{
    size_t len = 0;

    v->type = a->type;
    /* The type and key length are constants, in the signature; the key is
     * compared: one site's code inlined twice may pass two keys. */
    v->diff = (uint64_t)(uintptr_t)a->key ^ (uint64_t)(uintptr_t)s->src[i];
    v->len = 0;
    v->s = NULL;
    v->w = 0;
    v->b = 0;
    /* Each value read as the member its macro wrote. */
    if (a->type == OTELC_ATTR_STRING) {
        v->s = a->v.s;
        if (v->s != NULL)
            len = a->len == OTELC_NUL_TERMINATED ? strlen(v->s) : a->len;
        /* The library syncs only with a value limit of 64 bytes or more. */
        if (!__builtin_constant_p(len) || len > 64)
            v->diff |= len > value_limit;
        v->len = (uint32_t)len;
    } else if (a->type == OTELC_ATTR_BOOL) {
        v->b = a->v.b ? 1 : 0;
    } else if (a->type == OTELC_ATTR_INT) {
        v->w = (uint64_t)a->v.i;
    } else {
        memcpy(&v->w, &a->v.d, 8);
    }
}

/* Bytes of an attribute's shaped value but for a string's bytes. */
#define OTELC__FAST_FIXED(t) ((t) == OTELC_ATTR_STRING ? 4u : (t) == OTELC_ATTR_BOOL ? 1u : 8u)

OTELC__FAST_INLINE unsigned char *otelc__fast_put(unsigned char *p, uint32_t type, uint32_t len,
                                                  const char *str, uint64_t w, unsigned char b)
{
    if (type == OTELC_ATTR_STRING) {
        memcpy(p, &len, 4);
        otelc__copy16(p + 4, str, len);
        return p + 4 + len;
    }
    if (type == OTELC_ATTR_BOOL) {
        *p = b;
        return p + 1;
    }
    memcpy(p, &w, 8);
    return p + 8;
}

#define OTELC__FAST_EACH(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define OTELC__FAST_CONST(I) &&(I >= n || otelc__fast_const(&a[I]))
#define OTELC__FAST_SIGOF0(I) +(I < n && I < 4 ? OTELC__FAST_SIG(I, a[I].type, a[I].key_len) : 0)
#define OTELC__FAST_SIGOF1(I) +(I < n && I >= 4 ? OTELC__FAST_SIG(I, a[I].type, a[I].key_len) : 0)
#define OTELC__FAST_GET(I)                                                                         \
    if (I < n) {                                                                                   \
        otelc__fast_get(&v[I], &a[I], s, I, otelc__fast_v2.value_limit);                           \
        bad |= v[I].diff;                                                                          \
        vlen += v[I].len;                                                                          \
        fixed += OTELC__FAST_FIXED(v[I].type);                                                     \
    }
#define OTELC__FAST_PUT(I)                                                                         \
    if (I < n)                                                                                     \
        p = otelc__fast_put(p, v[I].type, v[I].len, v[I].s, v[I].w, v[I].b);

/*
 * Writes the record of a log macro's call inline; 1 when it did, 0 when the
 * library must (nothing written then). `n`, the attributes' types and the
 * message's length must be constants for the inline path to be compiled.
 */
OTELC__FAST_INLINE int otelc__log_fast(const void *logger, int severity, const void *site_shape,
                                       const char *msg, size_t msg_len, const otelc_attr_t *a,
                                       size_t n)
{
    /* The thread-local state is named, never reached through a pointer:
     * GCC 12's -fsanitize=null checks of a pointer to it tested stale
     * flags (a false "store to null pointer", seen in test_lifecycle). */
    const otelc__fast_shape_t *s;
    otelc__fast_val_t v[OTELC__FAST_MAX];
    otelc__ring_w_t *w;
    const otelc_span_context_t *cur;
    uint64_t word, busy, bad = 0, vlen = 0, fixed = 0, head, size, th, tl, sid, x, sig0, sig1;
    uint32_t epoch, flags, id, scope;
    unsigned char *r, *p;
    uint32_t k;
    uint8_t tflags;
    int newt;
    uint32_t ids;

    if (!(__builtin_constant_p(n) && n <= OTELC__FAST_MAX && __builtin_constant_p(msg_len) &&
          msg_len != OTELC_NUL_TERMINATED OTELC__FAST_EACH(OTELC__FAST_CONST)))
        return 0;
    epoch = __atomic_load_n(&otelc__fast_epoch_v2, __ATOMIC_RELAXED);
    word = otelc__fast_v2.word;
    s = (const otelc__fast_shape_t *)__atomic_load_n((const void *const *)site_shape,
                                                     __ATOMIC_ACQUIRE);
    /* A site starts at otelc__site_unlearned_v2 (log.h), never NULL. */
    if (__builtin_expect(word != epoch, 0))
        return 0;
    /* A literal's pointer gives its length: msg_len needs no compare. The
     * library syncs only with a count limit of OTELC__FAST_MAX or more. */
    sig0 = (uint64_t)n + 0 OTELC__FAST_EACH(OTELC__FAST_SIGOF0);
    sig1 = 0 OTELC__FAST_EACH(OTELC__FAST_SIGOF1);
    if (__builtin_expect(s->sig[0] != sig0 || (n > 4 && s->sig[1] != sig1) || s->msg_src != msg ||
                             (unsigned)(severity - 1) > 23u,
                         0))
        return 0;
    OTELC__FAST_EACH(OTELC__FAST_GET)
    if (__builtin_expect(bad != 0, 0))
        return 0;
    /* From here a signal handler calling otelc finds the thread busy. */
    busy = (uint64_t)epoch | (uint64_t)1 << 32;
    otelc__fast_v2.word = busy;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    cur = otelc__fast_v2.cur;
    memcpy(&th, cur->trace_id, 8);
    memcpy(&tl, cur->trace_id + 8, 8);
    memcpy(&sid, cur->span_id, 8);
    w = otelc__fast_v2.w;
    flags = otelc__fast_v2.flags;
    ids = (th | tl) != 0;
    newt = ids && ((th ^ w->trace_w[0]) | (tl ^ w->trace_w[1])) != 0;
    size = (otelc__fast_v2.head_len + (newt ? 16u : 0u) + (ids ? 8u : 0u) + fixed + vlen + 7) &
           ~(uint64_t)7;
    head = w->head;
    /* The library syncs only with max >= 1024: a record of constant strings
     * that short needs no compare. */
    if (__builtin_expect(
            head + size > otelc__fast_v2.lim ||
                ((!__builtin_constant_p(vlen) || vlen > 512) && size > otelc__fast_v2.max),
            0)) {
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        otelc__fast_v2.word = word;
        return 0;
    }
    /* Each part written as soon as it is known, so that little stays live. */
    r = (unsigned char *)(otelc__fast_v2.base + head);
    head += size;
    p = r + 32;
    tflags = 0;
    if (newt) {
        memcpy(p, &th, 8);
        memcpy(p + 8, &tl, 8);
        p += 16;
        flags |= OTELC__FAST_F_TRACE;
        w->trace_w[0] = th; /* the producer's own words, as the library keeps them */
        w->trace_w[1] = tl;
    }
    if (ids) {
        memcpy(p, &sid, 8);
        p += 8;
        flags |= OTELC__FAST_F_IDS;
        tflags = cur->trace_flags;
    }
    x = size | (uint64_t)OTELC__REC_LOG_SITE_TYPE << 32 | (uint64_t)flags << 48;
    memcpy(r, &x, 8);
    x = (uint64_t)(uint8_t)severity | (uint64_t)tflags << 8;
    memcpy(r + 24, &x, 8); /* no padding bytes, msg_len 0: the shape's message */
    /* The context part in whole words: what passes its end is within the
     * record (its size is rounded up to 8 too) and the values overwrite it. */
    for (k = 0; k < otelc__fast_v2.ctx_len; k += 8) {
        memcpy(&x, otelc__fast_v2.ctx + k, 8);
        memcpy(p + k, &x, 8);
    }
    p += otelc__fast_v2.ctx_len;
    OTELC__FAST_EACH(OTELC__FAST_PUT)
    x = __builtin_ia32_rdtsc();
    memcpy(r + 8, &x, 8);
    id = s->id;
    scope = ((const otelc__logger_head_t *)logger)->scope;
    x = id | (uint64_t)scope << 32;
    memcpy(r + 16, &x, 8);
    /* Counted before it is published, as the library counts: the pipeline
     * must never export more than was produced. */
    __atomic_store_n(&w->produced[1], __atomic_load_n(&w->produced[1], __ATOMIC_RELAXED) + 1,
                     __ATOMIC_RELAXED);
    __atomic_store_n(&w->head, head, __ATOMIC_RELEASE);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    otelc__fast_v2.word = word;
    return 1;
}

#define OTELC__FAST_COPY(I)                                                                        \
    if (I <= n)                                                                                    \
        b[I] = a[I];
/* b[1..n] = a[1..n]; b[0], the placeholder, is not passed. */
#define OTELC__FAST_COPY_ALL                                                                       \
    OTELC__FAST_COPY(1)                                                                            \
    OTELC__FAST_COPY(2)                                                                            \
    OTELC__FAST_COPY(3)                                                                            \
    OTELC__FAST_COPY(4)                                                                            \
    OTELC__FAST_COPY(5)                                                                            \
    OTELC__FAST_COPY(6)                                                                            \
    OTELC__FAST_COPY(7)                                                                            \
    OTELC__FAST_COPY(8)

/*
 * The library's path for a macro's call: `a` holds a placeholder and then
 * the `n` attributes. Copied into an array of this branch's own, so that
 * the caller's array (which the inline path reads) stays in registers.
 */
OTELC__FAST_INLINE void otelc__log_call(otelc_logger_t *logger, int severity,
                                        otelc_log_site_t *site, const char *event_name,
                                        const char *msg, size_t msg_len, const otelc_attr_t *a,
                                        size_t n)
{
    if (n <= OTELC__FAST_MAX) {
        otelc_attr_t b[OTELC__FAST_MAX + 1];
        OTELC__FAST_COPY_ALL
        otelc__log_site(logger, severity, site, event_name, msg, msg_len, b + 1, n);
    } else {
        otelc__log_site(logger, severity, site, event_name, msg, msg_len, a + 1, n);
    }
}

/* Fast random ids (wyrand), as the library's otelc__rand64(). */
OTELC__FAST_INLINE uint64_t otelc__fast_rand(otelc__fast_thr_t *thr)
{
    uint64_t x = thr->rng + 0xa0761d6478bd642fULL;
    __uint128_t m = (__uint128_t)x * (x ^ 0xe7037ed1a0b428dbULL);

    thr->rng = x;
    return (uint64_t)(m >> 64) ^ (uint64_t)m;
}

/* The frame of a span started inline, as the library pushes it, and the
 * handle; the thread's state then names the span as the active one. */
OTELC__FAST_INLINE void otelc__span_push(otelc_span_t *out, otelc__fast_thr_t *thr, uint32_t depth,
                                         uint64_t th, uint64_t tl, uint64_t sid, const char *ts,
                                         uint8_t sampled)
{
    otelc__fast_frame_t *f =
        (otelc__fast_frame_t *)(void *)(otelc__fast_v2.frames +
                                        (size_t)depth * OTELC__FAST_FRAME_SIZE);
    uint32_t serial = thr->serial + 1;
    uint64_t x;

    memcpy(f->span.trace_id, &th, 8);
    memcpy(f->span.trace_id + 8, &tl, 8);
    memcpy(f->span.span_id, &sid, 8);
    f->span.trace_flags = sampled;
    f->span.is_remote = 0;
    f->tracestate = ts;
    x = (uint64_t)OTELC__FAST_FRAME_SPAN << 16 | (uint64_t)serial << 32; /* length 0, not owning */
    memcpy(&f->tracestate_len, &x, 8);
    f->ctx = NULL;
    thr->depth = depth + 1;
    thr->serial = serial;
    otelc__fast_v2.cur = &f->span;
    memcpy(out->ctx.trace_id, &th, 8);
    memcpy(out->ctx.trace_id + 8, &tl, 8);
    memcpy(out->ctx.span_id, &sid, 8);
    out->ctx.trace_flags = sampled;
    out->ctx.is_remote = 0;
    out->depth = depth + 1;
    out->flags = sampled; /* recording */
}

/* Marks the thread busy (a signal handler calling otelc then finds it so)
 * or, with `word`, not. */
#define OTELC__FAST_BUSY(epoch)                                                                    \
    do {                                                                                           \
        otelc__fast_v2.word = (uint64_t)(epoch) | (uint64_t)1 << 32;                               \
        __atomic_signal_fence(__ATOMIC_SEQ_CST);                                                   \
    } while (0)
#define OTELC__FAST_FREE(word)                                                                     \
    do {                                                                                           \
        __atomic_signal_fence(__ATOMIC_SEQ_CST);                                                   \
        otelc__fast_v2.word = (word);                                                              \
    } while (0)

/* A recorded span's start (otelc__span_fast): its SPAN_BEGIN, byte for
 * byte the library's, then its frame. */
OTELC__FAST_INLINE int otelc__span_fast_rec(otelc_span_t *out, const void *site_shape, int kind,
                                            const otelc_attr_t *a, size_t n, uint64_t word,
                                            const otelc__fast_frame_t *top, uint64_t th,
                                            uint64_t tl, uint32_t ids, uint32_t sf)
{
    const otelc__fast_shape_t *s;
    otelc__fast_thr_t *thr;
    otelc__fast_val_t v[OTELC__FAST_MAX];
    otelc__ring_w_t *w;
    const char *ts;
    uint64_t bad = 0, vlen = 0, fixed = 0, head, size, psid, sid, x, sig0, sig1;
    uint32_t flags, depth, newt, clen, k;
    unsigned char *r, *p;
    uint8_t remote;

    s = (const otelc__fast_shape_t *)__atomic_load_n((const void *const *)site_shape,
                                                     __ATOMIC_ACQUIRE);
    sig0 = (uint64_t)n + 0 OTELC__FAST_EACH(OTELC__FAST_SIGOF0);
    sig1 = 0 OTELC__FAST_EACH(OTELC__FAST_SIGOF1);
    if (__builtin_expect(s->sig[0] != sig0 || (n > 4 && s->sig[1] != sig1), 0))
        return 0;
    OTELC__FAST_EACH(OTELC__FAST_GET)
    if (__builtin_expect(bad != 0 || top->tracestate_len != 0, 0))
        return 0;
    OTELC__FAST_BUSY(word);
    memcpy(&psid, top->span.span_id, 8);
    remote = top->span.is_remote;
    ts = top->tracestate;
    thr = otelc__fast_v2.thr;
    depth = thr->depth;
    w = otelc__fast_v2.w;
    if (__builtin_expect(depth >= OTELC__FAST_MAX_DEPTH, 0))
        goto library;
    if (!ids) {
        th = otelc__fast_rand(thr);
        tl = otelc__fast_rand(thr);
        if (__builtin_expect((th | tl) == 0, 0)) /* ids are never all zero (W3C) */
            tl = 1;
        ts = NULL;
        if ((sf & OTELC__FAST_S_ROOT) == 0 &&
            (__builtin_bswap64(tl) & 0xffffffffffffffULL) >= otelc__fast_v2.ratio_threshold) {
            /* The ratio sampler drops it: counted, a frame, no record. */
            sid = otelc__fast_rand(thr);
            if (__builtin_expect(sid == 0, 0)) /* never all zero (W3C); 1 in 2^64 */
                sid = 1;
            __atomic_store_n(&w->produced[0],
                             __atomic_load_n(&w->produced[0], __ATOMIC_RELAXED) + 1,
                             __ATOMIC_RELAXED);
            __atomic_store_n(&w->dropped_sampler,
                             __atomic_load_n(&w->dropped_sampler, __ATOMIC_RELAXED) + 1,
                             __ATOMIC_RELAXED);
            otelc__span_push(out, thr, depth, th, tl, sid, NULL, 0);
            OTELC__FAST_FREE(word);
            return 1;
        }
    }
    sid = otelc__fast_rand(thr);
    if (__builtin_expect(sid == 0, 0)) /* never all zero (W3C); 1 in 2^64 */
        sid = 1;
    /* A root's trace id is new: the compare is a child's. */
    newt = !ids || ((th ^ w->trace_w[0]) | (tl ^ w->trace_w[1])) != 0;
    /* The trace and parent ids are whole words: the rest is rounded up. */
    size = ((32u + otelc__fast_v2.sctx_len + fixed + vlen + 7) & ~(uint64_t)7) +
           (uint64_t)newt * 16u + (uint64_t)ids * 8u;
    head = w->head;
    if (__builtin_expect(
            head + size > otelc__fast_v2.lim ||
                ((!__builtin_constant_p(vlen) || vlen > 512) && size > otelc__fast_v2.max),
            0))
        goto library;
    r = (unsigned char *)(otelc__fast_v2.base + head);
    head += size;
    p = r + 32;
    flags = (uint32_t)kind << OTELC__FAST_KIND_SHIFT;
    if (newt) {
        memcpy(p, &th, 8);
        memcpy(p + 8, &tl, 8);
        p += 16;
        flags |= OTELC__FAST_F_TRACE;
        w->trace_w[0] = th;
        w->trace_w[1] = tl;
    }
    if (ids) {
        memcpy(p, &psid, 8);
        p += 8;
        flags |= OTELC__FAST_F_IDS | (remote ? OTELC__FAST_F_REMOTE : 0u);
    }
    /* The context part in whole words, as a log's. */
    clen = otelc__fast_v2.sctx_len; /* read again: fewer registers live */
    if (__builtin_expect(clen != 0, 0)) {
        for (k = 0; k < clen; k += 8) {
            memcpy(&x, otelc__fast_v2.sctx + k, 8);
            memcpy(p + k, &x, 8);
        }
        p += clen;
        flags |= OTELC__FAST_F_CTX;
    }
    OTELC__FAST_EACH(OTELC__FAST_PUT)
    x = size | (uint64_t)OTELC__REC_SPAN_BEGIN_TYPE << 32 | (uint64_t)flags << 48;
    memcpy(r, &x, 8);
    memcpy(r + 16, &sid, 8);
    x = s->id | (uint64_t)otelc__fast_v2.span_scope << 32;
    memcpy(r + 24, &x, 8);
    x = __builtin_ia32_rdtsc();
    memcpy(r + 8, &x, 8);
    /* Counted before it is published, as the library counts. */
    __atomic_store_n(&w->produced[0], __atomic_load_n(&w->produced[0], __ATOMIC_RELAXED) + 1,
                     __ATOMIC_RELAXED);
    __atomic_store_n(&w->head, head, __ATOMIC_RELEASE);
    otelc__span_push(out, thr, depth, th, tl, sid, ts, OTELC_TRACE_FLAG_SAMPLED);
    OTELC__FAST_FREE(word);
    return 1;
library:
    OTELC__FAST_FREE(word);
    return 0;
}

/* A span the sampler drops (otelc__span_fast): counted, ids and a frame,
 * no record. */
OTELC__FAST_INLINE int otelc__span_fast_drop(otelc_span_t *out, uint64_t word,
                                             const otelc__fast_frame_t *top, uint64_t th,
                                             uint64_t tl, uint32_t ids)
{
    otelc__fast_thr_t *thr;
    otelc__ring_w_t *w;
    const char *ts;
    uint64_t sid;
    uint32_t depth;

    if (__builtin_expect(top->tracestate_len != 0, 0))
        return 0;
    OTELC__FAST_BUSY(word);
    ts = top->tracestate;
    thr = otelc__fast_v2.thr;
    depth = thr->depth;
    w = otelc__fast_v2.w;
    if (__builtin_expect(depth >= OTELC__FAST_MAX_DEPTH, 0)) {
        OTELC__FAST_FREE(word);
        return 0;
    }
    if (!ids) {
        th = otelc__fast_rand(thr);
        tl = otelc__fast_rand(thr);
        if (__builtin_expect((th | tl) == 0, 0))
            tl = 1;
        ts = NULL;
    }
    sid = otelc__fast_rand(thr);
    if (__builtin_expect(sid == 0, 0)) /* never all zero (W3C); 1 in 2^64 */
        sid = 1;
    /* Produced and dropped by the sampler, as the library counts it. */
    __atomic_store_n(&w->produced[0], __atomic_load_n(&w->produced[0], __ATOMIC_RELAXED) + 1,
                     __ATOMIC_RELAXED);
    __atomic_store_n(&w->dropped_sampler,
                     __atomic_load_n(&w->dropped_sampler, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
    otelc__span_push(out, thr, depth, th, tl, sid, ts, 0);
    OTELC__FAST_FREE(word);
    return 1;
}

/*
 * Starts a span macro's span inline: its frame on the thread's context
 * stack, the handle and, when it is sampled, its SPAN_BEGIN record; 1 when
 * it did, 0 when the library must (nothing written then). Only spans the
 * sampler decides without a call (otelc__fast_t.sflags), without a
 * tracestate to carry, below the stack's depth limit; `n`, the kind and
 * the attributes' types must be constants.
 */
OTELC__FAST_INLINE int otelc__span_fast(otelc_span_t *out, const void *site_shape, int kind,
                                        const otelc_attr_t *a, size_t n)
{
    const otelc__fast_frame_t *top;
    uint64_t word, th, tl;
    uint32_t epoch, bit, sf, ids;

    if (!(__builtin_constant_p(n) && n <= OTELC__FAST_MAX && __builtin_constant_p(kind) &&
          kind >= 0 && kind <= 5 OTELC__FAST_EACH(OTELC__FAST_CONST)))
        return 0;
    epoch = __atomic_load_n(&otelc__fast_epoch_v2, __ATOMIC_RELAXED);
    word = otelc__fast_v2.word;
    if (__builtin_expect(word != epoch, 0))
        return 0;
    /* The parent: the active span, as the library's frame holds it. A
     * signal handler that runs before the thread is marked busy leaves the
     * stack as it found it. */
    top = (const otelc__fast_frame_t *)(const void *)otelc__fast_v2.cur;
    memcpy(&th, top->span.trace_id, 8);
    memcpy(&tl, top->span.trace_id + 8, 8);
    ids = (th | tl) != 0;
    bit = !ids                                                 ? OTELC__FAST_S_ROOT
          : (top->span.trace_flags & OTELC_TRACE_FLAG_SAMPLED) ? OTELC__FAST_S_CHILD_SAMPLED
                                                               : OTELC__FAST_S_CHILD_UNSAMPLED;
    sf = otelc__fast_v2.sflags;
    if (__builtin_expect((sf & bit) != 0, 1) || (!ids && (sf & OTELC__FAST_S_ROOT_RATIO) != 0))
        return otelc__span_fast_rec(out, site_shape, kind, a, n, word, top, th, tl, ids, sf);
    if ((sf & bit << OTELC__FAST_S_DROP) != 0)
        return otelc__span_fast_drop(out, word, top, th, tl, ids);
    return 0;
}

/*
 * Ends a span macro's span inline when it is the thread's innermost frame
 * and recording: its SPAN_END record and the frame's pop, as the library
 * does them; 1 when it did, 0 when the library must.
 */
OTELC__FAST_INLINE int otelc__span_end_fast(otelc_span_t *sp)
{
    otelc__fast_thr_t *thr;
    const otelc__fast_frame_t *f;
    otelc__ring_w_t *w;
    uint64_t word, head, x, sid, fsid;
    uint32_t epoch, depth, fl = sp->flags;
    unsigned char *r;

    epoch = __atomic_load_n(&otelc__fast_epoch_v2, __ATOMIC_RELAXED);
    word = otelc__fast_v2.word;
    if (__builtin_expect(word != epoch || fl > 1u, 0)) /* ended, or not otelc's */
        return 0;
    otelc__fast_v2.word = (uint64_t)epoch | (uint64_t)1 << 32;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    thr = otelc__fast_v2.thr;
    depth = thr->depth;
    w = otelc__fast_v2.w;
    head = w->head;
    memcpy(&sid, sp->ctx.span_id, 8);
    /* The innermost frame, which the state points at (the zero frame, of
     * no kind, when the stack is empty), must be this span's. */
    f = (const otelc__fast_frame_t *)(const void *)otelc__fast_v2.cur;
    memcpy(&fsid, f->span.span_id, 8);
    if (__builtin_expect(sp->depth != depth || fsid != sid || f->kind != OTELC__FAST_FRAME_SPAN, 0))
        goto library;
    if (fl != 0) { /* recording */
        if (__builtin_expect(head + 24 > otelc__fast_v2.lim, 0))
            goto library;
        r = (unsigned char *)(otelc__fast_v2.base + head);
        x = 24u | (uint64_t)OTELC__REC_SPAN_END_TYPE << 32;
        memcpy(r, &x, 8);
        x = __builtin_ia32_rdtsc();
        memcpy(r + 8, &x, 8);
        memcpy(r + 16, &sid, 8);
        __atomic_store_n(&w->head, head + 24, __ATOMIC_RELEASE);
    }
    sp->flags = fl | 2u; /* ended */
    thr->depth = depth - 1;
    otelc__fast_v2.cur =
        depth > 1 ? &((const otelc__fast_frame_t *)(const void *)((const unsigned char *)f -
                                                                  OTELC__FAST_FRAME_SIZE))
                         ->span
                  : &otelc__no_frame_v2.span;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    otelc__fast_v2.word = word;
    return 1;
library:
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    otelc__fast_v2.word = word;
    return 0;
}

/* The library's path for a span macro's call, with the attributes copied
 * as otelc__log_call() copies them. */
OTELC__FAST_INLINE void otelc__span_call(otelc_span_t *out, otelc_span_site_t *site,
                                         const otelc_attr_t *a, size_t n)
{
    if (n <= OTELC__FAST_MAX) {
        otelc_attr_t b[OTELC__FAST_MAX + 1];
        OTELC__FAST_COPY_ALL
        otelc__span_site_start(out, site, b + 1, n);
    } else {
        otelc__span_site_start(out, site, a + 1, n);
    }
}

/* A span macro's start: `a` holds a placeholder, then the `n` attributes. */
OTELC__FAST_INLINE void otelc__span_begin(otelc_span_t *out, otelc_span_site_t *site, int kind,
                                          const otelc_attr_t *a, size_t n)
{
    if (!otelc__span_fast(out, &site->shape, kind, a + 1, n))
        otelc__span_call(out, site, a, n);
}

/* A span macro's end, at the end of its scope. */
OTELC__FAST_INLINE void otelc__span_scope_end(otelc_span_t *span)
{
    if (!otelc__span_end_fast(span))
        otelc__span_cleanup(span);
}

#else
#define otelc__span_begin(out, site, kind, a, n) otelc__span_site_start(out, site, (a) + 1, n)
#define otelc__span_scope_end otelc__span_cleanup
#define otelc__log_fast(logger, severity, site_shape, msg, msg_len, a, n) 0
#define otelc__log_call(logger, severity, site, event_name, msg, msg_len, a, n)                    \
    otelc__log_site(logger, severity, site, event_name, msg, msg_len, (a) + 1, n)
#endif

#endif /* OTELC_FAST_H */
