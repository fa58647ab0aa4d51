/*
 * cmd_read.c: the commands that print records: query, export and tail.
 */
#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Output is written in pieces of about this size. */
#define OUT_FLUSH_AT 65536u

/* tail -f looks at the file this often. */
#define FOLLOW_POLL_MS 200

bool write_out(FILE *out, const char *name, strbuf_t *sb)
{
    bool ok = true;

    if (sb->len > 0 && fwrite(sb->p, 1, sb->len, out) != sb->len) {
        tool_error_errno(name);
        ok = false;
    }
    sb_reset(sb);
    return ok;
}

/* ---- query and export -------------------------------------------------- */

/*
 * Prints the records of `channel` (NULL: every log channel) that pass the
 * filter to `out`. Returns the exit status; `*count` is set to the number
 * of records written.
 */
static int print_records(tool_opts_t *o, const char *channel, FILE *out, const char *out_name,
                         bool color, uint64_t *count)
{
    tool_fileset_t set;
    merged_t m;
    strbuf_t sb = STRBUF_INIT;
    const tool_record_t *r;
    const char *ch = NULL;
    int status = 0;

    *count = 0;
    if (!fileset_scan(o->dir, &set))
        return 1;
    if (!merged_open(&m, &set, channel, &o->filter, WANT_LOGS)) {
        fileset_free(&set);
        return 1;
    }
    if (o->format == OUT_CSV)
        out_csv_header(&sb);
    while ((r = merged_next(&m, &ch)) != NULL) {
        out_record(&sb, o->format, r, ch, color);
        (*count)++;
        if (sb.len >= OUT_FLUSH_AT && !write_out(out, out_name, &sb)) {
            status = 1;
            break;
        }
    }
    if (status == 0 && !write_out(out, out_name, &sb))
        status = 1;
    if (merged_failed_files(&m) > 0)
        status = 1;
    merged_close(&m);
    fileset_free(&set);
    sb_free(&sb);
    return status;
}

int cmd_query(tool_opts_t *o)
{
    uint64_t count;
    int status = print_records(o, o->channel, stdout, "stdout", o->color, &count);

    if (fflush(stdout) != 0) {
        tool_error_errno("stdout");
        status = 1;
    }
    return status;
}

int cmd_export(tool_opts_t *o)
{
    FILE *out = stdout;
    const char *name = "stdout";
    uint64_t count = 0;
    int status;

    if (o->output != NULL && strcmp(o->output, "-") != 0) {
        /* Exports hold the logs' contents: as private as the logs (0640). */
        int fd = open(o->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);

        if (fd < 0 || (out = fdopen(fd, "w")) == NULL) {
            tool_error_errno(o->output);
            if (fd >= 0)
                close(fd);
            return 1;
        }
        name = o->output;
    }
    status = print_records(o, o->args[0], out, name, false, &count);
    if (out != stdout) {
        if (fclose(out) != 0) {
            tool_error_errno(name);
            status = 1;
        }
        if (status == 0)
            printf("%llu records of %s written to %s\n", (unsigned long long)count, o->args[0],
                   name);
    } else if (fflush(stdout) != 0) {
        tool_error_errno("stdout");
        status = 1;
    }
    return status;
}

/* ---- tail -------------------------------------------------------------- */

/* The last `cap` rendered records seen, oldest first once full. */
typedef struct ring {
    char **items;
    size_t cap, n, alloc, head; /* head: the oldest item when n == cap */
} ring_t;

static void ring_push(ring_t *ring, const char *s, size_t len)
{
    char *copy = xstrndup(s, len);

    if (ring->cap == 0) {
        free(copy);
        return;
    }
    if (ring->n < ring->cap) {
        /* Grown as needed, so that -n 1000000 on a short file costs little. */
        if (ring->n == ring->alloc) {
            ring->alloc = ring->alloc == 0 ? 16 : ring->alloc * 2;
            if (ring->alloc > ring->cap)
                ring->alloc = ring->cap;
            ring->items = xrealloc(ring->items, ring->alloc * sizeof(*ring->items));
        }
        ring->items[ring->n++] = copy;
        return;
    }
    free(ring->items[ring->head]);
    ring->items[ring->head] = copy;
    ring->head = (ring->head + 1u) % ring->cap;
}

