/*
 * shape.h: what a macro's call site always passes, learned once.
 *
 * A span or log macro passes the same name, message literal, attribute keys
 * and attribute types on every call; only the values change. The first call
 * of a site copies that constant part into a shape (a process-wide table,
 * entries never freed), and the site keeps a pointer to it. Later calls
 * that match their shape write records that name it by id and carry values
 * only: no name, message or key bytes (record.h: SPAN_BEGIN, LOG_SITE). The
 * pipeline reads the name and keys from the shape, never copies them into a
 * batch (exporters point into the table), and decides once per shape and
 * run which keys are masked.
 *
 * A call matches when its count, types, key lengths and key bytes are the
 * shape's. A key at the pointer the shape learned, when that pointer is in
 * a read-only segment of a loaded object (a string literal), matches by
 * the pointer alone; any other key is compared byte by byte: a caller may
 * build attributes from buffers it reuses. A log's message matches by
 * pointer, and only a literal's (the macros pass a length only for a
 * string the compiler knows, which cannot change). A call that does not match, or a
 * site no shape can describe (more than OTELC__SHAPE_MAX attributes, keys
 * the compiler does not know, bytes or arrays), writes the self-describing
 * records of the function API, as before.
 */
#ifndef OTELC_SHAPE_H
#define OTELC_SHAPE_H

#include "record.h"

#include <otelc/attr.h>
#include <otelc/fast.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define OTELC__SHAPE_MAX 16
/* Shapes in the process; sites past it keep the self-describing records. */
#define OTELC__SHAPES 16384

typedef struct otelc__shape {
    /* First, as otelc__fast_shape_t (otelc/fast.h) lays them out: the
     * fields the log macros' inline path reads. */
    uint32_t id; /* its index in the table, 1 up (0 is never used) */
    uint32_t msg_len;
    const char *msg_src;               /* a log site's message literal as passed, or NULL */
    uint64_t sig[2];                   /* for the inline path, or ~0 (shape.c) */
    const char *src[OTELC__SHAPE_MAX]; /* the keys as the first call passed them */

    uint32_t fixed; /* bytes of the shaped values but for the strings' bytes */
    /* Per attribute: the call's type and key length as one word (as they
     * sit side by side in otelc_attr_t). */
    uint64_t tk[OTELC__SHAPE_MAX];
    uint16_t n;        /* attributes */
    uint16_t name_len; /* a span site's name; 0 for a log site */
    const char *name;  /* copy, NUL-terminated */
    const char *msg;   /* the message's copy, NUL-terminated */
    /* Owned by the pipeline thread: the keys masked (bit i) under the mask
     * list of the run numbered mask_gen. */
    uint32_t mask_gen;
    uint32_t masked;
    uint32_t ro;                        /* bit i: src[i] is read-only memory (matches by pointer) */
    const char *keys[OTELC__SHAPE_MAX]; /* the keys (NUL-terminated copies) */
} otelc__shape_t;

/* The shape of a site that has none: its calls never match. */
extern const otelc__shape_t otelc__shape_none;

/* Type and key length of an attribute as one word, as tk[] holds them. */
static inline uint64_t otelc__shape_tk(const otelc_attr_t *a)
{
    uint64_t w;
    memcpy(&w, &a->type, 8);
    return w;
}

/* Equal bytes of two strings of `len` bytes; short keys with two loads. */
static inline bool otelc__shape_key_eq(const char *a, const char *b, size_t len)
{
    uint64_t x, y, u, v;

    if (len >= 8 && len <= 16) {
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        memcpy(&u, a + len - 8, 8);
        memcpy(&v, b + len - 8, 8);
        return ((x ^ y) | (u ^ v)) == 0;
    }
    if (len >= 4 && len < 8) {
        uint32_t p, q, r, s;
        memcpy(&p, a, 4);
        memcpy(&q, b, 4);
        memcpy(&r, a + len - 4, 4);
        memcpy(&s, b + len - 4, 4);
        return ((p ^ q) | (r ^ s)) == 0;
    }
    if (len < 4)
        return len == 0 || (a[0] == b[0] && a[len / 2] == b[len / 2] && a[len - 1] == b[len - 1]);
    return memcmp(a, b, len) == 0;
}

