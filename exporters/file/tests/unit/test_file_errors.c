/*
 * test_file_errors.c: the file exporter when the files cannot be written: a
 * file-size limit reached (the disk-full case, RLIMIT_FSIZE in a child
 * process so that this process keeps its own limit), a directory that
 * cannot be made, a channel whose path is taken by a directory. In every
 * case the application goes on, the records are counted as dropped by the
 * exporter, one diagnostic names the file and the cause, and what is in
 * the files is whole lines only.
 */
#include <setjmp.h>
#include <otelc/file.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <linux/fs.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "file_test.h"

/* Asserts that ft_dir/file holds records seq 0..n-1, whole lines. */
static void expect_seq_file(const char *file, size_t n)
{
    ft_doc_t d = ft_doc(file);

    if (d.n != n)
        fail_msg("%s: %zu lines, want %zu", file, d.n, n);
    for (size_t i = 0; i < d.n; i++)
        assert_int_equal(ft_int(d.line[i], "seq"), (int64_t)i);
    ft_doc_free(&d);
}

/* ---- a file-size limit (disk full) ---------------------------------------- */

#define FSIZE_LIMIT 8192
#define CHILD_BATCHES 25
#define CHILD_BATCH 8

/* What the child reports through a pipe. */
typedef struct child_result {
    int failed_step; /* 0: every step done */
    uint64_t produced, exported, dropped_exporter, dropped_other;
} child_result_t;

/* The child: stderr to a file, a small RLIMIT_FSIZE, then logging well past
 * it in batches of CHILD_BATCH records. Never returns. */
static void disk_full_child(int out, const char *logdir, const char *errpath)
{
    child_result_t r;
    otelc_options_t o;
    otelc_stats_t s;
    struct rlimit rl;
    int fd;

    memset(&r, 0, sizeof(r));
    fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || dup2(fd, STDERR_FILENO) < 0) {
        r.failed_step = 1;
        goto done;
    }
    if (getrlimit(RLIMIT_FSIZE, &rl) != 0) {
        r.failed_step = 2;
        goto done;
    }
    rl.rlim_cur = FSIZE_LIMIT;
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0) {
        r.failed_step = 3;
        goto done;
    }
    ft_options(&o);
    o.traces_exporter = "none";
    otelc_file_options(&o)->directory = logdir;
    otelc_file_options(&o)->max_bytes = 0;
    o.logs_batch.max_export_batch_size = CHILD_BATCH;
    o.logs_batch.schedule_delay_ms = 60000;
    if (otelc_init(&o) != OTELC_OK) {
        r.failed_step = 4;
        goto done;
    }
    for (int b = 0; b < CHILD_BATCHES; b++) {
        ft_log_seq("trading.orders", b * CHILD_BATCH, (b + 1) * CHILD_BATCH);
        if (otelc_flush(10000) != OTELC_OK) {
            r.failed_step = 5;
            goto done;
        }
    }
    otelc_stats(&s);
    r.produced = s.logs.produced;
    r.exported = s.logs.exported;
    r.dropped_exporter = s.logs.dropped[OTELC_DROP_EXPORTER];
    r.dropped_other = otelc_signal_stats_dropped(&s.logs) - r.dropped_exporter + s.logs.pending;
done:
    if (write(out, &r, sizeof(r)) != (ssize_t)sizeof(r))
        _exit(3);
    _exit(0);
}

