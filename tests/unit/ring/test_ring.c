/*
 * test_ring.c: the per-thread ring (ring.h) on its own, without the SDK:
 * reserve / commit / readable / release, wrap-around through a PAD record,
 * the room kept for span ends, a full ring, the self-description of the
 * block and the producer counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core.h"
#include "ring.h"

#define CAP 4096u

/* Writes a record of `size` bytes whose payload is `tag` repeated; returns
 * false when the ring had no room. */
static bool put(otelc__ring_t *r, uint32_t size, uint64_t reserve, unsigned char tag)
{
    uint64_t at = 0;
    otelc__rec_t *h = otelc__ring_reserve(r, size, reserve, &at);
    if (h == NULL)
        return false;
    h->size = size;
    h->type = OTELC__REC_LOG;
    h->flags = tag;
    memset(h + 1, tag, size - sizeof(*h));
    otelc__ring_commit(r, at + size);
    return true;
}

/* Consumes one record (skipping PADs, which it counts); returns its tag or
 * -1 when the ring is empty. Checks that the record is whole. */
static int take(otelc__ring_t *r, unsigned *pads)
{
    uint64_t tail;
    for (;;) {
        uint64_t avail = otelc__ring_readable(r, &tail);
        if (avail == 0)
            return -1;
        uint64_t pos = tail & (r->capacity - 1);
        const otelc__rec_t *h = (const otelc__rec_t *)(const void *)(r->data + pos);
        assert_true(h->size >= sizeof(*h));
        assert_int_equal(h->size % 8, 0);
        assert_true(h->size <= avail);
        /* Records never straddle the end of the buffer. */
        assert_true(pos + h->size <= r->capacity);
        if (h->type == OTELC__REC_PAD) {
            if (pads)
                (*pads)++;
            /* A PAD always runs exactly to the end. */
            assert_int_equal(pos + h->size, r->capacity);
            otelc__ring_release(r, tail + h->size);
            continue;
        }
        int tag = h->flags;
        const unsigned char *b = (const unsigned char *)(h + 1);
        for (uint32_t i = 0; i < h->size - sizeof(*h); i++)
            assert_int_equal(b[i], (unsigned char)tag);
        otelc__ring_release(r, tail + h->size);
        return tag;
    }
}

static void ring_describes_itself(void **state)
{
    (void)state;
    otelc__ring_t *r = otelc__ring_create(CAP, 4242);
    assert_non_null(r);
    assert_int_equal(r->magic, OTELC__RING_MAGIC);
    assert_memory_equal(&r->magic, "otlcring", 8); /* readable in a hex dump */
    assert_int_equal(r->version, OTELC__RING_VERSION);
    assert_int_equal(r->header_size, sizeof(otelc__ring_t));
    assert_int_equal(r->capacity, CAP);
    assert_int_equal(r->pid, (uint64_t)getpid());
    assert_int_equal(r->tid, 4242);
    assert_int_equal(atomic_load(&r->head), 0);
    assert_int_equal(atomic_load(&r->tail), 0);
    assert_int_equal((uintptr_t)r->data % 64, 0);
    /* Producer and consumer fields live on different cache lines. */
    assert_true(offsetof(otelc__ring_t, tail) - offsetof(otelc__ring_t, head) >= 64);
    otelc__ring_destroy(r);
    otelc__ring_destroy(NULL); /* free(NULL): harmless */
}

static void reserve_is_invisible_until_commit(void **state)
{
    (void)state;
    otelc__ring_t *r = otelc__ring_create(CAP, 1);
    uint64_t at = 99, tail = 99;
    unsigned char *p = otelc__ring_reserve(r, 64, 0, &at);

    assert_ptr_equal(p, r->data);
    assert_int_equal(at, 0);
    assert_int_equal(otelc__ring_readable(r, &tail), 0);
    assert_int_equal(tail, 0);
    /* A second reserve before the commit hands out the same place. */
    uint64_t at2 = 99;
    assert_ptr_equal(otelc__ring_reserve(r, 32, 0, &at2), r->data);
    assert_int_equal(at2, 0);

    otelc__rec_t *h = (otelc__rec_t *)(void *)p;
    h->size = 64;
    h->type = OTELC__REC_SPAN_END;
    h->flags = 0;
    otelc__ring_commit(r, at + 64);
    assert_int_equal(otelc__ring_readable(r, &tail), 64);
    assert_int_equal(tail, 0);
    /* Releasing moves the tail; the next record goes after the first. */
    otelc__ring_release(r, 64);
    assert_int_equal(otelc__ring_readable(r, &tail), 0);
    assert_int_equal(tail, 64);
    assert_ptr_equal(otelc__ring_reserve(r, 16, 0, &at), r->data + 64);
    assert_int_equal(at, 64);
    /* A record may turn out shorter than reserved: commit publishes what
     * was written. */
    h = (otelc__rec_t *)(void *)(r->data + 64);
    h->size = 8;
    h->type = OTELC__REC_SPAN_END;
    h->flags = 0;
    otelc__ring_commit(r, at + 8);
    assert_int_equal(otelc__ring_readable(r, &tail), 8);
    assert_int_equal(tail, 64);
    otelc__ring_destroy(r);
}

