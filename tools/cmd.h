/*
 * cmd.h: the commands of the otelc tool and the options they share.
 *
 * main.c parses the command line into tool_opts_t and calls one cmd_*
 * function, which returns the process's exit status:
 *
 *   0  done
 *   1  a file or directory could not be read or written, or (health) the
 *      logs are unhealthy
 *   2  the command line was wrong (main.c)
 */
#ifndef OTELC_TOOL_CMD_H
#define OTELC_TOOL_CMD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "output.h"
#include "stream.h"

typedef struct tool_opts {
    const char *dir;     /* --dir, $OTELC_FILE_DIR, "logs" */
    tool_time_t now;     /* --now, or the clock */
    bool color;          /* --color resolved against the terminal */
    filter_t filter;     /* --trace-id, --level, --since, ... */
    const char *channel; /* --channel, or the CHANNEL argument */
    out_format_t format; /* --format */
    const char *output;  /* --output; NULL: stdout */
    uint64_t lines;      /* tail -n, default 10 */
    bool follow;         /* tail -f */
    int64_t days;        /* cleanup/compress --days; -1: not given */
    bool dry_run;
    double max_error_rate; /* health, default 0.05 */
    const char *args[4];   /* the command's other arguments */
    int n_args;
} tool_opts_t;

int cmd_tail(tool_opts_t *o);
int cmd_query(tool_opts_t *o);
int cmd_export(tool_opts_t *o);
int cmd_trace(tool_opts_t *o);
int cmd_stats(tool_opts_t *o);
int cmd_status(tool_opts_t *o);
int cmd_health(tool_opts_t *o);
int cmd_cleanup(tool_opts_t *o);
int cmd_compress(tool_opts_t *o);

/* Writes `sb` to `out`; false (and the error printed, naming `name`) when
 * the write fails. Resets `sb`. */
bool write_out(FILE *out, const char *name, strbuf_t *sb);

#endif /* OTELC_TOOL_CMD_H */
