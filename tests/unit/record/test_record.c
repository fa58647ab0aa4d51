/*
 * test_record.c: the attribute encoding of ring records (record.h):
 * measure / encode / decode round trips for every type, NULL values and
 * keys, the count and value-length limits with UTF-8-safe truncation, and
 * decoding of malformed input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "record.h"

#define NOLIMIT UINT32_MAX

typedef struct decoded {
    otelc_attr_t a;
    size_t key_len;
    uint8_t flags;
} decoded_t;

/* Measures and encodes `attrs`, checks that both passes agree, decodes
 * everything back into `out` and returns how many came back. */
static size_t roundtrip(const otelc_attr_t *attrs, size_t n, uint32_t count_limit,
                        uint32_t value_limit, unsigned char *buf, size_t buf_size, decoded_t *out,
                        uint16_t *kept)
{
    size_t size = otelc__attrs_measure(attrs, n, count_limit, value_limit, kept);
    assert_true(size <= buf_size);
    memset(buf, 0xEE, buf_size);
    assert_int_equal(otelc__attrs_encode(buf, attrs, n, count_limit, value_limit), size);
    /* Nothing is written past the measured size. */
    for (size_t i = size; i < buf_size; i++)
        assert_int_equal(buf[i], 0xEE);

    const unsigned char *p = buf, *end = buf + size;
    size_t k = 0;
    while (p < end) {
        p = otelc__attr_decode(p, end, &out[k].a, &out[k].key_len, &out[k].flags);
        assert_non_null(p);
        k++;
    }
    assert_ptr_equal(p, end);
    assert_int_equal(k, *kept);
    return k;
}

static void assert_key(const decoded_t *d, const char *key)
{
    assert_int_equal(d->key_len, strlen(key));
    assert_memory_equal(d->a.key, key, d->key_len);
}

static void assert_str(const decoded_t *d, const char *key, const void *value, size_t len)
{
    assert_key(d, key);
    assert_int_equal(d->a.len, len);
    if (len)
        assert_memory_equal(d->a.v.bytes, value, len);
}

/* The i-th element of a decoded string array. */
static void array_string(const decoded_t *d, size_t i, const char **s, uint32_t *len)
{
    const unsigned char *e = d->a.v.bytes;
    uint32_t l;
    for (size_t j = 0;; j++) {
        memcpy(&l, e, 4);
        if (j == i)
            break;
        e += 4 + l;
    }
    *s = (const char *)e + 4;
    *len = l;
}

static void every_type_round_trips(void **state)
{
    (void)state;
    static const char *const strs[] = { "alpha", "", "gamma" };
    static const bool bools[] = { true, false, true, true };
    static const int64_t ints[] = { INT64_MIN, -1, 0, INT64_MAX };
    static const double dbls[] = { 0.5, -1e300, 3.25 };
    static const unsigned char raw[] = { 0x00, 0xFF, 0x10, 0x00, 0x7F };
    const otelc_attr_t attrs[] = {
        OTELC_STR("symbol", "AAPL"),
        OTELC_STRN("embedded", "a\0b", 3),
        OTELC_INT("qty", -1234567890123LL),
        OTELC_DBL("price", 150.25),
        OTELC_BOOL("live", 1),
        OTELC_BOOL("dead", 0),
        OTELC_BYTES("raw", raw, sizeof(raw)),
        OTELC_STR_ARRAY("strs", strs, 3),
        OTELC_BOOL_ARRAY("bools", bools, 4),
        OTELC_INT_ARRAY("ints", ints, 4),
        OTELC_DBL_ARRAY("dbls", dbls, 3),
        OTELC_INT_ARRAY("empty", ints, 0),
    };
    unsigned char buf[1024];
    decoded_t d[16];
    uint16_t kept;
    size_t n = roundtrip(attrs, 12, NOLIMIT, NOLIMIT, buf, sizeof(buf), d, &kept);

    assert_int_equal(n, 12);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(d[i].a.type, attrs[i].type);
        assert_int_equal(d[i].flags, 0);
    }
    assert_str(&d[0], "symbol", "AAPL", 4);
    assert_str(&d[1], "embedded", "a\0b", 3);
    assert_key(&d[2], "qty");
    assert_int_equal(d[2].a.v.i, -1234567890123LL);
    assert_key(&d[3], "price");
    assert_true(d[3].a.v.d == 150.25);
    assert_true(d[4].a.v.b);
    assert_false(d[5].a.v.b);
    assert_str(&d[6], "raw", raw, sizeof(raw));

    assert_key(&d[7], "strs");
    assert_int_equal(d[7].a.len, 3);
    for (size_t i = 0; i < 3; i++) {
        const char *s;
        uint32_t l;
        array_string(&d[7], i, &s, &l);
        assert_int_equal(l, strlen(strs[i]));
        assert_memory_equal(s, strs[i], l);
    }
    assert_int_equal(d[8].a.len, 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(((const unsigned char *)d[8].a.v.bytes)[i], bools[i] ? 1 : 0);
    assert_int_equal(d[9].a.len, 4);
    assert_memory_equal(d[9].a.v.bytes, ints, sizeof(ints));
    assert_int_equal(d[10].a.len, 3);
    assert_memory_equal(d[10].a.v.bytes, dbls, sizeof(dbls));
    assert_int_equal(d[11].a.len, 0);

    /* The documented layout: u8 type, u8 flags, u16 key length, key, value. */
    assert_int_equal(buf[0], OTELC_ATTR_STRING);
    assert_int_equal(buf[1], 0);
    assert_int_equal(buf[2] | buf[3] << 8, 6);
    assert_memory_equal(buf + 4, "symbol", 6);
    assert_int_equal(buf[10] | buf[11] << 8 | buf[12] << 16 | buf[13] << 24, 4);
    assert_memory_equal(buf + 14, "AAPL", 4);
}

