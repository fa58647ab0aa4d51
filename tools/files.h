/*
 * files.h: the files of a log directory, and reading them line by line.
 *
 * The layout is the file exporter's (exporters/file/FORMAT.md):
 *
 *     <channel>.log                      the current file
 *     <channel>.log.<YYYY-MM-DD>[.<N>]   rotated pieces
 *     ... .gz                            the same, compressed
 *
 * fileset_scan() lists a directory into channels, each with its files in
 * reading order (rotated pieces by date, then by N with no N first, then
 * the current file). The line reader reads plain and gzip files alike
 * through zlib, one line at a time, with memory for the longest line only.
 */
#ifndef OTELC_TOOL_FILES_H
#define OTELC_TOOL_FILES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <zlib.h>

#include "util.h"

/* Lines longer than this are skipped and reported: a file without a newline
 * (or not a log file at all) must not take all the memory. */
#define LINE_MAX_BYTES (64u * 1024u * 1024u)

typedef struct tool_file {
    char *path;           /* <dir>/<name> */
    const char *name;     /* the name, inside path */
    bool current;         /* <channel>.log */
    bool gz;              /* ends in .gz */
    int year, month, day; /* the date in the name (0 for the current file) */
    int64_t day_number;   /* days since 1970-01-01 of that date */
    unsigned piece;       /* N of .<N>; 0 without */
    uint64_t size;        /* bytes on disk */
    tool_time_t mtime;
    mode_t mode;
} tool_file_t;

typedef struct tool_channel {
    char *name;
    tool_file_t *files; /* reading order; the current file, when there is one, last */
    size_t n_files;
} tool_channel_t;

typedef struct tool_fileset {
    char *dir;
    tool_channel_t *channels; /* sorted by name */
    size_t n_channels;
} tool_fileset_t;

/*
 * Lists `dir`. Returns false, having printed "otelc: <dir>: <reason>", when
 * the directory cannot be read. Names that are not log files are ignored;
 * when both a rotated piece and its .gz exist (a compression that stopped
 * before removing the original), the plain file is listed and the .gz not.
 */
bool fileset_scan(const char *dir, tool_fileset_t *out);

/* The channel named `name`, or NULL. */
const tool_channel_t *fileset_channel(const tool_fileset_t *set, const char *name);

/* The current file of a channel, or NULL when it has none. */
const tool_file_t *channel_current(const tool_channel_t *ch);

void fileset_free(tool_fileset_t *set);

/* True for a name made of [A-Za-z0-9_.-], 1 to 255 bytes. */
bool channel_name_valid(const char *name);

/* ---- line reader ------------------------------------------------------- */

typedef enum lr_status {
    LR_LINE,    /* a complete line (without its '\n') */
    LR_PARTIAL, /* the last bytes of the file, without '\n' */
    LR_SKIPPED, /* a line longer than LINE_MAX_BYTES, skipped and reported */
    LR_END,     /* nothing more (in follow mode: for now) */
    LR_ERROR,   /* a read error or a damaged gzip stream, reported */
} lr_status_t;

typedef struct linereader {
    const char *path; /* borrowed */
    gzFile gz;
    char *buf;
    size_t cap, start, end; /* unread bytes are buf[start, end) */
    uint64_t offset;        /* offset in the (uncompressed) file of buf[start] */
    uint64_t start_offset;  /* where reading started */
    uint64_t stop;          /* no line starting at or after this offset is returned */
    uint64_t line_offset;   /* offset of the last line returned */
    uint64_t lineno;        /* its number, counted from the reader's start */
    uint64_t first_lineno;  /* number of the line at the start offset; 0: not yet known */
    bool follow;            /* keep a partial last line for later: the file may grow */
    bool eof;
    bool failed;
    bool skipping; /* inside an overlong line */
    dev_t dev;     /* the file opened, to see it replaced (tail -f) */
    ino_t ino;
} linereader_t;

/*
 * Opens `path` (plain or gzip) for reading from byte `start` (plain files
 * only; 0 for gzip files) up to `stop` (UINT64_MAX: the end). `start` must
 * be the start of a line. Returns false, having printed
 * "otelc: <path>: <reason>", when it cannot be opened. `path` is borrowed
 * until lr_close().
 */
bool lr_open(linereader_t *lr, const char *path, uint64_t start, uint64_t stop);

/* The next line: `*line` points into the reader until the next call. */
lr_status_t lr_next(linereader_t *lr, tstr_t *line);

/* The number of the last line returned (counting the file's lines from 1;
 * found by counting newlines when the reader started inside the file). */
uint64_t lr_lineno(linereader_t *lr);

/* Offset just past the last complete line read: where following resumes. */
uint64_t lr_resume_offset(const linereader_t *lr);

/* After LR_END in follow mode: try again (the file may have grown). */
void lr_retry(linereader_t *lr);

void lr_close(linereader_t *lr);

/*
 * The offset where the last `k` complete lines of the plain file `path`
 * begin (0 when it has fewer), a partial last line not counted, and in
 * `*end` the offset just past the last complete line. False, with the
 * error printed, when the file cannot be read.
 */
bool file_tail_offset(const char *path, uint64_t k, uint64_t *start, uint64_t *end);

#endif /* OTELC_TOOL_FILES_H */
