/*
 * test_file_tmpfs.c: the file exporter on a file system that is really full
 * (ENOSPC), not a file-size limit: a small tmpfs mounted in a private mount
 * namespace of a child process. The disk fills, the loss is counted and
 * reported, space is freed, and writing must resume by itself: the records
 * logged afterwards reach the file as whole lines, and every record is
 * exported or counted as dropped.
 *
 * Space comes back three ways, as it does for a user: another file on the
 * disk is deleted (ballast), the rotated pieces of the log are deleted, or
 * the current log file is truncated under the open descriptor.
 *
 * Skipped where the kernel refuses the namespace or the mount (a container
 * without the capability, or no user namespaces for a user who is not
 * root).
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
#include <zlib.h>

#include "file_test.h"

/* The tmpfs, and the ballast that takes most of it. */
#define TMPFS_BYTES (256u * 1024u)
#define BALLAST_BYTES (200u * 1024u)
#define BATCH 16
/* Records logged into the full disk: far more than the room left. */
#define FULL_RECORDS 4000
#define RESUME_FROM 100000
#define RESUME_N 40
#define REFILL_FROM 200000

/* How space is freed once the disk is full. */
typedef enum free_mode {
    FREE_BALLAST, /* another file of the disk is deleted */
    FREE_ROTATED, /* the log's rotated pieces are deleted */
    FREE_TRUNCATE /* the current log file is truncated while open */
} free_mode_t;

typedef struct result {
    int failed_step; /* 0: every step done; -1: no namespace or mount here */
    bool resumed;
    uint64_t produced, exported, dropped_exporter, dropped_other;
    uint64_t exported_before_free, dropped_before_free, exported_after_resume;
} result_t;

/* The whole lines with a seq of RESUME_FROM or more in the file at `path`
 * (read through zlib, which takes a plain file as it is and a .gz
 * decompressed); -1 when it cannot be read. Appends the text to `copy`
 * when it is not NULL. */
static long seq_lines_in(const char *path, FILE *copy)
{
    gzFile gz = gzopen(path, "rb");
    static char text[1u << 20];
    size_t len = 0;
    long found = 0;
    int r;

    if (gz == NULL)
        return -1;
    while (len < sizeof(text) && (r = gzread(gz, text + len, (unsigned)(sizeof(text) - len))) > 0)
        len += (size_t)r;
    (void)gzclose(gz);
    if (copy != NULL && fwrite(text, 1, len, copy) != len)
        return -1;
    for (const char *at = text; at < text + len;) {
        const char *nl = memchr(at, '\n', (size_t)(text + len - at));
        json_object *o, *v;

        if (nl == NULL)
            break;
        o = ft_parse(at, (size_t)(nl - at));
        if (o != NULL && json_object_object_get_ex(o, "seq", &v) &&
            json_object_get_int64(v) >= RESUME_FROM)
            found++;
        json_object_put(o);
        at = nl + 1;
    }
    return found;
}

/* The same over every file of the log directory (the current file and the
 * rotated pieces, compressed or not; not the compressor's .tmp files). */
static long seq_lines_in_dir(const char *dir, FILE *copy)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[FT_PATH + 300];
    long found = 0, n;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);

        if (e->d_name[0] == '.' || (len > 4 && strcmp(e->d_name + len - 4, ".tmp") == 0))
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        n = seq_lines_in(p, copy);
        if (n > 0)
            found += n;
    }
    closedir(d);
    return found;
}

/* Deletes the rotated pieces of the log directory: all but the current
 * file. */
static bool delete_rotated(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[FT_PATH + 300];
    bool ok = d != NULL, any = false;

    while (ok && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "trading.log") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        ok = unlink(p) == 0 || errno == ENOENT;
        any = true;
    }
    if (d != NULL)
        closedir(d);
    return ok && any;
}

/* Writes `text` to the file at `path`. */
static bool write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    bool ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);

    if (fd >= 0 && close(fd) != 0)
        ok = false;
    return ok;
}

