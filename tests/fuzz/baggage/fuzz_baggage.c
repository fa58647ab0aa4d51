/*
 * fuzz_baggage.c: otelc_baggage_parse(), then otelc_baggage_lookup() of every
 * key it kept, then otelc_baggage_put() of a new key and of an existing one.
 *
 * Invariants:
 * - parse returns OK, FULL or INVALID; INVALID leaves an empty string, the
 *   others a non-empty header of at most OTELC_BAGGAGE_MAX bytes and
 *   OTELC_BAGGAGE_MEMBERS members, keys unique, that parses to itself;
 * - every key of that header is found, and its value is the member's value
 *   percent-decoded, ill-formed UTF-8 replaced with U+FFFD per maximal
 *   subpart (checked against a decoder written here; in long headers, for a
 *   sample of the keys); a small buffer gets it cut between characters;
 * - put of a value gives a header that parses to itself, where lookup of
 *   that key returns the value put (with its ill-formed UTF-8 replaced),
 *   and the other members are copied byte for byte (a new one is appended;
 *   a replaced one keeps its place); put fails with FULL only when the
 *   result would pass the limits.
 * Output buffers are heap blocks of exactly their size, so that ASan sees a
 * write past one.
 */
#include "fuzz_check.h"

#include <otelc/propagation.h>

#include <stdio.h>
#include <string.h>

#define BAG_SIZE (OTELC_BAGGAGE_MAX + 1)

typedef struct member {
    const char *key;
    size_t key_len;
    const char *value; /* up to the first ';' */
    size_t value_len;
} member_t;

static char *xmalloc(size_t n)
{
    char *p = malloc(n);
    FUZZ_CHECK(p != NULL);
    return p;
}

static int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * The bytes b[0 .. m) of a sequence that announces `len` bytes: whether they
 * begin a well-formed UTF-8 sequence. Worked out on code point values (the
 * parser uses the byte ranges of Unicode table 3-7 instead): the sequences
 * that can still follow give the code points [lo, hi], and a well-formed one
 * must be in the range of its length and not a surrogate.
 */
static bool could_begin(const unsigned char *b, size_t m, size_t len)
{
    static const uint32_t min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    static const uint32_t max_cp[5] = { 0, 0, 0x7ff, 0xffff, 0x10ffff };
    uint32_t cp = b[0] & (len == 2 ? 0x1fu : len == 3 ? 0x0fu : 0x07u), lo, hi;
    unsigned rest = (unsigned)(6 * (len - m));

    for (size_t k = 1; k < m; k++) {
        if ((b[k] & 0xc0) != 0x80)
            return false;
        cp = cp << 6 | (b[k] & 0x3fu);
    }
    lo = cp << rest;
    hi = lo | ((1u << rest) - 1);
    if (hi < min_cp[len] || lo > max_cp[len])
        return false;
    /* Only surrogates between them: [lo, hi] inside D800..DFFF. */
    return !(lo >= 0xd800 && hi <= 0xdfff);
}

/*
 * The reference UTF-8 repair: copies well-formed sequences, and writes one
 * U+FFFD for each maximal subpart of an ill-formed one (the longest prefix
 * that could begin a well-formed sequence, or one byte). Returns the length.
 */
static size_t repair(const unsigned char *in, size_t n, char *out)
{
    size_t w = 0, i = 0;

    while (i < n) {
        unsigned char b = in[i];
        size_t len = b >= 0xc0 && b <= 0xdf   ? 2
                     : b >= 0xe0 && b <= 0xef ? 3
                     : b >= 0xf0 && b <= 0xf7 ? 4
                                              : 0;
        size_t m = 0;

        if (b < 0x80) {
            out[w++] = (char)b;
            i++;
            continue;
        }
        for (size_t k = 1; len > 0 && k <= len && i + k <= n; k++)
            if (could_begin(in + i, k, len))
                m = k;
        if (len > 0 && m == len) {
            memcpy(out + w, in + i, len);
            w += len;
            i += len;
        } else {
            memcpy(out + w, "\xef\xbf\xbd", 3);
            w += 3;
            i += m > 0 ? m : 1;
        }
    }
    return w;
}

/* The reference decoder: "%XX" with two hex digits of either case is one
 * byte, anything else is itself; the octets are then repaired as UTF-8.
 * `out` has room for 3 * n bytes. Returns the decoded length. */
static size_t decode(const char *s, size_t n, char *out)
{
    unsigned char *octets = malloc(n > 0 ? n : 1);
    size_t w = 0;

    FUZZ_CHECK(octets != NULL);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            octets[w++] = (unsigned char)(hex(s[i + 1]) << 4 | hex(s[i + 2]));
            i += 2;
        } else {
            octets[w++] = (unsigned char)s[i];
        }
    }
    w = repair(octets, w, out);
    free(octets);
    return w;
}

