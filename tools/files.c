/*
 * files.c: the files of a log directory and the line reader (see files.h).
 */
#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK 65536u

/* A file found in the directory, before the grouping into channels. */
typedef struct found {
    char *channel;
    tool_file_t file;
} found_t;

bool channel_name_valid(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);

    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/*
 * Splits a file name into channel and kind of file. The name is matched from
 * its end, since a channel name may itself hold dots ("market.data.log").
 * Returns the channel (new string) or NULL when the name is not a log file.
 */
static char *parse_name(const char *name, tool_file_t *f)
{
    size_t n = strlen(name);
    size_t dot;
    char *channel;

    f->gz = ends_with(name, n, ".gz");
    if (f->gz)
        n -= 3;
    if (!f->gz && ends_with(name, n, ".log")) {
        f->current = true;
        n -= 4;
        goto found;
    }
    /* ".<N>": 1 to 9 digits without a leading zero, after the date. */
    for (dot = n; dot > 0 && name[dot - 1] >= '0' && name[dot - 1] <= '9'; dot--)
        ;
    if (dot > 0 && dot < n && name[dot - 1] == '.' && name[dot] != '0' && n - dot <= 9 &&
        dot - 1 >= 15) {
        char digits[10];

        memcpy(digits, name + dot, n - dot);
        digits[n - dot] = '\0';
        f->piece = (unsigned)strtoul(digits, NULL, 10);
        n = dot - 1;
    }
    if (n < 15 || memcmp(name + n - 15, ".log.", 5) != 0 ||
        !date_parse(name + n - 10, 10, &f->year, &f->month, &f->day))
        return NULL;
    f->day_number = days_from_civil(f->year, f->month, f->day);
    n -= 15;

found:
    channel = xstrndup(name, n);
    if (!channel_name_valid(channel)) {
        free(channel);
        return NULL;
    }
    return channel;
}

static int compare_files(const tool_file_t *a, const tool_file_t *b)
{
    if (a->current != b->current)
        return a->current ? 1 : -1;
    if (a->day_number != b->day_number)
        return a->day_number < b->day_number ? -1 : 1;
    if (a->piece != b->piece)
        return a->piece < b->piece ? -1 : 1;
    if (a->gz != b->gz)
        return a->gz ? 1 : -1;
    return 0;
}

static int compare_found(const void *pa, const void *pb)
{
    const found_t *a = pa, *b = pb;
    int c = strcmp(a->channel, b->channel);

    return c != 0 ? c : compare_files(&a->file, &b->file);
}

static void free_file(tool_file_t *f)
{
    free(f->path);
}

