/*
 * fuzz_attr_decode.c: otelc__attr_decode() over arbitrary bytes, as the
 * pipeline would meet a corrupted record.
 *
 * The decoder is called from the start until it returns NULL or reaches the
 * end. Invariants: it never reads outside [data, data + size) (ASan sees
 * that: libFuzzer's input is a heap block of exactly its size); each step
 * moves forward and stays within the end; the key and the value it returns
 * lie inside the input; an array's elements, walked as the exporters walk
 * them, do too. Every byte the view points at is read here, so that a view
 * reaching past the end is caught even when the decoder itself did not
 * touch those bytes.
 */
#include "fuzz_check.h"
#include "record.h"

#include <string.h>

static const unsigned char *lo, *hi;
static volatile unsigned sink;

/* Reads every byte of [p, p + n) after checking it is inside the input. */
static void touch(const void *ptr, size_t n)
{
    const unsigned char *p = ptr;
    unsigned sum = 0;

    FUZZ_CHECK(p >= lo && p <= hi && n <= (size_t)(hi - p));
    for (size_t i = 0; i < n; i++)
        sum += p[i];
    sink += sum;
}

static uint32_t u32_at(const unsigned char *p)
{
    uint32_t v;
    touch(p, 4);
    memcpy(&v, p, 4);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const unsigned char *p = data, *end = data + size;

    lo = data;
    hi = end;
    while (p != NULL && p < end) {
        otelc_attr_t a;
        size_t key_len = (size_t)-1;
        uint8_t flags = 0;
        const unsigned char *next;

        memset(&a, 0, sizeof(a));
        next = otelc__attr_decode(p, end, &a, &key_len, &flags);
        if (next == NULL)
            break;
        FUZZ_CHECK(next > p && next <= end);
        FUZZ_CHECK(key_len <= UINT16_MAX);
        touch(a.key, key_len);
        switch (a.type) {
        case OTELC_ATTR_BOOL:
        case OTELC_ATTR_INT:
        case OTELC_ATTR_DOUBLE:
            break;
        case OTELC_ATTR_STRING:
        case OTELC_ATTR_BYTES:
            touch(a.v.bytes, a.len);
            FUZZ_CHECK((const unsigned char *)a.v.bytes + a.len == next);
            break;
        case OTELC_ATTR_STRING_ARRAY: {
            const unsigned char *q = a.v.bytes;
            for (size_t i = 0; i < a.len; i++) {
                uint32_t l = u32_at(q);
                touch(q + 4, l);
                q += 4 + (size_t)l;
            }
            FUZZ_CHECK(q == next);
            break;
        }
        case OTELC_ATTR_BOOL_ARRAY:
            touch(a.v.bytes, a.len);
            FUZZ_CHECK((const unsigned char *)a.v.bytes + a.len == next);
            break;
        case OTELC_ATTR_INT_ARRAY:
        case OTELC_ATTR_DOUBLE_ARRAY:
            FUZZ_CHECK(a.len <= (size_t)(end - (const unsigned char *)a.v.bytes) / 8);
            touch(a.v.bytes, a.len * 8);
            FUZZ_CHECK((const unsigned char *)a.v.bytes + a.len * 8 == next);
            break;
        default:
            /* An unknown type is malformed: the decoder must have said so. */
            FUZZ_CHECK(0);
        }
        p = next;
    }
    return 0;
}
