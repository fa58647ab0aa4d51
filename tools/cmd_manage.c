/*
 * cmd_manage.c: the commands that change a log directory: cleanup (delete
 * old rotated files) and compress (gzip them).
 *
 * Both look at rotated files only, never at a channel's current
 * <channel>.log, and judge a file's age by the date in its name (the local
 * date of its records), not by its mtime, which a copy or a backup restore
 * changes. A file is older than N days when its date is more than N days
 * before today's local date (--now).
 */
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_CHUNK 65536u

static bool old_enough(const tool_opts_t *o, const tool_file_t *f)
{
    return !f->current && time_local_day(o->now) - f->day_number > o->days;
}

int cmd_cleanup(tool_opts_t *o)
{
    tool_fileset_t set;
    uint64_t count = 0, bytes = 0;
    int status = 0;
    char size[32];

    if (!fileset_scan(o->dir, &set))
        return 1;
    for (size_t i = 0; i < set.n_channels; i++) {
        const tool_channel_t *ch = &set.channels[i];

        if (o->channel != NULL && strcmp(ch->name, o->channel) != 0)
            continue;
        for (size_t j = 0; j < ch->n_files; j++) {
            const tool_file_t *f = &ch->files[j];

            if (!old_enough(o, f))
                continue;
            format_size(f->size, size);
            if (o->dry_run) {
                printf("would delete %s (%s)\n", f->path, size);
            } else if (unlink(f->path) != 0) {
                tool_error_errno(f->path);
                status = 1;
                continue;
            } else {
                printf("deleted %s (%s)\n", f->path, size);
            }
            count++;
            bytes += f->size;
        }
    }
    format_size(bytes, size);
    if (count == 0)
        printf("no rotated file older than %lld days\n", (long long)o->days);
    else
        printf("%s %llu %s, %s\n", o->dry_run ? "would delete" : "deleted",
               (unsigned long long)count, count == 1 ? "file" : "files", size);
    fileset_free(&set);
    if (fflush(stdout) != 0) {
        tool_error_errno("stdout");
        status = 1;
    }
    return status;
}

/* Makes a rename in `path`'s directory durable (best effort). */
static void sync_dir_of(const char *path)
{
    char *copy = xstrdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
}

/*
 * Writes `src` gzip-compressed to `dst`: first to `dst`.tmp, which is
 * flushed, closed and then renamed, and only then is `src` removed, so
 * that at every moment one complete copy exists under a name readers know.
 * The .gz takes the original's mode (0640 as the exporter creates it) and
 * times. Returns false, with the reason printed, leaving `src` in place.
 */
static bool compress_file(const char *src, const char *dst, uint64_t *out_size)
{
    char *tmp = xmalloc(strlen(dst) + 5u);
    unsigned char *buf = NULL;
    int in = -1, out = -1, gz_fd = -1;
    gzFile gz = NULL;
    struct stat st;
    const char *failed_path = src;
    bool ok = false;

    strcpy(tmp, dst);
    strcat(tmp, ".tmp");
    in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0 || fstat(in, &st) != 0)
        goto fail;
    failed_path = tmp;
    out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0 && errno == EEXIST) {
        /* Left by a compression that was interrupted: ours to replace. */
        unlink(tmp);
        out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    }
    if (out < 0)
        goto fail;
    if (fchmod(out, st.st_mode & 07777) != 0)
        goto fail_tmp;
    /* gzclose() closes the descriptor it was given; ours stays open for
     * fsync() and the times. */
    gz_fd = dup(out);
    if (gz_fd < 0)
        goto fail_tmp;
    gz = gzdopen(gz_fd, "wb6");
    if (gz == NULL) {
        close(gz_fd);
        errno = ENOMEM;
        goto fail_tmp;
    }
    buf = xmalloc(COPY_CHUNK);
    for (;;) {
        ssize_t n = read(in, buf, COPY_CHUNK);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            failed_path = src;
            goto fail_tmp;
        }
        if (n == 0)
            break;
        if (gzwrite(gz, buf, (unsigned)n) != (int)n) {
            int code = Z_OK;
            const char *msg = gzerror(gz, &code);

            if (code != Z_ERRNO) {
                tool_error("%s: %s", tmp, msg);
                errno = 0;
            }
            goto fail_tmp;
        }
    }
    {
        int rc = gzclose(gz);

        gz = NULL;
        if (rc != Z_OK) {
            if (rc != Z_ERRNO) {
                tool_error("%s: gzip stream not completed", tmp);
                errno = 0;
            }
            goto fail_tmp;
        }
    }
    if (fsync(out) != 0)
        goto fail_tmp;
    {
        const struct timespec times[2] = { st.st_atim, st.st_mtim };
        struct stat done;

        futimens(out, times);
        if (fstat(out, &done) == 0)
            *out_size = (uint64_t)done.st_size;
    }
    if (close(out) != 0) {
        out = -1;
        goto fail_tmp;
    }
    out = -1;
    if (rename(tmp, dst) != 0)
        goto fail_tmp;
    sync_dir_of(dst);
    failed_path = src;
    if (unlink(src) != 0)
        goto fail;
    ok = true;
    goto done;

fail_tmp:
    if (errno != 0)
        tool_error_errno(failed_path);
    if (gz != NULL)
        gzclose(gz);
    unlink(tmp);
    goto done;
fail:
    tool_error_errno(failed_path);
done:
    if (out >= 0)
        close(out);
    if (in >= 0)
        close(in);
    free(buf);
    free(tmp);
    return ok;
}

int cmd_compress(tool_opts_t *o)
{
    tool_fileset_t set;
    uint64_t count = 0, before = 0, after = 0;
    int status = 0;
    char a[32], b[32];

    if (!fileset_scan(o->dir, &set))
        return 1;
    for (size_t i = 0; i < set.n_channels; i++) {
        const tool_channel_t *ch = &set.channels[i];

        if (o->channel != NULL && strcmp(ch->name, o->channel) != 0)
            continue;
        for (size_t j = 0; j < ch->n_files; j++) {
            const tool_file_t *f = &ch->files[j];
            char *dst;
            struct stat st;
            uint64_t size = 0;

            if (f->gz || !old_enough(o, f))
                continue;
            dst = xmalloc(strlen(f->path) + 4u);
            strcpy(dst, f->path);
            strcat(dst, ".gz");
            format_size(f->size, a);
            if (lstat(dst, &st) == 0) {
                tool_error("%s exists; %s left uncompressed", dst, f->path);
                status = 1;
            } else if (o->dry_run) {
                printf("would compress %s (%s)\n", f->path, a);
                count++;
                before += f->size;
            } else if (compress_file(f->path, dst, &size)) {
                format_size(size, b);
                printf("compressed %s (%s -> %s)\n", f->path, a, b);
                count++;
                before += f->size;
                after += size;
            } else {
                status = 1;
            }
            free(dst);
        }
    }
    format_size(before, a);
    format_size(after, b);
    if (count == 0)
        printf("no uncompressed rotated file older than %lld days\n", (long long)o->days);
    else if (o->dry_run)
        printf("would compress %llu %s, %s\n", (unsigned long long)count,
               count == 1 ? "file" : "files", a);
    else
        printf("compressed %llu %s, %s -> %s\n", (unsigned long long)count,
               count == 1 ? "file" : "files", a, b);
    fileset_free(&set);
    if (fflush(stdout) != 0) {
        tool_error_errno("stdout");
        status = 1;
    }
    return status;
}
