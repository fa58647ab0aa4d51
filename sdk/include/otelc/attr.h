/*
 * otelc/attr.h: typed attributes.
 *
 * An attribute is a key and a typed value: string, bool, 64-bit integer,
 * double, bytes, or an array of one of the scalar types, as the OpenTelemetry
 * data model defines them. Application code builds them with the macros below,
 * which make compound literals and evaluate each argument once:
 *
 *     OTELC_SPAN("place_order", OTELC_STR("symbol", sym), OTELC_INT("qty", 100));
 *
 * Ownership: an otelc_attr_t only points at its key and value. Every otelc call
 * that takes attributes copies them before it returns, so the pointed-to memory
 * may be reused at once. Attribute views that exporters receive (exporter.h)
 * point into the batch and live until the export call returns.
 */
#ifndef OTELC_ATTR_H
#define OTELC_ATTR_H

#include <otelc/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum otelc_attr_type {
    OTELC_ATTR_STRING = 1,       /* v.s, len bytes (or NUL-terminated, see OTELC_NUL_TERMINATED) */
    OTELC_ATTR_BOOL = 2,         /* v.b */
    OTELC_ATTR_INT = 3,          /* v.i */
    OTELC_ATTR_DOUBLE = 4,       /* v.d */
    OTELC_ATTR_BYTES = 5,        /* v.bytes, len bytes */
    OTELC_ATTR_STRING_ARRAY = 6, /* v.sa, len NUL-terminated strings */
    OTELC_ATTR_BOOL_ARRAY = 7,   /* v.ba, len values */
    OTELC_ATTR_INT_ARRAY = 8,    /* v.ia, len values */
    OTELC_ATTR_DOUBLE_ARRAY = 9, /* v.da, len values */
} otelc_attr_type_t;

/* `len` value that means "the string is NUL-terminated; measure it". */
#define OTELC_NUL_TERMINATED ((size_t)-1)

/*
 * One attribute. `key` is NUL-terminated; `key_len`, when not 0, is its
 * length (a hint the macros fill in; a wrong non-zero value is the caller's
 * error). `len` is the byte length of a
 * string or bytes value, or the element count of an array. A NULL string value
 * is recorded as the empty string; a NULL key drops the attribute (counted as
 * dropped on its span or log record).
 */
typedef struct otelc_attr {
    const char *key;
    uint32_t type;    /* otelc_attr_type_t */
    uint32_t key_len; /* length of key; 0: measure it (the macros fill it for literal keys) */
    size_t len;
    union {
        const char *s;
        const void *bytes;
        int64_t i;
        double d;
        bool b;
        const char *const *sa;
        const bool *ba;
        const int64_t *ia;
        const double *da;
    } v;
} otelc_attr_t;

/*
 * Lengths of string literals are known at compile time: the macros store
 * them so that the hot path does not measure keys and literal values.
 * __builtin_constant_p does not evaluate its argument, and an argument it
 * accepts has no side effects, so every argument is still evaluated once.
 * Other compilers measure at run time.
 */
static inline const char *otelc__nonnull_str(const char *s)
{
    return s ? s : "";
}
#if defined(__GNUC__) || defined(__clang__)
#define OTELC__CONST_LEN(s, otherwise)                                                             \
    (__builtin_constant_p(s) ? (size_t)__builtin_strlen(otelc__nonnull_str(s)) : (otherwise))
#else
#define OTELC__CONST_LEN(s, otherwise) (otherwise)
#endif
#define OTELC__KEY(k) .key = (k), .key_len = (uint32_t)OTELC__CONST_LEN(k, 0u)

#define OTELC_STR(k, val)                                                                          \
    ((otelc_attr_t){ OTELC__KEY(k), .type = OTELC_ATTR_STRING,                                     \
                     .len = OTELC__CONST_LEN(val, OTELC_NUL_TERMINATED), .v = { .s = (val) } })
#define OTELC_STRN(k, ptr, n)                                                                      \
    ((otelc_attr_t){ OTELC__KEY(k), .type = OTELC_ATTR_STRING, .len = (n), .v = { .s = (ptr) } })
