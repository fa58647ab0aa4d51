/*
 * log_inline_library.c: log_inline_cases.h's calls built with OTELC_NO_FAST:
 * the library writes their records (test_log_inline.c compares).
 */
#ifndef OTELC_NO_FAST
#error "built with OTELC_NO_FAST (tests/CMakeLists.txt)"
#endif
#include "log_inline_cases.h"

void log_inline_library_case(otelc_logger_t *lg, int64_t i, const char *s)
{
    LOG_INLINE_CASE(lg, "library.case", i, s);
}

void log_inline_library_short(otelc_logger_t *lg, int64_t i)
{
    OTELC_INFO(lg, "library.short", OTELC_INT("qty", i));
}
