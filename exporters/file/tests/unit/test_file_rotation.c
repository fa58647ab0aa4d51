/*
 * test_file_rotation.c: the life of the files: rotation by size and by
 * local day (with files left by an earlier run), the count of pieces kept,
 * retention in days (today from the injected clock), gzip of rotated
 * pieces, and the modes of what the exporter creates.
 *
 * Records carry a sequence number ("seq"), so that reading a channel's
 * pieces in the order FORMAT.md gives must yield 0, 1, 2, ... with nothing
 * lost, repeated or split.
 */
#include <setjmp.h>
#include <otelc/file.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "file_test.h"

#define PAD "padding-padding-padding-padding-padding-padding-padding-padding"

/* Records [from, to) of `logger`, each with attribute seq. */
static void log_seq(const char *logger, int from, int to)
{
    otelc_logger_t *lg = otelc_logger(logger);

    for (int i = from; i < to; i++)
        OTELC_INFO(lg, "sequenced record", OTELC_INT("seq", i), OTELC_STR("pad", PAD));
}

/* Asserts that `d` holds records seq from..to-1, in order. */
static void expect_seq(const ft_doc_t *d, int from, int to, const char *what)
{
    if (d->n != (size_t)(to - from))
        fail_msg("%s: %zu records, want %d (seq %d..%d)", what, d->n, to - from, from, to - 1);
    for (size_t i = 0; i < d->n; i++) {
        if (ft_int(d->line[i], "seq") != from + (int64_t)i)
            fail_msg("%s: line %zu has seq %lld, want %lld", what, i,
                     (long long)ft_int(d->line[i], "seq"), (long long)(from + (int64_t)i));
    }
}

static void expect_file_seq(const char *file, int from, int to)
{
    ft_doc_t d = ft_doc(file);
    expect_seq(&d, from, to, file);
    ft_doc_free(&d);
}

/* Asserts that the lines of `logger` in `file` are seq from..to-1. */
static void expect_logger_seq(const char *file, const char *logger, int from, int to)
{
    ft_doc_t d = ft_doc(file);
    int next = from;

    for (size_t i = 0; i < d.n; i++) {
        const char *l = ft_str(d.line[i], "logger");
        if (l == NULL || strcmp(l, logger) != 0)
            continue;
        assert_int_equal(ft_int(d.line[i], "seq"), next);
        next++;
    }
    ft_doc_free(&d);
    if (next != to)
        fail_msg("%s: %s records up to seq %d, want up to %d", file, logger, next - 1, to - 1);
}

/* Asserts that every line of `file` has a timestamp starting with `day`. */
static void expect_day(const char *file, const char *day)
{
    ft_doc_t d = ft_doc(file);

    assert_true(d.n > 0);
    for (size_t i = 0; i < d.n; i++) {
        const char *ts = ft_str(d.line[i], "timestamp");
        if (ts == NULL || strncmp(ts, day, strlen(day)) != 0)
            fail_msg("%s: line %zu has timestamp %s, want the day %s", file, i, ts ? ts : "(none)",
                     day);
    }
    ft_doc_free(&d);
}

static off_t file_size(const char *name)
{
    char p[FT_PATH];
    struct stat st;

    if (stat(ft_path(p, name), &st) != 0)
        fail_msg("%s: %s", p, strerror(errno));
    return st.st_size;
}

static unsigned mode_of(const char *dir, const char *name)
{
    char p[FT_PATH];
    struct stat st;

    assert_true(snprintf(p, sizeof(p), "%s/%s", dir, name) < (int)sizeof(p));
    if (stat(p, &st) != 0)
        fail_msg("%s: %s", p, strerror(errno));
    return (unsigned)(st.st_mode & 0777);
}

/* A line in the flat format, as an earlier run would have left it. */
static const char old_line[] = "{\"timestamp\":\"2026-03-05T10:00:00.000000Z\",\"level\":\"INFO\","
                               "\"logger\":\"trading\",\"message\":\"from before\",\"seq\":-1}\n";

/* ---- rotation by size -------------------------------------------------------- */