static void records_come_out_in_order(void **state)
{
    (void)state;
    otelc__ring_t *r = otelc__ring_create(CAP, 1);
    for (int i = 0; i < 10; i++)
        assert_true(put(r, 8u * (uint32_t)(i + 1), 0, (unsigned char)(i + 1)));
    for (int i = 0; i < 10; i++)
        assert_int_equal(take(r, NULL), i + 1);
    assert_int_equal(take(r, NULL), -1);
    otelc__ring_destroy(r);
}

static void wrap_pads_to_the_end(void **state)
{
    (void)state;
    otelc__ring_t *r = otelc__ring_create(CAP, 1);
    uint64_t at = 0, tail = 0;
    unsigned pads = 0;

    /* Fill to 24 bytes before the end, consume it all. */
    assert_true(put(r, CAP - 24, 0, 1));
    assert_int_equal(take(r, NULL), 1);
    /* 64 bytes do not fit in the last 24: a 24-byte PAD, then the record at 0. */
    unsigned char *p = otelc__ring_reserve(r, 64, 0, &at);
    assert_ptr_equal(p, r->data);
    assert_int_equal(at, CAP); /* the position after the PAD */
    const otelc__rec_t *pad = (const otelc__rec_t *)(const void *)(r->data + CAP - 24);
    assert_int_equal(pad->type, OTELC__REC_PAD);
    assert_int_equal(pad->size, 24);
    otelc__rec_t *h = (otelc__rec_t *)(void *)p;
    h->size = 64;
    h->type = OTELC__REC_LOG;
    h->flags = 7;
    memset(h + 1, 7, 56);
    otelc__ring_commit(r, at + 64);
    assert_int_equal(otelc__ring_readable(r, &tail), 24 + 64);
    assert_int_equal(take(r, &pads), 7);
    assert_int_equal(pads, 1);
    assert_int_equal(atomic_load(&r->tail), CAP + 64);

    /* A record that fits the rest exactly needs no PAD. */
    assert_true(put(r, CAP - 64 - 64, 0, 2));
    assert_true(put(r, 64, 0, 3));
    assert_int_equal(atomic_load(&r->head) & (CAP - 1), 0);
    pads = 0;
    assert_int_equal(take(r, &pads), 2);
    assert_int_equal(take(r, &pads), 3);
    assert_int_equal(pads, 0);
    otelc__ring_destroy(r);
}

static void full_ring_returns_null(void **state)
{
    (void)state;
    otelc__ring_t *r = otelc__ring_create(CAP, 1);
    uint64_t next = 0;
    int n = 0;

    while (put(r, 128, 0, 5))
        n++;
    assert_int_equal(n, CAP / 128); /* every byte is usable */
    assert_null(otelc__ring_reserve(r, 8, 0, &next));
    /* The consumer frees one record: exactly one fits again. */
    assert_int_equal(take(r, NULL), 5);
    assert_true(put(r, 128, 0, 6));
    assert_false(put(r, 8, 0, 6));
    otelc__ring_destroy(r);
}

static void wrap_needs_room_for_the_pad_too(void **state)
{
    (void)state;
    otelc__ring_t *r = otelc__ring_create(CAP, 1);
    uint64_t next = 0;

    /* head at CAP - 40, tail at CAP - 200: 3936 bytes free in total, but a
     * record of 3900 would need a 40-byte PAD first (3940 > 3936). */
    assert_true(put(r, CAP - 200, 0, 1));
    assert_int_equal(take(r, NULL), 1);
    assert_true(put(r, 160, 0, 2));
    assert_null(otelc__ring_reserve(r, 3900, 0, &next));
    /* Nothing was written: the head has not moved and no PAD was left. */
    assert_int_equal(atomic_load(&r->head), CAP - 40);
    assert_non_null(otelc__ring_reserve(r, 3896, 0, &next));
    assert_int_equal(next, CAP); /* after a 40-byte PAD */
    otelc__ring_destroy(r);
}