static void test_disk_full_keeps_whole_lines(void **state)
{
    char logdir[FT_PATH], errpath[FT_PATH], p[FT_PATH];
    child_result_t r;
    int fds[2], status;
    pid_t pid;
    char *err;
    size_t len;
    struct stat st;

    (void)state;
    ft_path(logdir, "logs");
    ft_path(errpath, "stderr.txt");
    assert_int_equal(pipe(fds), 0);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        disk_full_child(fds[1], logdir, errpath);
    }
    close(fds[1]);
    memset(&r, 0, sizeof(r));
    assert_int_equal(read(fds[0], &r, sizeof(r)), (ssize_t)sizeof(r));
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);

    /* The application went on: no death by SIGXFSZ. */
    if (WIFSIGNALED(status))
        fail_msg("the child died of signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(r.failed_step, 0);

    /* Some batches fit, the others were dropped by the exporter. */
    assert_int_equal(r.produced, CHILD_BATCHES * CHILD_BATCH);
    assert_int_equal(r.dropped_other, 0);
    assert_int_equal(r.exported + r.dropped_exporter, r.produced);
    assert_true(r.exported >= CHILD_BATCH);
    assert_true(r.dropped_exporter >= CHILD_BATCH);

    /* Whole lines only: exactly the exported records, in order, none cut. */
    assert_int_equal(stat(ft_path(p, "logs/trading.log"), &st), 0);
    assert_true(st.st_size <= FSIZE_LIMIT);
    expect_seq_file("logs/trading.log", (size_t)r.exported);

    /* One diagnostic naming the file and the cause. */
    err = ft_slurp(errpath, &len);
    assert_non_null(err);
    if (ft_count_lines_with(err, "trading.log", NULL, NULL) != 1 ||
        ft_count_lines_with(err, "trading.log", strerror(EFBIG), NULL) != 1)
        fail_msg("want one line naming trading.log and '%s' on stderr, got:\n%s", strerror(EFBIG),
                 err);
    free(err);
}

/* ---- writing resumes once there is room again ----------------------------------- */

#define RESUME_FROM 1000
#define RESUME_N 8

typedef struct resume_result {
    int failed_step; /* 0: every step done; -1: append-only files not supported */
    uint64_t exported, dropped;
    int resumed; /* the records logged after the room came back reached the file */
} resume_result_t;

/* True when the file at `path` has a whole line for every seq of
 * RESUME_FROM..RESUME_FROM+RESUME_N-1. */
static bool resumed_lines_there(const char *path)
{
    return ft_seq_lines_from(path, RESUME_FROM) == RESUME_N;
}

/* Sets or clears the append-only flag of `path` (root only): a file that
 * cannot be cut back, so that a failed write leaves its partial line. */
static bool set_append_only(const char *path, bool on)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int flags = 0;
    bool ok = false;

    if (fd < 0)
        return false;
    if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
        flags = on ? flags | FS_APPEND_FL : flags & ~FS_APPEND_FL;
        ok = ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
    }
    close(fd);
    return ok;
}

/*
 * The child: a file-size limit that the records run into, then the limit
 * raised again (room freed), then RESUME_N more records, awaited in the
 * file with a deadline. With `append_only`, trading.log cannot be cut back,
 * so the write that failed leaves a cut line. Never returns.
 */
static void resume_child(int out, const char *logdir, const char *errpath, bool append_only)
{
    resume_result_t r;
    otelc_options_t o;
    otelc_stats_t s;
    struct rlimit rl, full;
    char file[FT_PATH];
    uint64_t deadline;
    int fd;

    memset(&r, 0, sizeof(r));
    ft_path(file, "logs/trading.log");
    fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || dup2(fd, STDERR_FILENO) < 0 || mkdir(logdir, 0700) != 0) {
        r.failed_step = 1;
        goto done;
    }
    fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || close(fd) != 0) {
        r.failed_step = 2;
        goto done;
    }
    if (append_only && !set_append_only(file, true)) {
        r.failed_step = -1;
        goto done;
    }
    if (getrlimit(RLIMIT_FSIZE, &full) != 0) {
        r.failed_step = 3;
        goto done;
    }
    rl = full;
    rl.rlim_cur = FSIZE_LIMIT;
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0) {
        r.failed_step = 4;
        goto done;
    }
    ft_options(&o);
    o.traces_exporter = "none";
    otelc_file_options(&o)->directory = logdir;
    otelc_file_options(&o)->max_bytes = 0;
    o.logs_batch.max_export_batch_size = CHILD_BATCH;
    o.logs_batch.schedule_delay_ms = 10;
    if (otelc_init(&o) != OTELC_OK) {
        r.failed_step = 5;
        goto done;
    }
    for (int b = 0; b < CHILD_BATCHES; b++) {
        ft_log_seq("trading.orders", b * CHILD_BATCH, (b + 1) * CHILD_BATCH);
        if (otelc_flush(10000) != OTELC_OK) {
            r.failed_step = 6;
            goto done;
        }
    }
    /* The room comes back; the next records must reach the file without
     * anything else happening (no flush: the batch delay sends them). */
    if (setrlimit(RLIMIT_FSIZE, &full) != 0) {
        r.failed_step = 7;
        goto done;
    }
    ft_log_seq("trading.orders", RESUME_FROM, RESUME_FROM + RESUME_N);
    deadline = otelc__mono_ns() + 10 * FT_NS;
    while (!(r.resumed = resumed_lines_there(file)) && otelc__mono_ns() < deadline) {
        struct timespec ts = { 0, 5000000 };
        nanosleep(&ts, NULL);
    }
    if (otelc_flush(10000) != OTELC_OK) {
        r.failed_step = 8;
        goto done;
    }
    otelc_stats(&s);
    r.exported = s.logs.exported;
    r.dropped = otelc_signal_stats_dropped(&s.logs);