/*
 * Enters a mount namespace of this process's own and mounts a tmpfs of
 * TMPFS_BYTES at `mnt`. Root with CAP_SYS_ADMIN needs only the mount
 * namespace; otherwise (another user, or root in a container without the
 * capability) a user namespace comes first, where the process is root with
 * its uid and gid mapped to its own. False when the kernel refuses.
 */
static bool private_tmpfs(const char *mnt)
{
    char map[64];
    uid_t uid = geteuid();
    gid_t gid = getegid();

    if (unshare(CLONE_NEWNS) != 0) {
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
            return false;
        snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
        if (!write_text("/proc/self/uid_map", map))
            return false;
        snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
        if (!write_text("/proc/self/setgroups", "deny") || !write_text("/proc/self/gid_map", map))
            return false;
    }
    snprintf(map, sizeof(map), "size=%u", TMPFS_BYTES);
    return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
           mount("tmpfs", mnt, "tmpfs", 0, map) == 0;
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
static void tmpfs_child(int out, free_mode_t mode, const char *mnt, const char *errpath)
{
    result_t r;
    otelc_options_t o;
    otelc_file_options_t *fo;
    otelc_stats_t s;
    char logdir[FT_PATH + 32], ballast[FT_PATH + 32], file[FT_PATH + 32], copy[FT_PATH];
    uint64_t deadline;
    FILE *cf;
    int fd;

    memset(&r, 0, sizeof(r));
    snprintf(logdir, sizeof(logdir), "%s/logs", mnt);
    snprintf(ballast, sizeof(ballast), "%s/ballast", mnt);
    snprintf(file, sizeof(file), "%s/logs/trading.log", mnt);
    if (!private_tmpfs(mnt)) {
        r.failed_step = -1;
        goto done;
    }
    fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || dup2(fd, STDERR_FILENO) < 0 ||
        (mode == FREE_BALLAST && !write_ballast(ballast))) {
        r.failed_step = 1;
        goto done;
    }
    ft_options(&o);
    o.traces_exporter = "none";
    fo = otelc_file_options(&o);
    fo->directory = logdir;
    fo->max_bytes = 0;
    if (mode == FREE_ROTATED) {
        /* Small pieces, as many as fit: the disk fills with them. (Not
         * compressed: the sequenced lines compress so well that they
         * would never fill it.) */
        fo->max_bytes = 16u * 1024u;
        fo->max_files = 1000;
    }
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
    if ((mode == FREE_BALLAST && unlink(ballast) != 0) ||
        (mode == FREE_ROTATED && !delete_rotated(logdir)) ||
        (mode == FREE_TRUNCATE && truncate(file, 0) != 0)) {
        r.failed_step = 4;
        goto done;
    }
    ft_log_seq("trading.orders", RESUME_FROM, RESUME_FROM + RESUME_N);
    deadline = otelc__mono_ns() + 10 * FT_NS;
    while (!(r.resumed = seq_lines_in_dir(logdir, NULL) >= RESUME_N) &&
           otelc__mono_ns() < deadline) {
        struct timespec ts = { 0, 5000000 };
        nanosleep(&ts, NULL);
    }
    if (otelc_flush(10000) != OTELC_OK) {
        r.failed_step = 5;
        goto done;
    }
    otelc_stats(&s);
    r.exported_after_resume = s.logs.exported;
    /* The truncated file fills the disk a second time: what the exporter
     * knew of its size is stale, and a write cut back to it must not leave
     * a hole of NUL bytes in the file. */
    for (int i = 0; mode == FREE_TRUNCATE && i < FULL_RECORDS; i += BATCH) {
        ft_log_seq("trading.orders", REFILL_FROM + i, REFILL_FROM + i + BATCH);
        if (otelc_flush(10000) != OTELC_OK) {
            r.failed_step = 7;
            goto done;
        }
    }
    otelc_stats(&s);
    r.produced = s.logs.produced;
    r.exported = s.logs.exported;
    r.dropped_exporter = s.logs.dropped[OTELC_DROP_EXPORTER];
    r.dropped_other = otelc_signal_stats_dropped(&s.logs) - r.dropped_exporter;
    /* The lines are read back by the parent: keep a copy of every file of
     * the log outside the tmpfs, which goes with this namespace. */
    cf = fopen(ft_path(copy, "trading.log.copy"), "w");
    if (cf == NULL || seq_lines_in_dir(logdir, cf) < 0 || fclose(cf) != 0)
        r.failed_step = 6;
    (void)otelc_shutdown(5000);
done:
    if (write(out, &r, sizeof(r)) != (ssize_t)sizeof(r))
        _exit(3);
    _exit(0);
}

