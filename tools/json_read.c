/*
 * json_read.c: the tool's JSON reader (see json_read.h).
 *
 * A recursive-descent parser over a byte range. Nodes and decoded strings
 * come from an arena of blocks that survive json_arena_reset(), so a file
 * of many lines reuses the same memory. Strings without escapes and with
 * well-formed UTF-8 (almost all of them in a log file) point into the input
 * and cost no copy.
 */
#include "json_read.h"

#include <otelc/text.h>

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK_SIZE 65536u
#define ARENA_ALIGN 8u

struct json_arena_block {
    json_arena_block_t *next;
    size_t size; /* bytes in data */
    /* Aligned for any node, whatever the header's size. */
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

typedef struct parser {
    const unsigned char *s;
    size_t n;
    size_t pos;
    unsigned depth;
    json_arena_t *arena;
    json_error_t *err;
} parser_t;

/* ---- arena ------------------------------------------------------------- */

void json_arena_init(json_arena_t *arena)
{
    arena->head = NULL;
    arena->current = NULL;
    arena->used = 0;
    arena->failed = false;
}

void json_arena_reset(json_arena_t *arena)
{
    arena->current = arena->head;
    arena->used = 0;
    arena->failed = false;
}

void json_arena_free(json_arena_t *arena)
{
    json_arena_block_t *b;

    if (arena == NULL)
        return;
    b = arena->head;
    while (b != NULL) {
        json_arena_block_t *next = b->next;

        free(b);
        b = next;
    }
    json_arena_init(arena);
}

static json_arena_block_t *new_block(size_t size)
{
    json_arena_block_t *b;

    if (size > SIZE_MAX - sizeof(*b))
        return NULL;
    b = malloc(sizeof(*b) + size);
    if (b == NULL)
        return NULL;
    b->next = NULL;
    b->size = size;
    return b;
}

/*
 * Returns `size` bytes aligned to ARENA_ALIGN, or NULL when memory is out.
 * A request that does not fit moves on to the next kept block when it is
 * large enough, or puts a new block after the current one; the blocks after
 * it stay in the chain for later parses.
 */
static void *arena_alloc(json_arena_t *arena, size_t size)
{
    json_arena_block_t *b;
    void *p;

    if (size > SIZE_MAX - ARENA_ALIGN)
        return NULL;
    size = (size + ARENA_ALIGN - 1u) & ~(size_t)(ARENA_ALIGN - 1u);
    if (arena->current != NULL && arena->current->size - arena->used >= size) {
        p = arena->current->data + arena->used;
        arena->used += size;
        return p;
    }
    if (arena->current != NULL && arena->current->next != NULL &&
        arena->current->next->size >= size) {
        b = arena->current->next;
    } else {
        b = new_block(size > ARENA_BLOCK_SIZE ? size : ARENA_BLOCK_SIZE);
        if (b == NULL)
            return NULL;
        if (arena->current == NULL) {
            b->next = arena->head;
            arena->head = b;
        } else {
            b->next = arena->current->next;
            arena->current->next = b;
        }
    }
    arena->current = b;
    arena->used = size;
    return b->data;
}

/* ---- helpers ----------------------------------------------------------- */

static bool fail(parser_t *p, const char *msg)
{
    /* The first error wins: an inner failure is the precise one. */
    if (p->err->msg == NULL) {
        p->err->pos = p->pos;
        p->err->msg = msg;
    }
    return false;
}

static void skip_space(parser_t *p)
{
    while (p->pos < p->n) {
        unsigned char c = p->s[p->pos];

        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static json_value_t *new_value(parser_t *p, json_type_t type)
{
    json_value_t *v = arena_alloc(p->arena, sizeof(*v));

    if (v == NULL) {
        p->arena->failed = true;
        fail(p, "out of memory");
        return NULL;
    }
    memset(v, 0, sizeof(*v));
    v->type = type;
    return v;
}

/* Length of the well-formed UTF-8 sequence at `s` (2 to 4 bytes), or 0
 * (otelc/text.h). Called for lead bytes >= 0x80 only. */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
    return otelc_text_utf8_sequence((const char *)s, n, NULL);
}

static size_t put_utf8(unsigned char *out, uint32_t cp)
{
    if (cp < 0x80u) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800u) {
        out[0] = (unsigned char)(0xc0u | (cp >> 6));
        out[1] = (unsigned char)(0x80u | (cp & 0x3fu));
        return 2;
    }
    if (cp < 0x10000u) {
        out[0] = (unsigned char)(0xe0u | (cp >> 12));
        out[1] = (unsigned char)(0x80u | ((cp >> 6) & 0x3fu));
        out[2] = (unsigned char)(0x80u | (cp & 0x3fu));
        return 3;
    }
    out[0] = (unsigned char)(0xf0u | (cp >> 18));
    out[1] = (unsigned char)(0x80u | ((cp >> 12) & 0x3fu));
    out[2] = (unsigned char)(0x80u | ((cp >> 6) & 0x3fu));
    out[3] = (unsigned char)(0x80u | (cp & 0x3fu));
    return 4;
}

/* Reads the four hex digits of a \u escape at `s` (at least 4 bytes). */
static bool read_hex4(const unsigned char *s, uint32_t *out)
{
    uint32_t v = 0;

    for (int i = 0; i < 4; i++) {
        int h = otelc_text_hex_value(s[i]);

        if (h < 0)
            return false;
        v = (v << 4) | (uint32_t)h;
    }
    *out = v;
    return true;
}

/* ---- strings ----------------------------------------------------------- */

/*
 * Decodes the string body from p->pos (just after the opening quote) up to
 * `end` (the closing quote) into arena memory. Every input byte yields at
 * most three output bytes (a bad byte becomes the 3-byte U+FFFD; escapes
 * only shrink), which bounds the buffer.
 */
static bool decode_string(parser_t *p, size_t end, const char **out, size_t *out_len)
{
    size_t raw = end - p->pos;
    unsigned char *buf, *o;
    size_t i = p->pos;

    if (raw > (SIZE_MAX - 1u) / 3u || (buf = arena_alloc(p->arena, raw * 3u + 1u)) == NULL) {
        p->arena->failed = true;
        return fail(p, "out of memory");
    }
    o = buf;
    while (i < end) {
        unsigned char c = p->s[i];

        if (c == '\\') {
            unsigned char e = p->s[i + 1];
            uint32_t cp, lo;

            switch (e) {
            case '"':
            case '\\':
            case '/':
                *o++ = e;
                i += 2;
                continue;
            case 'b':
                *o++ = '\b';
                i += 2;
                continue;
            case 'f':
                *o++ = '\f';
                i += 2;
                continue;
            case 'n':
                *o++ = '\n';
                i += 2;
                continue;
            case 'r':
                *o++ = '\r';
                i += 2;
                continue;
            case 't':
                *o++ = '\t';
                i += 2;
                continue;
            case 'u':
                break;
            default:
                p->pos = i;
                return fail(p, "invalid escape in string");
            }
            if (end - i < 6 || !read_hex4(p->s + i + 2, &cp)) {
                p->pos = i;
                return fail(p, "invalid \\u escape in string");
            }
            i += 6;
            if (cp >= 0xd800u && cp <= 0xdbffu && end - i >= 6 && p->s[i] == '\\' &&
                p->s[i + 1] == 'u' && read_hex4(p->s + i + 2, &lo) && lo >= 0xdc00u &&
                lo <= 0xdfffu) {
                cp = 0x10000u + ((cp - 0xd800u) << 10) + (lo - 0xdc00u);
                i += 6;
            } else if (cp >= 0xd800u && cp <= 0xdfffu) {
                /* A lone surrogate has no UTF-8 form. */
                cp = 0xfffdu;
            }
            o += put_utf8(o, cp);
        } else if (c < 0x80) {
            *o++ = c;
            i++;
        } else {
            size_t seq = utf8_sequence(p->s + i, end - i);

            if (seq == 0) {
                o += put_utf8(o, 0xfffdu);
                i++;
            } else {
                memcpy(o, p->s + i, seq);
                o += seq;
                i += seq;
            }
        }
    }
    *o = '\0';
    *out = (const char *)buf;
    *out_len = (size_t)(o - buf);
    return true;
}

/*
 * Parses a string at p->pos (the opening quote). A first pass finds the
 * closing quote and rejects control characters; strings made of plain
 * bytes and well-formed UTF-8 are then returned in place, the others are
 * decoded into the arena.
 */
static bool parse_string(parser_t *p, const char **out, size_t *out_len)
{
    size_t start = p->pos + 1;
    size_t i = start;
    bool plain = true;

    while (i < p->n) {
        unsigned char c = p->s[i];

        if (c == '"')
            break;
        if (c < 0x20) {
            p->pos = i;
            return fail(p, "control character in string");
        }
        if (c == '\\') {
            plain = false;
            /* The escaped byte is checked when decoding; skipping it here
             * keeps an escaped quote from ending the string. */
            i += 2;
            continue;
        }
        if (c >= 0x80) {
            size_t seq = utf8_sequence(p->s + i, p->n - i);

            if (seq == 0) {
                plain = false;
                i++;
            } else {
                i += seq;
            }
            continue;
        }
        i++;
    }
    if (i >= p->n) {
        p->pos = p->n;
        return fail(p, "unterminated string");
    }
    if (plain) {
        *out = (const char *)p->s + start;
        *out_len = i - start;
    } else {
        p->pos = start;
        if (!decode_string(p, i, out, out_len))
            return false;
    }
    p->pos = i + 1;
    return true;
}

/* ---- numbers and literals ---------------------------------------------- */

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/*
 * Scans a number (RFC 8259 grammar) starting at s[i]. Returns the offset
 * just past it, or, when it is malformed, sets *bad and returns the offset
 * of the offending byte.
 */
static size_t scan_number(const unsigned char *s, size_t n, size_t i, bool *bad)
{
    *bad = true;
    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0') {
        i++;
    } else if (i < n && is_digit(s[i])) {
        while (i < n && is_digit(s[i]))
            i++;
    } else {
        return i;
    }
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || !is_digit(s[i]))
            return i;
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !is_digit(s[i]))
            return i;
        while (i < n && is_digit(s[i]))
            i++;
    }
    *bad = false;
    return i;
}