done:
    if (write(out, &r, sizeof(r)) != (ssize_t)sizeof(r))
        _exit(3);
    _exit(0);
}

static void run_resume(bool append_only)
{
    char logdir[FT_PATH], errpath[FT_PATH], p[FT_PATH];
    resume_result_t r;
    int fds[2], status;
    pid_t pid;
    char *text;
    size_t len, whole = 0, bad = 0, after_bad = 0;
    const char *at;

    ft_path(logdir, "logs");
    ft_path(errpath, "stderr.txt");
    assert_int_equal(pipe(fds), 0);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        resume_child(fds[1], logdir, errpath, append_only);
    }
    close(fds[1]);
    memset(&r, 0, sizeof(r));
    assert_int_equal(read(fds[0], &r, sizeof(r)), (ssize_t)sizeof(r));
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    /* The teardown must be able to delete the file, whatever follows. */
    if (append_only)
        (void)set_append_only(ft_path(p, "logs/trading.log"), false);
    if (r.failed_step == -1)
        skip(); /* append-only files need root and a file system that has them */
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(r.failed_step, 0);

    /* Writing resumed: the records logged after the room came back are in
     * the file, found by polling it (not by a flush). */
    assert_true(r.resumed);
    assert_int_equal(r.exported + r.dropped, CHILD_BATCHES * CHILD_BATCH + RESUME_N);
    assert_true(r.dropped >= CHILD_BATCH);

    /* Every line is a whole record but, with append-only, the one the
     * failed write cut; the exported records are exactly the whole lines. */
    text = ft_slurp(ft_path(p, "logs/trading.log"), &len);
    assert_non_null(text);
    assert_true(len > 0 && text[len - 1] == '\n');
    for (at = text; at < text + len;) {
        const char *nl = memchr(at, '\n', (size_t)(text + len - at));
        json_object *o = ft_parse(at, (size_t)(nl - at));

        if (o == NULL) {
            bad++;
        } else {
            whole++;
            after_bad += bad > 0;
            json_object_put(o);
        }
        at = nl + 1;
    }
    free(text);
    assert_int_equal(whole, r.exported);
    assert_int_equal(bad, append_only ? 1 : 0);
    if (append_only)
        assert_true(after_bad >= RESUME_N);
}

static void test_writing_resumes_when_room_comes_back(void **state)
{
    (void)state;
    run_resume(false);
}

/* The write that failed could not be cut back: its partial line stays,
 * and the next write starts on a fresh line. */
static void test_failed_write_not_cut_back_next_starts_fresh(void **state)
{
    (void)state;
    run_resume(true);
}

/* ---- the log directory removed while the files are open ------------------------ */

/*
 * rm -rf of the log directory while otelc writes: the next batch makes the
 * directory again and writes to new files, with one diagnostic naming the
 * file; no record is counted exported that is not in a file.
 */
