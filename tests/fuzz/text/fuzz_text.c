/*
 * fuzz_text.c: the text module (otelc/text.h) on any bytes, against models
 * written here from its contract.
 *
 * The input is the text. Its first byte also gives the size of the rounds
 * a long string is escaped in, and its first 8 bytes, when there are 8, a
 * double and a 64-bit integer.
 *
 * Invariants:
 * - otelc_text_utf8_sequence() and otelc_text_utf8_valid() agree with a
 *   model that decodes the code point and checks its range (no overlong
 *   form, no surrogate, nothing past U+10FFFF), and whose maximal subpart is
 *   the longest start that some continuation bytes make well-formed;
 * - otelc_text_json_escape() writes, within the room OTELC_TEXT_JSON_ROOM()
 *   promises (every output has a heap block of exactly that size, so that
 *   ASan sees a byte past it), a JSON string body without a control byte
 *   that decodes to the input with every maximal subpart of ill-formed UTF-8
 *   replaced by one U+FFFD; written in rounds, and by the inline form, it is
 *   the same bytes;
 * - otelc_text_terminal() lets no control byte, DEL, C1 control or
 *   ill-formed UTF-8 through, and quoted, its escapes decode to the input
 *   exactly; a value otelc_text_needs_quotes() calls safe comes out as it
 *   went in and holds no blank, '=' or '"';
 * - the doubles read back with the same bits (NaN and the infinities as
 *   their names), a plain JSON decimal has no trailing zero but in ".0", and
 *   the integers are printf's.
 */
#include "fuzz_check.h"

#include <otelc/text.h>

#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <string.h>

/* ---- the model of UTF-8 ------------------------------------------------------------ */

/*
 * The length of the well-formed sequence at p (avail bytes), or 0. Decodes
 * first and checks the code point after, unlike the module's table of
 * second-byte ranges.
 */