static bool parse_number(parser_t *p, json_value_t *v)
{
    bool bad;
    size_t end = scan_number(p->s, p->n, p->pos, &bad);

    if (bad) {
        p->pos = end;
        return fail(p, "invalid number");
    }
    v->str = (const char *)p->s + p->pos;
    v->len = end - p->pos;
    p->pos = end;
    return true;
}

static bool parse_literal(parser_t *p, const char *word, size_t len)
{
    if (p->n - p->pos < len || memcmp(p->s + p->pos, word, len) != 0)
        return fail(p, "invalid literal");
    p->pos += len;
    return true;
}

/* ---- values ------------------------------------------------------------ */

static json_value_t *parse_value(parser_t *p);

static json_value_t *parse_array(parser_t *p)
{
    json_value_t *arr = new_value(p, JSON_ARRAY);
    json_value_t **tail;

    if (arr == NULL)
        return NULL;
    tail = &arr->first;
    p->pos++;
    skip_space(p);
    if (p->pos < p->n && p->s[p->pos] == ']') {
        p->pos++;
        return arr;
    }
    for (;;) {
        json_value_t *elem = parse_value(p);

        if (elem == NULL)
            return NULL;
        *tail = elem;
        tail = &elem->next;
        arr->count++;
        skip_space(p);
        if (p->pos < p->n && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->n && p->s[p->pos] == ']') {
            p->pos++;
            return arr;
        }
        fail(p, "expected ',' or ']'");
        return NULL;
    }
}