static void test_removed_directory_is_made_again(void **state)
{
    otelc_options_t o;
    otelc_stats_t s;
    char dir[FT_PATH];
    char *err;

    (void)state;
    ft_path(dir, "logs");
    ft_stderr_begin();
    ft_options(&o);
    o.traces_exporter = "none";
    otelc_file_options(&o)->directory = dir;
    o.logs_batch.schedule_delay_ms = 60000;
    ft_start(&o);
    ft_log_seq("trading.orders", 0, 3);
    ft_flush();
    expect_seq_file("logs/trading.log", 3);

    ft_rm_rf(dir);
    assert_false(ft_exists("logs"));
    ft_log_seq("trading.orders", 0, 4);
    ft_flush();
    expect_seq_file("logs/trading.log", 4);

    /* The new file goes on being written, with no new diagnostic. */
    ft_log_seq("trading.orders", 4, 6);
    ft_flush();
    ft_stats(&s);
    ft_end();
    err = ft_stderr_end();

    expect_seq_file("logs/trading.log", 6);
    assert_int_equal(s.logs.produced, 9);
    assert_int_equal(s.logs.exported, 9);
    assert_int_equal(otelc_signal_stats_dropped(&s.logs), 0);
    if (ft_count_lines_with(err, "logs/trading.log", "deleted", NULL) != 1 ||
        ft_count_lines_with(err, NULL, NULL, NULL) != 1)
        fail_msg("want one line naming logs/trading.log and 'deleted' on stderr, got:\n%s", err);
    free(err);
}

/* ---- a failure that loses nothing says so ------------------------------------- */

/*
 * Retention cannot delete an old piece (a directory by that name stands
 * for a directory the process may not write): the diagnostic says the
 * file stays and that no record is lost, and the records are exported.
 */
static void test_failure_without_loss_says_so(void **state)
{
    otelc_options_t o;
    otelc_stats_t s;
    char p[FT_PATH];
    char *err;

    (void)state;
    assert_int_equal(mkdir(ft_path(p, "trading.log.2020-01-01"), 0700), 0);
    ft_stderr_begin();
    ft_options(&o);
    o.traces_exporter = "none";
    ft_start(&o);
    ft_log_seq("trading.orders", 0, 3);
    ft_flush();
    ft_stats(&s);
    ft_end();
    err = ft_stderr_end();

    assert_int_equal(s.logs.exported, 3);
    expect_seq_file("trading.log", 3);
    if (ft_count_lines_with(err, "cannot delete", "trading.log.2020-01-01", "no record is lost") !=
            1 ||
        ft_count_lines_with(err, "records dropped", NULL, NULL) != 0)
        fail_msg("want one line saying the piece stays and no record is lost, got:\n%s", err);
    free(err);
}

/* ---- a compression cut short by a kill -------------------------------------------- */

/* A run killed while compressing left a .gz.tmp beside its piece: the next
 * run's retention removes it, and keeps the piece. */
static void test_leftover_gz_tmp_is_removed(void **state)
{
    otelc_options_t o;

    (void)state;
    ft_put_file("trading.log.2026-03-09", "{\"seq\":0}\n", FT_T0_S - FT_DAY_S);
    ft_put_file("trading.log.2026-03-09.gz.tmp", "\x1f\x8b", FT_T0_S - FT_DAY_S);
    ft_options(&o);
    o.traces_exporter = "none";
    ft_start(&o);
    ft_log_seq("trading.orders", 0, 1);
    ft_flush();
    ft_end();

    assert_false(ft_exists("trading.log.2026-03-09.gz.tmp"));
    assert_true(ft_exists("trading.log.2026-03-09"));
    expect_seq_file("trading.log", 1);
}

/* ---- a directory that cannot be made ---------------------------------------- */