/* Splits a normalised header (no white space) into its members. */
static size_t split(const char *h, size_t n, member_t *m, size_t max)
{
    size_t count = 0, i = 0;

    while (i < n) {
        const char *comma = memchr(h + i, ',', n - i);
        size_t end = comma != NULL ? (size_t)(comma - h) : n;
        const char *eq = memchr(h + i, '=', end - i);
        const char *semi;

        FUZZ_CHECK(end > i);    /* no empty member */
        FUZZ_CHECK(eq != NULL); /* every member has a value */
        FUZZ_CHECK(count < max);
        m[count].key = h + i;
        m[count].key_len = (size_t)(eq - (h + i));
        FUZZ_CHECK(m[count].key_len > 0);
        m[count].value = eq + 1;
        semi = memchr(eq + 1, ';', end - (size_t)(eq + 1 - h));
        m[count].value_len = (size_t)((semi != NULL ? semi : h + end) - (eq + 1));
        count++;
        i = end + 1;
        FUZZ_CHECK(comma == NULL || i < n); /* no trailing comma */
    }
    return count;
}

/* parse(h) == h, byte for byte. */
static void check_fixed_point(const char *h, size_t n)
{
    char *again = xmalloc(BAG_SIZE);
    size_t n_again = 0;

    FUZZ_CHECK(otelc_baggage_parse(h, n, again, BAG_SIZE, &n_again) == OTELC_OK);
    FUZZ_CHECK(n_again == n && memcmp(again, h, n) == 0);
    free(again);
}

/* Looks `key` up and checks the result against `expect` (NULL: absent). */
static void check_lookup(const char *h, size_t n, const char *key, size_t key_len,
                         const char *expect, size_t expect_len)
{
    char name[BAG_SIZE];
    char *value = xmalloc(3 * BAG_SIZE);
    char *tiny = xmalloc(4);
    long got;

    memcpy(name, key, key_len);
    name[key_len] = '\0';
    got = otelc_baggage_lookup(h, n, name, value, 3 * BAG_SIZE);
    if (expect == NULL) {
        FUZZ_CHECK(got == -1 && value[0] == '\0');
    } else {
        FUZZ_CHECK(got >= 0 && (size_t)got == expect_len);
        FUZZ_CHECK(memcmp(value, expect, expect_len) == 0 && value[expect_len] == '\0');
        /* A small buffer gets the full length and a terminated copy cut
         * between characters: the longest prefix of whole characters that
         * fits in 3 bytes (a character has 1 to 4). */
        FUZZ_CHECK(otelc_baggage_lookup(h, n, name, tiny, 4) == got);
        {
            size_t fit = 0, t = strlen(tiny);
            while (fit < expect_len) {
                unsigned char b = (unsigned char)expect[fit];
                size_t c = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
                if (fit + c > 3)
                    break;
                fit += c;
            }
            FUZZ_CHECK(memchr(expect, '\0', fit) != NULL ? t <= fit : t == fit);
            FUZZ_CHECK(memcmp(tiny, expect, t) == 0);
        }
    }
    free(value);
    free(tiny);
}

/*
 * Lookups scan the whole header, so checking every key of a header of 180
 * members costs 180 scans of 8 KiB, several times per input. The first and
 * last members are checked always, and those between them in a sample.
 */
#define SAMPLED(i, count) ((i) < 4 || (i) + 4 >= (count) || (i) % 32 == 0)

/* The decoded value of every member, checked by lookup. */
static void check_all_lookups(const char *h, size_t n, const member_t *m, size_t count)
{
    char *expect = xmalloc(3 * BAG_SIZE);

    for (size_t i = 0; i < count; i++) {
        if (!SAMPLED(i, count))
            continue;
        size_t len = decode(m[i].value, m[i].value_len, expect);
        check_lookup(h, n, m[i].key, m[i].key_len, expect, len);
    }
    free(expect);
}

/* Length of a member of h, properties included, without the comma. */
static size_t member_len(const member_t *m, const char *h, size_t n)
{
    const char *start = m->key;
    const char *comma = memchr(start, ',', n - (size_t)(start - h));
    return (size_t)((comma != NULL ? comma : h + n) - start);
}

/* Whether put writes byte c as it is (a baggage-octet other than '%'). */
static bool kept_raw(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\' && c != '%';
}

/*
 * The value put writes, as its receiver decodes it: `value` repaired as
 * UTF-8 into `out` (room for 3 * strlen(value) + 1). Returns its length.
 */
static size_t put_value(const char *value, char *out)
{
    size_t n = repair((const unsigned char *)value, strlen(value), out);
    out[n] = '\0';
    return n;
}

/* Size of "key=<value percent-encoded>" as put writes it. */
static size_t put_size(const char *key, const char *value)
{
    char *repaired = xmalloc(3 * strlen(value) + 1);
    size_t n = put_value(value, repaired), size = strlen(key) + 1;

    for (size_t i = 0; i < n; i++)
        size += kept_raw((unsigned char)repaired[i]) ? 1 : 3;
    free(repaired);
    return size;
}

/*
 * put(h, key, value), then checks the result: fixed point, the value found
 * again, the other members unchanged. `m` are the `count` members of h;
 * `is_new` says whether key is absent from h.
 */
