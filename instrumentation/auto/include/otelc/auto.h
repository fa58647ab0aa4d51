/*
 * otelc/auto.h: a span for every function call, without editing the code.
 *
 * Build the sources to trace with GCC's or Clang's -finstrument-functions
 * and link libotelc_auto (CMake otelc::auto, pkg-config otelc-auto) beside
 * libotelc. The compiler then calls __cyg_profile_func_enter() and
 * __cyg_profile_func_exit() around every function of those sources; this
 * library turns each call into an INTERNAL span named after the function:
 *
 *     cc -finstrument-functions -finstrument-functions-exclude-file-list=/usr/include \
 *        -c strategy.c
 *     cc strategy.o main.o -lotelc_auto -lotelc
 *
 * Only the sources given the flag are traced; never give it to otelc itself
 * (its functions are not traced in any case: see the default exclusions).
 * Nothing to call: the library starts with the first instrumented call after
 * otelc_init() and reads its settings then (below); calls made before that,
 * and calls that return after otelc_shutdown(), make no span.
 *
 * What a span says. Name: the function's symbol, read from the program's
 * and libraries' ELF symbol tables (static functions included: keep the
 * symbol table, i.e. do not strip). Attributes: code.function.name, and
 * code.file.path where the source file is known (below). Parent: the
 * nearest enclosing traced call, or, for the outermost one, the thread's
 * active span (otelc's own spans, a context attached from another thread or
 * process). Start and end: the call's entry and return, read with otelc's
 * own clock (otelc_clock_stamp()), so that the spans line up exactly with
 * the process's other spans. Spans of your own
 * (OTELC_SPAN) started inside a traced function are children of the
 * thread's active span, not of the traced call: the automatic spans and
 * yours form two trees under the same parent.
 *
 * Settings (environment, config-file keys otelc.auto.*, or otelc_options_set()):
 *   OTELC_AUTO_INCLUDE  comma list of patterns; when set, only the functions
 *                       that match one are traced. Default: all.
 *   OTELC_AUTO_EXCLUDE  comma list of patterns: functions that match one are
 *                       not traced. Always excluded as well: otelc_* and __*
 *                       (otelc's inline functions, the C library's).
 *   OTELC_AUTO_MIN_US   calls shorter than this many microseconds make no
 *                       span (0, the default: every call). A call with a
 *                       traced call inside that made a span is never dropped
 *                       (it lasted longer than that call).
 *   OTELC_AUTO_MAX_DEPTH traced calls followed per thread (default 256); the
 *                       calls deeper than that make no span, counted.
 * A pattern is a shell glob (fnmatch) on the symbol name ("risk_*",
 * "*_check"), or, prefixed with "file:", on the source file ("file:*.c",
 * "file:strategy.c", "file:*risk*"), matched against the path and its
 * last component. The source file is known for static functions always
 * (the symbol table names it) and for the others in programs built with -g
 * (DWARF .debug_aranges); a file pattern never matches a function whose
 * file is unknown.
 *
 * Cost: a call that is excluded costs a table lookup at entry and exit; a
 * traced call shorter than OTELC_AUTO_MIN_US two clock reads besides
 * (bench: otelc-bench auto_call_filtered); a call that makes a span about
 * what an otelc span costs (auto_call). Symbol names are read once per
 * shared object, at its first traced call, never per call.
 *
 * longjmp() and exceptions that skip returns are followed: the spans of the
 * calls skipped end when a call below them returns. Threads: each thread has
 * its own stack of calls; the calls still open when a thread exits
 * (pthread_exit() inside one) make their spans then, the outermost one
 * without the context otelc_thread_create() gave the thread (released
 * before), so as the root of a trace of its own.
 * fork(): the child keeps the parent's open calls as parents of its own new
 * spans and ends none of them (they are the parent's).
 */
#ifndef OTELC_AUTO_H
#define OTELC_AUTO_H

#include <otelc/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the library did, summed over the process's threads (those that have
 * exited included). */
typedef struct otelc_auto_stats {
    uint64_t spans;       /* traced calls that made a span */
    uint64_t short_calls; /* traced calls under OTELC_AUTO_MIN_US: no span, by choice */
    uint64_t too_deep;    /* calls past OTELC_AUTO_MAX_DEPTH: no span */
    uint64_t unwound;     /* calls whose return was skipped (longjmp): ended by a caller */
    uint64_t functions;   /* functions known (symbols read), traced or not */
    uint64_t traced;      /* of those, the ones the patterns trace */
} otelc_auto_stats_t;

/* Fills `out` (NULL is ignored). Thread-safe. */
OTELC_API void otelc_auto_stats(otelc_auto_stats_t *out);

/*
 * Reads the settings again, from the otelc that runs at the next traced
 * call (the library reads them once otherwise), and the symbols with them:
 * for a program that restarts otelc with other settings. Calls in progress
 * end as they would have; OTELC_AUTO_MAX_DEPTH applies to threads that
 * make their first traced call after it. Thread-safe.
 */
OTELC_API void otelc_auto_reload(void);

/* The hooks the compiler calls; not for calling by hand. */
OTELC_API void __cyg_profile_func_enter(void *fn, void *call_site)
    __attribute__((no_instrument_function));
OTELC_API void __cyg_profile_func_exit(void *fn, void *call_site)
    __attribute__((no_instrument_function));

#ifdef __cplusplus
}
#endif

#endif /* OTELC_AUTO_H */