static void test_directory_cannot_be_made(void **state)
{
    otelc_options_t o;
    otelc_stats_t s;
    char dir[FT_PATH], p[FT_PATH];
    char *err, *text;
    size_t len;
    struct stat st;

    (void)state;
    /* A regular file where a directory should be: ENOTDIR, which stops
     * root too (file permissions would not). */
    ft_put_file("afile", "not a directory\n", FT_T0_S);
    ft_path(dir, "afile/logs");
    ft_stderr_begin();
    ft_options(&o);
    otelc_file_options(&o)->directory = dir;
    ft_start(&o);
    ft_log_seq("trading.orders", 0, 10);
    {
        OTELC_SPAN("work");
    }
    ft_flush();
    ft_stats(&s);
    assert_int_equal(s.logs.produced, 10);
    assert_int_equal(s.logs.exported, 0);
    assert_int_equal(s.logs.dropped[OTELC_DROP_EXPORTER], 10);
    assert_int_equal(s.spans.dropped[OTELC_DROP_EXPORTER], 1);

    /* The application goes on, and so does the counting. */
    ft_log_seq("trading.orders", 10, 15);
    ft_flush();
    ft_stats(&s);
    assert_int_equal(s.logs.dropped[OTELC_DROP_EXPORTER], 15);
    assert_int_equal(s.logs.pending, 0);
    ft_end();
    err = ft_stderr_end();

    if (ft_count_lines_with(err, "afile/logs", strerror(ENOTDIR), NULL) != 1)
        fail_msg("want one line naming afile/logs and '%s' on stderr", strerror(ENOTDIR));
    free(err);
    assert_int_equal(stat(ft_path(p, "afile"), &st), 0);
    assert_true(S_ISREG(st.st_mode));
    text = ft_slurp(p, &len);
    assert_non_null(text);
    assert_string_equal(text, "not a directory\n");
    free(text);
}

/* ---- one channel that cannot be opened --------------------------------------- */