static void null_values_are_empty(void **state)
{
    (void)state;
    static const char *const with_null[] = { "x", NULL, "zz" };
    const otelc_attr_t attrs[] = {
        OTELC_STR("s", NULL),
        OTELC_STRN("sn", NULL, 12),
        OTELC_BYTES("b", NULL, 5),
        OTELC_STR_ARRAY("sa", NULL, 3),
        OTELC_STR_ARRAY("sa2", with_null, 3),
        OTELC_INT_ARRAY("ia", NULL, 2),
        OTELC_DBL_ARRAY("da", NULL, 2),
        OTELC_BOOL_ARRAY("ba", NULL, 2),
    };
    unsigned char buf[512];
    decoded_t d[8];
    uint16_t kept;

    assert_int_equal(roundtrip(attrs, 8, NOLIMIT, NOLIMIT, buf, sizeof(buf), d, &kept), 8);
    assert_str(&d[0], "s", "", 0);
    assert_str(&d[1], "sn", "", 0);
    assert_str(&d[2], "b", "", 0);
    assert_int_equal(d[3].a.len, 0);
    assert_int_equal(d[4].a.len, 3);
    const char *s;
    uint32_t l;
    array_string(&d[4], 1, &s, &l);
    assert_int_equal(l, 0);
    array_string(&d[4], 2, &s, &l);
    assert_int_equal(l, 2);
    assert_memory_equal(s, "zz", 2);
    assert_int_equal(d[5].a.len, 0);
    assert_int_equal(d[6].a.len, 0);
    assert_int_equal(d[7].a.len, 0);
}

static void null_keys_and_bad_types_are_dropped(void **state)
{
    (void)state;
    otelc_attr_t bad_type = OTELC_INT("bad", 1);
    bad_type.type = 42;
    otelc_attr_t zero_type = OTELC_INT("zero", 1);
    zero_type.type = 0;
    const otelc_attr_t attrs[] = {
        OTELC_STR(NULL, "lost"), OTELC_INT("a", 1), bad_type,
        OTELC_INT(NULL, 2),      zero_type,         OTELC_INT("b", 3),
    };
    unsigned char buf[256];
    decoded_t d[6];
    uint16_t kept;

    assert_int_equal(roundtrip(attrs, 6, NOLIMIT, NOLIMIT, buf, sizeof(buf), d, &kept), 2);
    assert_int_equal(kept, 2);
    assert_key(&d[0], "a");
    assert_int_equal(d[0].a.v.i, 1);
    assert_key(&d[1], "b");
    assert_int_equal(d[1].a.v.i, 3);
}

