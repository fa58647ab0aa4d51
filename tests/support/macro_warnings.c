/*
 * macro_warnings.c: the macros as users call them, compiled with every
 * warning as an error at -O3 (tests/CMakeLists.txt): the inline path must
 * not make a user's -Werror build fail. Short literals passed through
 * functions the compiler specialises for them once did (-Warray-bounds on
 * the copy branches for longer strings); compiled, not linked.
 */
#define _GNU_SOURCE
#include <otelc/otelc.h>

#include <string.h>

void macro_warnings_check(otelc_logger_t *lg);

static void span_str(const char *s)
{
    OTELC_SPAN("check.str", OTELC_STR("venue", s));
}

static void span_strn(const char *s)
{
    OTELC_SPAN("check.strn", OTELC_STRN("raw", s, strnlen(s, 2)), OTELC_INT("qty", 1));
}

static void log_str(otelc_logger_t *lg, const char *s)
{
    OTELC_INFO(lg, "check.str", OTELC_STR("venue", s));
}

static void log_strn(otelc_logger_t *lg, const char *s)
{
    OTELC_WARN(lg, "check.strn", OTELC_STRN("raw", s, strnlen(s, 2)), OTELC_BOOL("buy", true));
}

void macro_warnings_check(otelc_logger_t *lg)
{
    span_str("B");
    span_strn("B");
    log_str(lg, "B");
    log_strn(lg, "B");
    OTELC_FUNC(OTELC_STR("s", ""), OTELC_DBL("d", 1.5));
}
