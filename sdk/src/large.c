/*
 * large.c: blocks for records too large for a ring (see large.h).
 *
 * The registry is a list under one lock. It is touched only by records
 * larger than a quarter of a ring, which cost a copy of megabytes anyway, so
 * a lock and a walk over the few blocks in flight cost nothing that shows.
 */
#include "large.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>

typedef struct block {
    struct block *next;
    uint64_t id;
    size_t size;
    alignas(16) unsigned char data[];
} block_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static block_t *blocks;      /* registered, not taken yet */
static uint64_t next_id = 1; /* under the lock */
static _Atomic uint64_t bytes_out; /* allocated and not freed */

static block_t *block_of(const void *record)
{
    return (block_t *)(void *)((unsigned char *)(uintptr_t)record - offsetof(block_t, data));
}

static void block_free(block_t *b)
{
    atomic_fetch_sub_explicit(&bytes_out, b->size, memory_order_relaxed);
    free(b);
}

void *otelc__large_alloc(size_t size)
{
    block_t *b;
    uint64_t before;

    if (size > OTELC__LARGE_RECORD_MAX)
        return NULL;
    before = atomic_fetch_add_explicit(&bytes_out, size, memory_order_relaxed);
    if (before + size > OTELC__LARGE_TOTAL_MAX) {
        atomic_fetch_sub_explicit(&bytes_out, size, memory_order_relaxed);
        return NULL;
    }
    b = malloc(sizeof(*b) + size);
    if (b == NULL) {
        atomic_fetch_sub_explicit(&bytes_out, size, memory_order_relaxed);
        return NULL;
    }
    b->next = NULL;
    b->id = 0;
    b->size = size;
    return b->data;
}

void otelc__large_abandon(void *record)
{
    if (record != NULL)
        block_free(block_of(record));
}

bool otelc__large_commit(otelc__ring_t *ring, void *record, uint64_t reserve)
{
    block_t *b = block_of(record);
    const otelc__rec_t *inner = record;
    otelc__rec_large_t *r;
    uint64_t at;

    r = otelc__ring_reserve(ring, sizeof(*r), reserve, &at);
    if (r == NULL) {
        block_free(b);
        return false;
    }
    pthread_mutex_lock(&lock);
    b->id = next_id++;
    b->next = blocks;
    blocks = b;
    pthread_mutex_unlock(&lock);
    r->h.size = sizeof(*r);
    r->h.type = OTELC__REC_LARGE;
    r->h.flags = 0;
    r->id = b->id;
    r->size = inner->size;
    r->inner = inner->type;
    r->pad_ = 0;
    otelc__ring_commit(ring, at + sizeof(*r));
    return true;
}

const otelc__rec_t *otelc__large_take(uint64_t id)
{
    block_t **pp, *b = NULL;

    pthread_mutex_lock(&lock);
    for (pp = &blocks; *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            b = *pp;
            *pp = b->next;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return b != NULL ? (const otelc__rec_t *)(const void *)b->data : NULL;
}

void otelc__large_release(const otelc__rec_t *record)
{
    if (record != NULL)
        block_free(block_of(record));
}

void otelc__large_clear(void)
{
    pthread_mutex_lock(&lock);
    while (blocks != NULL) {
        block_t *b = blocks;
        blocks = b->next;
        block_free(b);
    }
    pthread_mutex_unlock(&lock);
}

void otelc__large_fork_prepare(void)
{
    pthread_mutex_lock(&lock);
}

void otelc__large_fork_parent(void)
{
    pthread_mutex_unlock(&lock);
}

void otelc__large_fork_child(void)
{
    /* The blocks belong to the parent's records, which the child does not
     * export (its rings start empty). The child forgets them rather than
     * free in a fork handler; they are copy-on-write pages of the parent. */
    pthread_mutex_init(&lock, NULL);
    blocks = NULL;
    atomic_store_explicit(&bytes_out, 0, memory_order_relaxed);
}
