/*
 * span_inline_cases.h: the span macros test_span_inline.c uses twice, once
 * through the macros' inline path (otelc/fast.h) and once in a file built
 * with OTELC_NO_FAST (span_inline_library.c), so that the spans of both
 * can be compared as an exporter receives them.
 */
#ifndef OTELC_TEST_SPAN_INLINE_CASES_H
#define OTELC_TEST_SPAN_INLINE_CASES_H

#include <otelc/otelc.h>

#include <string.h>

/* Eight attributes (the most the inline path writes): every type a shape
 * holds, a literal, a run-time string, NULL, a run-time length. */
#define SPAN_INLINE_ATTRS(i, s)                                                                    \
    OTELC_STR("symbol", "AAPL"), OTELC_INT("qty", (i)), OTELC_DBL("price", 150.25 + (double)(i)),  \
        OTELC_BOOL("buy", ((i)&1) != 0), OTELC_STR("venue", (s)), OTELC_STR("note", NULL),         \
        OTELC_STRN("raw", (s), strnlen((s), 2)), OTELC_INT("neg", -(i))

/* A span with the eight attributes, kind CLIENT, ended on return; a child
 * with one attribute inside it; the active span's context as it was in
 * the child (out[1]) and in the parent (out[0]). */
#define SPAN_INLINE_CASE(prefix, i, s, out)                                                        \
    do {                                                                                           \
        OTELC_SPAN_KIND(OTELC_SPAN_KIND_CLIENT, prefix ".case", SPAN_INLINE_ATTRS(i, s));          \
        (out)[0] = otelc_current_span_context();                                                   \
        {                                                                                          \
            OTELC_SPAN(prefix ".child", OTELC_INT("qty", (i)));                                    \
            (out)[1] = otelc_current_span_context();                                               \
        }                                                                                          \
    } while (0)

/* The same calls without the inline path. */
void span_inline_library_case(int64_t i, const char *s, otelc_span_context_t out[2]);
/* A span with one attribute, ended on return. */
void span_inline_library_short(int64_t i);

#endif