static void test_rotation_by_size(void **state)
{
    otelc_options_t o;
    ft_piece_t pieces[64];
    size_t n;
    ft_doc_t d;

    (void)state;
    ft_options(&o);
    otelc_file_options(&o)->max_bytes = 4096;
    otelc_file_options(&o)->max_files = 100;
    ft_start(&o);
    /* In three exports, so that rotation happens inside a batch and
     * between batches. */
    log_seq("trading.orders", 0, 100);
    ft_flush();
    log_seq("trading.orders", 100, 200);
    ft_flush();
    log_seq("trading.orders", 200, 300);
    ft_flush();

    n = ft_pieces("trading", pieces, 64);
    assert_true(n >= 8 && n < 64);
    /* trading.log.2026-03-10, then .1, .2, ..., then trading.log. */
    assert_string_equal(pieces[0].name, "trading.log.2026-03-10");
    for (size_t i = 0; i + 1 < n; i++) {
        assert_string_equal(pieces[i].date, "2026-03-10");
        assert_int_equal(pieces[i].n, i);
        assert_false(pieces[i].gz);
        /* Full up to the limit, less than one line. */
        assert_true(file_size(pieces[i].name) <= 4096);
        assert_true(file_size(pieces[i].name) > 4096 - 300);
    }
    assert_string_equal(pieces[n - 1].name, "trading.log");
    assert_true(file_size("trading.log") <= 4096);

    /* Read in the documented order: every record once, in order, whole. */
    d = ft_channel_doc("trading");
    expect_seq(&d, 0, 300, "trading (all pieces)");
    ft_doc_free(&d);
}

/* A line longer than max_bytes is written whole, alone in its file, and no
 * empty file is left behind. */
static void test_rotation_line_longer_than_max_bytes(void **state)
{
    otelc_options_t o;
    ft_piece_t pieces[16];
    size_t n;

    (void)state;
    ft_options(&o);
    otelc_file_options(&o)->max_bytes = 100;
    otelc_file_options(&o)->max_files = 100;
    ft_start(&o);
    log_seq("trading.orders", 0, 3);
    ft_flush();
    log_seq("trading.orders", 3, 5);
    ft_flush();

    n = ft_pieces("trading", pieces, 16);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        ft_doc_t d = ft_doc(pieces[i].name);
        expect_seq(&d, (int)i, (int)i + 1, pieces[i].name);
        ft_doc_free(&d);
    }
}

/* A second run on the same day continues the current file up to the limit
 * and numbers its pieces after the first run's. */
static void test_rotation_continues_after_restart(void **state)
{
    struct timeval tv[2] = { { (time_t)FT_T0_S, 0 }, { (time_t)FT_T0_S, 0 } };
    otelc_options_t o;
    ft_piece_t pieces[64];
    char p[FT_PATH];
    size_t n1, n2;
    ft_doc_t d;

    (void)state;
    ft_options(&o);
    otelc_file_options(&o)->max_bytes = 4096;
    otelc_file_options(&o)->max_files = 100;
    ft_start(&o);
    log_seq("trading.orders", 0, 100);
    ft_flush();
    ft_end();
    n1 = ft_pieces("trading", pieces, 64);
    /* The file was written "now" by the injected clock. */
    assert_int_equal(utimes(ft_path(p, "trading.log"), tv), 0);

    ft_set_time(FT_T0 + 3600 * FT_NS);
    ft_start(&o);
    log_seq("trading.orders", 100, 200);
    ft_flush();

    n2 = ft_pieces("trading", pieces, 64);
    assert_true(n2 > n1);
    for (size_t i = 0; i + 1 < n2; i++) {
        assert_string_equal(pieces[i].date, "2026-03-10");
        assert_int_equal(pieces[i].n, i);
        assert_true(file_size(pieces[i].name) <= 4096);
    }
    d = ft_channel_doc("trading");
    expect_seq(&d, 0, 200, "trading (two runs)");
    ft_doc_free(&d);
}

static void test_rotation_keeps_max_files(void **state)
{
    otelc_options_t o;
    ft_piece_t pieces[64];
    size_t n;
    ft_doc_t d;
    int first;

    (void)state;
    ft_options(&o);
    otelc_file_options(&o)->max_bytes = 4096;
    otelc_file_options(&o)->max_files = 3;
    ft_start(&o);
    log_seq("trading.orders", 0, 150);
    ft_flush();
    log_seq("trading.orders", 150, 300);
    ft_flush();

    /* Three rotated pieces of the day, the newest ones, and the current file. */
    n = ft_pieces("trading", pieces, 64);
    assert_int_equal(n, 4);
    assert_string_equal(pieces[3].name, "trading.log");
    assert_true(pieces[0].n >= 2);
    assert_int_equal(pieces[1].n, pieces[0].n + 1);
    assert_int_equal(pieces[2].n, pieces[0].n + 2);

    /* What is left is the end of the sequence, without a gap. */
    d = ft_channel_doc("trading");
    assert_true(d.n > 0 && d.n < 300);
    first = (int)ft_int(d.line[0], "seq");
    expect_seq(&d, first, 300, "trading (kept pieces)");
    ft_doc_free(&d);
}