static size_t model_sequence(const uint8_t *p, size_t avail)
{
    uint32_t cp, min;
    size_t need;

    if (p[0] >= 0xc0 && p[0] < 0xe0) {
        need = 2, cp = p[0] & 0x1fu, min = 0x80;
    } else if (p[0] >= 0xe0 && p[0] < 0xf0) {
        need = 3, cp = p[0] & 0x0fu, min = 0x800;
    } else if (p[0] >= 0xf0 && p[0] < 0xf8) {
        need = 4, cp = p[0] & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (avail < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((p[i] & 0xc0u) != 0x80u)
            return 0;
        cp = cp << 6 | (p[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return need;
}

/* The maximal subpart of an ill-formed sequence at p: the longest start
 * that continuation bytes 0x80 complete into a well-formed one, at least 1. */
static size_t model_bad(const uint8_t *p, size_t avail)
{
    size_t best = 1;

    for (size_t k = 2; k <= 3 && k <= avail; k++) {
        uint8_t t[4] = { 0x80, 0x80, 0x80, 0x80 };
        bool extends = false;

        memcpy(t, p, k);
        for (size_t need = k + 1; need <= 4 && !extends; need++)
            extends = model_sequence(t, need) == need;
        if (!extends)
            break;
        best = k;
    }
    return best;
}

/* The input as JSON should carry it: ill-formed UTF-8 repaired. `out` has
 * room for 3n bytes. */
static size_t model_repair(const uint8_t *s, size_t n, uint8_t *out)
{
    size_t i = 0, w = 0;

    while (i < n) {
        size_t len = s[i] < 0x80 ? 1 : model_sequence(s + i, n - i);

        if (len > 0) {
            memcpy(out + w, s + i, len);
            w += len;
            i += len;
        } else {
            memcpy(out + w, "\xef\xbf\xbd", 3);
            w += 3;
            i += model_bad(s + i, n - i);
        }
    }
    return w;
}

static bool model_valid(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t len = s[i] < 0x80 ? 1 : model_sequence(s + i, n - i);

        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

static void check_utf8(const uint8_t *s, size_t n)
{
    size_t valid = otelc_text_utf8_valid((const char *)s, n), i = 0;

    while (i < n) {
        size_t bad = 0, len;

        if (s[i] < 0x80) {
            i++;
            continue;
        }
        len = otelc_text_utf8_sequence((const char *)s + i, n - i, &bad);
        FUZZ_CHECK(len == model_sequence(s + i, n - i));
        if (len == 0) {
            FUZZ_CHECK(bad == model_bad(s + i, n - i));
            break;
        }
        i += len;
    }
    FUZZ_CHECK(valid == (i < n ? i : n));
}

/* ---- JSON strings --------------------------------------------------------------------- */

static int hex(uint8_t c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes a JSON string body that the module wrote (no \u above 0x1f, so
 * no surrogate pairs); returns the length, or SIZE_MAX when it is not one. */
static size_t json_unescape(const char *body, size_t n, uint8_t *out)
{
    size_t w = 0;

    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)body[i];

        if (c < 0x20 || c == '"')
            return SIZE_MAX;
        if (c != '\\') {
            out[w++] = c;
            continue;
        }
        if (++i == n)
            return SIZE_MAX;
        switch (body[i]) {
        case '"':
        case '\\':
            out[w++] = (uint8_t)body[i];
            break;
        case 'b':
            out[w++] = '\b';
            break;
        case 'f':
            out[w++] = '\f';
            break;
        case 'n':
            out[w++] = '\n';
            break;
        case 'r':
            out[w++] = '\r';
            break;
        case 't':
            out[w++] = '\t';
            break;
        case 'u':
            /* Only the control characters without a short form. */
            if (n - i < 5 || memcmp(body + i + 1, "00", 2) != 0 || hex((uint8_t)body[i + 3]) < 0 ||
                hex((uint8_t)body[i + 4]) < 0)
                return SIZE_MAX;
            c = (uint8_t)(hex((uint8_t)body[i + 3]) << 4 | hex((uint8_t)body[i + 4]));
            if (c >= 0x20 || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t')
                return SIZE_MAX;
            out[w++] = c;
            i += 4;
            break;
        default:
            return SIZE_MAX;
        }
    }
    return w;
}

static void check_json_string(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    uint8_t *want = malloc(3 * size + 1), *got = malloc(3 * size + 1);
    char *whole = malloc(OTELC_TEXT_JSON_ROOM(size)), *inl = malloc(OTELC_TEXT_JSON_ROOM(size));
    char *rounds = malloc(OTELC_TEXT_JSON_ROOM(size));
    size_t want_len, whole_len, pos = 0, rounds_len = 0;
    size_t round = size > 0 ? 1u + data[0] % 23u : 1u;

    FUZZ_CHECK(want != NULL && got != NULL && whole != NULL && inl != NULL && rounds != NULL);
    want_len = model_repair(data, size, want);

    whole_len = (size_t)(otelc_text_json_escape(whole, s, size, &pos, size) - whole);
    FUZZ_CHECK(pos == size);
    FUZZ_CHECK(whole_len <= 6 * size);
    FUZZ_CHECK(model_valid((const uint8_t *)whole, whole_len));
    FUZZ_CHECK(json_unescape(whole, whole_len, got) == want_len);
    FUZZ_CHECK(memcmp(got, want, want_len) == 0);

    pos = 0;
    FUZZ_CHECK((size_t)(otelc_text_json_escape_inline(inl, s, size, &pos, size) - inl) ==
               whole_len);
    FUZZ_CHECK(pos == size);
    FUZZ_CHECK(memcmp(inl, whole, whole_len) == 0);

    /* In rounds, each into a block of just the room its part needs. */
    pos = 0;
    while (pos < size) {
        size_t stop = size - pos > round ? pos + round : size, before = pos, len;
        char *part = malloc(OTELC_TEXT_JSON_ROOM(stop - pos));

        FUZZ_CHECK(part != NULL);
        len = (size_t)(otelc_text_json_escape(part, s, size, &pos, stop) - part);
        FUZZ_CHECK(pos >= stop && pos <= stop + 3 && pos <= size && pos > before);
        FUZZ_CHECK(rounds_len + len <= whole_len);
        memcpy(rounds + rounds_len, part, len);
        rounds_len += len;
        free(part);
    }
    FUZZ_CHECK(rounds_len == whole_len);
    FUZZ_CHECK(memcmp(rounds, whole, whole_len) == 0);

    free(want);
    free(got);
    free(whole);
    free(inl);
    free(rounds);
}

/* ---- text for a terminal --------------------------------------------------------------- */

typedef struct sink {
    char *text;
    size_t len, cap;
} sink_t;

static void to_sink(void *ctx, const char *p, size_t n)
{
    sink_t *s = ctx;

    FUZZ_CHECK(s->len + n <= s->cap);
    memcpy(s->text + s->len, p, n);
    s->len += n;
}

/* Nothing a terminal would act on: no control byte, DEL or C1 control, and
 * well-formed UTF-8. */
static void check_safe(const sink_t *out)
{
    const uint8_t *p = (const uint8_t *)out->text;

    FUZZ_CHECK(model_valid(p, out->len));
    for (size_t i = 0; i < out->len; i++) {
        FUZZ_CHECK(p[i] >= 0x20 && p[i] != 0x7f);
        FUZZ_CHECK(!(p[i] == 0xc2 && i + 1 < out->len && p[i + 1] <= 0x9f));
    }
}

/* Decodes the escapes \n \t \r \" \\ \xNN; a quoted value has no bare '"'. */
static size_t terminal_unescape(const sink_t *out, bool quoted, uint8_t *dst)
{
    const char *t = out->text;
    size_t w = 0;

    for (size_t i = 0; i < out->len; i++) {
        FUZZ_CHECK(!quoted || t[i] != '"');
        if (t[i] != '\\') {
            dst[w++] = (uint8_t)t[i];
            continue;
        }
        FUZZ_CHECK(i + 1 < out->len);
        i++;
        if (t[i] == 'n' || t[i] == 't' || t[i] == 'r') {
            dst[w++] = t[i] == 'n' ? '\n' : t[i] == 't' ? '\t' : '\r';
        } else if (t[i] == '"' || t[i] == '\\') {
            dst[w++] = (uint8_t)t[i];
        } else {
            FUZZ_CHECK(t[i] == 'x' && i + 2 < out->len);
            FUZZ_CHECK(hex((uint8_t)t[i + 1]) >= 0 && hex((uint8_t)t[i + 2]) >= 0);
            dst[w++] = (uint8_t)(hex((uint8_t)t[i + 1]) << 4 | hex((uint8_t)t[i + 2]));
            i += 2;
        }
    }
    return w;
}

static void check_terminal(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    sink_t out = { malloc(4 * size + 1), 0, 4 * size };
    uint8_t *back = malloc(size + 1);
    bool plain = otelc_text_needs_quotes(s, size, false) == false;
    bool plain_in_array = otelc_text_needs_quotes(s, size, true) == false;

    FUZZ_CHECK(out.text != NULL && back != NULL);

    otelc_text_terminal(s, size, true, to_sink, &out);
    check_safe(&out);
    FUZZ_CHECK(terminal_unescape(&out, true, back) == size);
    FUZZ_CHECK(size == 0 || memcmp(back, data, size) == 0);

    out.len = 0;
    otelc_text_terminal(s, size, false, to_sink, &out);
    check_safe(&out);
    if (memchr(data, '\\', size) == NULL) {
        FUZZ_CHECK(terminal_unescape(&out, false, back) == size);
        FUZZ_CHECK(size == 0 || memcmp(back, data, size) == 0);
    }

    /* A value safe in an array is safe outside one; a safe value is one
     * token that the terminal form leaves as it is. */
    FUZZ_CHECK(!plain_in_array || plain);
    if (plain) {
        FUZZ_CHECK(size > 0);
        FUZZ_CHECK(out.len == size && memcmp(out.text, data, size) == 0);
        for (size_t i = 0; i < size; i++)
            FUZZ_CHECK(data[i] > 0x20 && data[i] != '=' && data[i] != '"');
    }
    if (plain_in_array)
        FUZZ_CHECK(memchr(data, ',', size) == NULL && memchr(data, '[', size) == NULL &&
                   memchr(data, ']', size) == NULL);
    free(out.text);
    free(back);
}

/* ---- numbers ----------------------------------------------------------------------- */

static void check_same_double(double got, double want)
{
    FUZZ_CHECK(memcmp(&got, &want, sizeof(got)) == 0);
}

static void check_numbers(const uint8_t *data, size_t size)
{
    char text[OTELC_TEXT_DOUBLE_MAX + 2], want[32];
    char digits[OTELC_TEXT_U64_MAX + 1];
    double d;
    uint64_t u;
    int64_t i;
    size_t n;

    if (size < 8)
        return;
    memcpy(&d, data, sizeof(d));
    memcpy(&u, data, sizeof(u));
    memcpy(&i, data, sizeof(i));

    /* JSON: a number json-c reads back as the same double, inside an array
     * (a bare number is no complete text to its incremental parser). */
    text[0] = '[';
    n = otelc_text_json_double(text + 1, d);
    FUZZ_CHECK(n > 0 && n < OTELC_TEXT_DOUBLE_MAX && strlen(text + 1) == n);
    if (isnan(d) || isinf(d)) {
        const char *name = isnan(d) ? "\"NaN\"" : d > 0 ? "\"Infinity\"" : "\"-Infinity\"";

        FUZZ_CHECK(strcmp(text + 1, name) == 0);
    } else {
        json_tokener *tok = json_tokener_new();
        json_object *o, *v;

        FUZZ_CHECK(tok != NULL);
        text[n + 1] = ']';
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        o = json_tokener_parse_ex(tok, text, (int)(n + 2));
        FUZZ_CHECK(o != NULL && json_tokener_get_parse_end(tok) == n + 2);
        v = json_object_array_get_idx(o, 0);
        FUZZ_CHECK(v != NULL && json_object_get_type(v) == json_type_double);
        check_same_double(json_object_get_double(v), d);
        json_object_put(o);
        json_tokener_free(tok);
        check_same_double(strtod(text + 1, NULL), d);
        /* text[n + 1] is the ']' now, not a NUL: search n bytes. */
        if (memchr(text + 1, 'e', n) == NULL) {
            FUZZ_CHECK(memchr(text + 1, '.', n) != NULL);
            FUZZ_CHECK(text[n] != '0' || text[n - 1] == '.');
        }
    }

    /* For people. */
    n = otelc_text_double(text, d);
    FUZZ_CHECK(n > 0 && n < OTELC_TEXT_DOUBLE_MAX && strlen(text) == n);
    if (isnan(d))
        FUZZ_CHECK(strcmp(text, "nan") == 0 || strcmp(text, "-nan") == 0);
    else
        check_same_double(strtod(text, NULL), d);

    *otelc_text_u64(digits, u) = '\0';
    snprintf(want, sizeof(want), "%" PRIu64, u);
    FUZZ_CHECK(strcmp(digits, want) == 0);
    *otelc_text_i64(digits, i) = '\0';
    snprintf(want, sizeof(want), "%" PRId64, i);
    FUZZ_CHECK(strcmp(digits, want) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_utf8(data, size);
    check_json_string(data, size);
    check_terminal(data, size);
    check_numbers(data, size);
    return 0;
}
