/*
 * json_read.h: the otelc tool's JSON reader (RFC 8259), a small DOM.
 *
 * The tool reads one JSON text per line of a log file; this reader turns a
 * line into a tree of json_value_t nodes allocated from an arena that the
 * caller resets before the next line, so reading a file of any size costs
 * the memory of its longest line and nothing per line once warmed up.
 *
 *     json_arena_t arena;
 *     json_value_t *root;
 *     json_error_t err;
 *
 *     json_arena_init(&arena);
 *     if (json_parse(&arena, line, len, &root, &err))
 *         ... json_get(root, "level") ...
 *     else
 *         printf("%s at byte %zu\n", err.msg, err.pos + 1);
 *     json_arena_reset(&arena);   (before the next line)
 *     json_arena_free(&arena);    (at the end)
 *
 * What it accepts: exactly one JSON value with optional white space around
 * it; nesting up to JSON_MAX_DEPTH arrays and objects. Strings are decoded:
 * escapes (\uXXXX with surrogate pairs included) become UTF-8; a lone
 * surrogate escape and bytes that are not well-formed UTF-8 become U+FFFD,
 * so every decoded string is valid UTF-8 (a log line with one bad byte is
 * still worth reading). Control characters inside strings, bad escapes,
 * malformed numbers, trailing bytes and too deep nesting are errors.
 *
 * Ownership: the tree lives in the arena and may point into the input text
 * (strings without escapes are not copied), so it is valid until the arena
 * is reset or freed, and while the input text is unchanged. Not thread-safe;
 * one arena per reader.
 */
#ifndef OTELC_TOOL_JSON_READ_H
#define OTELC_TOOL_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Arrays and objects nested deeper than this are refused: the parser
 * recurses once per level, and OTLP/JSON needs about 15. */
#define JSON_MAX_DEPTH 128

typedef enum json_type {
    JSON_NULL = 0,
    JSON_FALSE,
    JSON_TRUE,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
} json_type_t;

typedef struct json_value json_value_t;

/*
 * One node. A string holds its decoded bytes in `str`/`len` (NUL-terminated
 * when copied, not necessarily when it points into the input; use `len`).
 * A number holds its text as written (valid per RFC 8259) in `str`/`len`.
 * Arrays and objects list their elements through `first` and `next`, in
 * input order; the elements of an object carry their key in `key`/`key_len`
 * (decoded like a string). Duplicate keys are kept; json_get() finds the
 * first, which is the one that counts for the file format.
 */
struct json_value {
    json_type_t type;
    uint32_t count; /* elements or members of an array or object */
    const char *str;
    size_t len;
    const char *key;
    size_t key_len;
    json_value_t *first;
    json_value_t *next;
};

/* Where the nodes and decoded strings of one parse live. */
typedef struct json_arena_block json_arena_block_t;
typedef struct json_arena {
    json_arena_block_t *head;    /* the first block; blocks are kept across resets */
    json_arena_block_t *current; /* the block being filled */
    size_t used;                 /* bytes used in `current` */
    bool failed;                 /* an allocation failed during this parse */
} json_arena_t;

typedef struct json_error {
    size_t pos;      /* byte offset in the input where the problem was found */
    const char *msg; /* static text, e.g. "expected ':'" */
} json_error_t;

void json_arena_init(json_arena_t *arena);

/* Forgets every node (keeps the memory for the next parse). */
void json_arena_reset(json_arena_t *arena);

/* Frees the memory; the arena may be initialised again. Accepts NULL. */
void json_arena_free(json_arena_t *arena);

/*
 * Parses `text` (`len` bytes, need not be NUL-terminated, may hold NUL
 * bytes, which are errors outside strings and inside them alike) into
 * `*root`. Returns true on success; on failure `*root` is NULL and `*err`
 * says where and what. Running out of memory is a failure too ("out of
 * memory").
 */
bool json_parse(json_arena_t *arena, const char *text, size_t len, json_value_t **root,
                json_error_t *err);

/* The first member of `object` named `key` (NUL-terminated), or NULL when
 * there is none or `object` is not an object (NULL included). */
const json_value_t *json_get(const json_value_t *object, const char *key);

/* True when `v` is a string equal to the NUL-terminated `s`. */
bool json_string_is(const json_value_t *v, const char *s);

/* True when `key` (`key_len` bytes) equals the NUL-terminated `s`. */
bool json_key_is(const char *key, size_t key_len, const char *s);

/*
 * The value of a number, or of a string holding a number as OTLP/JSON
 * writes 64-bit integers ("1700000000000000000"). json_to_u64 and
 * json_to_i64 accept integers only (no fraction or exponent) within range;
 * json_to_double accepts any number, and the strings "NaN", "Infinity",
 * "-Infinity". Each returns false, leaving `*out` alone, when `v` is not
 * such a value.
 */
bool json_to_u64(const json_value_t *v, uint64_t *out);
bool json_to_i64(const json_value_t *v, int64_t *out);
bool json_to_double(const json_value_t *v, double *out);

#endif /* OTELC_TOOL_JSON_READ_H */