/* ---- rotation by day ---------------------------------------------------------- */

static void test_rotation_at_local_midnight(void **state)
{
    otelc_options_t o;
    ft_piece_t pieces[8];

    (void)state;
    ft_options(&o);
    ft_start(&o);
    ft_set_time((FT_DAY1_END_S - 1) * FT_NS);
    log_seq("trading.orders", 0, 5);
    OTELC_ERROR(otelc_logger("risk"), "first day", OTELC_INT("seq", 0));
    {
        OTELC_SPAN("first_day", OTELC_INT("seq", 0));
    }
    ft_flush();
    /* Records of both days in one batch are split too. */
    ft_set_time(FT_DAY1_END_S * FT_NS + 999999000u);
    log_seq("clickhouse", 0, 3);
    ft_set_time((FT_DAY2_BEGIN_S + 1) * FT_NS);
    log_seq("trading.orders", 5, 8);
    log_seq("clickhouse", 3, 6);
    OTELC_ERROR(otelc_logger("risk"), "second day", OTELC_INT("seq", 1));
    {
        OTELC_SPAN("second_day", OTELC_INT("seq", 1));
    }
    ft_flush();

    assert_int_equal(ft_pieces("trading", pieces, 8), 2);
    expect_logger_seq("trading.log.2026-03-10", "trading.orders", 0, 5);
    expect_day("trading.log.2026-03-10", "2026-03-10T23:59:58");
    expect_logger_seq("trading.log", "trading.orders", 5, 8);
    expect_day("trading.log", "2026-03-11T00:00:01");

    assert_int_equal(ft_pieces("database", pieces, 8), 2);
    expect_file_seq("database.log.2026-03-10", 0, 3);
    expect_day("database.log.2026-03-10", "2026-03-10T23:59:59.999999Z");
    expect_file_seq("database.log", 3, 6);
    expect_day("database.log", "2026-03-11");

    /* errors.log and traces.log turn over the same way. The trading
     * channel holds the ERROR of "risk" too. */
    assert_int_equal(ft_pieces("errors", pieces, 8), 2);
    expect_file_seq("errors.log.2026-03-10", 0, 1);
    expect_file_seq("errors.log", 1, 2);
    assert_int_equal(ft_pieces("traces", pieces, 8), 2);
    expect_file_seq("traces.log.2026-03-10", 0, 1);
    expect_day("traces.log.2026-03-10", "2026-03-10T23:59:58");
    expect_file_seq("traces.log", 1, 2);
    expect_day("traces.log", "2026-03-11T00:00:01");
}

static void test_no_daily_rotation_when_off(void **state)
{
    otelc_options_t o;
    ft_piece_t pieces[8];

    (void)state;
    ft_options(&o);
    otelc_file_options(&o)->rotate_daily = false;
    ft_start(&o);
    ft_set_time((FT_DAY1_END_S - 1) * FT_NS);
    log_seq("trading.orders", 0, 5);
    ft_flush();
    ft_set_time((FT_DAY2_BEGIN_S + 1) * FT_NS);
    log_seq("trading.orders", 5, 8);
    ft_flush();

    assert_int_equal(ft_pieces("trading", pieces, 8), 1);
    expect_file_seq("trading.log", 0, 8);
}