static void test_one_channel_unopenable_others_written(void **state)
{
    otelc_options_t o;
    otelc_stats_t s;
    char p[FT_PATH];
    char *err;
    struct stat st;

    (void)state;
    /* trading.log is a directory. */
    assert_int_equal(mkdir(ft_path(p, "trading.log"), 0700), 0);
    ft_stderr_begin();
    ft_options(&o);
    o.logs_batch.schedule_delay_ms = 60000;
    ft_start(&o);
    ft_log_seq("trading.orders", 0, 3);
    ft_log_seq("db", 0, 2);
    ft_flush();
    ft_stats(&s);
    assert_int_equal(s.logs.produced, 5);
    assert_true(s.logs.dropped[OTELC_DROP_EXPORTER] >= 3);
    assert_int_equal(s.logs.exported + s.logs.dropped[OTELC_DROP_EXPORTER], 5);
    /* The other channel of the same batch is written. */
    expect_seq_file("database.log", 2);

    /* A later batch without the broken channel goes through. */
    ft_log_seq("db", 2, 4);
    ft_flush();
    ft_stats(&s);
    assert_int_equal(s.logs.exported + s.logs.dropped[OTELC_DROP_EXPORTER], 7);
    assert_true(s.logs.exported >= 2);
    ft_end();
    err = ft_stderr_end();

    expect_seq_file("database.log", 4);
    assert_int_equal(stat(p, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    if (ft_count_lines_with(err, "trading.log", strerror(EISDIR), NULL) != 1)
        fail_msg("want one line naming trading.log and '%s' on stderr", strerror(EISDIR));
    free(err);
}

/* ---- a file that ends in a cut line ---------------------------------------------- */

/* The lines of ft_dir/name as text: the parsed ones from line `from` on
 * must be seq 0..want-1; the lines before are not looked at. */
static void expect_seq_after(const char *name, size_t from, size_t want)
{
    char p[FT_PATH];
    size_t len;
    char *text = ft_slurp(ft_path(p, name), &len);
    ft_doc_t d = { NULL, 0, 0 };
    const char *at;

    assert_non_null(text);
    at = text;
    for (size_t i = 0; i < from; i++) {
        at = strchr(at, '\n');
        if (at == NULL)
            fail_msg("%s has fewer than %zu lines:\n%s", name, from, text);
        at++;
    }
    ft_doc_add_text(&d, at, len - (size_t)(at - text), name);
    if (d.n != want)
        fail_msg("%s: %zu lines after line %zu, want %zu", name, d.n, from, want);
    for (size_t i = 0; i < d.n; i++)
        assert_int_equal(ft_int(d.line[i], "seq"), (int64_t)i);
    ft_doc_free(&d);
    free(text);
}

/*
 * A run that crashed mid-write left trading.log ending in a cut line. The
 * next run starts on a fresh line: the cut line stays one bad line, and
 * every line after it is a whole record.
 */
static void test_restart_after_cut_line_starts_fresh(void **state)
{
    otelc_options_t o;
    otelc_stats_t s;
    char p[FT_PATH];
    size_t len;
    char *text;

    (void)state;
    ft_put_file("trading.log",
                "{\"seq\":100,\"message\":\"whole\"}\n"
                "{\"timestamp\":\"2026-03-10T12:34:56.123456Z\",\"level\":\"IN",
                FT_T0_S);
    ft_options(&o);
    o.traces_exporter = "none";
    ft_start(&o);
    ft_log_seq("trading.orders", 0, 3);
    ft_flush();
    ft_stats(&s);
    ft_end();

    assert_int_equal(s.logs.exported, 3);
    text = ft_slurp(ft_path(p, "trading.log"), &len);
    assert_non_null(text);
    /* The cut line is still there, ended by the '\n' otelc added. */
    assert_non_null(strstr(text, "\"level\":\"IN\n"));
    free(text);
    expect_seq_after("trading.log", 2, 3);
}

/* ---- a batch that one channel fails ------------------------------------------ */

/*
 * One batch whose trading records cannot be written (trading.log is a
 * directory) while its database records can: the records on disk count as
 * exported, the others as dropped. An ERROR record goes to its channel and
 * to errors.log; it counts as exported only when both have it.
 */
static void test_partial_batch_counts_what_was_written(void **state)
{
    otelc_options_t o;
    otelc_stats_t s;
    otelc_logger_t *trading, *db;
    char p[FT_PATH];
    ft_doc_t d;

    (void)state;
    assert_int_equal(mkdir(ft_path(p, "trading.log"), 0700), 0);
    ft_stderr_begin();
    ft_options(&o);
    o.traces_exporter = "none";
    o.logs_batch.schedule_delay_ms = 60000;
    ft_start(&o);
    trading = otelc_logger("trading.orders");
    db = otelc_logger("db");
    ft_log_seq("trading.orders", 0, 3);
    ft_log_seq("db", 0, 2);
    OTELC_ERROR(db, "db error", OTELC_INT("seq", 2));
    OTELC_ERROR(trading, "trading error", OTELC_INT("seq", 3));
    ft_flush();
    ft_stats(&s);
    ft_end();
    free(ft_stderr_end());

    assert_int_equal(s.logs.produced, 7);
    assert_int_equal(s.logs.pending, 0);
    /* db's three records are whole on disk; trading's four are not (the
     * trading ERROR is in errors.log, but not in trading.log). */
    assert_int_equal(s.logs.exported, 3);
    assert_int_equal(s.logs.dropped[OTELC_DROP_EXPORTER], 4);
    assert_int_equal(otelc_signal_stats_dropped(&s.logs), 4);
    expect_seq_file("database.log", 3);
    d = ft_doc("errors.log");
    assert_int_equal(d.n, 2);
    FT_ASSERT_STR(d.line[0], "message", "db error");
    FT_ASSERT_STR(d.line[1], "message", "trading error");
    ft_doc_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_disk_full_keeps_whole_lines, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_directory_cannot_be_made, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_one_channel_unopenable_others_written, ft_setup,
                                        ft_teardown),
        cmocka_unit_test_setup_teardown(test_partial_batch_counts_what_was_written, ft_setup,
                                        ft_teardown),
        cmocka_unit_test_setup_teardown(test_restart_after_cut_line_starts_fresh, ft_setup,
                                        ft_teardown),
        cmocka_unit_test_setup_teardown(test_writing_resumes_when_room_comes_back, ft_setup,
                                        ft_teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_not_cut_back_next_starts_fresh, ft_setup,
                                        ft_teardown),
        cmocka_unit_test_setup_teardown(test_removed_directory_is_made_again, ft_setup,
                                        ft_teardown),
        cmocka_unit_test_setup_teardown(test_failure_without_loss_says_so, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_leftover_gz_tmp_is_removed, ft_setup, ft_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