static char *ring_take(ring_t *ring, size_t i)
{
    size_t at = ring->n < ring->cap ? i : (ring->head + i) % ring->cap;
    char *s = ring->items[at];

    ring->items[at] = NULL;
    return s;
}

static void ring_free(ring_t *ring)
{
    for (size_t i = 0; i < ring->n; i++)
        free(ring->items[i]);
    free(ring->items);
    memset(ring, 0, sizeof(*ring));
}

typedef struct tail_state {
    tool_opts_t *o;
    char **out; /* the records to print, filled from the end */
    size_t want, filled;
    uint64_t follow_offset; /* where the current file's complete lines end */
    bool failed;
    strbuf_t sb;
} tail_state_t;

/*
 * Reads the records of `path` in [start, stop) into a ring of the last
 * `cap`; returns how many matched. `follow` keeps a partial last line
 * unread and sets the resume offset.
 */
static size_t tail_range(tail_state_t *t, const char *path, uint64_t start, uint64_t stop,
                         bool follow, ring_t *ring)
{
    record_reader_t rr;
    const tool_record_t *r;
    size_t matched = 0;
    bool ok;

    if (follow)
        ok = rr_open_follow(&rr, path, start);
    else
        ok = rr_open(&rr, path, start, stop);
    if (!ok) {
        t->failed = true;
        rr_close(&rr);
        return 0;
    }
    while ((r = rr_next(&rr)) != NULL) {
        if (!filter_match(&t->o->filter, r, rr.line))
            continue;
        sb_reset(&t->sb);
        out_text(&t->sb, r, t->o->color);
        ring_push(ring, t->sb.p, t->sb.len);
        matched++;
    }
    if (follow)
        t->follow_offset = lr_resume_offset(&rr.lr);
    t->failed |= rr.failed;
    rr_close(&rr);
    return matched;
}

/* Moves a ring's records in front of those already collected. */
static void tail_collect(tail_state_t *t, ring_t *ring)
{
    size_t k = ring->n;

    for (size_t i = 0; i < k; i++)
        t->out[t->want - t->filled - k + i] = ring_take(ring, i);
    t->filled += k;
    ring_free(ring);
}

/*
 * The last records of one file. A gzip file is read whole; a plain file is
 * read from where its last k lines start, with k growing until enough
 * records matched or the start of the file is reached, so that the tail of
 * a large file costs a few reads from its end.
 */
static void tail_file(tail_state_t *t, const tool_file_t *f)
{
    uint64_t k, start, end, stop = UINT64_MAX;
    bool first = true;

    if (f->gz) {
        ring_t ring = { .cap = t->want - t->filled };

        tail_range(t, f->path, 0, UINT64_MAX, false, &ring);
        tail_collect(t, &ring);
        return;
    }
    for (k = t->want - t->filled + 1u;; k = k > UINT64_MAX / 4u ? UINT64_MAX : k * 4u) {
        ring_t ring = { .cap = t->want - t->filled };

        if (!file_tail_offset(f->path, k, &start, &end)) {
            t->failed = true;
            return;
        }
        if (!first && start >= stop)
            start = 0;
        tail_range(t, f->path, start, stop, first && f->current, &ring);
        tail_collect(t, &ring);
        if (t->filled == t->want || start == 0)
            return;
        stop = start;
        first = false;
    }
}

/* Waits for `ms` milliseconds. */
static void pause_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Prints the records of an open follow reader that are there now. */
static bool follow_drain(tail_state_t *t, record_reader_t *rr)
{
    const tool_record_t *r;

    lr_retry(&rr->lr);
    while ((r = rr_next(rr)) != NULL) {
        if (!filter_match(&t->o->filter, r, rr->line))
            continue;
        sb_reset(&t->sb);
        out_text(&t->sb, r, t->o->color);
        fputs(t->sb.p, stdout);
    }
    return fflush(stdout) == 0;
}