static void test_leftover_file_rotated_to_its_day(void **state)
{
    char two_lines[sizeof(old_line) * 2];
    otelc_options_t o;
    ft_piece_t pieces[8];
    char p[FT_PATH];
    char *text;
    size_t len;

    (void)state;
    snprintf(two_lines, sizeof(two_lines), "%s%s", old_line, old_line);
    /* trading.log last written five days ago, and that day's first piece
     * already there; database.log last written an hour ago. */
    ft_put_file("trading.log", two_lines, FT_T0_S - 5 * FT_DAY_S);
    ft_put_file("trading.log.2026-03-05", old_line, FT_T0_S - 5 * FT_DAY_S);
    ft_put_file("database.log", two_lines, FT_T0_S - 3600);

    ft_options(&o);
    ft_start(&o);
    log_seq("trading.orders", 0, 1);
    log_seq("db", 0, 1);
    ft_flush();

    /* The old file went to its own day, after the piece of that day. */
    assert_int_equal(ft_pieces("trading", pieces, 8), 3);
    text = ft_slurp(ft_path(p, "trading.log.2026-03-05.1"), &len);
    assert_non_null(text);
    assert_string_equal(text, two_lines);
    free(text);
    text = ft_slurp(ft_path(p, "trading.log.2026-03-05"), &len);
    assert_non_null(text);
    assert_string_equal(text, old_line);
    free(text);
    expect_file_seq("trading.log", 0, 1);

    /* Today's file is appended to. */
    assert_int_equal(ft_pieces("database", pieces, 8), 1);
    assert_int_equal(ft_lines("database.log"), 3);
    text = ft_slurp(ft_path(p, "database.log"), &len);
    assert_non_null(text);
    assert_memory_equal(text, two_lines, strlen(two_lines));
    free(text);
}

/* ---- rotation in the otlp format -------------------------------------------------- */

/* The records of the OTLP/JSON lines of `d`, as their timeUnixNano texts. */
static size_t otlp_times(const ft_doc_t *d, char times[][24], size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < d->n; i++) {
        json_object *rl, *sl, *recs;
        assert_true(json_object_object_get_ex(d->line[i], "resourceLogs", &rl));
        for (size_t j = 0; j < json_object_array_length(rl); j++) {
            assert_true(
                json_object_object_get_ex(json_object_array_get_idx(rl, j), "scopeLogs", &sl));
            for (size_t k = 0; k < json_object_array_length(sl); k++) {
                assert_true(json_object_object_get_ex(json_object_array_get_idx(sl, k),
                                                      "logRecords", &recs));
                for (size_t m = 0; m < json_object_array_length(recs); m++) {
                    const char *t = ft_str(json_object_array_get_idx(recs, m), "timeUnixNano");
                    assert_non_null(t);
                    if (n < max)
                        snprintf(times[n], 24, "%s", t);
                    n++;
                }
            }
        }
    }
    return n;
}

static void test_otlp_rotation_by_size(void **state)
{
    otelc_options_t o;
    ft_piece_t pieces[64];
    char times[400][24];
    size_t n;
    ft_doc_t d;

    (void)state;
    ft_options(&o);
    otelc_file_options(&o)->format = OTELC_FILE_FORMAT_OTLP;
    otelc_file_options(&o)->max_bytes = 4096;
    otelc_file_options(&o)->max_files = 100;
    o.logs_batch.schedule_delay_ms = 60000;
    ft_start(&o);
    /* One request line per batch of ten; each record one microsecond
     * after the one before, so that the times say the order. */
    for (int i = 0; i < 300; i++) {
        ft_set_time(FT_T0 + (uint64_t)i * 1000u);
        log_seq("trading.orders", i, i + 1);
        if (i % 10 == 9)
            ft_flush();
    }

    n = ft_pieces("trading", pieces, 64);
    assert_true(n >= 4 && n < 64);
    for (size_t i = 0; i < n; i++)
        assert_true(file_size(pieces[i].name) <= 4096);
    d = ft_channel_doc("trading");
    assert_int_equal(d.n, 30);
    assert_int_equal(otlp_times(&d, times, 400), 300);
    for (int i = 0; i < 300; i++) {
        char want[24];
        snprintf(want, sizeof(want), "%llu", (unsigned long long)(FT_T0 + (uint64_t)i * 1000u));
        assert_string_equal(times[i], want);
    }
    ft_doc_free(&d);
}

/*
 * In the otlp format a batch becomes one request line per channel; a batch
 * that straddles midnight must still leave the old day's records in the old
 * day's file ("The date of a rotated file is the local date of the records
 * it holds", FORMAT.md): the line is cut at the day change.
 */