static void end_reserve_is_kept_free(void **state)
{
    (void)state;
    otelc__ring_t *r = otelc__ring_create(CAP, 1);
    uint64_t next = 0;

    /* 256 bytes left. A record that would leave less than `reserve` free
     * is refused; the same record with no reserve (a span end) fits. */
    assert_true(put(r, CAP - 256, 0, 1));
    assert_null(otelc__ring_reserve(r, 200, 64, &next));
    assert_non_null(otelc__ring_reserve(r, 192, 64, &next)); /* leaves exactly 64 */
    assert_null(otelc__ring_reserve(r, 256, 8, &next));
    assert_true(put(r, 256, 0, 2));
    assert_false(put(r, 8, 0, 3));
    otelc__ring_destroy(r);
}

static void producer_sees_consumer_progress(void **state)
{
    (void)state;
    otelc__ring_t *r = otelc__ring_create(CAP, 1);

    assert_true(put(r, CAP, 0, 1));
    assert_false(put(r, 8, 0, 2));
    assert_int_equal(r->tail_seen, 0);
    assert_int_equal(take(r, NULL), 1);
    /* The cached tail is stale; the producer re-reads it when full. */
    assert_true(put(r, 8, 0, 2));
    assert_int_equal(r->tail_seen, CAP);
    otelc__ring_destroy(r);
}

/* A seeded simulation: random sizes and reserves, the consumer taking a
 * random number of records in between; every record comes out whole and in
 * order, and the byte accounting never exceeds the capacity. */
static void random_interleaving(void **state)
{
    (void)state;
    otelc__ring_t *r = otelc__ring_create(CAP, 1);
    uint64_t rng = 0x243f6a8885a308d3ull;
    unsigned char produced = 0, consumed = 0;
    unsigned pads = 0, refused = 0;

    for (int i = 0; i < 200000; i++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        if (rng % 3 != 0) {
            uint32_t size = 8u * (uint32_t)(1 + (rng >> 8) % 64); /* 8..512 */
            uint64_t reserve = (rng >> 20) % 2 ? 256 : 0;
            if (put(r, size, reserve, (unsigned char)(produced + 1)))
                produced++;
            else
                refused++;
        } else {
            int tag = take(r, &pads);
            if (tag >= 0) {
                consumed++;
                assert_int_equal((unsigned char)tag, consumed);
            }
        }
        assert_true(atomic_load(&r->head) - atomic_load(&r->tail) <= CAP);
    }
    while (take(r, &pads) >= 0)
        consumed++;
    assert_int_equal(consumed, produced);
    assert_true(pads > 0);
    assert_true(refused > 0);
    otelc__ring_destroy(r);
}

static void counters_sum_and_increment(void **state)
{
    (void)state;
    otelc__ring_t *a = otelc__ring_create(CAP, 1), *b = otelc__ring_create(CAP, 2);
    otelc__counts_t sum = { 0 };

    for (int i = 0; i < 5; i++)
        otelc__counter_inc(&a->counters.produced[0]);
    for (int i = 0; i < 3; i++)
        otelc__counter_inc(&a->counters.produced[1]);
    otelc__counter_inc(&a->counters.dropped_full[0]);
    otelc__counter_inc(&b->counters.dropped_full[1]);
    otelc__counter_inc(&b->counters.dropped_full[1]);
    otelc__counter_inc(&b->counters.dropped_limit[0]);
    otelc__counter_inc(&b->counters.dropped_limit[1]);
    otelc__counter_inc(&b->counters.dropped_sampler);
    otelc__counter_inc(&b->counters.produced[0]);
    atomic_fetch_add(&a->counters.dropped_reentrant[1], 4);
    otelc__ring_counters_sum(&a->counters, &sum);
    otelc__ring_counters_sum(&b->counters, &sum);
    assert_int_equal(sum.produced[0], 6);
    assert_int_equal(sum.produced[1], 3);
    assert_int_equal(sum.dropped_full[0], 1);
    assert_int_equal(sum.dropped_full[1], 2);
    assert_int_equal(sum.dropped_limit[0], 1);
    assert_int_equal(sum.dropped_limit[1], 1);
    assert_int_equal(sum.dropped_reentrant[0], 0);
    assert_int_equal(sum.dropped_reentrant[1], 4);
    assert_int_equal(sum.dropped_sampler, 1);
    otelc__ring_destroy(a);
    otelc__ring_destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ring_describes_itself),
        cmocka_unit_test(reserve_is_invisible_until_commit),
        cmocka_unit_test(records_come_out_in_order),
        cmocka_unit_test(wrap_pads_to_the_end),
        cmocka_unit_test(full_ring_returns_null),
        cmocka_unit_test(wrap_needs_room_for_the_pad_too),
        cmocka_unit_test(end_reserve_is_kept_free),
        cmocka_unit_test(producer_sees_consumer_progress),
        cmocka_unit_test(random_interleaving),
        cmocka_unit_test(counters_sum_and_increment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
