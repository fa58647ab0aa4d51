/*
 * test_file_tmpfs.c: the file exporter on a file system that is really full
 * (ENOSPC), not a file-size limit: a small tmpfs mounted in a private mount
 * namespace of a child process. The disk fills, the loss is counted and
 * reported, space is freed, and writing must resume by itself: the records
 * logged afterwards reach the file as whole lines, and every record is
 * exported or counted as dropped.
 *
 * Skipped where the kernel refuses the namespace or the mount (a container
 * without the capability, a user without user namespaces).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <otelc/file.h>
#include <dirent.h>
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
#define REFILL_FROM 200000

/* How the disk fills and how space comes back: a ballast file taken away,
 * the exporter's own rotated pieces deleted (as a user frees a log disk),
 * or its one file, still open, deleted (its space comes back only when the
 * exporter closes it), or that file truncated (`: > trading.log`), which
 * frees the space at once under the exporter's open descriptor. */
typedef enum fill_mode {
    FILL_BALLAST,
    FILL_OWN_PIECES,
    FILL_OWN_CURRENT,
    FILL_OWN_TRUNCATED /* its one file, still open, truncated to nothing */
} fill_mode_t;

/* With FILL_OWN_PIECES: pieces this size, many more allowed than fit. */
#define PIECE_BYTES (32u * 1024u)

typedef struct result {
    int failed_step; /* 0: every step done; -1: no namespace or mount here */
    bool resumed;
    uint64_t produced, exported, dropped_exporter, dropped_other;
    uint64_t exported_before_free, dropped_before_free;
    /* FILL_OWN_*: the whole lines in the files deleted to free space
     * (records exported, then removed by the user). */
    uint64_t deleted_lines;
    bool delete_current, truncate_current;
} result_t;

/* The whole lines in the text t[0, len) (each one JSON object). */
static size_t whole_lines(const char *t, size_t len)
{
    size_t n = 0;

    for (const char *at = t; at < t + len;) {
        const char *nl = memchr(at, '\n', (size_t)(t + len - at));
        json_object *o;

        if (nl == NULL)
            break;
        o = ft_parse(at, (size_t)(nl - at));
        n += o != NULL;
        json_object_put(o);
        at = nl + 1;
    }
    return n;
}

/* Calls fn(path, arg) for every file of `dir` named trading.log*. */
static void each_channel_file(const char *dir, void (*fn)(const char *, void *), void *arg)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        char p[FT_PATH + 300];

        if (strncmp(de->d_name, "trading.log", 11) != 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        fn(p, arg);
    }
    closedir(d);
}

static void add_resumed(const char *path, void *arg)
{
    *(size_t *)arg += ft_seq_lines_from(path, RESUME_FROM);
}

/* True when the files of `dir` have a whole line for every seq of
 * RESUME_FROM..RESUME_FROM+RESUME_N-1 (a rotation may put them in a piece). */
static bool resumed_lines_there(const char *dir)
{
    size_t n = 0;

    each_channel_file(dir, add_resumed, &n);
    return n == RESUME_N;
}

/* Deletes a rotated piece, or the current file only (or truncates it),
 * counting its lines. */
static void delete_piece(const char *path, void *arg)
{
    result_t *r = arg;
    size_t len;
    char *text;

    if ((strcmp(path + strlen(path) - 4, ".log") == 0) != r->delete_current)
        return;
    text = ft_slurp(path, &len);
    if (text != NULL)
        r->deleted_lines += whole_lines(text, len);
    free(text);
    if (r->truncate_current ? truncate(path, 0) != 0 : unlink(path) != 0)
        r->failed_step = 4;
}

/* Appends the file at `path` to the descriptor *arg. */
static void append_copy(const char *path, void *arg)
{
    int fd = *(int *)arg;
    size_t len;
    char *text = ft_slurp(path, &len);

    if (text == NULL || write(fd, text, len) != (ssize_t)len)
        *(int *)arg = -1;
    free(text);
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

static bool write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    size_t n = strlen(text);
    bool ok = fd >= 0 && write(fd, text, n) == (ssize_t)n;

    if (fd >= 0 && close(fd) != 0)
        ok = false;
    return ok;
}

/* A mount namespace of this process's own: directly as root, else inside
 * a user namespace where this user is root (where the kernel allows it). */
static bool own_mount_namespace(void)
{
    char map[64];
    unsigned uid = (unsigned)getuid(), gid = (unsigned)getgid();

    if (unshare(CLONE_NEWNS) == 0)
        return true;
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
        return false;
    snprintf(map, sizeof(map), "0 %u 1\n", uid);
    if (!write_text("/proc/self/uid_map", map))
        return false;
    /* A gid map needs setgroups denied first (user_namespaces(7)). */
    snprintf(map, sizeof(map), "0 %u 1\n", gid);
    return write_text("/proc/self/setgroups", "deny") && write_text("/proc/self/gid_map", map);
}

/* The child: its own mount namespace and tmpfs, stderr to a file. Never
 * returns. */
