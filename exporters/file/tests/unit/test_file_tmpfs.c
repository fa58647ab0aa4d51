/*
 * test_file_tmpfs.c: the file exporter on a file system that is really full
 * (ENOSPC), not a file-size limit: a small tmpfs mounted in a private mount
 * namespace of a child process. The disk fills, the loss is counted and
 * reported, space is freed, and writing must resume by itself: the records
 * logged afterwards reach the file as whole lines, and every record is
 * exported or counted as dropped.
 *
 * Skipped where the kernel refuses the namespace or the mount (a container
 * without the capability).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <otelc/file.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "file_test.h"

/* The tmpfs, and the ballast that takes most of it. */
#define TMPFS_BYTES (256u * 1024u)
#define BALLAST_BYTES (200u * 1024u)
#define BATCH 16
/* Records logged into the full disk: far more than the room left. */
#define FULL_RECORDS 4000
#define RESUME_FROM 100000
#define RESUME_N 40

typedef struct result {
    int failed_step; /* 0: every step done; -1: no namespace or mount here */
    bool resumed;
    uint64_t produced, exported, dropped_exporter, dropped_other;
    uint64_t exported_before_free, dropped_before_free;
} result_t;

/* True when the file at `path` has a whole line for every seq of
 * RESUME_FROM..RESUME_FROM+RESUME_N-1. */
static bool resumed_lines_there(const char *path)
{
    return ft_seq_lines_from(path, RESUME_FROM) == RESUME_N;
}

static bool write_ballast(const char *path)
{
    static char block[4096];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    bool ok = fd >= 0;

    memset(block, 'b', sizeof(block));
    for (size_t done = 0; ok && done < BALLAST_BYTES; done += sizeof(block))
        ok = write(fd, block, sizeof(block)) == (ssize_t)sizeof(block);
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    return ok;
}

/* The child: its own mount namespace and tmpfs, stderr to a file. Never
 * returns. */
static void tmpfs_child(int out, const char *mnt, const char *errpath)
{
    result_t r;
    otelc_options_t o;
    otelc_stats_t s;
    char logdir[FT_PATH + 32], ballast[FT_PATH + 32], file[FT_PATH + 32];
    uint64_t deadline;
    int fd;

    memset(&r, 0, sizeof(r));
    snprintf(logdir, sizeof(logdir), "%s/logs", mnt);
    snprintf(ballast, sizeof(ballast), "%s/ballast", mnt);
    snprintf(file, sizeof(file), "%s/logs/trading.log", mnt);
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", mnt, "tmpfs", 0, "size=256k") != 0) {
        r.failed_step = -1;
        goto done;
    }
    fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || dup2(fd, STDERR_FILENO) < 0 || !write_ballast(ballast)) {
        r.failed_step = 1;
        goto done;
    }
    ft_options(&o);
    o.traces_exporter = "none";
    otelc_file_options(&o)->directory = logdir;
    otelc_file_options(&o)->max_bytes = 0;
    o.logs_batch.max_export_batch_size = BATCH;
    o.logs_batch.schedule_delay_ms = 10;
    if (otelc_init(&o) != OTELC_OK) {
        r.failed_step = 2;
        goto done;
    }
    for (int i = 0; i < FULL_RECORDS; i += BATCH) {
        ft_log_seq("trading.orders", i, i + BATCH);
        if (otelc_flush(10000) != OTELC_OK) {
            r.failed_step = 3;
            goto done;
        }
    }
    otelc_stats(&s);
    r.exported_before_free = s.logs.exported;
    r.dropped_before_free = s.logs.dropped[OTELC_DROP_EXPORTER];
    /* Space comes back; the next records must reach the file without
     * anything else happening (no flush: the batch delay sends them). */
    if (unlink(ballast) != 0) {
        r.failed_step = 4;
        goto done;
    }
    ft_log_seq("trading.orders", RESUME_FROM, RESUME_FROM + RESUME_N);
    deadline = otelc__mono_ns() + 10 * FT_NS;
    while (!(r.resumed = resumed_lines_there(file)) && otelc__mono_ns() < deadline) {
        struct timespec ts = { 0, 5000000 };
        nanosleep(&ts, NULL);
    }
    if (otelc_flush(10000) != OTELC_OK) {
        r.failed_step = 5;
        goto done;
    }
    otelc_stats(&s);
    r.produced = s.logs.produced;
    r.exported = s.logs.exported;
    r.dropped_exporter = s.logs.dropped[OTELC_DROP_EXPORTER];
    r.dropped_other = otelc_signal_stats_dropped(&s.logs) - r.dropped_exporter;
    /* The lines are read back by the parent: keep a copy outside the
     * tmpfs, which goes with this namespace. */
    {
        size_t len;
        char *text = ft_slurp(file, &len), copy[FT_PATH];
        int cfd;

        ft_path(copy, "trading.log.copy");
        cfd = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (text == NULL || cfd < 0 || write(cfd, text, len) != (ssize_t)len || close(cfd) != 0)
            r.failed_step = 6;
        free(text);
    }
    (void)otelc_shutdown(5000);
