/*
 * file_test.h: what the file exporter's tests share: a temporary directory
 * per test, an injected wall clock, an SDK session that writes files, and
 * readers that take the files back the way a user would (every line one
 * JSON object, read with json-c, an independent parser).
 *
 * Header-only, static functions; include it after <cmocka.h>. TZ is set to
 * UTC by ft_setup() so that "local" days, the file names and the time text
 * are the same on every machine.
 */
#ifndef OTELC_TEST_FILE_TEST_H
#define OTELC_TEST_FILE_TEST_H

#include <otelc/otelc.h>
#include <otelc/file.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "core.h"
#include "diag.h"

/* Every helper is static and may go unused in a given test program. */
#define FT_FN static __attribute__((unused))

#define FT_PATH 512

/* 2026-03-10 12:34:56.123456 UTC, a Tuesday. */
#define FT_T0_S 1773146096ull
#define FT_T0 (FT_T0_S * 1000000000ull + 123456000ull)
#define FT_T0_TEXT "2026-03-10T12:34:56.123456Z"
#define FT_DAY_S 86400ull
#define FT_NS 1000000000ull
/* The last second of 2026-03-10 and the first of 2026-03-11, UTC. */
#define FT_DAY1_END_S 1773187199ull
#define FT_DAY2_BEGIN_S 1773187200ull

/* ---- the injected clock ------------------------------------------------- */

/* Read by application threads (record times) and by the exporter's thread
 * (retention's "today"), hence atomic. */
static _Atomic uint64_t ft_now = FT_T0;

FT_FN uint64_t ft_clock(void *arg)
{
    (void)arg;
    return atomic_load(&ft_now);
}

FT_FN void ft_set_time(uint64_t ns)
{
    atomic_store(&ft_now, ns);
}

/* ---- the test's directory ------------------------------------------------ */

static char ft_dir[FT_PATH];

FT_FN int ft_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    /* A test may have taken the write permission away. */
    (void)chmod(path, 0700);
    return remove(path);
}

