/*
 * log_inline_cases.h: the log calls test_log_inline.c makes twice, once
 * through the macros' inline path (otelc/fast.h) and once in a file built
 * with OTELC_NO_FAST (log_inline_library.c), so that the records of both can
 * be compared as an exporter receives them.
 */
#ifndef OTELC_TEST_LOG_INLINE_CASES_H
#define OTELC_TEST_LOG_INLINE_CASES_H

#include <otelc/otelc.h>

#include <string.h>

/* Eight attributes (the most the inline path writes): every type a shape
 * holds, a literal, a run-time string, NULL, a run-time length. */
#define LOG_INLINE_CASE(lg, body, i, s)                                                            \
    OTELC_WARN((lg), body, OTELC_STR("symbol", "AAPL"), OTELC_INT("qty", (i)),                     \
               OTELC_DBL("price", 150.25 + (double)(i)), OTELC_BOOL("buy", ((i)&1) != 0),          \
               OTELC_STR("venue", (s)), OTELC_STR("note", NULL),                                   \
               OTELC_STRN("raw", (s), strnlen((s), 2)), OTELC_INT("neg", -(i)))

/* The same calls without the inline path. */
void log_inline_library_case(otelc_logger_t *lg, int64_t i, const char *s);
void log_inline_library_short(otelc_logger_t *lg, int64_t i);

#endif
