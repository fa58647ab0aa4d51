/*
 * util.c: diagnostics, memory, text buffer, time and tables of the otelc
 * tool (see util.h).
 */
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define US_PER_SEC 1000000LL
#define SEC_PER_DAY 86400LL

bool tstr_eq(tstr_t s, const char *lit)
{
    size_t n = strlen(lit);

    return s.n == n && (n == 0 || memcmp(s.p, lit, n) == 0);
}

bool tstr_same(tstr_t a, tstr_t b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

/* ---- diagnostics ------------------------------------------------------- */

static uint64_t line_reports;

void tool_error(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs("otelc: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void tool_error_errno(const char *path)
{
    int e = errno;

    tool_error("%s: %s", path, strerror(e));
}

void tool_report_line(const char *path, uint64_t line, const char *fmt, ...)
{
    va_list ap;

    line_reports++;
    if (line_reports > TOOL_MAX_LINE_REPORTS)
        return;
    fflush(stdout);
    if (line > 0)
        fprintf(stderr, "otelc: %s:%llu: ", path, (unsigned long long)line);
    else
        fprintf(stderr, "otelc: %s: ", path);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

uint64_t tool_reported_lines(void)
{
    return line_reports;
}

void tool_report_summary(void)
{
    if (line_reports > TOOL_MAX_LINE_REPORTS)
        tool_error("%llu more bad lines not shown",
                   (unsigned long long)(line_reports - TOOL_MAX_LINE_REPORTS));
}

/* ---- memory ------------------------------------------------------------ */

static void *out_of_memory(void)
{
    tool_error("out of memory");
    exit(1);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n == 0 ? 1 : n);

    return p != NULL ? p : out_of_memory();
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count == 0 ? 1 : count, size == 0 ? 1 : size);

    return p != NULL ? p : out_of_memory();
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n == 0 ? 1 : n);

    return q != NULL ? q : out_of_memory();
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1u);

    if (n > 0)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = xmalloc(a + b + 2u);

    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1u);
    return p;
}

/* ---- text buffer ------------------------------------------------------- */

static void sb_reserve(strbuf_t *sb, size_t more)
{
    size_t need = sb->len + more + 1u;

    if (need <= sb->cap)
        return;
    if (need < 256u)
        need = 256u;
    if (need < sb->cap * 2u)
        need = sb->cap * 2u;
    sb->p = xrealloc(sb->p, need);
    sb->cap = need;
}

void sb_put(strbuf_t *sb, const char *p, size_t n)
{
    sb_reserve(sb, n);
    if (n > 0)
        memcpy(sb->p + sb->len, p, n);
    sb->len += n;
    sb->p[sb->len] = '\0';
}

void sb_putc(strbuf_t *sb, char c)
{
    sb_reserve(sb, 1);
    sb->p[sb->len++] = c;
    sb->p[sb->len] = '\0';
}

void sb_puts(strbuf_t *sb, const char *s)
{
    sb_put(sb, s, strlen(s));
}