static json_value_t *parse_object(parser_t *p)
{
    json_value_t *obj = new_value(p, JSON_OBJECT);
    json_value_t **tail;

    if (obj == NULL)
        return NULL;
    tail = &obj->first;
    p->pos++;
    skip_space(p);
    if (p->pos < p->n && p->s[p->pos] == '}') {
        p->pos++;
        return obj;
    }
    for (;;) {
        const char *key;
        size_t key_len;
        json_value_t *member;

        skip_space(p);
        if (p->pos >= p->n || p->s[p->pos] != '"') {
            fail(p, "expected a string key");
            return NULL;
        }
        if (!parse_string(p, &key, &key_len))
            return NULL;
        skip_space(p);
        if (p->pos >= p->n || p->s[p->pos] != ':') {
            fail(p, "expected ':'");
            return NULL;
        }
        p->pos++;
        member = parse_value(p);
        if (member == NULL)
            return NULL;
        member->key = key;
        member->key_len = key_len;
        *tail = member;
        tail = &member->next;
        obj->count++;
        skip_space(p);
        if (p->pos < p->n && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->n && p->s[p->pos] == '}') {
            p->pos++;
            return obj;
        }
        fail(p, "expected ',' or '}'");
        return NULL;
    }
}

static json_value_t *parse_value(parser_t *p)
{
    json_value_t *v = NULL;

    skip_space(p);
    if (p->pos >= p->n) {
        fail(p, "unexpected end of input");
        return NULL;
    }
    switch (p->s[p->pos]) {
    case '{':
    case '[':
        if (p->depth >= JSON_MAX_DEPTH) {
            fail(p, "nesting too deep");
            return NULL;
        }
        p->depth++;
        v = p->s[p->pos] == '{' ? parse_object(p) : parse_array(p);
        p->depth--;
        return v;
    case '"':
        v = new_value(p, JSON_STRING);
        if (v == NULL || !parse_string(p, &v->str, &v->len))
            return NULL;
        return v;
    case 't':
        v = new_value(p, JSON_TRUE);
        return v != NULL && parse_literal(p, "true", 4) ? v : NULL;
    case 'f':
        v = new_value(p, JSON_FALSE);
        return v != NULL && parse_literal(p, "false", 5) ? v : NULL;
    case 'n':
        v = new_value(p, JSON_NULL);
        return v != NULL && parse_literal(p, "null", 4) ? v : NULL;
    default:
        if (p->s[p->pos] == '-' || is_digit(p->s[p->pos])) {
            v = new_value(p, JSON_NUMBER);
            return v != NULL && parse_number(p, v) ? v : NULL;
        }
        fail(p, "unexpected character");
        return NULL;
    }
}