bool fileset_scan(const char *dir, tool_fileset_t *out)
{
    DIR *d;
    struct dirent *de;
    found_t *found = NULL;
    size_t n_found = 0, cap = 0;

    memset(out, 0, sizeof(*out));
    d = opendir(dir);
    if (d == NULL) {
        tool_error_errno(dir);
        return false;
    }
    while ((errno = 0, de = readdir(d)) != NULL) {
        tool_file_t f;
        struct stat st;
        char *channel;

        memset(&f, 0, sizeof(f));
        channel = parse_name(de->d_name, &f);
        if (channel == NULL)
            continue;
        f.path = path_join(dir, de->d_name);
        f.name = f.path + strlen(dir) + 1;
        /* stat() follows a symbolic link to the file it names, as a reader
         * would; directories and other non-files are not log files. */
        if (stat(f.path, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(f.path);
            free(channel);
            continue;
        }
        f.size = (uint64_t)st.st_size;
        f.mtime = (tool_time_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
        f.mode = st.st_mode;
        if (n_found == cap) {
            cap = cap == 0 ? 64 : cap * 2;
            found = xrealloc(found, cap * sizeof(*found));
        }
        found[n_found].channel = channel;
        found[n_found].file = f;
        n_found++;
    }
    if (errno != 0) {
        tool_error_errno(dir);
        closedir(d);
        for (size_t i = 0; i < n_found; i++) {
            free(found[i].channel);
            free_file(&found[i].file);
        }
        free(found);
        return false;
    }
    closedir(d);

    if (n_found > 0)
        qsort(found, n_found, sizeof(*found), compare_found);
    out->dir = xstrdup(dir);
    out->channels = xcalloc(n_found, sizeof(*out->channels));
    for (size_t i = 0; i < n_found; i++) {
        tool_channel_t *ch;
        found_t *f = &found[i];

        if (out->n_channels == 0 ||
            strcmp(out->channels[out->n_channels - 1].name, f->channel) != 0) {
            ch = &out->channels[out->n_channels++];
            ch->name = f->channel;
            ch->files = xcalloc(1, sizeof(*ch->files));
            ch->n_files = 0;
        } else {
            ch = &out->channels[out->n_channels - 1];
            free(f->channel);
            /* Sorted plain first: a .gz of the piece just listed is the copy
             * an interrupted compression left. */
            if (f->file.gz && ch->n_files > 0) {
                tool_file_t *prev = &ch->files[ch->n_files - 1];

                if (!prev->gz && !prev->current && prev->day_number == f->file.day_number &&
                    prev->piece == f->file.piece) {
                    free_file(&f->file);
                    continue;
                }
            }
            ch->files = xrealloc(ch->files, (ch->n_files + 1u) * sizeof(*ch->files));
        }
        ch->files[ch->n_files++] = f->file;
    }
    free(found);
    return true;
}

const tool_channel_t *fileset_channel(const tool_fileset_t *set, const char *name)
{
    for (size_t i = 0; i < set->n_channels; i++) {
        if (strcmp(set->channels[i].name, name) == 0)
            return &set->channels[i];
    }
    return NULL;
}

const tool_file_t *channel_current(const tool_channel_t *ch)
{
    if (ch == NULL || ch->n_files == 0 || !ch->files[ch->n_files - 1].current)
        return NULL;
    return &ch->files[ch->n_files - 1];
}

void fileset_free(tool_fileset_t *set)
{
    for (size_t i = 0; i < set->n_channels; i++) {
        for (size_t j = 0; j < set->channels[i].n_files; j++)
            free_file(&set->channels[i].files[j]);
        free(set->channels[i].files);
        free(set->channels[i].name);
    }
    free(set->channels);
    free(set->dir);
    memset(set, 0, sizeof(*set));
}

/* ---- line reader ------------------------------------------------------- */

bool lr_open(linereader_t *lr, const char *path, uint64_t start, uint64_t stop)
{
    struct stat st;
    int fd;

    memset(lr, 0, sizeof(*lr));
    lr->path = path;
    lr->stop = stop;
    lr->offset = start;
    lr->start_offset = start;
    lr->first_lineno = start == 0 ? 1 : 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        tool_error_errno(path);
        return false;
    }
    if (fstat(fd, &st) == 0) {
        lr->dev = st.st_dev;
        lr->ino = st.st_ino;
    }
    if (start > 0 && lseek(fd, (off_t)start, SEEK_SET) < 0) {
        tool_error_errno(path);
        close(fd);
        return false;
    }
    /* gzdopen reads plain files as they are ("transparent"), from the
     * descriptor's position on. */
    lr->gz = gzdopen(fd, "rb");
    if (lr->gz == NULL) {
        errno = ENOMEM;
        tool_error_errno(path);
        close(fd);
        return false;
    }
    gzbuffer(lr->gz, 131072u);
    lr->cap = READ_CHUNK;
    lr->buf = xmalloc(lr->cap);
    return true;
}

static void report_read_error(linereader_t *lr)
{
    int code = Z_OK;
    const char *msg = gzerror(lr->gz, &code);

    if (code == Z_ERRNO)
        tool_error_errno(lr->path);
    else if (code == Z_BUF_ERROR)
        tool_error("%s: truncated gzip file", lr->path);
    else
        tool_error("%s: %s", lr->path, msg != NULL ? msg : "read error");
    lr->failed = true;
}

/* Reads more bytes into the buffer; false at the end or on an error. */
static bool fill(linereader_t *lr, lr_status_t *status)
{
    int n;

    if (lr->start > 0) {
        memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
        lr->end -= lr->start;
        lr->start = 0;
    }
    if (lr->end == lr->cap) {
        lr->cap = lr->cap * 2u > LINE_MAX_BYTES ? LINE_MAX_BYTES : lr->cap * 2u;
        lr->buf = xrealloc(lr->buf, lr->cap);
    }
    n = gzread(lr->gz, lr->buf + lr->end, (unsigned)(lr->cap - lr->end));
    if (n < 0) {
        report_read_error(lr);
        lr->eof = true;
        *status = LR_ERROR;
        return false;
    }
    if (n == 0) {
        int code = Z_OK;

        lr->eof = true;
        gzerror(lr->gz, &code);
        /* A compressed file that ends inside its stream was cut short. */
        if (code == Z_BUF_ERROR && !lr->follow && !lr->failed) {
            report_read_error(lr);
            *status = LR_ERROR;
            return false;
        }
        return false;
    }
    lr->end += (size_t)n;
    return true;
}

lr_status_t lr_next(linereader_t *lr, tstr_t *line)
{
    lr_status_t status = LR_END;

    for (;;) {
        char *p = lr->buf + lr->start;
        size_t avail = lr->end - lr->start;
        char *nl;

        if (lr->offset >= lr->stop)
            return LR_END;
        nl = avail > 0 ? memchr(p, '\n', avail) : NULL;
        if (nl != NULL) {
            size_t len = (size_t)(nl - p);

            lr->start += len + 1u;
            if (lr->skipping) {
                lr->skipping = false;
                lr->offset += len + 1u;
                continue;
            }
            line->p = p;
            line->n = len;
            lr->line_offset = lr->offset;
            lr->offset += len + 1u;
            lr->lineno++;
            return LR_LINE;
        }
        if (lr->skipping) {
            lr->offset += avail;
            lr->start = lr->end = 0;
        } else if (avail >= LINE_MAX_BYTES) {
            lr->lineno++;
            lr->line_offset = lr->offset;
            tool_report_line(lr->path, lr_lineno(lr), "line longer than %u MiB, skipped",
                             LINE_MAX_BYTES >> 20);
            lr->skipping = true;
            lr->offset += avail;
            lr->start = lr->end = 0;
            return LR_SKIPPED;
        }
        if (lr->eof) {
            if (avail > 0 && !lr->follow && !lr->skipping) {
                line->p = p;
                line->n = avail;
                lr->line_offset = lr->offset;
                lr->offset += avail;
                lr->start = lr->end;
                lr->lineno++;
                return LR_PARTIAL;
            }
            return LR_END;
        }
        if (!fill(lr, &status) && status == LR_ERROR)
            return LR_ERROR;
    }
}

uint64_t lr_lineno(linereader_t *lr)
{
    if (lr->first_lineno == 0) {
        /* Started inside the file (tail): count the lines before the start
         * once, and only when a line number is asked for (to report it). */
        uint64_t count = 0, pos = 0;
        int fd = open(lr->path, O_RDONLY | O_CLOEXEC);
        char *buf = xmalloc(READ_CHUNK);

        while (fd >= 0 && pos < lr->start_offset) {
            uint64_t left = lr->start_offset - pos;
            size_t want = left < READ_CHUNK ? (size_t)left : READ_CHUNK;
            ssize_t r = pread(fd, buf, want, (off_t)pos);

            if (r <= 0)
                break;
            for (ssize_t i = 0; i < r; i++)
                count += buf[i] == '\n';
            pos += (uint64_t)r;
        }
        if (fd >= 0)
            close(fd);
        free(buf);
        lr->first_lineno = count + 1u;
    }
    return lr->first_lineno + lr->lineno - 1u;
}

uint64_t lr_resume_offset(const linereader_t *lr)
{
    /* buf[start] is the first byte not returned: the start of a partial
     * line kept for later, or the end of what was read. */
    return lr->offset;
}

void lr_retry(linereader_t *lr)
{
    lr->eof = false;
    gzclearerr(lr->gz);
}

void lr_close(linereader_t *lr)
{
    if (lr->gz != NULL)
        gzclose(lr->gz);
    free(lr->buf);
    memset(lr, 0, sizeof(*lr));
}

bool file_tail_offset(const char *path, uint64_t k, uint64_t *start, uint64_t *end)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *buf;
    uint64_t pos, count = 0;
    bool ok = true;

    *start = *end = 0;
    if (fd < 0 || fstat(fd, &st) != 0) {
        tool_error_errno(path);
        if (fd >= 0)
            close(fd);
        return false;
    }
    buf = xmalloc(READ_CHUNK);
    pos = (uint64_t)st.st_size;
    while (pos > 0) {
        size_t chunk = pos < READ_CHUNK ? (size_t)pos : READ_CHUNK;
        ssize_t r = pread(fd, buf, chunk, (off_t)(pos - chunk));

        if (r != (ssize_t)chunk) {
            if (r < 0)
                tool_error_errno(path);
            else
                tool_error("%s: file shrank while reading", path);
            ok = false;
            break;
        }
        for (size_t i = chunk; i > 0; i--) {
            if (buf[i - 1] != '\n')
                continue;
            count++;
            if (count == 1)
                *end = pos - chunk + i;
            if (count == k + 1u) {
                *start = pos - chunk + i;
                goto done;
            }
        }
        pos -= chunk;
    }
    /* Fewer than k + 1 newlines: the last k lines start at the beginning. */
    *start = 0;
done:
    if (k == 0)
        *start = *end;
    free(buf);
    close(fd);
    return ok;
}