done:
    if (write(out, &r, sizeof(r)) != (ssize_t)sizeof(r))
        _exit(3);
    _exit(0);
}

static void test_full_tmpfs_then_space_freed(void **state)
{
    char mnt[FT_PATH], errpath[FT_PATH], p[FT_PATH];
    result_t r;
    int fds[2], status;
    pid_t pid;
    char *text, *err;
    size_t len, err_len, whole = 0, bad = 0, resumed = 0;
    const char *at;

    (void)state;
    ft_path(mnt, "mnt");
    ft_path(errpath, "stderr.txt");
    assert_int_equal(mkdir(mnt, 0700), 0);
    assert_int_equal(pipe(fds), 0);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        tmpfs_child(fds[1], mnt, errpath);
    }
    close(fds[1]);
    memset(&r, 0, sizeof(r));
    assert_int_equal(read(fds[0], &r, sizeof(r)), (ssize_t)sizeof(r));
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (r.failed_step == -1)
        skip(); /* no mount namespace or tmpfs for this process */
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(r.failed_step, 0);

    /* The disk filled: records were lost, counted with reason exporter,
     * and some were written before that. */
    assert_true(r.exported_before_free > 0);
    assert_true(r.dropped_before_free > 0);
    /* Writing resumed by itself once space was freed. */
    assert_true(r.resumed);
    /* Every record exported or dropped with a reason. */
    assert_int_equal(r.produced, FULL_RECORDS + RESUME_N);
    assert_int_equal(r.exported + r.dropped_exporter + r.dropped_other, r.produced);
    assert_int_equal(r.dropped_other, 0);

    /* The loss was reported, with the cause, and not once per batch. */
    err = ft_slurp(errpath, &err_len);
    assert_non_null(err);
    printf("%s", err);
    assert_non_null(strstr(err, "No space left on device"));
    {
        size_t lines = 0;

        for (size_t i = 0; i < err_len; i++)
            lines += err[i] == '\n';
        assert_true(lines <= 4);
    }
    free(err);

    /* What is in the file is whole lines, exactly the records counted
     * exported; the ones logged after space came back among them. */
    text = ft_slurp(ft_path(p, "trading.log.copy"), &len);
    assert_non_null(text);
    assert_true(len > 0 && text[len - 1] == '\n');
    for (at = text; at < text + len;) {
        const char *nl = memchr(at, '\n', (size_t)(text + len - at));
        json_object *o = ft_parse(at, (size_t)(nl - at)), *v;

        if (o == NULL) {
            bad++;
        } else {
            whole++;
            if (json_object_object_get_ex(o, "seq", &v) && json_object_get_int64(v) >= RESUME_FROM)
                resumed++;
            json_object_put(o);
        }
        at = nl + 1;
    }
    free(text);
    assert_int_equal(bad, 0);
    assert_int_equal(whole, r.exported);
    assert_int_equal(resumed, RESUME_N);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_tmpfs_then_space_freed, ft_setup, ft_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
