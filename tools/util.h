/*
 * util.h: what every module of the otelc tool shares: diagnostics, memory,
 * a growable text buffer, time, and two small hash tables.
 *
 * The tool is a program, not a library: running out of memory prints
 * "otelc: out of memory" and exits with status 1 (x* functions), which is
 * the only exit outside main().
 */
#ifndef OTELC_TOOL_UTIL_H
#define OTELC_TOOL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define TOOL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TOOL_PRINTF(f, a)
#endif

/* A borrowed byte range (not NUL-terminated). */
typedef struct tstr {
    const char *p;
    size_t n;
} tstr_t;

#define TSTR_EMPTY ((tstr_t){ NULL, 0 })

/* True when `s` equals the NUL-terminated `lit`. */
bool tstr_eq(tstr_t s, const char *lit);

/* True when the two ranges hold the same bytes (either may be empty with a
 * NULL pointer). */
bool tstr_same(tstr_t a, tstr_t b);

/* ---- diagnostics (stderr) ---------------------------------------------- */

/* "otelc: <message>\n". */
void tool_error(const char *fmt, ...) TOOL_PRINTF(1, 2);

/* "otelc: <path>: <strerror(errno)>\n", errno read on entry. */
void tool_error_errno(const char *path);

/*
 * "otelc: <path>:<line>: <message>\n" for a corrupt line of a log file.
 * Only the first TOOL_MAX_LINE_REPORTS are printed; tool_report_summary()
 * tells how many more there were. `line` 0 prints no line number.
 */
#define TOOL_MAX_LINE_REPORTS 10
void tool_report_line(const char *path, uint64_t line, const char *fmt, ...) TOOL_PRINTF(3, 4);
uint64_t tool_reported_lines(void);
void tool_report_summary(void);

/* ---- memory ------------------------------------------------------------ */

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* "a" + "/" + "b" in a new string. */
char *path_join(const char *dir, const char *name);

/* ---- text buffer ------------------------------------------------------- */

typedef struct strbuf {
    char *p; /* NUL-terminated once anything was added */
    size_t len;
    size_t cap;
} strbuf_t;

#define STRBUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void sb_put(strbuf_t *sb, const char *p, size_t n);
void sb_putc(strbuf_t *sb, char c);
void sb_puts(strbuf_t *sb, const char *s);
void sb_printf(strbuf_t *sb, const char *fmt, ...) TOOL_PRINTF(2, 3);
void sb_reset(strbuf_t *sb);
void sb_free(strbuf_t *sb);
#define SB_LIT(sb, lit) sb_put((sb), (lit), sizeof(lit) - 1u)

/* ---- time -------------------------------------------------------------- */

/* Microseconds since the Unix epoch, UTC. */
typedef int64_t tool_time_t;
#define TOOL_TIME_NONE INT64_MIN

tool_time_t time_now(void);

/* Days since 1970-01-01 of a civil (proleptic Gregorian) date, and back. */
int64_t days_from_civil(int64_t year, int month, int day);
void civil_from_days(int64_t days, int *year, int *month, int *day);

/*
 * ISO 8601: "2026-11-21T10:30:00.123456Z", "2026-11-21 10:30:00+02:00",
 * "2026-11-21T10:30", "2026-11-21" (midnight). Without a zone the time is
 * local. Fractions beyond microseconds are cut. Returns false when `s` is
 * not such a text or the date does not exist.
 */
bool time_parse_iso(const char *s, size_t n, tool_time_t *out);

/* A YYYY-MM-DD date alone: true with its parts. */
bool date_parse(const char *s, size_t n, int *year, int *month, int *day);

/*
 * A time given on the command line: ISO 8601 as above, or relative to
 * `now`: "90s", "30m", "1h", "2d", "1w" (that long before now), or "now".
 * An `until` that is a date alone means the end of that day (the start of
 * the next), so that --since D --until D covers day D. False when `s` is
 * none of these.
 */
bool time_parse_arg(const char *s, tool_time_t now, bool until, tool_time_t *out);

/* The local midnight that starts a date (mktime: DST and zone of TZ). */
tool_time_t time_local_midnight(int year, int month, int day);

/* The local date of `t`: days since 1970-01-01 of that local date. */
int64_t time_local_day(tool_time_t t);

/* "2026-11-21T10:30:00.123456Z" (27 characters and NUL). */
void time_format_iso(tool_time_t t, char out[32]);

/* "2026-11-21 10:30:00.123", local time as the console exporter prints it. */
void time_format_local(tool_time_t t, char out[32]);

/* "45s", "12m05s", "3h07m", "2d04h"; a negative span gets a '-'. */
void format_age(tool_time_t span, char out[32]);

/* "512 B", "12.3 KiB", "4.0 MiB", "1.2 GiB". */
void format_size(uint64_t bytes, char out[32]);

/* ---- hashing and tables ------------------------------------------------ */

#define HASH_SEED 0xcbf29ce484222325ULL
/* FNV-1a, 64 bits, continued from `h`. */
uint64_t hash_bytes(uint64_t h, const void *p, size_t n);

/* A map from strings to counters (events by count, span names by time). */
typedef struct strmap_entry {
    char *key; /* NUL-terminated copy; NULL for a free slot */
    size_t key_len;
    uint64_t hash;
    uint64_t count;
    double sum;
    double max;
} strmap_entry_t;

typedef struct strmap {
    strmap_entry_t *slots;
    size_t cap; /* a power of two, or 0 */
    size_t used;
} strmap_t;

/* The entry of `key`, added with zero counters when new. */
strmap_entry_t *strmap_get(strmap_t *map, const char *key, size_t key_len);
/* The used entries in a new array (free() it), `*n` of them. */
strmap_entry_t **strmap_entries(const strmap_t *map, size_t *n);
void strmap_free(strmap_t *map);

/* A multiset of 64-bit keys (hashes of records), with counts. */
typedef struct hashcount_slot {
    uint64_t key;
    uint32_t count;
    bool used;
} hashcount_slot_t;

typedef struct hashcount {
    hashcount_slot_t *slots;
    size_t cap;
    size_t used; /* slots holding a key, counted or not */
} hashcount_t;

void hashcount_add(hashcount_t *set, uint64_t key);
/* Takes one `key` away; false when there was none. */
bool hashcount_take(hashcount_t *set, uint64_t key);
void hashcount_free(hashcount_t *set);

#endif /* OTELC_TOOL_UTIL_H */