bool json_parse(json_arena_t *arena, const char *text, size_t len, json_value_t **root,
                json_error_t *err)
{
    parser_t p = { .s = (const unsigned char *)text, .n = len, .arena = arena, .err = err };
    json_value_t *v;

    err->pos = 0;
    err->msg = NULL;
    *root = NULL;
    v = parse_value(&p);
    if (v == NULL)
        return false;
    skip_space(&p);
    if (p.pos != p.n) {
        fail(&p, "unexpected data after the JSON value");
        return false;
    }
    *root = v;
    return true;
}

/* ---- access ------------------------------------------------------------ */

bool json_key_is(const char *key, size_t key_len, const char *s)
{
    size_t n = strlen(s);

    return key_len == n && memcmp(key, s, n) == 0;
}

const json_value_t *json_get(const json_value_t *object, const char *key)
{
    size_t n = strlen(key);

    if (object == NULL || object->type != JSON_OBJECT)
        return NULL;
    for (const json_value_t *m = object->first; m != NULL; m = m->next) {
        if (m->key_len == n && memcmp(m->key, key, n) == 0)
            return m;
    }
    return NULL;
}

bool json_string_is(const json_value_t *v, const char *s)
{
    return v != NULL && v->type == JSON_STRING && json_key_is(v->str, v->len, s);
}

/* The digits of an integer number or string; NULL when it is neither. */
static const char *integer_text(const json_value_t *v, size_t *len)
{
    if (v == NULL || (v->type != JSON_NUMBER && v->type != JSON_STRING))
        return NULL;
    *len = v->len;
    return v->str;
}

static bool digits_to_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned d;

        if (!is_digit((unsigned char)s[i]))
            return false;
        d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10u)
            return false;
        v = v * 10u + d;
    }
    *out = v;
    return true;
}

bool json_to_u64(const json_value_t *v, uint64_t *out)
{
    size_t n;
    const char *s = integer_text(v, &n);

    return s != NULL && digits_to_u64(s, n, out);
}

bool json_to_i64(const json_value_t *v, int64_t *out)
{
    size_t n;
    const char *s = integer_text(v, &n);
    uint64_t u;

    if (s == NULL)
        return false;
    if (n > 0 && s[0] == '-') {
        if (!digits_to_u64(s + 1, n - 1, &u) || u > (uint64_t)INT64_MAX + 1u)
            return false;
        /* Negating in unsigned arithmetic, then converting, covers INT64_MIN. */
        *out = u == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)u;
        return true;
    }
    if (!digits_to_u64(s, n, &u) || u > (uint64_t)INT64_MAX)
        return false;
    *out = (int64_t)u;
    return true;
}

bool json_to_double(const json_value_t *v, double *out)
{
    char small[64];
    char *buf = small;
    char *end;
    double d;
    bool ok, bad;

    if (v == NULL)
        return false;
    if (v->type == JSON_STRING) {
        if (json_key_is(v->str, v->len, "NaN")) {
            *out = NAN;
            return true;
        }
        if (json_key_is(v->str, v->len, "Infinity")) {
            *out = INFINITY;
            return true;
        }
        if (json_key_is(v->str, v->len, "-Infinity")) {
            *out = -INFINITY;
            return true;
        }
    }
    if (v->type != JSON_NUMBER && v->type != JSON_STRING)
        return false;
    /* Only the JSON grammar: strtod alone would also take "0x1p3" or " 1". */
    if (scan_number((const unsigned char *)v->str, v->len, 0, &bad) != v->len || bad)
        return false;
    /* strtod needs a terminated string; numbers point into the input. */
    if (v->len >= sizeof(small)) {
        buf = malloc(v->len + 1u);
        if (buf == NULL)
            return false;
    }
    memcpy(buf, v->str, v->len);
    buf[v->len] = '\0';
    d = strtod(buf, &end);
    ok = end == buf + v->len;
    if (buf != small)
        free(buf);
    if (!ok)
        return false;
    *out = d;
    return true;
}