FT_FN void ft_rm_rf(const char *dir)
{
    if (dir[0] != '\0')
        (void)nftw(dir, ft_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* `out` = ft_dir/name. */
FT_FN const char *ft_path(char *out, const char *name)
{
    int n = snprintf(out, FT_PATH, "%s/%s", ft_dir, name);
    assert_true(n > 0 && n < FT_PATH);
    return out;
}

FT_FN bool ft_exists(const char *name)
{
    char p[FT_PATH];
    struct stat st;
    return stat(ft_path(p, name), &st) == 0;
}

/* Writes `text` to ft_dir/name and sets its modification time to `mtime_s`. */
FT_FN void ft_put_file(const char *name, const char *text, uint64_t mtime_s)
{
    char p[FT_PATH];
    struct timeval tv[2] = { { (time_t)mtime_s, 0 }, { (time_t)mtime_s, 0 } };
    FILE *f = fopen(ft_path(p, name), "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(utimes(p, tv), 0);
}

/* A fresh directory for the test, TZ=UTC, the clock at FT_T0, fresh
 * diagnostics (each kind is printed once per 10 s otherwise). */
FT_FN int ft_setup(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    snprintf(ft_dir, sizeof(ft_dir), "/tmp/otelc_fexp_XXXXXX");
    if (mkdtemp(ft_dir) == NULL)
        return -1;
    ft_set_time(FT_T0);
    otelc__diag_reset();
    return 0;
}

FT_FN void ft_end(void)
{
    (void)otelc_shutdown(5000);
    if (otelc__tls != NULL)
        otelc__frames_pop_to(otelc__tls, 1);
}

FT_FN int ft_teardown(void **state)
{
    static const char *const vars[] = { "OTELC_FILE_CHANNELS", "OTELC_FILE_CHANNEL_LEVELS",
                                        "OTELC_FILE_CHANNEL_RETENTION", "OTELC_FILE_FORMAT",
                                        "OTELC_FILE_MAX_SIZE" };

    (void)state;
    ft_end();
    /* A test that set them and failed must not leave them to the next. */
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
    /* OTELC_TEST_KEEP=1 keeps the files, to look at them after a failure. */
    if (getenv("OTELC_TEST_KEEP") != NULL)
        fprintf(stderr, "files kept in %s\n", ft_dir);
    else
        ft_rm_rf(ft_dir);
    ft_dir[0] = '\0';
    return 0;
}

/* ---- the SDK session ------------------------------------------------------- */

/* Options for a session whose logs and spans go to the file exporter only,
 * in ft_dir, with the injected clock and every severity recorded. */
FT_FN void ft_options(otelc_options_t *o)
{
    otelc_options_default(o);
    o->service_name = "file-test";
    o->traces_exporter = "file";
    o->logs_exporter = "file";
    o->level = OTELC_SEV_TRACE;
    otelc_file_options(o)->directory = ft_dir;
    o->clock_fn = ft_clock;
    o->clock_arg = NULL;
    o->spans_batch.schedule_delay_ms = 10;
    o->logs_batch.schedule_delay_ms = 10;
}

FT_FN void ft_start(const otelc_options_t *o)
{
    assert_int_equal(otelc_init(o), OTELC_OK);
}

/* Returns once everything recorded so far is in the files. */
FT_FN void ft_flush(void)
{
    assert_int_equal(otelc_flush(10000), OTELC_OK);
}

/* ---- reading the files ----------------------------------------------------- */

/* The whole content of `path`, NUL-terminated, or NULL when it does not
 * exist. The caller frees it. */
FT_FN char *ft_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 65536, n = 0, r;
    char *buf;

    *len = 0;
    if (f == NULL)
        return NULL;
    buf = malloc(cap);
    assert_non_null(buf);
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The uncompressed content of the gzip file `path` (zlib, not otelc). */
FT_FN char *ft_slurp_gz(const char *path, size_t *len)
{
    gzFile gz = gzopen(path, "rb");
    size_t cap = 65536, n = 0;
    char *buf;
    int r;

    *len = 0;
    if (gz == NULL)
        return NULL;
    buf = malloc(cap);
    assert_non_null(buf);
    while ((r = gzread(gz, buf + n, (unsigned)(cap - n - 1))) > 0) {
        n += (size_t)r;
        if (cap - n < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    assert_true(r == 0); /* end of the stream, not an error */
    assert_int_equal(gzclose(gz), Z_OK);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Parses one line (without its '\n') as strictly as json-c can: one JSON
 * value, nothing after it, valid UTF-8. NULL when it is not that. */
FT_FN json_object *ft_parse(const char *line, size_t len)
{
    json_tokener *tok = json_tokener_new();
    json_object *o;

    assert_non_null(tok);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    o = json_tokener_parse_ex(tok, line, (int)len);
    if (o != NULL &&
        (json_tokener_get_error(tok) != json_tokener_success ||
         json_tokener_get_parse_end(tok) != len || !json_object_is_type(o, json_type_object))) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

/* The lines of a file, each parsed. */
typedef struct ft_doc {
    json_object **line;
    size_t n;
    size_t bytes;
} ft_doc_t;

FT_FN void ft_doc_free(ft_doc_t *d)
{
    for (size_t i = 0; i < d->n; i++)
        json_object_put(d->line[i]);
    free(d->line);
    d->line = NULL;
    d->n = d->bytes = 0;
}

/*
 * Appends the lines of `text` to `d`, failing the test unless every line is
 * one whole JSON object ending in '\n' (no partial last line). `what` names
 * the file in the failure message.
 */
FT_FN void ft_doc_add_text(ft_doc_t *d, const char *text, size_t len, const char *what)
{
    size_t at = 0, lineno = 1;

    if (len > 0 && text[len - 1] != '\n')
        fail_msg("%s: the last line has no '\\n' (a partial line)", what);
    while (at < len) {
        const char *nl = memchr(text + at, '\n', len - at);
        json_object *o;

        assert_non_null(nl);
        o = ft_parse(text + at, (size_t)(nl - (text + at)));
        if (o == NULL)
            fail_msg("%s: line %zu is not one JSON object: %.*s", what, lineno,
                     (int)((nl - (text + at)) > 300 ? 300 : (nl - (text + at))), text + at);
        d->line = realloc(d->line, (d->n + 1) * sizeof(*d->line));
        assert_non_null(d->line);
        d->line[d->n++] = o;
        at = (size_t)(nl - text) + 1;
        lineno++;
    }
    d->bytes += len;
}

/* Reads ft_dir/name (a .gz name is decompressed) into `d`. Returns false
 * when the file does not exist. */
FT_FN bool ft_doc_add(ft_doc_t *d, const char *name)
{
    char p[FT_PATH];
    size_t len, nl = strlen(name);
    char *text;

    if (nl > 3 && strcmp(name + nl - 3, ".gz") == 0)
        text = ft_slurp_gz(ft_path(p, name), &len);
    else
        text = ft_slurp(ft_path(p, name), &len);
    if (text == NULL)
        return false;
    ft_doc_add_text(d, text, len, name);
    free(text);
    return true;
}

/* The parsed lines of ft_dir/name; an empty doc when it does not exist. */
FT_FN ft_doc_t ft_doc(const char *name)
{
    ft_doc_t d = { NULL, 0, 0 };
    (void)ft_doc_add(&d, name);
    return d;
}

/* The number of lines of ft_dir/name (all checked), 0 when missing. */
FT_FN size_t ft_lines(const char *name)
{
    ft_doc_t d = ft_doc(name);
    size_t n = d.n;
    ft_doc_free(&d);
    return n;
}

/* The string at key `k` of `o`, or NULL when absent or not a string. */
FT_FN const char *ft_str(json_object *o, const char *k)
{
    json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

FT_FN bool ft_has(json_object *o, const char *k)
{
    return json_object_object_get_ex(o, k, NULL);
}

/* The integer at `k`; fails the test when it is absent or not an integer. */
FT_FN int64_t ft_int(json_object *o, const char *k)
{
    json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
        fail_msg("key '%s' is not an integer in %s", k, json_object_to_json_string(o));
    return json_object_get_int64(v);
}

/* Asserts that key `k` of `o` is the string `want`. */
#define FT_ASSERT_STR(o, k, want)                                                                  \
    do {                                                                                           \
        const char *ft__got = ft_str((o), (k));                                                    \
        if (ft__got == NULL || strcmp(ft__got, (want)) != 0)                                       \
            fail_msg("key '%s': got %s, want \"%s\" in %s", (k), ft__got ? ft__got : "(none)",     \
                     (want), json_object_to_json_string(o));                                       \
    } while (0)

/* ---- the pieces of a channel ------------------------------------------------ */

/* One file of a channel: the current one or a rotated piece. */
typedef struct ft_piece {
    char name[256];
    char date[11]; /* "" for the current file */
    unsigned n;    /* 0: the first piece of its day */
    bool gz;
} ft_piece_t;

/* Ordering of FORMAT.md: by date, then N (none first); the current file last. */
FT_FN int ft_piece_cmp(const void *a, const void *b)
{
    const ft_piece_t *x = a, *y = b;
    int c;

    if ((x->date[0] == '\0') != (y->date[0] == '\0'))
        return x->date[0] == '\0' ? 1 : -1;
    c = strcmp(x->date, y->date);
    if (c != 0)
        return c;
    return x->n < y->n ? -1 : x->n > y->n;
}

/*
 * The files of `channel` in `dir`, in time order: "<ch>.log",
 * "<ch>.log.YYYY-MM-DD", "<ch>.log.YYYY-MM-DD.N", each possibly ".gz".
 * Any other file whose name starts with "<ch>.log" fails the test (a stray
 * .gz.tmp, for instance). Returns the count; `out` holds up to `max`.
 */
FT_FN size_t ft_pieces_in(const char *dir, const char *channel, ft_piece_t *out, size_t max)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0, cl = strlen(channel);

    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        const char *s = de->d_name;
        ft_piece_t p;
        size_t sl = strlen(s);

        if (strncmp(s, channel, cl) != 0 || strncmp(s + cl, ".log", 4) != 0)
            continue;
        memset(&p, 0, sizeof(p));
        snprintf(p.name, sizeof(p.name), "%s", s);
        s += cl + 4;
        sl -= cl + 4;
        if (sl >= 3 && strcmp(s + sl - 3, ".gz") == 0) {
            p.gz = true;
            sl -= 3;
        }
        if (sl == 0 && !p.gz) {
            /* the current file */
        } else if (sl >= 11 && s[0] == '.' && s[5] == '-' && s[8] == '-') {
            memcpy(p.date, s + 1, 10);
            if (sl > 11) {
                char *end = NULL;
                unsigned long v;
                if (s[11] != '.' || s[12] < '1' || s[12] > '9')
                    fail_msg("unexpected file %s", de->d_name);
                v = strtoul(s + 12, &end, 10);
                if (end != s + sl)
                    fail_msg("unexpected file %s", de->d_name);
                p.n = (unsigned)v;
            }
        } else {
            fail_msg("unexpected file %s", de->d_name);
        }
        if (n < max)
            out[n] = p;
        n++;
    }
    closedir(d);
    qsort(out, n < max ? n : max, sizeof(*out), ft_piece_cmp);
    return n;
}

/* The same in ft_dir. */
FT_FN size_t ft_pieces(const char *channel, ft_piece_t *out, size_t max)
{
    return ft_pieces_in(ft_dir, channel, out, max);
}

/* Every line of every piece of `channel`, in time order. */
FT_FN ft_doc_t ft_channel_doc(const char *channel)
{
    ft_piece_t pieces[256];
    size_t n = ft_pieces(channel, pieces, 256);
    ft_doc_t d = { NULL, 0, 0 };

    assert_true(n <= 256);
    for (size_t i = 0; i < n; i++)
        assert_true(ft_doc_add(&d, pieces[i].name));
    return d;
}

/* ---- stderr ------------------------------------------------------------------ */

static int ft_saved_stderr = -1;
static FILE *ft_stderr_file;

FT_FN void ft_stderr_begin(void)
{
    fflush(stderr);
    ft_stderr_file = tmpfile();
    assert_non_null(ft_stderr_file);
    ft_saved_stderr = dup(STDERR_FILENO);
    assert_true(ft_saved_stderr >= 0);
    assert_int_equal(dup2(fileno(ft_stderr_file), STDERR_FILENO), STDERR_FILENO);
}

/* Restores stderr; returns what was written meanwhile (the caller frees). */
FT_FN char *ft_stderr_end(void)
{
    size_t n;
    char *buf = malloc(256 * 1024);

    assert_non_null(buf);
    fflush(stderr);
    dup2(ft_saved_stderr, STDERR_FILENO);
    close(ft_saved_stderr);
    rewind(ft_stderr_file);
    n = fread(buf, 1, 256 * 1024 - 1, ft_stderr_file);
    buf[n] = '\0';
    fclose(ft_stderr_file);
    /* Shown, so that a failing test explains itself. */
    if (n > 0)
        fprintf(stderr, "[captured stderr]\n%s", buf);
    return buf;
}

/* The number of lines of `text` that contain every one of the strings. */
FT_FN size_t ft_count_lines_with(const char *text, const char *a, const char *b, const char *c)
{
    size_t n = 0;

    while (*text != '\0') {
        const char *nl = strchr(text, '\n');
        size_t len = nl != NULL ? (size_t)(nl - text) : strlen(text);
        char *line = strndup(text, len);

        assert_non_null(line);
        if ((a == NULL || strstr(line, a) != NULL) && (b == NULL || strstr(line, b) != NULL) &&
            (c == NULL || strstr(line, c) != NULL))
            n++;
        free(line);
        text += len + (nl != NULL);
    }
    return n;
}

/* otelc_stats() into a zeroed struct. */
FT_FN void ft_stats(otelc_stats_t *s)
{
    memset(s, 0, sizeof(*s));
    otelc_stats(s);
}

/* Logs records seq from..to-1 with a padding attribute, on `logger`. */
#define FT_PAD "padding-padding-padding-padding-padding-padding-padding-padding"
FT_FN void ft_log_seq(const char *logger, int from, int to)
{
    otelc_logger_t *lg = otelc_logger(logger);

    for (int i = from; i < to; i++)
        OTELC_INFO(lg, "sequenced record", OTELC_INT("seq", i), OTELC_STR("pad", FT_PAD));
}

/* The whole lines of the file at `path` whose seq is `from` or more (other
 * lines are not looked at); 0 when the file cannot be read. */
FT_FN size_t ft_seq_lines_from(const char *path, int64_t from)
{
    size_t len, found = 0;
    char *text = ft_slurp(path, &len);
    const char *at = text;

    if (text == NULL)
        return 0;
    while (at < text + len) {
        const char *nl = memchr(at, '\n', (size_t)(text + len - at));
        json_object *o, *v;

        if (nl == NULL)
            break;
        o = ft_parse(at, (size_t)(nl - at));
        if (o != NULL && json_object_object_get_ex(o, "seq", &v) &&
            json_object_get_int64(v) >= from)
            found++;
        json_object_put(o);
        at = nl + 1;
    }
    free(text);
    return found;
}

#endif /* OTELC_TEST_FILE_TEST_H */
