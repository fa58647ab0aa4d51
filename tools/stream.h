/*
 * stream.h: records out of files, filtered, and several channels merged in
 * time order.
 *
 *   record_reader_t  the records of one file, line by line: parses each
 *                    line, reports a corrupt one ("otelc: <file>:<line>:
 *                    ...") and goes on, skips a last line without '\n';
 *   chan_reader_t    the records of one channel that pass a filter, file
 *                    after file, skipping rotated files whose date cannot
 *                    match the filter's time window;
 *   merged_t         several channels at once, earliest record first. When
 *                    all log channels are read, an ERROR record the exporter
 *                    wrote to its own channel and to errors.log comes out
 *                    once.
 *
 * A record returned by any of them is valid until the next call on the
 * same reader.
 */
#ifndef OTELC_TOOL_STREAM_H
#define OTELC_TOOL_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "files.h"
#include "json_read.h"
#include "record.h"
#include "util.h"

/* The channel the exporter copies every ERROR+ record to, and the spans'. */
#define ERRORS_CHANNEL "errors"
#define TRACES_CHANNEL "traces"

typedef struct filter {
    const char *trace_id;       /* hex, any case */
    const char *correlation_id; /* exact */
    const char *logger;         /* prefix of the logger (or span scope) */
    const char *event;          /* exact */
    const char *grep;           /* substring of the message or the record's line */
    int min_severity;           /* 0: any */
    tool_time_t since;          /* inclusive; TOOL_TIME_NONE: open */
    tool_time_t until;          /* exclusive; TOOL_TIME_NONE: open */
    strbuf_t scratch;           /* the JSON of an OTLP record, for grep */
} filter_t;

void filter_init(filter_t *f);
void filter_deinit(filter_t *f);

/* True when `r` (read from `line`) passes every condition of `f`. */
bool filter_match(filter_t *f, const tool_record_t *r, tstr_t line);

/* Which records a reader returns. */
#define WANT_LOGS 1u
#define WANT_SPANS 2u

typedef struct record_reader {
    linereader_t lr;
    json_arena_t arena;
    record_list_t recs;
    size_t next;
    tstr_t line; /* the line of the records in recs */
    bool open;
    /* Counters over the reader's life. */
    uint64_t lines;     /* complete lines read */
    uint64_t bad_lines; /* corrupt or overlong, reported */
    uint64_t partial;   /* last lines without '\n', skipped */
    bool failed;        /* could not be opened, or a read error */
} record_reader_t;

/*
 * Opens `path` from byte `start` up to `stop` (see lr_open). False, with
 * the reason printed and `failed` set, when it cannot be opened.
 */
bool rr_open(record_reader_t *rr, const char *path, uint64_t start, uint64_t stop);

/* The next record, or NULL at the end of the file (or on a read error). */
const tool_record_t *rr_next(record_reader_t *rr);

/* Like rr_open/rr_next but for a file that grows: a last line without '\n'
 * is kept until it is complete. */
bool rr_open_follow(record_reader_t *rr, const char *path, uint64_t start);

void rr_close(record_reader_t *rr);

typedef struct chan_reader {
    const tool_channel_t *ch;
    filter_t *filter; /* borrowed; NULL: every record */
    unsigned want;
    size_t file_index; /* the file being read, or the next one to open */
    record_reader_t rr;
    const tool_record_t *current;
    bool started;
    /* Sums over the files read so far (and the one open). */
    uint64_t records, bad_lines, partial, files_failed;
} chan_reader_t;

void chan_open(chan_reader_t *cr, const tool_channel_t *ch, filter_t *filter, unsigned want);

/* The current record (read on the first call), or NULL at the end. */
const tool_record_t *chan_peek(chan_reader_t *cr);

/* Moves past the current record. */
void chan_advance(chan_reader_t *cr);

/* The raw line of the current record. */
tstr_t chan_line(const chan_reader_t *cr);

void chan_close(chan_reader_t *cr);

/* True when a rotated file (index `i` of the channel) may hold records in
 * the filter's time window. */
bool file_in_window(const tool_channel_t *ch, size_t i, const filter_t *f);

typedef struct merged {
    chan_reader_t *readers;
    size_t n;
    bool dedup;       /* collapse the errors.log copies */
    size_t errors_at; /* index of the errors channel when dedup */
    size_t taken;     /* reader whose record was returned last, or n */
    hashcount_t originals, copies;
} merged_t;

/*
 * Reads the channel named `channel`, or when it is NULL every channel but
 * traces (for logs) or only traces (for spans). False, having printed
 * "otelc: <dir>/<channel>.log: No such file or directory", when the named
 * channel has no files.
 */
bool merged_open(merged_t *m, const tool_fileset_t *set, const char *channel, filter_t *filter,
                 unsigned want);

/* The next record in time order and, in `*channel`, its channel's name. */
const tool_record_t *merged_next(merged_t *m, const char **channel);

/* Totals over every channel: corrupt lines and files that failed. */
uint64_t merged_bad_lines(const merged_t *m);
uint64_t merged_failed_files(const merged_t *m);

void merged_close(merged_t *m);

#endif /* OTELC_TOOL_STREAM_H */
