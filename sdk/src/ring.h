/*
 * ring.h: a thread's buffer of records, single producer, single consumer.
 *
 * Each application thread owns one ring; only it writes, only the pipeline
 * thread reads. The ring is one plain block of memory that describes itself
 * (magic, version, sizes, pid/tid, counters, then the data), holds no
 * pointers, and uses monotonically growing byte positions, so that a later
 * version can place it in a file-backed mapping and read back the last
 * records of a process that died.
 *
 * Records are contiguous: one that would cross the end is preceded by a
 * padding record that fills the rest of the buffer. Every record starts with
 * otelc__rec_t and is a multiple of 8 bytes.
 *
 * The producer and consumer halves sit on different cache lines; the only
 * shared writes are `head` (producer) and `tail` (consumer), and the producer
 * keeps a private copy of the last tail it saw so that it reads the
 * consumer's line only when the ring looks full.
 */
#ifndef OTELC_RING_H
#define OTELC_RING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define OTELC__RING_MAGIC 0x676e6972636c746fULL /* "otlcring" little-endian */
#define OTELC__RING_VERSION 3u

/* Record header. `size` includes the header and is a multiple of 8. */
typedef struct otelc__rec {
    uint32_t size;
    uint16_t type;
    uint16_t flags;
} otelc__rec_t;

enum {
    OTELC__REC_PAD = 0,
    OTELC__REC_SPAN_START = 1,
    OTELC__REC_SPAN_END = 2,
    OTELC__REC_SPAN_ATTRS = 3,
    OTELC__REC_SPAN_EVENT = 4,
    OTELC__REC_SPAN_LINK = 5,
    OTELC__REC_SPAN_STATUS = 6,
    OTELC__REC_LOG = 7,
    OTELC__REC_LARGE = 8,      /* names a record kept outside the ring (large.h) */
    OTELC__REC_SPAN_BEGIN = 9, /* a macro's span start, in its site's shape */
    OTELC__REC_LOG_SITE = 10,  /* a macro's log record, in its site's shape */
};

/* Record flag: its times are ns since the epoch, not raw clock ticks. */
#define OTELC__REC_F_TIME_NS 0x1u
/* Record flags of SPAN_BEGIN and LOG_SITE (record.h). */
#define OTELC__REC_F_SITE_MSG 0x4u /* LOG_SITE: the message is the shape's */
#define OTELC__REC_F_TRACE 0x8u    /* a trace id follows; else the ring's last one */
#define OTELC__REC_F_IDS 0x10u     /* BEGIN: a parent span id follows; LOG: a span id */
#define OTELC__REC_F_REMOTE 0x20u  /* BEGIN: the parent is remote */
#define OTELC__REC_F_CTX 0x40u     /* the lengths of context strings follow */
#define OTELC__REC_KIND_SHIFT 8    /* BEGIN: the span kind in bits 8..10 */

/* Producer counters, indexed by signal: 0 spans, 1 logs. The owning thread
 * is their only writer, except `dropped_reentrant`: it counts records that
 * a signal handler wrote while its thread was already inside otelc, which
 * nested handlers may do at once, so it is incremented atomically and is
 * not part of `produced` (the interrupted thread may be in the middle of
 * incrementing that one). */
typedef struct otelc__ring_counters {
    _Atomic uint64_t produced[2];
    _Atomic uint64_t dropped_full[2];
    _Atomic uint64_t dropped_limit[2];
    _Atomic uint64_t dropped_sampler;
    _Atomic uint64_t dropped_reentrant[2];
    _Atomic uint64_t truncated[2]; /* records shortened to fit (see large.h) */
} otelc__ring_counters_t;

typedef struct otelc__ring {
    /* Self-description, written once. */
    uint64_t magic;
    uint32_t version;
    uint32_t header_size;
    uint64_t capacity; /* bytes of data, a power of two */
    uint64_t pid;
    uint64_t tid;

    /* Producer's cache line. */
    alignas(64) _Atomic uint64_t head; /* bytes published */
    uint64_t tail_seen;                /* producer's last view of tail */
    /* The trace id of the last SPAN_BEGIN or LOG_SITE written with one
     * (bytes in memory order, as two words): a later one of the same trace
     * leaves it out (OTELC__REC_F_TRACE). */
    uint64_t trace_w[2];
    otelc__ring_counters_t counters;

    /* Consumer's cache line. */
    alignas(64) _Atomic uint64_t tail; /* bytes consumed */
    _Atomic uint32_t abandoned;        /* the owning thread has exited */
    uint64_t reentrant_seen;           /* dropped_reentrant already reported */
    uint64_t truncated_seen;           /* truncated already reported */
    uint64_t trace_r[2];               /* trace_w as the records read so far set it */

    alignas(64) unsigned char data[];
} otelc__ring_t;

/* Allocates a ring of `capacity` bytes of data (a power of two >= 4096). */
otelc__ring_t *otelc__ring_create(uint64_t capacity, uint64_t tid);
void otelc__ring_destroy(otelc__ring_t *ring);

/* Single-writer counter increment: the owner is the only writer, so a plain
 * load and store suffice; readers on other threads see whole values. */
static inline void otelc__counter_inc(_Atomic uint64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

/*
 * Reserves room for one record of at most `size` bytes (a multiple of 8,
 * header included), leaving `reserve` bytes free for records that must not
 * be lost (span ends). Returns where to write, or NULL when there is no
 * room; *at gets the record's position. The record may turn out shorter:
 * otelc__ring_commit(ring, *at + actual size) publishes it. Nothing is
 * visible to the consumer before the commit.
 */
static inline void *otelc__ring_reserve(otelc__ring_t *ring, uint32_t size, uint64_t reserve,
                                        uint64_t *at)
{
    uint64_t cap = ring->capacity;
    uint64_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
    uint64_t pos = head & (cap - 1);
    uint64_t room = cap - pos;
    uint64_t need = room < size ? room + size : size;

    if (head + need + reserve - ring->tail_seen > cap) {
        ring->tail_seen = atomic_load_explicit(&ring->tail, memory_order_acquire);
        if (head + need + reserve - ring->tail_seen > cap)
            return NULL;
    }
    if (room < size) {
        /* Pad to the end so that every record is contiguous. */
        otelc__rec_t *pad = (otelc__rec_t *)(void *)(ring->data + pos);
        pad->size = (uint32_t)room;
        pad->type = OTELC__REC_PAD;
        pad->flags = 0;
        head += room;
        pos = 0;
    }
    *at = head;
    return ring->data + pos;
}

/* Publishes everything up to `next` (a record's position plus its size). */
static inline void otelc__ring_commit(otelc__ring_t *ring, uint64_t next)
{
    atomic_store_explicit(&ring->head, next, memory_order_release);
}

/* Consumer: bytes readable now (acquire). */
static inline uint64_t otelc__ring_readable(otelc__ring_t *ring, uint64_t *tail)
{
    *tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
    return atomic_load_explicit(&ring->head, memory_order_acquire) - *tail;
}

static inline void otelc__ring_release(otelc__ring_t *ring, uint64_t tail)
{
    atomic_store_explicit(&ring->tail, tail, memory_order_release);
}

#endif /* OTELC_RING_H */
