/*
 * span_inline_library.c: span_inline_cases.h's spans built with
 * OTELC_NO_FAST: the library starts and ends them (test_span_inline.c
 * compares).
 */
#ifndef OTELC_NO_FAST
#error "built with OTELC_NO_FAST (tests/CMakeLists.txt)"
#endif
#include "span_inline_cases.h"

void span_inline_library_case(int64_t i, const char *s, otelc_span_context_t out[2])
{
    SPAN_INLINE_CASE("library", i, s, out);
}

void span_inline_library_short(int64_t i)
{
    OTELC_SPAN("library.short", OTELC_INT("qty", i));
}