static void check_put(const char *h, size_t n, const member_t *m, size_t count, const char *key,
                      const char *value, bool is_new)
{
    static member_t after[OTELC_BAGGAGE_MEMBERS + 1];
    char *out = xmalloc(BAG_SIZE);
    size_t n_out = 1, count_after;
    otelc_status_t status = otelc_baggage_put(h, n, key, value, out, BAG_SIZE, &n_out);

    FUZZ_CHECK(status == OTELC_OK || status == OTELC_ERR_FULL);
    FUZZ_CHECK(strlen(out) == n_out);
    if (status == OTELC_ERR_FULL) {
        /* Only when it really does not fit: the new member alone, added to
         * the header, passes the limit (for a replacement an upper bound). */
        FUZZ_CHECK(n_out == 0);
        FUZZ_CHECK(n + 1 + put_size(key, value) > OTELC_BAGGAGE_MAX ||
                   (is_new && count == OTELC_BAGGAGE_MEMBERS));
        goto done;
    }
    FUZZ_CHECK(n_out <= OTELC_BAGGAGE_MAX);
    check_fixed_point(out, n_out);
    count_after = split(out, n_out, after, OTELC_BAGGAGE_MEMBERS + 1);
    FUZZ_CHECK(count_after == count + (is_new ? 1 : 0));
    FUZZ_CHECK(count_after <= OTELC_BAGGAGE_MEMBERS);
    {
        char *repaired = xmalloc(3 * strlen(value) + 1);
        size_t repaired_len = put_value(value, repaired);
        check_lookup(out, n_out, key, strlen(key), repaired, repaired_len);
        free(repaired);
    }
    /* The other members are copied unchanged: a new key is appended after
     * them; a replaced one keeps its place between them. */
    if (is_new) {
        FUZZ_CHECK(n_out > n + 1 && memcmp(out, h, n) == 0 && out[n] == ',');
    } else {
        const member_t *old = NULL;
        size_t before, after_len;
        for (size_t i = 0; i < count && old == NULL; i++)
            if (m[i].key_len == strlen(key) && memcmp(m[i].key, key, m[i].key_len) == 0)
                old = &m[i];
        FUZZ_CHECK(old != NULL);
        before = (size_t)(old->key - h);
        after_len = n - before - member_len(old, h, n);
        FUZZ_CHECK(n_out >= before + after_len);
        FUZZ_CHECK(memcmp(out, h, before) == 0);
        FUZZ_CHECK(memcmp(out + n_out - after_len, h + n - after_len, after_len) == 0);
    }
done:
    free(out);
}

static bool has_key(const member_t *m, size_t count, const char *key)
{
    for (size_t i = 0; i < count; i++)
        if (m[i].key_len == strlen(key) && memcmp(m[i].key, key, m[i].key_len) == 0)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static member_t members[OTELC_BAGGAGE_MEMBERS];
    const char *s = (const char *)data;
    char *out = xmalloc(BAG_SIZE);
    char value[48], key[32], first_key[BAG_SIZE];
    size_t n = 1, count, small_size;
    otelc_status_t status;

    memset(out, 0x5a, BAG_SIZE);
    status = otelc_baggage_parse(s, size, out, BAG_SIZE, &n);
    FUZZ_CHECK(status == OTELC_OK || status == OTELC_ERR_FULL || status == OTELC_ERR_INVALID);
    FUZZ_CHECK(strlen(out) == n && n <= OTELC_BAGGAGE_MAX);
    if (status == OTELC_ERR_INVALID) {
        FUZZ_CHECK(n == 0);
        goto small;
    }
    FUZZ_CHECK(n > 0);
    check_fixed_point(out, n);

    count = split(out, n, members, OTELC_BAGGAGE_MEMBERS);
    for (size_t i = 0; i < count; i++)
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(members[i].key_len != members[j].key_len ||
                       memcmp(members[i].key, members[j].key, members[i].key_len) != 0);
    check_all_lookups(out, n, members, count);

    /* A value made of the input's first bytes (any byte but NUL). */
    {
        size_t v = 0;
        while (v < size && v < sizeof(value) - 1 && data[v] != 0) {
            value[v] = (char)data[v];
            v++;
        }
        value[v] = '\0';
    }
    for (unsigned k = 0;; k++) {
        snprintf(key, sizeof(key), "fz%u", k);
        if (!has_key(members, count, key))
            break;
    }
    FUZZ_CHECK(otelc_baggage_lookup(out, n, key, first_key, sizeof(first_key)) == -1);
    check_put(out, n, members, count, key, value, true);

    memcpy(first_key, members[0].key, members[0].key_len);
    first_key[members[0].key_len] = '\0';
    check_put(out, n, members, count, first_key, value, false);

small:
    free(out);
    /* A caller's buffer smaller than the header keeps the members that fit. */
    small_size = 1 + (size > 0 ? data[size - 1] : 0u) % 64;
    out = xmalloc(small_size);
    n = 1;
    status = otelc_baggage_parse(s, size, out, small_size, &n);
    FUZZ_CHECK(status == OTELC_OK || status == OTELC_ERR_FULL || status == OTELC_ERR_INVALID);
    FUZZ_CHECK(n < small_size && strlen(out) == n);
    if (status != OTELC_ERR_INVALID)
        check_fixed_point(out, n);
    free(out);
    return 0;
}