void sb_printf(strbuf_t *sb, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    sb_reserve(sb, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(sb->p + sb->len, (size_t)n + 1u, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

void sb_reset(strbuf_t *sb)
{
    sb->len = 0;
    if (sb->p != NULL)
        sb->p[0] = '\0';
}

void sb_free(strbuf_t *sb)
{
    free(sb->p);
    sb->p = NULL;
    sb->len = sb->cap = 0;
}

/* ---- time -------------------------------------------------------------- */

tool_time_t time_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (tool_time_t)ts.tv_sec * US_PER_SEC + ts.tv_nsec / 1000;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar. */
int64_t days_from_civil(int64_t year, int month, int day)
{
    int64_t y = month <= 2 ? year - 1 : year;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t mp = month > 2 ? month - 3 : month + 9;
    int64_t doy = (153 * mp + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t days, int *year, int *month, int *day)
{
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;

    *year = (int)(yoe + era * 400 + (m <= 2));
    *month = (int)m;
    *day = (int)d;
}

static bool leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/* Reads `count` digits at s[*i] into *out. */
static bool digits(const char *s, size_t n, size_t *i, int count, int *out)
{
    int v = 0;

    if (n - *i < (size_t)count)
        return false;
    for (int k = 0; k < count; k++) {
        char c = s[*i + (size_t)k];

        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *i += (size_t)count;
    *out = v;
    return true;
}

bool date_parse(const char *s, size_t n, int *year, int *month, int *day)
{
    size_t i = 0;

    if (n != 10 || !digits(s, n, &i, 4, year) || s[i++] != '-' || !digits(s, n, &i, 2, month) ||
        s[i++] != '-' || !digits(s, n, &i, 2, day))
        return false;
    return *month >= 1 && *month <= 12 && *day >= 1 && *day <= days_in_month(*year, *month);
}

tool_time_t time_local_midnight(int year, int month, int day)
{
    struct tm tm;
    time_t t;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_isdst = -1;
    t = mktime(&tm);
    return (tool_time_t)t * US_PER_SEC;
}

int64_t time_local_day(tool_time_t t)
{
    time_t sec = (time_t)floor_div(t, US_PER_SEC);
    struct tm tm;

    if (localtime_r(&sec, &tm) == NULL)
        return floor_div(t, US_PER_SEC * SEC_PER_DAY);
    return days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

bool time_parse_iso(const char *s, size_t n, tool_time_t *out)
{
    int year, month, day, hour = 0, minute = 0, second = 0;
    int64_t frac_us = 0, offset_sec = 0;
    bool local = true;
    size_t i = 10;

    if (n < 10 || !date_parse(s, 10, &year, &month, &day))
        return false;
    if (n == 10) {
        *out = time_local_midnight(year, month, day);
        return true;
    }
    if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
        return false;
    i++;
    if (!digits(s, n, &i, 2, &hour) || i >= n || s[i++] != ':' || !digits(s, n, &i, 2, &minute))
        return false;
    if (i < n && s[i] == ':') {
        i++;
        if (!digits(s, n, &i, 2, &second))
            return false;
        if (i < n && (s[i] == '.' || s[i] == ',')) {
            int64_t scale = 100000;
            size_t start = ++i;

            while (i < n && s[i] >= '0' && s[i] <= '9') {
                frac_us += (s[i] - '0') * scale;
                scale /= 10;
                i++;
            }
            if (i == start)
                return false;
        }
    }
    if (hour > 23 || minute > 59 || second > 60)
        return false;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        local = false;
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1, oh, om;

        i++;
        if (!digits(s, n, &i, 2, &oh))
            return false;
        if (i < n && s[i] == ':')
            i++;
        if (!digits(s, n, &i, 2, &om) || oh > 23 || om > 59)
            return false;
        offset_sec = sign * (oh * 3600 + om * 60);
        local = false;
    }
    if (i != n)
        return false;
    if (local) {
        /* mktime() places the clock time in the zone of TZ, summer time
         * included (midnight plus the hours would be off on a DST day). */
        struct tm tm;
        time_t t;

        memset(&tm, 0, sizeof(tm));
        tm.tm_year = year - 1900;
        tm.tm_mon = month - 1;
        tm.tm_mday = day;
        tm.tm_hour = hour;
        tm.tm_min = minute;
        tm.tm_sec = second;
        tm.tm_isdst = -1;
        t = mktime(&tm);
        *out = (tool_time_t)t * US_PER_SEC + frac_us;
        return true;
    }
    *out = ((days_from_civil(year, month, day) * SEC_PER_DAY + hour * 3600 + minute * 60 + second) -
            offset_sec) *
               US_PER_SEC +
           frac_us;
    return true;
}

bool time_parse_arg(const char *s, tool_time_t now, bool until, tool_time_t *out)
{
    size_t n = strlen(s);
    int year, month, day;

    if (strcmp(s, "now") == 0) {
        *out = now;
        return true;
    }
    if (n >= 2 && s[0] >= '0' && s[0] <= '9') {
        char *end;
        unsigned long long v;
        int64_t unit = 0;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == 0 && end == s + n - 1) {
            switch (s[n - 1]) {
            case 's':
                unit = 1;
                break;
            case 'm':
                unit = 60;
                break;
            case 'h':
                unit = 3600;
                break;
            case 'd':
                unit = SEC_PER_DAY;
                break;
            case 'w':
                unit = 7 * SEC_PER_DAY;
                break;
            default:
                break;
            }
            if (unit > 0 && v <= (unsigned long long)(INT64_MAX / US_PER_SEC / unit)) {
                *out = now - (int64_t)v * unit * US_PER_SEC;
                return true;
            }
        }
    }
    if (until && date_parse(s, n, &year, &month, &day)) {
        int64_t next = days_from_civil(year, month, day) + 1;

        civil_from_days(next, &year, &month, &day);
        *out = time_local_midnight(year, month, day);
        return true;
    }
    return time_parse_iso(s, n, out);
}

void time_format_iso(tool_time_t t, char out[32])
{
    int64_t sec = floor_div(t, US_PER_SEC);
    int64_t us = t - sec * US_PER_SEC;
    int64_t days = floor_div(sec, SEC_PER_DAY);
    int64_t rem = sec - days * SEC_PER_DAY;
    int year, month, day;

    char tmp[96];
    size_t n;

    civil_from_days(days, &year, &month, &day);
    /* The compiler cannot see that the fields fit in 32 bytes (a year of
     * an int64 time has at most 6 digits); format wide, then copy. */
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", year, month, day,
             (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), (int)us);
    n = strlen(tmp) < 31 ? strlen(tmp) : 31;
    memcpy(out, tmp, n);
    out[n] = '\0';
}

void time_format_local(tool_time_t t, char out[32])
{
    time_t sec = (time_t)floor_div(t, US_PER_SEC);
    int ms = (int)((t - (int64_t)sec * US_PER_SEC) / 1000);
    struct tm tm;
    size_t n = 0;

    if (localtime_r(&sec, &tm) != NULL)
        n = strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
    if (n == 0)
        n = (size_t)snprintf(out, 32, "0000-00-00 00:00:00");
    snprintf(out + n, 32 - n, ".%03d", ms);
}

void format_age(tool_time_t span, char out[32])
{
    const char *sign = "";
    int64_t s;

    if (span < 0) {
        sign = "-";
        span = span == INT64_MIN ? INT64_MAX : -span;
    }
    s = span / US_PER_SEC;
    if (s < 60)
        snprintf(out, 32, "%s%llds", sign, (long long)s);
    else if (s < 3600)
        snprintf(out, 32, "%s%lldm%02llds", sign, (long long)(s / 60), (long long)(s % 60));
    else if (s < SEC_PER_DAY)
        snprintf(out, 32, "%s%lldh%02lldm", sign, (long long)(s / 3600), (long long)(s / 60 % 60));
    else
        snprintf(out, 32, "%s%lldd%02lldh", sign, (long long)(s / SEC_PER_DAY),
                 (long long)(s / 3600 % 24));
}

void format_size(uint64_t bytes, char out[32])
{
    if (bytes < 1024u)
        snprintf(out, 32, "%llu B", (unsigned long long)bytes);
    else if (bytes < 1024u * 1024u)
        snprintf(out, 32, "%.1f KiB", (double)bytes / 1024.0);
    else if (bytes < 1024u * 1024u * 1024u)
        snprintf(out, 32, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
    else
        snprintf(out, 32, "%.1f GiB", (double)bytes / (1024.0 * 1024.0 * 1024.0));
}

/* ---- hashing and tables ------------------------------------------------ */

uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static void strmap_grow(strmap_t *map)
{
    size_t cap = map->cap == 0 ? 64u : map->cap * 2u;
    strmap_entry_t *slots = xcalloc(cap, sizeof(*slots));

    for (size_t i = 0; i < map->cap; i++) {
        strmap_entry_t *e = &map->slots[i];
        size_t j;

        if (e->key == NULL)
            continue;
        for (j = e->hash & (cap - 1u); slots[j].key != NULL; j = (j + 1u) & (cap - 1u))
            ;
        slots[j] = *e;
    }
    free(map->slots);
    map->slots = slots;
    map->cap = cap;
}

strmap_entry_t *strmap_get(strmap_t *map, const char *key, size_t key_len)
{
    uint64_t h = hash_bytes(HASH_SEED, key, key_len);
    size_t j;

    if ((map->used + 1u) * 4u > map->cap * 3u)
        strmap_grow(map);
    for (j = h & (map->cap - 1u); map->slots[j].key != NULL; j = (j + 1u) & (map->cap - 1u)) {
        strmap_entry_t *e = &map->slots[j];

        if (e->hash == h && e->key_len == key_len &&
            (key_len == 0 || memcmp(e->key, key, key_len) == 0))
            return e;
    }
    map->slots[j].key = xstrndup(key, key_len);
    map->slots[j].key_len = key_len;
    map->slots[j].hash = h;
    map->used++;
    return &map->slots[j];
}

strmap_entry_t **strmap_entries(const strmap_t *map, size_t *n)
{
    strmap_entry_t **v = xmalloc((map->used + 1u) * sizeof(*v));
    size_t k = 0;

    for (size_t i = 0; i < map->cap; i++) {
        if (map->slots[i].key != NULL)
            v[k++] = &map->slots[i];
    }
    *n = k;
    return v;
}

void strmap_free(strmap_t *map)
{
    for (size_t i = 0; i < map->cap; i++)
        free(map->slots[i].key);
    free(map->slots);
    map->slots = NULL;
    map->cap = map->used = 0;
}

static void hashcount_grow(hashcount_t *set)
{
    size_t live = 0, cap;
    hashcount_slot_t *slots;

    for (size_t i = 0; i < set->cap; i++)
        live += set->slots[i].used && set->slots[i].count > 0;
    /* Slots whose count went back to 0 are dropped here, so a table that
     * sees many adds and takes stays the size of what is still in it. */
    for (cap = 64u; cap * 3u < (live + 1u) * 8u; cap *= 2u)
        ;
    slots = xcalloc(cap, sizeof(*slots));
    for (size_t i = 0; i < set->cap; i++) {
        hashcount_slot_t *s = &set->slots[i];
        size_t j;

        if (!s->used || s->count == 0)
            continue;
        for (j = s->key & (cap - 1u); slots[j].used; j = (j + 1u) & (cap - 1u))
            ;
        slots[j] = *s;
    }
    free(set->slots);
    set->slots = slots;
    set->cap = cap;
    set->used = live;
}

void hashcount_add(hashcount_t *set, uint64_t key)
{
    size_t j;

    if ((set->used + 1u) * 4u > set->cap * 3u)
        hashcount_grow(set);
    for (j = key & (set->cap - 1u); set->slots[j].used; j = (j + 1u) & (set->cap - 1u)) {
        if (set->slots[j].key == key) {
            set->slots[j].count++;
            return;
        }
    }
    set->slots[j].used = true;
    set->slots[j].key = key;
    set->slots[j].count = 1;
    set->used++;
}

bool hashcount_take(hashcount_t *set, uint64_t key)
{
    if (set->cap == 0)
        return false;
    for (size_t j = key & (set->cap - 1u); set->slots[j].used; j = (j + 1u) & (set->cap - 1u)) {
        if (set->slots[j].key == key) {
            if (set->slots[j].count == 0)
                return false;
            set->slots[j].count--;
            return true;
        }
    }
    return false;
}

void hashcount_free(hashcount_t *set)
{
    free(set->slots);
    set->slots = NULL;
    set->cap = set->used = 0;
}
