/*
 * spantable.h: the pipeline's spans that started and have not ended yet,
 * keyed by span id, and a pool of their headers. Used by the pipeline
 * thread only.
 */
#ifndef OTELC_SPANTABLE_H
#define OTELC_SPANTABLE_H

#include "record.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct op_rec {
    struct op_rec *next;
    unsigned char data[]; /* copy of a SPAN_ATTRS/EVENT/LINK/STATUS record */
} op_rec_t;

/* Bytes of a start record kept inside an open span; larger ones go to the
 * heap. */
#define OPEN_INLINE 256

/*
 * A span whose start was read and whose end was not, yet. During the drain
 * that read its start, `start` points into the ring (most spans end within
 * one drain and are assembled from there, with no copy); at the end of that
 * drain, the spans still open are copied into `own` or `heap`, before the
 * ring's space is released. Headers come from a free list.
 */
typedef struct open_span {
    uint64_t key;
    op_rec_t *ops, **ops_tail;
    uint32_t n_ops;
    uint32_t size;              /* bytes of the start record */
    bool borrowed;              /* `start` points into a ring */
    bool dead;                  /* could not be kept: released with the drain */
    uint32_t borrow_idx;        /* its place in the pipeline's borrowed list */
    const unsigned char *start; /* the SPAN_START or SPAN_BEGIN record */
    struct otelc__shape *shape; /* a SPAN_BEGIN's shape (checked when read), else NULL */
    uint8_t trace[16];          /* its trace id (a SPAN_BEGIN may take the ring's) */
    otelc__small_parts_t parts; /* a SPAN_BEGIN's parts */
    unsigned char *heap;
    struct open_span *next_free;
    alignas(8) unsigned char own[OPEN_INLINE];
} open_span_t;

typedef struct span_table {
    open_span_t **slots;
    size_t cap, n;
} span_table_t;

#define MAX_OPEN_SPANS (1u << 20)

/* The slot holding span `key`, or NULL. */
open_span_t **otelc__table_find(span_table_t *t, uint64_t key);
/* Adds `s`; false when its id is already there or memory is short. */
bool otelc__table_insert(span_table_t *t, open_span_t *s);
/* Removes the span in `slot` (backward-shift deletion, no tombstones). */
void otelc__table_remove(span_table_t *t, open_span_t **slot);
/* Frees every span and the table itself. */
void otelc__table_clear(span_table_t *t);

/* A span header from the pool (or the heap), its ops list empty. */
open_span_t *otelc__open_span_get(void);
/* Frees what the span holds and returns its header to the pool. */
void otelc__open_span_free(open_span_t *s);
void otelc__span_pool_clear(void);

#endif /* OTELC_SPANTABLE_H */