/*
 * tail -f: prints what is appended to the current file. When the file is
 * replaced (rotation renames it and creates a new one), the old one is read
 * to its end and the new one from its start; a file that shrank (truncated)
 * is read again from its start. Runs until killed.
 */
static int follow(tail_state_t *t, const char *path, bool have_offset)
{
    record_reader_t rr;
    bool is_open = false;

    memset(&rr, 0, sizeof(rr));
    if (have_offset)
        is_open = rr_open_follow(&rr, path, t->follow_offset);
    for (;;) {
        struct stat st;

        if (is_open && !follow_drain(t, &rr)) {
            tool_error_errno("stdout");
            break;
        }
        pause_ms(FOLLOW_POLL_MS);
        if (stat(path, &st) != 0)
            continue; /* between the rename and the new file */
        if (is_open && (st.st_ino != rr.lr.ino || st.st_dev != rr.lr.dev)) {
            follow_drain(t, &rr);
            rr_close(&rr);
            is_open = false;
        } else if (is_open && (uint64_t)st.st_size < lr_resume_offset(&rr.lr)) {
            rr_close(&rr);
            is_open = false;
        }
        if (!is_open) {
            /* Quietly: the file may be between a rename and its re-creation. */
            int fd = open(path, O_RDONLY | O_CLOEXEC);

            if (fd < 0)
                continue;
            close(fd);
            is_open = rr_open_follow(&rr, path, 0);
        }
    }
    rr_close(&rr);
    return 1;
}

int cmd_tail(tool_opts_t *o)
{
    const char *channel = o->args[0] != NULL ? o->args[0] : o->channel;
    tail_state_t t = { .o = o };
    tool_fileset_t set;
    const tool_channel_t *ch;
    char *name, *path;
    int status = 0;
    bool have_current = false, out_failed;

    if (channel == NULL)
        channel = "application";
    if (!channel_name_valid(channel)) {
        tool_error("tail: invalid channel name '%s'", channel);
        return 2;
    }
    if (!fileset_scan(o->dir, &set))
        return 1;
    name = xmalloc(strlen(channel) + 5u);
    strcpy(name, channel);
    strcat(name, ".log");
    path = path_join(o->dir, name);
    free(name);
    ch = fileset_channel(&set, channel);
    if (ch == NULL && !o->follow) {
        errno = ENOENT;
        tool_error_errno(path);
        free(path);
        fileset_free(&set);
        return 1;
    }

    t.want = o->lines;
    /* main.c bounds -n, so this array stays reasonable. */
    t.out = xcalloc((size_t)t.want + 1u, sizeof(char *));
    for (size_t i = ch != NULL ? ch->n_files : 0; i > 0 && t.filled < t.want; i--) {
        have_current |= ch->files[i - 1u].current;
        tail_file(&t, &ch->files[i - 1u]);
    }
    /* With -n 0 the current file is not read, but -f starts at its end. */
    if (o->follow && ch != NULL && channel_current(ch) != NULL && t.want == 0) {
        uint64_t start, end;

        have_current = file_tail_offset(channel_current(ch)->path, 0, &start, &end);
        t.follow_offset = end;
    }
    for (size_t i = t.want - t.filled; i < t.want; i++) {
        fputs(t.out[i], stdout);
        free(t.out[i]);
    }
    free(t.out);
    out_failed = fflush(stdout) != 0;
    if (out_failed)
        tool_error_errno("stdout");
    fileset_free(&set);
    /* A rotated file that could not be read was reported; following the
     * current one is still worth doing. */
    if (o->follow && !out_failed)
        status = follow(&t, path, have_current);
    if (t.failed || out_failed)
        status = 1;
    free(path);
    sb_free(&t.sb);
    return status;
}