static void tmpfs_child(int out, const char *mnt, const char *errpath, fill_mode_t mode)
{
    result_t r;
    otelc_options_t o;
    otelc_stats_t s;
    char logdir[FT_PATH + 32], ballast[FT_PATH + 32];
    uint64_t deadline;
    int fd;

    memset(&r, 0, sizeof(r));
    snprintf(logdir, sizeof(logdir), "%s/logs", mnt);
    snprintf(ballast, sizeof(ballast), "%s/ballast", mnt);
    if (!own_mount_namespace() || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", mnt, "tmpfs", 0, "size=256k") != 0) {
        r.failed_step = -1;
        goto done;
    }
    fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || dup2(fd, STDERR_FILENO) < 0 ||
        (mode == FILL_BALLAST && !write_ballast(ballast))) {
        r.failed_step = 1;
        goto done;
    }
    ft_options(&o);
    o.traces_exporter = "none";
    otelc_file_options(&o)->directory = logdir;
    otelc_file_options(&o)->max_bytes = mode == FILL_OWN_PIECES ? PIECE_BYTES : 0;
    otelc_file_options(&o)->max_files = 1000;
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
     * anything else happening. The ballast run awaits them with no flush
     * (the batch delay sends them); the other flushes as it polls. */
    if (mode == FILL_BALLAST && unlink(ballast) != 0)
        r.failed_step = 4;
    r.delete_current = mode == FILL_OWN_CURRENT || mode == FILL_OWN_TRUNCATED;
    r.truncate_current = mode == FILL_OWN_TRUNCATED;
    if (mode != FILL_BALLAST)
        each_channel_file(logdir, delete_piece, &r);
    if (r.failed_step != 0)
        goto done;
    ft_log_seq("trading.orders", RESUME_FROM, RESUME_FROM + RESUME_N);
    deadline = otelc__mono_ns() + 10 * FT_NS;
    while (!(r.resumed = resumed_lines_there(logdir)) && otelc__mono_ns() < deadline) {
        struct timespec ts = { 0, 5000000 };

        if (mode != FILL_BALLAST)
            (void)otelc_flush(1000);
        nanosleep(&ts, NULL);
    }
    if (otelc_flush(10000) != OTELC_OK) {
        r.failed_step = 5;
        goto done;
    }
    /* The truncated file fills the disk a second time: what the exporter
     * knew of the file's size is stale, and a failed write cut back to it
     * would leave a hole of NUL bytes and lose records counted exported. */
    for (int i = 0; mode == FILL_OWN_TRUNCATED && i < FULL_RECORDS; i += BATCH) {
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
    /* The lines are read back by the parent: keep a copy outside the
     * tmpfs, which goes with this namespace. */
    {
        char copy[FT_PATH];
        int cfd = open(ft_path(copy, "trading.log.copy"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int at = cfd;

        if (cfd >= 0)
            each_channel_file(logdir, append_copy, &at);
        if (cfd < 0 || at < 0 || close(cfd) != 0)
            r.failed_step = 6;
    }
    (void)otelc_shutdown(5000);
done:
    if (write(out, &r, sizeof(r)) != (ssize_t)sizeof(r))
        _exit(3);
    _exit(0);
}

static bool in_range(int64_t seq, int64_t from, int64_t n)
{
    return seq >= from && seq < from + n;
}

static void full_tmpfs_then_space_freed(fill_mode_t mode)
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
        tmpfs_child(fds[1], mnt, errpath, mode);
    }
    close(fds[1]);
    memset(&r, 0, sizeof(r));
    assert_int_equal(read(fds[0], &r, sizeof(r)), (ssize_t)sizeof(r));
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (r.failed_step == -1) {
        printf("skipped: no private mount namespace or tmpfs mount allowed here\n");
        skip();
    }
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(r.failed_step, 0);

    /* The disk filled: records were lost, counted with reason exporter,
     * and some were written before that. */
    assert_true(r.exported_before_free > 0);
    assert_true(r.dropped_before_free > 0);
    /* Writing resumed by itself once space was freed. */
    assert_true(r.resumed);
    /* Every record exported or dropped with a reason. */
    assert_int_equal(r.produced,
                     FULL_RECORDS + RESUME_N + (mode == FILL_OWN_TRUNCATED ? FULL_RECORDS : 0));
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
            if (json_object_object_get_ex(o, "seq", &v) &&
                in_range(json_object_get_int64(v), RESUME_FROM, RESUME_N))
                resumed++;
            json_object_put(o);
        }
        at = nl + 1;
    }
    free(text);
    assert_int_equal(bad, 0);
    assert_int_equal(whole + r.deleted_lines, r.exported);
    assert_int_equal(resumed, RESUME_N);
    if (mode != FILL_BALLAST)
        assert_true(r.deleted_lines > 0);
}

static void test_full_tmpfs_then_ballast_removed(void **state)
{
    (void)state;
    full_tmpfs_then_space_freed(FILL_BALLAST);
}

/* The exporter fills the disk itself with rotated pieces; the user deletes
 * them; the current file goes on taking records. */
static void test_full_tmpfs_of_own_pieces_then_pieces_deleted(void **state)
{
    (void)state;
    full_tmpfs_then_space_freed(FILL_OWN_PIECES);
}

/* The exporter fills the disk with its one file; the user deletes it while
 * it is open: the exporter must close it (freeing the space) and write a
 * new one. */
static void test_full_tmpfs_then_open_file_deleted(void **state)
{
    (void)state;
    full_tmpfs_then_space_freed(FILL_OWN_CURRENT);
}

/* The exporter fills the disk with its one file; the user truncates it
 * while it is open: the next records must start at the new end, with no run
 * of NUL bytes where the old content was, and no record counted exported
 * that is not in the file. */
static void test_full_tmpfs_then_open_file_truncated(void **state)
{
    (void)state;
    full_tmpfs_then_space_freed(FILL_OWN_TRUNCATED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_tmpfs_then_ballast_removed, ft_setup,
                                        ft_teardown),
        cmocka_unit_test_setup_teardown(test_full_tmpfs_of_own_pieces_then_pieces_deleted, ft_setup,
                                        ft_teardown),
        cmocka_unit_test_setup_teardown(test_full_tmpfs_then_open_file_deleted, ft_setup,
                                        ft_teardown),
        cmocka_unit_test_setup_teardown(test_full_tmpfs_then_open_file_truncated, ft_setup,
                                        ft_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