static void test_otlp_rotation_at_midnight_in_one_batch(void **state)
{
    otelc_options_t o;
    ft_piece_t pieces[8];
    char times[8][24];
    ft_doc_t d;

    (void)state;
    ft_options(&o);
    otelc_file_options(&o)->format = OTELC_FILE_FORMAT_OTLP;
    o.logs_batch.schedule_delay_ms = 60000;
    ft_start(&o);
    ft_set_time((FT_DAY1_END_S - 10) * FT_NS);
    log_seq("trading.orders", 0, 1);
    ft_flush();
    /* One batch: two records of the first day, three of the second. */
    ft_set_time(FT_DAY1_END_S * FT_NS);
    log_seq("trading.orders", 1, 3);
    ft_set_time((FT_DAY2_BEGIN_S + 1) * FT_NS);
    log_seq("trading.orders", 3, 6);
    ft_flush();

    assert_int_equal(ft_pieces("trading", pieces, 8), 2);
    d = ft_doc("trading.log.2026-03-10");
    assert_int_equal(otlp_times(&d, times, 8), 3);
    for (int i = 0; i < 3; i++)
        assert_true(strtoull(times[i], NULL, 10) < FT_DAY2_BEGIN_S * FT_NS);
    ft_doc_free(&d);
    d = ft_doc("trading.log");
    assert_int_equal(otlp_times(&d, times, 8), 3);
    for (int i = 0; i < 3; i++)
        assert_true(strtoull(times[i], NULL, 10) >= FT_DAY2_BEGIN_S * FT_NS);
    ft_doc_free(&d);
}

/* ---- retention ------------------------------------------------------------------ */

static void put_empty(const char *name)
{
    ft_put_file(name, "", FT_T0_S - 3600);
}

static void expect_exists(const char *name, bool want)
{
    if (ft_exists(name) != want)
        fail_msg("%s: %s, want it %s", name, want ? "gone" : "still there",
                 want ? "kept" : "deleted");
}

static void test_retention_deletes_old_pieces(void **state)
{
    static const otelc_file_channel_t channels[] = { { .name = "trading", .retention_days = 5 } };
    otelc_options_t o;

    (void)state;
    /* Today is 2026-03-10 for the exporter (the injected clock). */
    put_empty("trading.log.2026-02-01");
    put_empty("trading.log.2026-02-01.1.gz");
    put_empty("trading.log.2026-03-04.gz");
    put_empty("trading.log.2026-03-06");
    put_empty("trading.log.2026-03-09.2.gz");
    ft_put_file("trading.log", old_line, FT_T0_S - 60);
    put_empty("trading.log.old");
    put_empty("notes.txt");
    put_empty("audit.log.2025-06-01");
    put_empty("audit.log.2025-01-01.gz");
    put_empty("application.log.2026-02-20");
    put_empty("application.log.2026-03-01.gz");

    ft_options(&o);
    otelc_file_options(&o)->channels = channels;
    otelc_file_options(&o)->n_channels = 1;
    ft_start(&o);
    log_seq("monitoring", 0, 1);
    ft_flush();

    /* trading: 5 days, as configured. */
    expect_exists("trading.log.2026-02-01", false);
    expect_exists("trading.log.2026-02-01.1.gz", false);
    expect_exists("trading.log.2026-03-04.gz", false);
    expect_exists("trading.log.2026-03-06", true);
    expect_exists("trading.log.2026-03-09.2.gz", true);
    expect_exists("trading.log", true);
    assert_int_equal(ft_lines("trading.log"), 1);
    /* Not pieces of a channel: never touched. */
    expect_exists("trading.log.old", true);
    expect_exists("notes.txt", true);
    /* audit: a year; application: two weeks (the built-in table). */
    expect_exists("audit.log.2025-06-01", true);
    expect_exists("audit.log.2025-01-01.gz", false);
    expect_exists("application.log.2026-02-20", false);
    expect_exists("application.log.2026-03-01.gz", true);
    expect_file_seq("monitoring.log", 0, 1);
}