/*
 * Writes the shaped values (record.h) of `n` attributes if they match `s`
 * (its types and keys), into [p, end). Returns their end, or NULL when they
 * do not match, a string is longer than `value_limit` or the values do not
 * fit: the caller then writes the self-describing record, which handles all
 * three, over what this wrote.
 */
static inline unsigned char *otelc__shape_write(unsigned char *p, const unsigned char *end,
                                                const otelc__shape_t *s, const otelc_attr_t *attrs,
                                                size_t n, uint32_t value_limit)
{
    if (n != s->n || (size_t)(end - p) < s->fixed)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const otelc_attr_t *a = &attrs[i];
        size_t vl = 0;
        uint32_t vl32;

        if (otelc__shape_tk(a) != s->tk[i])
            return NULL;
        if (OTELC_UNLIKELY(a->key != s->src[i] || (s->ro & (1u << i)) == 0) &&
            (a->key == NULL || !otelc__shape_key_eq(a->key, s->keys[i], a->key_len)))
            return NULL;
        if (a->type == OTELC_ATTR_STRING) {
            if (a->v.s != NULL)
                vl = a->len == OTELC_NUL_TERMINATED ? strlen(a->v.s) : a->len;
            /* `fixed` bounds what the rest of the values need but strings. */
            if (OTELC_UNLIKELY(vl > value_limit) || (size_t)(end - p) < s->fixed + vl)
                return NULL;
            vl32 = (uint32_t)vl;
            memcpy(p, &vl32, 4);
            otelc__copy(p + 4, a->v.s, vl);
            p += 4 + vl;
        } else if (a->type == OTELC_ATTR_BOOL) {
            *p++ = a->v.b ? 1 : 0;
        } else { /* int, double: the other types a shape has */
            memcpy(p, &a->v.i, 8);
            p += 8;
        }
    }
    return p;
}

/*
 * Learns a site's shape from its first call: `name` (a span site's, else
 * NULL), `msg` (a log site's literal with its length, else NULL) and the
 * attributes. Returns the shape, which the caller stores in its site, or
 * otelc__shape_none when none describes the call (or memory or the table
 * ran out). Takes a lock and allocates: once per site. Thread-safe; two
 * threads learning one site at once get two equal shapes, and the site keeps
 * either.
 */
const otelc__shape_t *otelc__shape_learn(const char *name, size_t name_len, const char *msg,
                                         size_t msg_len, const otelc_attr_t *attrs, size_t n);

/* The table, read through otelc__shape_get(). */
extern otelc__shape_t *_Atomic otelc__shapes[OTELC__SHAPES];

/* The shape numbered `id`, or NULL (pipeline: for a record that names it;
 * its mask fields are the pipeline's to write). */
static inline otelc__shape_t *otelc__shape_get(uint32_t id)
{
    if (id == 0 || id >= OTELC__SHAPES)
        return NULL;
    return atomic_load_explicit(&otelc__shapes[id], memory_order_acquire);
}

/* The shape numbered `id` when `len` bytes of values can be its values, at
 * least their fixed part; else NULL (a malformed record). */
static inline otelc__shape_t *otelc__shape_fit(uint32_t id, size_t len)
{
    otelc__shape_t *sh = otelc__shape_get(id);

    if (sh == NULL || len < sh->fixed)
        return NULL;
    return sh;
}

/* Around fork(): the table's lock. */
void otelc__shapes_fork_prepare(void);
void otelc__shapes_fork_parent(void);
void otelc__shapes_fork_child(void);

#endif /* OTELC_SHAPE_H */
