/*
 * fuzz_tracestate.c: otelc_tracestate_parse() on arbitrary bytes.
 *
 * Invariants: a rejected header leaves an empty string; an accepted one
 * gives at most OTELC_TRACESTATE_MAX bytes (and less than the buffer) with
 * *out_len its length, and its normalised form is a fixed point: parsing it
 * again gives it back unchanged. A header that fits is kept whole but for
 * the later members of a repeated key. The same holds when the caller's buffer is
 * smaller than the header, which makes the parser drop members; that buffer
 * is a heap block of exactly its size, so that ASan sees a write past it.
 */
#include "fuzz_check.h"

#include <otelc/propagation.h>

#include <string.h>

/* Parses s[0 .. len) into a buffer of `size` bytes and checks the result. */
static void check(const char *s, size_t len, size_t size)
{
    char *out = malloc(size);
    char again[OTELC_TRACESTATE_MAX + 1];
    size_t n = (size_t)-1, n_again = (size_t)-1;
    otelc_status_t status;

    FUZZ_CHECK(out != NULL);
    memset(out, 0x5a, size);
    status = otelc_tracestate_parse(s, len, out, size, &n);
    FUZZ_CHECK(status == OTELC_OK || status == OTELC_ERR_INVALID);
    FUZZ_CHECK(n < size && n <= OTELC_TRACESTATE_MAX);
    FUZZ_CHECK(strlen(out) == n);
    if (status != OTELC_OK) {
        FUZZ_CHECK(n == 0);
    } else {
        FUZZ_CHECK(otelc_tracestate_parse(out, n, again, sizeof(again), &n_again) == OTELC_OK);
        FUZZ_CHECK(n_again == n && memcmp(again, out, n) == 0);
        /* No white space survives around members, and no empty member. */
        if (n > 0) {
            FUZZ_CHECK(out[0] != ' ' && out[0] != '\t' && out[0] != ',');
            FUZZ_CHECK(out[n - 1] != ' ' && out[n - 1] != '\t' && out[n - 1] != ',');
            FUZZ_CHECK(strstr(out, ",,") == NULL);
        }
    }
    free(out);
}

/* s[0 .. *len) narrowed to exclude leading and trailing spaces and tabs. */
static const char *trim(const char *s, size_t *len)
{
    while (*len > 0 && (s[0] == ' ' || s[0] == '\t')) {
        s++;
        (*len)--;
    }
    while (*len > 0 && (s[*len - 1] == ' ' || s[*len - 1] == '\t'))
        (*len)--;
    return s;
}

/*
 * The list members of s[0 .. len) that are not empty or white space only,
 * counting a key that repeats an earlier member's key once: the parser keeps
 * only the first member of a key. The key is the member up to its first '=',
 * as the parser reads it.
 */
static size_t count_members(const char *s, size_t len)
{
    const char *keys[OTELC_TRACESTATE_MAX + 1];
    size_t key_lens[OTELC_TRACESTATE_MAX + 1];
    size_t count = 0, start = 0;

    FUZZ_CHECK(len <= OTELC_TRACESTATE_MAX);
    for (size_t i = 0; i <= len; i++) {
        const char *m, *eq;
        size_t m_len = i - start, key_len;
        bool repeat = false;

        if (i < len && s[i] != ',')
            continue;
        m = trim(s + start, &m_len);
        start = i + 1;
        if (m_len == 0)
            continue;
        eq = memchr(m, '=', m_len);
        key_len = eq != NULL ? (size_t)(eq - m) : m_len;
        for (size_t j = 0; j < count && !repeat; j++)
            repeat = key_lens[j] == key_len && memcmp(keys[j], m, key_len) == 0;
        if (!repeat) {
            keys[count] = m;
            key_lens[count] = key_len;
            count++;
        }
    }
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    char full[OTELC_TRACESTATE_MAX + 1];
    size_t n = 0;
    otelc_status_t status;

    check(s, size, sizeof(full));
    /* A buffer cut to some size the input suggests, down to one byte. */
    check(s, size, 1 + (size > 0 ? data[size / 2] : 0u) % (OTELC_TRACESTATE_MAX + 1));

    /* Validity does not depend on the buffer: a smaller buffer only drops
     * whole members, it never turns a valid header into an invalid one. */
    status = otelc_tracestate_parse(s, size, full, sizeof(full), &n);
    {
        char one[1];
        size_t n_one = 1;
        FUZZ_CHECK(otelc_tracestate_parse(s, size, one, sizeof(one), &n_one) == status);
        FUZZ_CHECK(n_one == 0 && one[0] == '\0');
    }
    /* A header that fits whole is kept whole: no member is dropped but the
     * repeats of a key, and every key of the output is distinct. */
    if (status == OTELC_OK && size <= OTELC_TRACESTATE_MAX)
        FUZZ_CHECK(count_members(full, n) == count_members(s, size));
    if (status == OTELC_OK) {
        size_t commas = 0;
        for (size_t i = 0; i < n; i++)
            commas += full[i] == ',';
        FUZZ_CHECK(n == 0 || count_members(full, n) == commas + 1);
    }
    return 0;
}