static void test_retention_from_env_and_today_moves(void **state)
{
    otelc_options_t o;

    (void)state;
    setenv("OTELC_FILE_CHANNEL_RETENTION", "audit=2,trading=7", 1);
    put_empty("audit.log.2026-03-01");
    put_empty("audit.log.2026-03-09.gz");
    put_empty("trading.log.2026-03-04");

    assert_int_equal(otelc_options_init(&o), OTELC_OK);
    o.traces_exporter = "file";
    o.logs_exporter = "file";
    o.level = OTELC_SEV_TRACE;
    otelc_file_options(&o)->directory = ft_dir;
    o.clock_fn = ft_clock;
    o.logs_batch.schedule_delay_ms = 10;
    ft_start(&o);
    /* otelc_init() copied what it keeps of the environment. */
    unsetenv("OTELC_FILE_CHANNEL_RETENTION");
    log_seq("monitoring", 0, 1);
    ft_flush();
    expect_exists("audit.log.2026-03-01", false);
    expect_exists("audit.log.2026-03-09.gz", true);
    expect_exists("trading.log.2026-03-04", true);

    /* Three days later by the exporter's clock, the trading piece is ten
     * days old. */
    ft_set_time(FT_T0 + 3 * FT_DAY_S * FT_NS);
    log_seq("monitoring", 1, 2);
    ft_flush();
    expect_exists("trading.log.2026-03-04", false);
    expect_exists("audit.log.2026-03-09.gz", false);
    expect_file_seq("monitoring.log.2026-03-10", 0, 1);
    expect_file_seq("monitoring.log", 1, 2);
}

static void test_retention_zero_keeps_everything(void **state)
{
    otelc_options_t o;

    (void)state;
    put_empty("trading.log.2020-01-01");
    put_empty("audit.log.2019-05-05.gz");
    put_empty("application.log.2021-01-01.3");
    put_empty("errors.log.2024-02-29.gz");

    ft_options(&o);
    otelc_file_options(&o)->retention_days = 0;
    ft_start(&o);
    log_seq("monitoring", 0, 1);
    ft_flush();
    ft_set_time(FT_T0 + FT_DAY_S * FT_NS);
    log_seq("monitoring", 1, 2);
    ft_flush();

    expect_exists("trading.log.2020-01-01", true);
    expect_exists("audit.log.2019-05-05.gz", true);
    expect_exists("application.log.2021-01-01.3", true);
    expect_exists("errors.log.2024-02-29.gz", true);
}

/* ---- compression ------------------------------------------------------------------ */

static bool is_gzip(const char *name)
{
    char p[FT_PATH];
    unsigned char magic[2] = { 0, 0 };
    FILE *f = fopen(ft_path(p, name), "rb");

    assert_non_null(f);
    assert_int_equal(fread(magic, 1, 2, f), 2);
    fclose(f);
    return magic[0] == 0x1f && magic[1] == 0x8b;
}

/* No file of the directory ends with ".tmp". */
static void expect_no_tmp(void)
{
    DIR *d = opendir(ft_dir);
    struct dirent *de;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n > 4 && strcmp(de->d_name + n - 4, ".tmp") == 0)
            fail_msg("%s left in the directory", de->d_name);
    }
    closedir(d);
}

static void test_compress_rotated_pieces(void **state)
{
    otelc_options_t o;
    ft_piece_t pieces[64];
    mode_t old_mask = umask(022);
    size_t n;
    ft_doc_t d;

    (void)state;
    ft_options(&o);
    otelc_file_options(&o)->max_bytes = 4096;
    otelc_file_options(&o)->max_files = 100;
    otelc_file_options(&o)->compress = true;
    ft_start(&o);
    log_seq("trading.orders", 0, 150);
    ft_flush();
    log_seq("trading.orders", 150, 300);
    ft_flush();
    umask(old_mask);

    n = ft_pieces("trading", pieces, 64);
    assert_true(n >= 4 && n < 64);
    assert_string_equal(pieces[0].name, "trading.log.2026-03-10.gz");
    for (size_t i = 0; i + 1 < n; i++) {
        if (!pieces[i].gz || !is_gzip(pieces[i].name))
            fail_msg("%s is not gzip-compressed", pieces[i].name);
        assert_int_equal(pieces[i].n, i);
        assert_int_equal(mode_of(ft_dir, pieces[i].name), 0640);
    }
    assert_string_equal(pieces[n - 1].name, "trading.log");
    expect_no_tmp();

    /* Decompressed by zlib, the pieces and the current file give every
     * record once, in order, in whole lines. */
    d = ft_channel_doc("trading");
    expect_seq(&d, 0, 300, "trading (compressed pieces)");
    ft_doc_free(&d);
}