#define OTELC_INT(k, val)                                                                          \
    ((otelc_attr_t){ OTELC__KEY(k), .type = OTELC_ATTR_INT, .len = 0,                              \
                     .v = { .i = (int64_t)(val) } })
#define OTELC_DBL(k, val)                                                                          \
    ((otelc_attr_t){ OTELC__KEY(k), .type = OTELC_ATTR_DOUBLE, .len = 0,                           \
                     .v = { .d = (double)(val) } })
#define OTELC_BOOL(k, val)                                                                         \
    ((otelc_attr_t){ OTELC__KEY(k), .type = OTELC_ATTR_BOOL, .len = 0, .v = { .b = (val) != 0 } })
#define OTELC_BYTES(k, ptr, n)                                                                     \
    ((otelc_attr_t){ OTELC__KEY(k), .type = OTELC_ATTR_BYTES, .len = (n), .v = { .bytes = (ptr) } })
#define OTELC_STR_ARRAY(k, arr, n)                                                                 \
    ((otelc_attr_t){ OTELC__KEY(k), .type = OTELC_ATTR_STRING_ARRAY, .len = (n),                   \
                     .v = { .sa = (arr) } })
#define OTELC_BOOL_ARRAY(k, arr, n)                                                                \
    ((otelc_attr_t){ OTELC__KEY(k), .type = OTELC_ATTR_BOOL_ARRAY, .len = (n),                     \
                     .v = { .ba = (arr) } })
#define OTELC_INT_ARRAY(k, arr, n)                                                                 \
    ((otelc_attr_t){ OTELC__KEY(k), .type = OTELC_ATTR_INT_ARRAY, .len = (n),                      \
                     .v = { .ia = (arr) } })
#define OTELC_DBL_ARRAY(k, arr, n)                                                                 \
    ((otelc_attr_t){ OTELC__KEY(k), .type = OTELC_ATTR_DOUBLE_ARRAY, .len = (n),                   \
                     .v = { .da = (arr) } })

/*
 * Macro helpers used by the span, log and bind macros. OTELC__FIRST and
 * OTELC__REST split a variadic list into its first element and the rest (the
 * rest may be empty and keeps a trailing comma). Attribute arrays are declared
 * as `{ {0}, rest }`: a zeroed element in front makes an empty list valid ISO
 * C11, and the count is known at compile time from sizeof.
 */
#define OTELC__FIRST(...) OTELC__FIRST_(__VA_ARGS__, )
#define OTELC__FIRST_(a, ...) a
#define OTELC__REST(...) OTELC__REST_(__VA_ARGS__, )
#define OTELC__REST_(a, ...) __VA_ARGS__
#define OTELC__CAT_(a, b) a##b
#define OTELC__CAT(a, b) OTELC__CAT_(a, b)
/* A name unique in the translation unit (several macros may share a line). */
#if defined(__COUNTER__)
#define OTELC__UNIQUE(name) OTELC__CAT(name, __COUNTER__)
#else
#define OTELC__UNIQUE(name) OTELC__CAT(name, __LINE__)
#endif
/* The element that leads the macros' attribute arrays, so that an empty
 * list is valid C. Every field is written out: with `{ 0 }` GCC clears the
 * whole array before writing the attributes (a `rep stos` of 120 bytes for
 * three attributes, about 15 instructions a call). */
#define OTELC__ATTR_NONE                                                                           \
    {                                                                                              \
        0, 0, 0, 0,                                                                                \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }
/* Declares `name` as an attribute array; use name + 1 and OTELC__NATTRS(name). */
#define OTELC__DECLARE_ATTRS(name, ...)                                                            \
    const otelc_attr_t name[] = { OTELC__ATTR_NONE, __VA_ARGS__ }
#define OTELC__NATTRS(name) (sizeof(name) / sizeof(otelc_attr_t) - 1u)

#ifdef __cplusplus
}
#endif

#endif /* OTELC_ATTR_H */
