/*
 * spantable.c: open spans by span id (open addressing, linear probing,
 * backward-shift deletion) and the pool their headers come from, so that a
 * steady flow of spans allocates nothing on the pipeline thread.
 */
#include "spantable.h"

#include <stdlib.h>

static uint64_t mix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
}

open_span_t **otelc__table_find(span_table_t *t, uint64_t key)
{
    size_t i;
    if (t->cap == 0)
        return NULL;
    for (i = mix64(key) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (t->slots[i] == NULL)
            return NULL;
        if (t->slots[i]->key == key)
            return &t->slots[i];
    }
}

bool otelc__table_insert(span_table_t *t, open_span_t *s)
{
    size_t i;
    if (t->n + 1 > t->cap / 2) {
        size_t ncap = t->cap ? t->cap * 2 : 1024, j;
        open_span_t **ns = calloc(ncap, sizeof(*ns));
        if (ns == NULL)
            return false;
        for (j = 0; j < t->cap; j++) {
            if (t->slots[j] != NULL) {
                for (i = mix64(t->slots[j]->key) & (ncap - 1); ns[i] != NULL;
                     i = (i + 1) & (ncap - 1))
                    ;
                ns[i] = t->slots[j];
            }
        }
        free(t->slots);
        t->slots = ns;
        t->cap = ncap;
    }
    for (i = mix64(s->key) & (t->cap - 1); t->slots[i] != NULL; i = (i + 1) & (t->cap - 1))
        if (t->slots[i]->key == s->key)
            return false; /* a duplicate id: keep the first */
    t->slots[i] = s;
    t->n++;
    return true;
}

/* Removes a slot with backward-shift deletion (no tombstones). */
void otelc__table_remove(span_table_t *t, open_span_t **slot)
{
    size_t i = (size_t)(slot - t->slots), j = i, k;
    for (;;) {
        t->slots[i] = NULL;
        for (;;) {
            j = (j + 1) & (t->cap - 1);
            if (t->slots[j] == NULL) {
                t->n--;
                return;
            }
            k = mix64(t->slots[j]->key) & (t->cap - 1);
            /* Move j back to i unless its home k lies cyclically in (i, j]. */
            if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j)))
                break;
        }
        t->slots[i] = t->slots[j];
        i = j;
    }
}

static open_span_t *span_pool;
static size_t span_pool_n;

open_span_t *otelc__open_span_get(void)
{
    open_span_t *s = span_pool;
    if (s != NULL) {
        span_pool = s->next_free;
        span_pool_n--;
    } else if ((s = malloc(sizeof(*s))) == NULL) {
        return NULL;
    }
    s->ops = NULL;
    s->ops_tail = &s->ops;
    s->n_ops = 0;
    s->heap = NULL;
    s->borrowed = false;
    s->dead = false;
    return s;
}

/* Releases what the span holds; its header goes back to the pool (kept
 * up to a bound, so that a burst of open spans does not stay allocated). */
void otelc__open_span_free(open_span_t *s)
{
    while (s->ops != NULL) {
        op_rec_t *o = s->ops;
        s->ops = o->next;
        free(o);
    }
    if (s->heap != NULL) { /* rare: a start kept across drains, too large for own[] */
        free(s->heap);
        s->heap = NULL;
    }
    if (span_pool_n < 4096) {
        s->next_free = span_pool;
        span_pool = s;
        span_pool_n++;
    } else {
        free(s);
    }
}

void otelc__span_pool_clear(void)
{
    while (span_pool != NULL) {
        open_span_t *s = span_pool;
        span_pool = s->next_free;
        free(s);
    }
    span_pool_n = 0;
}

void otelc__table_clear(span_table_t *t)
{
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i] != NULL)
            otelc__open_span_free(t->slots[i]);
    free(t->slots);
    t->slots = NULL;
    t->cap = t->n = 0;
}