static void count_limit_keeps_the_first(void **state)
{
    (void)state;
    const otelc_attr_t attrs[] = {
        OTELC_INT("a", 1), OTELC_INT(NULL, 0), OTELC_INT("b", 2),
        OTELC_INT("c", 3), OTELC_INT("d", 4),  OTELC_INT("e", 5),
    };
    unsigned char buf[256];
    decoded_t d[6];
    uint16_t kept;

    /* The NULL key is skipped without using up the limit. */
    assert_int_equal(roundtrip(attrs, 6, 3, NOLIMIT, buf, sizeof(buf), d, &kept), 3);
    assert_key(&d[0], "a");
    assert_key(&d[1], "b");
    assert_key(&d[2], "c");
    assert_int_equal(otelc__attrs_measure(attrs, 6, 0, NOLIMIT, &kept), 0);
    assert_int_equal(kept, 0);
    assert_int_equal(otelc__attrs_measure(attrs, 0, 10, NOLIMIT, &kept), 0);
    assert_int_equal(kept, 0);
}

static void utf8_cut_never_splits_a_character(void **state)
{
    (void)state;
    /* a (1 byte), é (2), € (3), 😀 (4): boundaries at 0, 1, 3, 6, 10. */
    const char s[] = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
    const size_t want[11] = { 0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10 };
    for (size_t limit = 0; limit <= 10; limit++)
        assert_int_equal(otelc__utf8_cut(s, 10, limit), want[limit]);
    assert_int_equal(otelc__utf8_cut(s, 10, 1000), 10);
    assert_int_equal(otelc__utf8_cut("abc", 3, 2), 2);
    assert_int_equal(otelc__utf8_cut(NULL, 0, 5), 0);
}

static void value_limit_truncates_and_flags(void **state)
{
    (void)state;
    const char s[] = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
    const size_t want[11] = { 0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10 };
    static const unsigned char raw[] = { 1, 2, 3, 4, 5, 6 };
    unsigned char buf[256];
    decoded_t d[4];
    uint16_t kept;

    for (uint32_t limit = 0; limit <= 11; limit++) {
        const otelc_attr_t attrs[] = {
            OTELC_STR("s", s), OTELC_BYTES("b", raw, sizeof(raw)),
            OTELC_INT("i", 7), /* numbers are never cut */
        };
        assert_int_equal(roundtrip(attrs, 3, NOLIMIT, limit, buf, sizeof(buf), d, &kept), 3);
        size_t ws = limit <= 10 ? want[limit] : 10;
        assert_str(&d[0], "s", s, ws);
        assert_int_equal(d[0].flags & OTELC__ATTR_F_TRUNCATED,
                         ws < 10 ? OTELC__ATTR_F_TRUNCATED : 0);
        /* Bytes have no characters: cut exactly at the limit. */
        size_t wb = limit < sizeof(raw) ? limit : sizeof(raw);
        assert_str(&d[1], "b", raw, wb);
        assert_int_equal(d[1].flags & OTELC__ATTR_F_TRUNCATED,
                         wb < sizeof(raw) ? OTELC__ATTR_F_TRUNCATED : 0);
        assert_int_equal(d[2].a.v.i, 7);
        assert_int_equal(d[2].flags, 0);
    }

    /* Elements of a string array are cut the same way. */
    const char *const arr[] = { s, "abcdef" };
    const otelc_attr_t a = OTELC_STR_ARRAY("arr", arr, 2);
    assert_int_equal(roundtrip(&a, 1, NOLIMIT, 4, buf, sizeof(buf), d, &kept), 1);
    const char *e;
    uint32_t l;
    array_string(&d[0], 0, &e, &l);
    assert_int_equal(l, 3);
    assert_memory_equal(e, s, 3);
    array_string(&d[0], 1, &e, &l);
    assert_int_equal(l, 4);
    assert_memory_equal(e, "abcd", 4);
}

static void long_keys_are_cut(void **state)
{
    (void)state;
    size_t n = 70000;
    char *key = malloc(n + 1);
    unsigned char *buf = malloc(n + 64);
    decoded_t d[1];
    uint16_t kept;

    assert_non_null(key);
    assert_non_null(buf);
    memset(key, 'k', n);
    key[n] = 0;
    const otelc_attr_t a = OTELC_INT(key, 9);
    assert_int_equal(roundtrip(&a, 1, NOLIMIT, NOLIMIT, buf, n + 64, d, &kept), 1);
    assert_int_equal(d[0].key_len, 65535);
    assert_int_equal(d[0].a.v.i, 9);
    free(key);
    free(buf);
}

