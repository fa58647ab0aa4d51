/*
 * diag.h: otelc's own diagnostics, on stderr, rate-limited.
 *
 * Every problem the SDK meets at run time (a bad configuration value, an
 * exporter failing, a misuse) is reported through otelc__diag() with a key
 * naming the problem. Each key is printed at most once per 10 seconds; the
 * next report says how many were suppressed meanwhile. Lines read
 * "otelc: warning: <message>". The level threshold is OTEL_LOG_LEVEL.
 */
#ifndef OTELC_DIAG_H
#define OTELC_DIAG_H

#include <otelc/config.h>
#include <otelc/exporter.h> /* otelc_diag(), the public face of otelc__diag() */

#if defined(__GNUC__)
#define OTELC__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define OTELC__PRINTF(a, b)
#endif

/* Sets the threshold (OTELC_DIAG_*). Default OTELC_DIAG_WARN. */
void otelc__diag_set_level(int level);
int otelc__diag_level(void);

/*
 * Reports a problem. `key` identifies the kind of problem for rate limiting
 * (a static string such as "config.OTEL_BSP_SCHEDULE_DELAY"). Thread-safe;
 * safe to call from any thread, including the pipeline's.
 */
void otelc__diag(int level, const char *key, const char *fmt, ...) OTELC__PRINTF(3, 4);

/*
 * Copies `n` bytes of `s` into `buf` (`size` bytes, at least 8) for a
 * diagnostic that shows a value from outside: control characters become
 * \n, \r, \t or \xNN (DEL and the C1 controls U+0080..U+009F too), and a
 * backslash becomes \\, so that a value cannot end the line, forge another
 * one or send a terminal escape, and what is shown reads back unambiguously.
 * Other bytes, UTF-8 included, are kept. A copy that does not fit is cut
 * between two escapes, never inside one, and ends in "...". Always
 * NUL-terminates; returns `buf`. Every diagnostic also gets its control
 * characters escaped when it is printed (otelc__diag()), so this is for the
 * values a message embeds, where the backslash matters and the cut is
 * better placed than at the end of the line.
 */
const char *otelc__diag_escape(const char *s, size_t n, char *buf, size_t size);

/*
 * Misuse: a list passed as NULL with a non-zero count. Reports it (once per
 * `key`, rate-limited) and returns 0, so that the list is read as
 * empty rather than dereferenced. `key` is a static string.
 */
size_t otelc__misuse_null_list(const char *key, const char *function, const char *what,
                               size_t n);

/* The length to use for a list `p` of `n` elements: `n`, or 0 (reported)
 * when `p` is NULL. One predictable branch on the hot path. `function` and
 * `what` are string literals; together they are the rate-limit key. */
#define OTELC__LIST_LEN(p, n, function, what)                                                     \
    (OTELC_LIKELY((p) != NULL) ? (n)                                                              \
     : (n)                     ? otelc__misuse_null_list(function "." what, function, what, n)    \
                               : 0)

/* For tests: forget the rate-limit state, and count of lines printed so far. */
void otelc__diag_reset(void);
unsigned long otelc__diag_count(void);

/* For tests: the rate-limit interval (default 10 s). */
void otelc__diag_set_interval_ms(uint64_t ms);

/* Fork handlers, called by the SDK's own pthread_atfork handlers. */
void otelc__diag_fork_prepare(void);
void otelc__diag_fork_parent(void);
void otelc__diag_fork_child(void);

#endif /* OTELC_DIAG_H */