static void full_tmpfs_then_space_freed(free_mode_t mode)
{
    char mnt[FT_PATH], errpath[FT_PATH], p[FT_PATH];
    result_t r;
    int fds[2], status;
    pid_t pid;
    char *text, *err;
    size_t len, err_len, whole = 0, bad = 0, resumed = 0;
    const char *at;

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
        tmpfs_child(fds[1], mode, mnt, errpath);
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
    printf("before space was freed: %llu exported, %llu dropped; at the end: %llu produced, %llu "
           "exported, %llu dropped\n",
           (unsigned long long)r.exported_before_free, (unsigned long long)r.dropped_before_free,
           (unsigned long long)r.produced, (unsigned long long)r.exported,
           (unsigned long long)r.dropped_exporter);

    /* The disk filled: records were lost, counted with reason exporter,
     * and some were written before that. */
    assert_true(r.exported_before_free > 0);
    assert_true(r.dropped_before_free > 0);
    /* Writing resumed by itself once space was freed. */
    assert_true(r.resumed);
    /* Every record exported or dropped with a reason. */
    assert_int_equal(r.produced, FULL_RECORDS * (mode == FREE_TRUNCATE ? 2 : 1) + RESUME_N);
    assert_int_equal(r.exported + r.dropped_exporter + r.dropped_other, r.produced);
    assert_int_equal(r.dropped_other, 0);
    /* The records logged after space came back were all written. */
    assert_int_equal(r.exported_after_resume, r.exported_before_free + RESUME_N);

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

    /* What is in the files is whole lines, the ones logged after space
     * came back among them; exactly the records counted exported, less
     * those in what was deleted or truncated. */
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
            if (json_object_object_get_ex(o, "seq", &v) &&
                json_object_get_int64(v) >= RESUME_FROM &&
                json_object_get_int64(v) < RESUME_FROM + RESUME_N)
                resumed++;
            json_object_put(o);
        }
        at = nl + 1;
    }
    free(text);
    assert_int_equal(bad, 0);
    if (mode == FREE_BALLAST)
        assert_int_equal(whole, r.exported);
    else if (mode == FREE_TRUNCATE)
        assert_int_equal(whole, r.exported - r.exported_before_free);
    assert_int_equal(resumed, RESUME_N);
}

/* Another file of the disk is deleted. */
static void test_full_tmpfs_then_space_freed(void **state)
{
    (void)state;
    full_tmpfs_then_space_freed(FREE_BALLAST);
}

/* The disk fills with rotated pieces; they are deleted. */
static void test_full_tmpfs_then_rotated_deleted(void **state)
{
    (void)state;
    full_tmpfs_then_space_freed(FREE_ROTATED);
}

/* The log file itself fills the disk and is truncated while open; then it
 * fills the disk again. */
static void test_full_tmpfs_then_file_truncated(void **state)
{
    (void)state;
    full_tmpfs_then_space_freed(FREE_TRUNCATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_tmpfs_then_space_freed, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_full_tmpfs_then_rotated_deleted, ft_setup,
                                        ft_teardown),
        cmocka_unit_test_setup_teardown(test_full_tmpfs_then_file_truncated, ft_setup, ft_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