/* Every strict prefix of a valid encoding is malformed. */
static void truncated_input_is_rejected(void **state)
{
    (void)state;
    static const char *const strs[] = { "one", "two" };
    static const bool bools[] = { true, false };
    static const int64_t ints[] = { 1, 2 };
    static const double dbls[] = { 1.5 };
    const otelc_attr_t attrs[] = {
        OTELC_STR("s", "value"),
        OTELC_BOOL("b", 1),
        OTELC_INT("i", 5),
        OTELC_DBL("d", 2.5),
        OTELC_BYTES("y", "xyz", 3),
        OTELC_STR_ARRAY("sa", strs, 2),
        OTELC_BOOL_ARRAY("ba", bools, 2),
        OTELC_INT_ARRAY("ia", ints, 2),
        OTELC_DBL_ARRAY("da", dbls, 1),
    };
    unsigned char buf[256];
    otelc_attr_t out;
    size_t kl;
    uint8_t fl;

    for (size_t i = 0; i < 9; i++) {
        uint16_t kept;
        size_t size = otelc__attrs_measure(&attrs[i], 1, NOLIMIT, NOLIMIT, &kept);
        assert_int_equal(otelc__attrs_encode(buf, &attrs[i], 1, NOLIMIT, NOLIMIT), size);
        assert_ptr_equal(otelc__attr_decode(buf, buf + size, &out, &kl, &fl), buf + size);
        for (size_t len = 0; len < size; len++)
            assert_null(otelc__attr_decode(buf, buf + len, &out, &kl, &fl));
    }
}

static void put32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void forged_input_is_rejected(void **state)
{
    (void)state;
    unsigned char b[64];
    otelc_attr_t out;
    size_t kl;
    uint8_t fl;

    /* Unknown types. */
    for (unsigned t = 0; t < 256; t++) {
        if (t >= OTELC_ATTR_STRING && t <= OTELC_ATTR_DOUBLE_ARRAY)
            continue;
        memset(b, 0, sizeof(b));
        b[0] = (unsigned char)t;
        b[2] = 1;
        b[4] = 'k';
        assert_null(otelc__attr_decode(b, b + sizeof(b), &out, &kl, &fl));
    }
    /* A key longer than the input. */
    memset(b, 0, sizeof(b));
    b[0] = OTELC_ATTR_INT;
    b[2] = 200;
    assert_null(otelc__attr_decode(b, b + sizeof(b), &out, &kl, &fl));
    /* A string longer than the input. */
    memset(b, 0, sizeof(b));
    b[0] = OTELC_ATTR_STRING;
    b[2] = 1;
    b[4] = 'k';
    put32(b + 5, 60);
    assert_null(otelc__attr_decode(b, b + sizeof(b), &out, &kl, &fl));
    put32(b + 5, 0xFFFFFFFFu);
    assert_null(otelc__attr_decode(b, b + sizeof(b), &out, &kl, &fl));
    put32(b + 5, 55); /* exactly what is left: valid */
    assert_ptr_equal(otelc__attr_decode(b, b + sizeof(b), &out, &kl, &fl), b + sizeof(b));
    /* Arrays whose counts overflow the input (and would overflow count*8). */
    const unsigned char types[] = { OTELC_ATTR_INT_ARRAY, OTELC_ATTR_DOUBLE_ARRAY,
                                    OTELC_ATTR_BOOL_ARRAY, OTELC_ATTR_STRING_ARRAY };
    for (size_t i = 0; i < sizeof(types); i++) {
        b[0] = types[i];
        put32(b + 5, 0xFFFFFFFFu);
        assert_null(otelc__attr_decode(b, b + sizeof(b), &out, &kl, &fl));
        put32(b + 5, 0x20000001u);
        assert_null(otelc__attr_decode(b, b + sizeof(b), &out, &kl, &fl));
    }
    /* A string array whose element claims more than is left. */
    memset(b, 0, sizeof(b));
    b[0] = OTELC_ATTR_STRING_ARRAY;
    b[2] = 1;
    b[4] = 'k';
    put32(b + 5, 2);
    put32(b + 9, 3);
    memcpy(b + 13, "abc", 3);
    put32(b + 16, 100);
    assert_null(otelc__attr_decode(b, b + sizeof(b), &out, &kl, &fl));
    put32(b + 16, 0);
    assert_ptr_equal(otelc__attr_decode(b, b + sizeof(b), &out, &kl, &fl), b + 20);
    assert_int_equal(out.len, 2);
}

