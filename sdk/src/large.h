/*
 * large.h: records too large for a thread's ring.
 *
 * A record may take at most a quarter of its ring. A larger one (a 10 MB
 * message, an array of 100,000 numbers) is built whole in a block of its
 * own, off the hot path, and the ring gets a small LARGE record naming the
 * block by a number, so the ring still holds no pointers and keeps the
 * order of the thread's records. The pipeline takes the block when it reads
 * that record, processes the record inside it as if it were in the ring,
 * and frees it at the end of the drain.
 *
 * Blocks are bounded: one record at most OTELC__LARGE_RECORD_MAX bytes, all
 * blocks waiting for the pipeline at most OTELC__LARGE_TOTAL_MAX bytes. A
 * record beyond those bounds is shortened to fit its ring instead, and
 * counted (truncated).
 */
#ifndef OTELC_LARGE_H
#define OTELC_LARGE_H

#include "ring.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OTELC__LARGE_RECORD_MAX (16u * 1024u * 1024u)
#define OTELC__LARGE_TOTAL_MAX (64u * 1024u * 1024u)

/* The ring's record for a block: which block, and what record it holds. */
typedef struct otelc__rec_large {
    otelc__rec_t h;
    uint64_t id;
    uint32_t size;      /* the block's record size */
    uint16_t inner;     /* the block's record type */
    uint16_t pad_;
} otelc__rec_large_t;

/*
 * Allocates room for a record of `size` bytes (a multiple of 8) when the
 * bounds allow; NULL otherwise (the caller shortens the record). The record
 * is written at the returned address, then published with
 * otelc__large_commit() or given back with otelc__large_abandon().
 */
void *otelc__large_alloc(size_t size);

/*
 * Publishes a record built in a block: registers the block and writes the
 * LARGE record into `ring` (leaving `reserve` bytes free, as the ring's
 * other writers do). Returns false, freeing the block, when the ring has no
 * room; the caller counts the record as dropped (queue_full).
 */
bool otelc__large_commit(otelc__ring_t *ring, void *record, uint64_t reserve);

/* Frees a block that was allocated and not committed. */
void otelc__large_abandon(void *record);

/* Pipeline: takes the block of a LARGE record (NULL when unknown). The
 * record inside stays valid until otelc__large_release(). */
const otelc__rec_t *otelc__large_take(uint64_t id);
void otelc__large_release(const otelc__rec_t *record);

/* Frees every block not taken yet: rings were reset (init, fork child). */
void otelc__large_clear(void);
/* Fork handlers: the registry's lock across fork(). */
void otelc__large_fork_prepare(void);
void otelc__large_fork_parent(void);
void otelc__large_fork_child(void);

#endif /* OTELC_LARGE_H */