/* gzgets, line by line, as a user's reader would. */
static void test_compress_daily_piece_read_with_gzgets(void **state)
{
    otelc_options_t o;
    char p[FT_PATH], line[4096];
    gzFile gz;
    int seq = 0;

    (void)state;
    ft_options(&o);
    otelc_file_options(&o)->compress = true;
    ft_start(&o);
    ft_set_time((FT_DAY1_END_S - 10) * FT_NS);
    log_seq("trading.orders", 0, 20);
    ft_flush();
    ft_set_time((FT_DAY2_BEGIN_S + 10) * FT_NS);
    log_seq("trading.orders", 20, 21);
    ft_flush();

    expect_exists("trading.log.2026-03-10", false);
    assert_true(is_gzip("trading.log.2026-03-10.gz"));
    gz = gzopen(ft_path(p, "trading.log.2026-03-10.gz"), "rb");
    assert_non_null(gz);
    while (gzgets(gz, line, sizeof(line)) != NULL) {
        size_t n = strlen(line);
        json_object *obj;

        assert_true(n > 0 && line[n - 1] == '\n');
        obj = ft_parse(line, n - 1);
        assert_non_null(obj);
        assert_int_equal(ft_int(obj, "seq"), seq);
        json_object_put(obj);
        seq++;
    }
    assert_int_equal(gzclose(gz), Z_OK);
    assert_int_equal(seq, 20);
    expect_file_seq("trading.log", 20, 21);
    expect_no_tmp();
}

/* ---- modes ---------------------------------------------------------------------- */

/* A session writing to ft_dir/<top>/logs, which does not exist yet, under
 * umask `mask`. */
static void check_modes(const char *top, mode_t mask)
{
    char dir[FT_PATH], topdir[FT_PATH];
    otelc_options_t o;
    ft_piece_t pieces[16];
    mode_t old_mask = umask(mask);
    size_t n;

    assert_true(snprintf(topdir, sizeof(topdir), "%s/%s", ft_dir, top) < (int)sizeof(topdir));
    assert_true(snprintf(dir, sizeof(dir), "%s/logs", topdir) < (int)sizeof(dir));
    ft_options(&o);
    otelc_file_options(&o)->directory = dir;
    otelc_file_options(&o)->max_bytes = 2048;
    ft_start(&o);
    log_seq("trading.orders", 0, 20);
    OTELC_ERROR(otelc_logger("db"), "failed");
    {
        OTELC_SPAN("work");
    }
    ft_flush();
    ft_end();
    umask(old_mask);

    /* The directories made on the way, 0750. */
    assert_int_equal(mode_of(ft_dir, top), 0750);
    assert_int_equal(mode_of(topdir, "logs"), 0750);
    /* The files, current and rotated, 0640. */
    assert_int_equal(mode_of(dir, "database.log"), 0640);
    assert_int_equal(mode_of(dir, "errors.log"), 0640);
    assert_int_equal(mode_of(dir, "traces.log"), 0640);
    n = ft_pieces_in(dir, "trading", pieces, 16);
    assert_true(n >= 2 && n <= 16);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(mode_of(dir, pieces[i].name), 0640);
}

static void test_file_modes_and_missing_directory(void **state)
{
    (void)state;
    /* The usual umask, then none at all: the modes are the exporter's,
     * not 0666 or 0777 narrowed by the umask. */
    check_modes("a", 022);
    check_modes("b", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rotation_by_size, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_rotation_line_longer_than_max_bytes, ft_setup,
                                        ft_teardown),
        cmocka_unit_test_setup_teardown(test_rotation_continues_after_restart, ft_setup,
                                        ft_teardown),
        cmocka_unit_test_setup_teardown(test_rotation_keeps_max_files, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_rotation_at_local_midnight, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_no_daily_rotation_when_off, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_leftover_file_rotated_to_its_day, ft_setup,
                                        ft_teardown),
        cmocka_unit_test_setup_teardown(test_otlp_rotation_by_size, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_otlp_rotation_at_midnight_in_one_batch, ft_setup,
                                        ft_teardown),
        cmocka_unit_test_setup_teardown(test_retention_deletes_old_pieces, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_retention_from_env_and_today_moves, ft_setup,
                                        ft_teardown),
        cmocka_unit_test_setup_teardown(test_retention_zero_keeps_everything, ft_setup,
                                        ft_teardown),
        cmocka_unit_test_setup_teardown(test_compress_rotated_pieces, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_compress_daily_piece_read_with_gzgets, ft_setup,
                                        ft_teardown),
        cmocka_unit_test_setup_teardown(test_file_modes_and_missing_directory, ft_setup,
                                        ft_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