/* The one-pass encoder of the hot path gives the same bytes as the
 * measured one for what it handles, and gives up (NULL) on the rest. */
static void bounded_encoder_matches(void **state)
{
    (void)state;
    const otelc_attr_t common[] = {
        OTELC_STR("symbol", "AAPL"), OTELC_INT("qty", -7),   OTELC_DBL("price", 150.25),
        OTELC_BOOL("live", 1),       OTELC_STR("empty", ""), OTELC_STRN("part", "abcdef", 3),
        OTELC_STR("null", NULL),
    };
    unsigned char a[512], b[512];
    uint16_t kept_a, kept_b = 99;
    size_t size = otelc__attrs_measure(common, 7, NOLIMIT, NOLIMIT, &kept_a);
    assert_int_equal(otelc__attrs_encode(a, common, 7, NOLIMIT, NOLIMIT), size);
    unsigned char *end =
        otelc__attrs_encode_bounded(b, b + sizeof(b), common, 7, NOLIMIT, NOLIMIT, &kept_b);
    assert_non_null(end);
    assert_int_equal(end - b, size);
    assert_int_equal(kept_b, 7);
    assert_memory_equal(a, b, size);
    /* Exactly enough room is enough. */
    end = otelc__attrs_encode_bounded(b, b + size, common, 7, NOLIMIT, NOLIMIT, &kept_b);
    assert_ptr_equal(end, b + size);
    assert_memory_equal(a, b, size);

    /* What it leaves to the measured path. */
    static const int64_t ints[] = { 1, 2 };
    const otelc_attr_t arr = OTELC_INT_ARRAY("ia", ints, 2);
    const otelc_attr_t bytes = OTELC_BYTES("b", "xy", 2);
    const otelc_attr_t nokey = OTELC_INT(NULL, 1);
    const otelc_attr_t longv = OTELC_STR("s", "abcdef");
    assert_null(otelc__attrs_encode_bounded(b, b + sizeof(b), &arr, 1, NOLIMIT, NOLIMIT, &kept_b));
    assert_null(
        otelc__attrs_encode_bounded(b, b + sizeof(b), &bytes, 1, NOLIMIT, NOLIMIT, &kept_b));
    assert_null(
        otelc__attrs_encode_bounded(b, b + sizeof(b), &nokey, 1, NOLIMIT, NOLIMIT, &kept_b));
    assert_null(otelc__attrs_encode_bounded(b, b + sizeof(b), &longv, 1, NOLIMIT, 3, &kept_b));
    assert_null(otelc__attrs_encode_bounded(b, b + sizeof(b), common, 7, 6, NOLIMIT, &kept_b));
}

/* It never writes at or past `end`, however little room there is. */
static void bounded_encoder_stays_in_bounds(void **state)
{
    (void)state;
    const otelc_attr_t attrs[] = { OTELC_STR("symbol", "AAPL"), OTELC_INT("qty", 7),
                                   OTELC_BOOL("live", 1) };
    unsigned char buf[128];
    uint16_t kept;
    size_t size = otelc__attrs_measure(attrs, 3, NOLIMIT, NOLIMIT, &kept);
    for (size_t room = 0; room < size; room++) {
        memset(buf, 0xEE, sizeof(buf));
        assert_null(
            otelc__attrs_encode_bounded(buf, buf + room, attrs, 3, NOLIMIT, NOLIMIT, &kept));
        for (size_t i = room; i < sizeof(buf); i++)
            if (buf[i] != 0xEE)
                fail_msg("with %zu bytes of room, byte %zu past the end was written", room,
                         i - room);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_type_round_trips),
        cmocka_unit_test(null_values_are_empty),
        cmocka_unit_test(null_keys_and_bad_types_are_dropped),
        cmocka_unit_test(count_limit_keeps_the_first),
        cmocka_unit_test(utf8_cut_never_splits_a_character),
        cmocka_unit_test(value_limit_truncates_and_flags),
        cmocka_unit_test(long_keys_are_cut),
        cmocka_unit_test(truncated_input_is_rejected),
        cmocka_unit_test(forged_input_is_rejected),
        cmocka_unit_test(bounded_encoder_matches),
        cmocka_unit_test(bounded_encoder_stays_in_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
