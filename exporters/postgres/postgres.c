/*
 * postgres.c: the PostgreSQL exporter (otelc/postgres.h).
 *
 * One exporter per signal, each with its own connection, on the worker
 * thread the pipeline gives it. A batch is one transaction:
 *
 *   BEGIN
 *   COPY otelc_stage_<table> (...) FROM STDIN      -- rows.c, text format
 *   INSERT INTO logging.<table> (...) SELECT ... FROM otelc_stage_<table>
 *       ON CONFLICT DO NOTHING
 *   COMMIT                                          -- the stage empties itself
 *
 * The staging tables are temporary (ON COMMIT DELETE ROWS), made once per
 * connection. ON CONFLICT on the tables' unique keys (record_id and the
 * day, a span's ids and start) makes a batch sent again -- after a COMMIT
 * whose answer was lost -- store nothing twice. No SQL text is built from a
 * record: rows travel as COPY data only.
 *
 * A lost connection is made again with backoff within the export's
 * timeout; the batch is sent whole on the new one. No wait for the server
 * outlasts the export's timeout (wait.h): a hung server, which would keep
 * libpq's blocking calls forever, costs a batch its timeout, and the batch
 * goes to the fallback file.
 */
#include <otelc/postgres.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "fallback.h"
#include "postgres_internal.h"
#include "rows.h"
#include "schema.h"
#include "wait.h"

#define OFF(field) offsetof(otelc_pg_options_t, field)

static const otelc_setting_word_t bool_words[] = {
    { "1", 1 }, { "true", 1 }, { "0", 0 }, { "false", 0 }, { NULL, 0 },
};

static const otelc_setting_t pg_settings[] = {
    { .env = "OTELC_PG_CONNINFO",
      .key = "otelc.postgres.conninfo",
      .type = OTELC_SETTING_STRING,
      .offset = OFF(conninfo),
      .expected = "a libpq connection string or URI",
      .doc = "the database; empty: libpq's defaults, PG* variables, ~/.pgpass" },
    { .env = "OTELC_PG_FALLBACK_FILE",
      .key = "otelc.postgres.fallback_file",
      .type = OTELC_SETTING_STRING,
      .offset = OFF(fallback_file),
      .expected = "a file path",
      .doc = "where records wait while the database is down (flat JSON lines); empty: none" },
    { .env = "OTELC_PG_AUTO_MIGRATE",
      .key = "otelc.postgres.auto_migrate",
      .type = OTELC_SETTING_ENUM,
      .offset = OFF(auto_migrate),
      .def = "0",
      .words = bool_words,
      .doc = "1: create or upgrade the logging schema at start" },
    { .env = "OTELC_PG_MAX_EXPORT_BATCH_SIZE",
      .key = "otelc.postgres.max_export_batch_size",
      .type = OTELC_SETTING_UINT,
      .offset = OFF(max_export_batch_size),
      .def = "100",
      .min = 1,
      .max = 65536,
      .unit = "records",
      .doc = "records per transaction at most (at most the signal's max_queue_size)" },
    { .env = "OTELC_PG_SCHEDULE_DELAY",
      .key = "otelc.postgres.schedule_delay",
      .type = OTELC_SETTING_UINT,
      .offset = OFF(schedule_delay_ms),
      .def = "10000",
      .max = 3600000,
      .unit = "milliseconds",
      .doc = "longest a record waits for a fuller transaction (a flush sends it at once)" },
};

/* ---- the instance ---------------------------------------------------------------------- */

/* How far ahead partitions are made: today and the next days, so that a
 * batch after midnight finds its day. */
#define DAYS_AHEAD 3

typedef struct pg_exporter {
    otelc_exporter_t base;
    otelc_signal_t signal;
    const char *name; /* "logs", "traces": for diagnostics */
    char *conninfo;
    bool auto_migrate, migrated;
    PGconn *conn;
    bool staged; /* the staging tables exist on conn */
    /* The export's deadline (ms, monotonic): no wait for the server lasts
     * past it. `late`: a wait ended there, the connection is in
     * mid-statement and good only for closing. */
    uint64_t deadline;
    bool late;
    /* Days whose partitions are known to exist on conn: the range around
     * today made at connect, and the last other days a batch had. */
    long days_first, days_last;
    long other_days[16];
    size_t n_other_days, next_other_day;
    otelc_str_t service;
    char *service_buf;
    otelc_resource_t resource;
    otelc__fbuf_t rows, perf;
    otelc__pg_clock_t clock;
    uint8_t id_prefix[8]; /* record ids: this prefix and a count */
    uint64_t id_next;
    uint8_t *ids; /* the batch's record ids, 16 bytes each */
    size_t ids_cap;
    char err[512];
    char sqlstate[6]; /* of the last failed statement; "" when none came */
    long days[64];    /* the batch's days (UTC, since the epoch) */
    size_t n_days;
    /* The fallback file (NULL: none), and whether it may hold records. */
    char *fallback;
    otelc__fbuf_t lines;
    bool fallback_pending, first_export;
    /* While the database is down: no attempt before down_until_ms. */
    uint64_t down_until_ms;
    uint32_t down_backoff_ms;
} pg_exporter_t;

static uint64_t mono_ms(void)
{
    return otelc__pg_now_ms();
}

static void sleep_ms(uint32_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L };

    nanosleep(&ts, NULL);
}

/* Forgets the connection and what was known on it (no word to the server). */
static void forget(pg_exporter_t *x)
{
    x->conn = NULL;
    x->staged = false;
    x->late = false;
    x->days_first = 1;
    x->days_last = 0;
    x->n_other_days = 0;
}

static void disconnect(pg_exporter_t *x)
{
    if (x->conn != NULL)
        PQfinish(x->conn);
    forget(x);
}

/* Records why `r` failed (NULL: the connection's message, or no answer by
 * the deadline when x->late): x->err and the SQLSTATE. The first failure
 * of an attempt is kept. */
static void failed(pg_exporter_t *x, const PGresult *r)
{
    const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

    if (x->err[0] != '\0')
        return;
    if (x->late)
        snprintf(x->err, sizeof(x->err), "%s", OTELC__PG_NO_ANSWER);
    else
        otelc__pg_error(x->conn, r, x->err, sizeof(x->err));
    snprintf(x->sqlstate, sizeof(x->sqlstate), "%s", state != NULL ? state : "");
    /* A table or the schema missing: said with what to do about it. */
    if (strcmp(x->sqlstate, "42P01") == 0 || strcmp(x->sqlstate, "3F000") == 0) {
        size_t n = strlen(x->err);

        snprintf(x->err + n, sizeof(x->err) - n,
                 " (the logging schema is not there: run `otelc pg init`, or set "
                 "OTELC_PG_AUTO_MIGRATE=1)");
    }
}

/* Whether the last failure may pass on a retry: no answer (the connection
 * could not be made or broke), or SQLSTATE class 08 (connection), 40 (transaction rolled back:
 * deadlock, serialization), 53 (insufficient resources), 57 (operator
 * intervention: shutdown, statement timeout), 58 (system error). Errors of
 * the data (22, 23) or of the statement would come back the same. */
static bool transient(const pg_exporter_t *x)
{
    static const char *const classes[] = { "08", "40", "53", "57", "58" };

    /* No SQLSTATE: the connection failed or broke. A schema not there yet
     * (42P01, 3F000) is waited for like a database down: an operator runs
     * `otelc pg init`, and with a fallback file nothing is lost meanwhile. */
    if (x->sqlstate[0] == '\0' || strcmp(x->sqlstate, "42P01") == 0 ||
        strcmp(x->sqlstate, "3F000") == 0)
        return true;
    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
        if (memcmp(x->sqlstate, classes[i], 2) == 0)
            return true;
    }
    return false;
}

/* The result of `sql`, waited for until x->deadline; NULL (and x->late)
 * when it did not come. */
static PGresult *query(pg_exporter_t *x, const char *sql)
{
    PGresult *r = otelc__pg_exec_until(x->conn, sql, 0, NULL, x->deadline);

    x->late = r == NULL;
    return r;
}

/* Runs a statement without results; false with the reason in x->err. */
static bool exec(pg_exporter_t *x, const char *sql)
{
    PGresult *r = query(x, sql);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

    if (!ok)
        failed(x, r);
    PQclear(r);
    return ok;
}

static const char stage_sql[] =
    "CREATE TEMP TABLE IF NOT EXISTS otelc_stage_system_logs"
    " (LIKE logging.system_logs INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS otelc_stage_spans"
    " (LIKE logging.spans) ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS otelc_stage_performance_logs"
    " (LIKE logging.performance_logs INCLUDING DEFAULTS) ON COMMIT DELETE ROWS";

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Connects (when not connected) and readies the connection: the schema
 * (auto-migrate), the staging tables, a statement timeout; all by
 * x->deadline. */
static bool connect_db(pg_exporter_t *x)
{
    /* The deadline bounds the connection (libpq's connect_timeout, whole
     * seconds and at least 2, is not used by its asynchronous connect). */
    const char *keys[] = { "fallback_application_name", "dbname", NULL };
    const char *values[] = { "otelc", x->conninfo, NULL };
    uint64_t now = mono_ms();
    /* statement_timeout takes at most INT_MAX ms. */
    uint64_t left = x->deadline > now ? x->deadline - now : 1;
    char sql[96];
    bool late;

    if (x->conn != NULL && PQstatus(x->conn) == CONNECTION_OK)
        return true;
    disconnect(x);
    x->conn = otelc__pg_connect_until(keys, values, x->deadline, &late);
    if (x->conn == NULL || PQstatus(x->conn) != CONNECTION_OK) {
        /* libpq's message names host, port and user, never the password. */
        x->late = late;
        failed(x, NULL);
        disconnect(x);
        return false;
    }
    /* The server's notices ("already exists, skipping") are not the
     * application's: libpq would print them on stderr. */
    PQsetNoticeProcessor(x->conn, ignore_notice, NULL);
    if (x->auto_migrate && !x->migrated) {
        if (otelc__pg_migrate(x->conn, x->deadline, x->err, sizeof(x->err)) < 0) {
            disconnect(x);
            return false;
        }
        x->migrated = true;
    }
    /* The server's own bound, for a statement that is slow rather than a
     * server that is hung. */
    snprintf(sql, sizeof(sql), "SET statement_timeout = %llu",
             (unsigned long long)(left < INT_MAX ? left : INT_MAX));
    if (!exec(x, sql) || !exec(x, stage_sql)) {
        disconnect(x);
        return false;
    }
    x->staged = true;
    return true;
}

/* Days since the epoch (UTC) of ns. */
static long day_of(uint64_t ns)
{
    return (long)(ns / 1000000000u / 86400u);
}

static bool day_known(const pg_exporter_t *x, long day)
{
    if (day >= x->days_first && day <= x->days_last)
        return true;
    for (size_t i = 0; i < x->n_other_days; i++) {
        if (x->other_days[i] == day)
            return true;
    }
    return false;
}

/* The partitions of yesterday to DAYS_AHEAD days ahead (once per
 * connection and day), and of each day of the batch's that is not known:
 * only the days there are rows for, so that a replay of a month-old file
 * makes one day's partitions, not thirty. */
static bool ensure_days(pg_exporter_t *x, const long *days, size_t n)
{
    long today = day_of((uint64_t)time(NULL) * 1000000000u);

    if (today < x->days_first || today + DAYS_AHEAD > x->days_last) {
        if (!otelc__pg_ensure_partitions(x->conn, today - 1, today + DAYS_AHEAD, x->deadline,
                                         x->err, sizeof(x->err)))
            return false; /* x->sqlstate stays "": taken as transient */
        x->days_first = today - 1;
        x->days_last = today + DAYS_AHEAD;
    }
    for (size_t i = 0; i < n; i++) {
        if (day_known(x, days[i]))
            continue;
        if (!otelc__pg_ensure_partitions(x->conn, days[i], days[i], x->deadline, x->err,
                                         sizeof(x->err)))
            return false;
        x->other_days[x->next_other_day] = days[i];
        x->next_other_day = (x->next_other_day + 1) % 16u;
        if (x->n_other_days < 16)
            x->n_other_days++;
    }
    return true;
}

/* COPY `rows` into the staging table by the statement `copy`. */
static bool copy_in(pg_exporter_t *x, const char *copy, const otelc__fbuf_t *rows)
{
    PGresult *r = query(x, copy);
    bool ok = PQresultStatus(r) == PGRES_COPY_IN;
    size_t at = 0;
    int put = 1;

    if (!ok)
        failed(x, r);
    PQclear(r);
    if (!ok)
        return false;
    /* In pieces of at most 1 MiB: PQputCopyData takes an int length. */
    while (put == 1 && at < rows->len) {
        size_t n = rows->len - at < (1u << 20) ? rows->len - at : (1u << 20);

        put = otelc__pg_put_copy_until(x->conn, rows->data + at, (int)n, x->deadline);
        at += n;
    }
    if (put == 1)
        put = otelc__pg_end_copy_until(x->conn, NULL, x->deadline);
    else if (put < 0)
        put = otelc__pg_end_copy_until(x->conn, "otelc: the rows could not be sent", x->deadline);
    if (put == 0) {
        x->late = true;
        failed(x, NULL);
        return false;
    }
    r = otelc__pg_result_until(x->conn, x->deadline);
    x->late = r == NULL;
    ok = put == 1 && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        failed(x, r);
    PQclear(r);
    return ok;
}

static const char copy_logs_direct[] =
    "COPY logging.system_logs (service, level, message, data, correlation_id, event_type,"
    " timestamp, trace_id, span_id, logger, record_id) FROM STDIN";
static const char copy_spans_direct[] =
    "COPY logging.spans (trace_id, span_id, parent_span_id, name, kind, service, start_time,"
    " end_time, duration_ms, status_code, status_message, correlation_id, attributes, events,"
    " links, resource) FROM STDIN";
static const char copy_perf_direct[] =
    "COPY logging.performance_logs (service, operation, execution_time_ms, memory_usage_mb,"
    " cpu_usage_percent, timestamp, trace_id, span_id, record_id) FROM STDIN";
static const char copy_logs[] =
    "COPY otelc_stage_system_logs (service, level, message, data, correlation_id, event_type,"
    " timestamp, trace_id, span_id, logger, record_id) FROM STDIN";
static const char insert_logs[] =
    "INSERT INTO logging.system_logs (service, level, message, data, correlation_id, event_type,"
    " timestamp, trace_id, span_id, logger, record_id)"
    " SELECT service, level, message, data, correlation_id, event_type, timestamp, trace_id,"
    " span_id, logger, record_id FROM otelc_stage_system_logs ORDER BY id"
    " ON CONFLICT DO NOTHING";
static const char copy_spans[] =
    "COPY otelc_stage_spans (trace_id, span_id, parent_span_id, name, kind, service, start_time,"
    " end_time, duration_ms, status_code, status_message, correlation_id, attributes, events,"
    " links, resource) FROM STDIN";
static const char insert_spans[] =
    "INSERT INTO logging.spans SELECT * FROM otelc_stage_spans ON CONFLICT DO NOTHING";
static const char copy_perf[] =
    "COPY otelc_stage_performance_logs (service, operation, execution_time_ms, memory_usage_mb,"
    " cpu_usage_percent, timestamp, trace_id, span_id, record_id) FROM STDIN";
static const char insert_perf[] =
    "INSERT INTO logging.performance_logs (service, operation, execution_time_ms,"
    " memory_usage_mb, cpu_usage_percent, timestamp, trace_id, span_id, record_id)"
    " SELECT service, operation, execution_time_ms, memory_usage_mb, cpu_usage_percent,"
    " timestamp, trace_id, span_id, record_id FROM otelc_stage_performance_logs ORDER BY id"
    " ON CONFLICT DO NOTHING";

/* Adds `day` to the batch's distinct days (x->days, at most 64: past that
 * the batch is sent in the hope that the partitions exist; a row without
 * one fails the batch, which is then refused with the server's reason). */
static void add_day(pg_exporter_t *x, long day)
{
    for (size_t i = 0; i < x->n_days; i++) {
        if (x->days[i] == day)
            return;
    }
    if (x->n_days < sizeof(x->days) / sizeof(x->days[0]))
        x->days[x->n_days++] = day;
}

/* What a batch's rows are made from: its records, and per record (for a
 * replayed batch, whose lines may come from other services) the service,
 * the record id (logs) and the resource (spans); NULL: this exporter's. */
typedef struct rows_of {
    otelc_signal_t signal;
    size_t n;
    const otelc_log_data_t *logs;
    const otelc_span_data_t *spans;
    const otelc_str_t *services;
    const uint8_t *ids;
    const otelc_resource_t *resources;
} rows_of_t;

/* The batch's rows into x->rows (and x->perf), its days into x->days. */
static bool build_rows(pg_exporter_t *x, const rows_of_t *b)
{
    otelc__fbuf_reset(&x->rows);
    otelc__fbuf_reset(&x->perf);
    x->n_days = 0;
    for (size_t i = 0; i < b->n; i++) {
        const otelc_str_t *service = b->services != NULL ? &b->services[i] : &x->service;

        if (b->signal == OTELC_SIGNAL_LOGS) {
            const otelc_log_data_t *r = &b->logs[i];

            add_day(x, day_of(r->time_ns != 0 ? r->time_ns : r->observed_time_ns));
            otelc__pg_log_row(&x->rows, &x->clock, service, r, b->ids + 16 * i);
        } else {
            const otelc_span_data_t *sp = &b->spans[i];

            add_day(x, day_of(sp->start_ns));
            otelc__pg_span_row(&x->rows, &x->clock, service,
                               b->resources != NULL ? &b->resources[i] : &x->resource, sp);
            if (otelc__pg_perf_row(&x->perf, &x->clock, service, sp))
                add_day(x, day_of(sp->end_ns > sp->start_ns ? sp->end_ns : sp->start_ns));
        }
    }
    return !x->rows.failed && !x->perf.failed;
}

/* Gives each record of the batch its id: this exporter's prefix and a
 * count. Kept for the whole export, retries and the fallback file
 * included. */
static bool assign_ids(pg_exporter_t *x, size_t n)
{
    if (x->ids_cap < n) {
        uint8_t *ids = realloc(x->ids, n * 16);

        if (ids == NULL)
            return false;
        x->ids = ids;
        x->ids_cap = n;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t v = x->id_next++;

        memcpy(x->ids + 16 * i, x->id_prefix, 8);
        for (int k = 0; k < 8; k++)
            x->ids[16 * i + 8 + k] = (uint8_t)(v >> (56 - 8 * k));
    }
    return true;
}

/* One attempt: the rows built in one transaction. */
static void rollback(pg_exporter_t *x)
{
    /* After the deadline the connection is closed instead, which rolls
     * back as well. */
    if (!x->late)
        PQclear(query(x, "ROLLBACK"));
}

/* The rows straight into the tables, in one transaction: the fast way,
 * which a row stored before (a batch sent again) makes fail with a unique
 * violation (SQLSTATE 23505). */
static bool send_direct(pg_exporter_t *x, bool logs)
{
    if (!exec(x, "BEGIN"))
        return false;
    if (!copy_in(x, logs ? copy_logs_direct : copy_spans_direct, &x->rows) ||
        (x->perf.len > 0 && !copy_in(x, copy_perf_direct, &x->perf)) || !exec(x, "COMMIT")) {
        rollback(x);
        return false;
    }
    return true;
}

/* Through the staging tables, with ON CONFLICT DO NOTHING: what was stored
 * before is skipped, the rest stored. */
static bool send_staged(pg_exporter_t *x, bool logs)
{
    if (!exec(x, "BEGIN"))
        return false;
    if (!copy_in(x, logs ? copy_logs : copy_spans, &x->rows) ||
        !exec(x, logs ? insert_logs : insert_spans) ||
        (x->perf.len > 0 && (!copy_in(x, copy_perf, &x->perf) || !exec(x, insert_perf))) ||
        !exec(x, "COMMIT")) {
        rollback(x);
        return false;
    }
    return true;
}

/* One attempt: the rows built, in one transaction. COPY straight into the
 * tables first (measured 90,000 rows/s against 58,000 through the staging
 * table and INSERT ... ON CONFLICT, on the local cluster: bench/RESULTS.md); only when
 * that meets rows stored before, through the staging table, which stores
 * the others and skips those. */
static bool send_rows(pg_exporter_t *x, otelc_signal_t signal)
{
    bool logs = signal == OTELC_SIGNAL_LOGS;

    if (!ensure_days(x, x->days, x->n_days))
        return false;
    if (send_direct(x, logs))
        return true;
    if (strcmp(x->sqlstate, "23505") != 0)
        return false;
    x->err[0] = '\0';
    x->sqlstate[0] = '\0';
    return send_staged(x, logs);
}

/* Connects and sends the rows built, until `deadline` (ms, monotonic):
 * 1 stored, 0 the database unreachable (or failing for a while), -1 the
 * rows refused (an error that a retry would meet again). With a fallback
 * file the batch has somewhere to go: one retry on a new connection (a
 * connection the server dropped since the last batch), no waiting. */
static int deliver(pg_exporter_t *x, otelc_signal_t signal, uint64_t deadline)
{
    uint32_t backoff = 100;
    int attempts = 0;

    x->deadline = deadline;
    for (;;) {
        uint64_t now;

        x->err[0] = '\0';
        x->sqlstate[0] = '\0';
        if (connect_db(x) && send_rows(x, signal))
            return 1;
        if (!transient(x))
            return -1;
        disconnect(x);
        if (x->fallback != NULL && ++attempts >= 2)
            return 0;
        if (x->fallback != NULL)
            continue;
        now = mono_ms();
        if (now + backoff >= deadline)
            return 0;
        sleep_ms(backoff);
        backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
    }
}

/* ---- the fallback file ---------------------------------------------------------------- */

/* The file being replayed: the fallback file renamed, so that new records
 * go to a new one meanwhile. */
static void replaying_path(const pg_exporter_t *x, char *out, size_t size)
{
    snprintf(out, size, "%s.replaying", x->fallback);
}

/* Writes the batch to the fallback file; false with the reason in x->err. */
static bool to_fallback(pg_exporter_t *x, const otelc_batch_t *batch)
{
    otelc__fbuf_reset(&x->lines);
    for (size_t i = 0; i < batch->n; i++) {
        if (x->signal == OTELC_SIGNAL_LOGS)
            otelc__pg_fallback_log(&x->lines, &batch->logs[i], &x->service, x->ids + 16 * i);
        else
            otelc__pg_fallback_span(&x->lines, &batch->spans[i], &x->service, &x->resource);
    }
    if (x->lines.failed) {
        snprintf(x->err, sizeof(x->err), "out of memory");
        return false;
    }
    if (!otelc__pg_fallback_append(x->fallback, x->lines.data, x->lines.len, x->err,
                                   sizeof(x->err)))
        return false;
    x->fallback_pending = true;
    return true;
}

/* Sends the records read back so far (both signals); false when the
 * database did not take them (the caller keeps the file). */
static bool replay_batch(pg_exporter_t *x, otelc__pg_replayed_t *rp, uint64_t deadline,
                         uint64_t *records)
{
    for (int k = 0; k < 2; k++) {
        otelc_signal_t signal = k == 0 ? OTELC_SIGNAL_LOGS : OTELC_SIGNAL_TRACES;
        rows_of_t b = { .signal = signal };
        const void *recs;

        b.n = otelc__pg_replayed_batch(rp, signal, &recs, &b.services, &b.ids, &b.resources);
        if (b.n == 0)
            continue;
        if (signal == OTELC_SIGNAL_LOGS)
            b.logs = recs;
        else
            b.spans = recs;
        if (!build_rows(x, &b) || deliver(x, signal, deadline) != 1)
            return false;
        *records += b.n;
    }
    otelc__pg_replayed_reset(rp);
    return true;
}

/* How many lines go into one replayed transaction. */
#define REPLAY_BATCH 512

unsigned otelc__pg_replay_stop_after;

/*
 * Where a replay cut short goes on: FILE.offset holds the byte offset of the
 * first line not yet stored and the file's inode, written after each
 * COMMIT (to a temporary name, then renamed). It is taken only for the same
 * file and at a line's start; lost or stale, the replay starts over, which
 * stores nothing twice. It goes before the file does, so that it never
 * outlives it.
 */
static void offset_path(const char *path, char *out, size_t size)
{
    snprintf(out, size, "%s.offset", path);
}

static off_t offset_read(const char *path, FILE *f)
{
    char op[4200], buf[64];
    unsigned long long off = 0, ino = 0;
    struct stat st;
    int fd;
    ssize_t n;

    offset_path(path, op, sizeof(op));
    fd = open(op, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0 || fstat(fileno(f), &st) != 0)
        return 0;
    buf[n] = '\0';
    if (sscanf(buf, "%llu %llu", &off, &ino) != 2 || ino != (unsigned long long)st.st_ino ||
        off > (unsigned long long)st.st_size)
        return 0;
    if (off > 0) {
        /* At a line's start: the byte before it ends a line. */
        if (fseeko(f, (off_t)off - 1, SEEK_SET) != 0 || fgetc(f) != '\n') {
            rewind(f);
            return 0;
        }
    }
    return (off_t)off;
}

static void offset_write(const char *path, FILE *f, off_t off)
{
    char op[4200], tmp[4220], buf[64];
    struct stat st;
    int fd, len;

    if (fstat(fileno(f), &st) != 0)
        return;
    offset_path(path, op, sizeof(op));
    snprintf(tmp, sizeof(tmp), "%s.tmp", op);
    len = snprintf(buf, sizeof(buf), "%llu %llu\n", (unsigned long long)off,
                   (unsigned long long)st.st_ino);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return; /* the next replay starts over: nothing is stored twice */
    if (write(fd, buf, (size_t)len) == len)
        (void)rename(tmp, op);
    else
        unlink(tmp);
    close(fd);
}

int otelc__pg_replay_file(otelc_exporter_t *self, const char *path, uint64_t deadline,
                          uint64_t *records, uint64_t *skipped)
{
    pg_exporter_t *x = (pg_exporter_t *)self;
    FILE *f = fopen(path, "r");
    otelc__pg_replayed_t *rp = otelc__pg_replayed_create();
    char *line = NULL, *lines = NULL;
    size_t cap = 0, held = 0, lines_cap = 0, in_batch = 0;
    ssize_t n;
    int status = 1;
    unsigned batches = 0;

    if (f == NULL || rp == NULL) {
        snprintf(x->err, sizeof(x->err), "%s: %s", path,
                 f == NULL ? strerror(errno) : "out of memory");
        status = -1;
        goto done;
    }
    (void)offset_read(path, f);
    /* The lines of a batch stay in memory until it is sent: the records
     * read back point into them. */
    while ((n = getline(&line, &cap, f)) >= 0) {
        const char *why = NULL;
        char *copy;

        if (n > 0 && line[n - 1] == '\n')
            n--;
        if (n == 0)
            continue;
        if (held + (size_t)n + 1 > lines_cap) {
            /* A new block per batch: earlier lines must not move. */
            size_t want = (size_t)n + 1 > 1u << 20 ? (size_t)n + 1 : 1u << 20;
            char **blk = malloc(sizeof(char *) + want);

            if (blk == NULL) {
                snprintf(x->err, sizeof(x->err), "out of memory");
                status = -1;
                goto done;
            }
            *blk = lines;
            lines = (char *)blk;
            held = sizeof(char *);
            lines_cap = sizeof(char *) + want;
        }
        copy = lines + held;
        memcpy(copy, line, (size_t)n);
        copy[n] = '\0';
        held += (size_t)n + 1;
        if (otelc__pg_replayed_add(rp, copy, (size_t)n, &why) == 0) {
            (*skipped)++;
            otelc_diag(OTELC_DIAG_WARN, "exporter.postgres.replay.line",
                       "PostgreSQL exporter: %s: a line skipped: %s", path, why);
            continue;
        }
        if (++in_batch >= REPLAY_BATCH) {
            if (!replay_batch(x, rp, deadline, records)) {
                status = 0;
                goto done;
            }
            in_batch = 0;
            offset_write(path, f, ftello(f));
            if (otelc__pg_replay_stop_after > 0 && ++batches >= otelc__pg_replay_stop_after) {
                snprintf(x->err, sizeof(x->err), "stopped after %u transactions (test)", batches);
                status = 0;
                goto done;
            }
        }
    }
    if (in_batch > 0 && !replay_batch(x, rp, deadline, records))
        status = 0;
    if (status == 1) {
        char op[4200];

        offset_path(path, op, sizeof(op));
        unlink(op);
    }
done:
    while (lines != NULL) {
        char *next = *(char **)lines;

        free(lines);
        lines = next;
    }
    free(line);
    if (f != NULL)
        fclose(f);
    otelc__pg_replayed_free(rp);
    return status;
}

/* Replays the fallback file once the database answers: renamed first (new
 * records go to a new file meanwhile), removed only when every line is
 * stored. A replay cut short (the export's deadline) is taken up where it
 * stopped at the next chance (FILE.offset); what was stored is not stored
 * twice. Under an exclusive lock, so that two
 * exporters sharing the file (logs and traces, or two processes) do not
 * both read it. */
static void replay_fallback(pg_exporter_t *x, uint64_t deadline)
{
    char path[4200];
    uint64_t records = 0, skipped = 0;
    int fd, status;

    replaying_path(x, path, sizeof(path));
    if (access(path, F_OK) != 0 && rename(x->fallback, path) != 0) {
        x->fallback_pending = false; /* nothing there */
        return;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (fd >= 0)
            close(fd);
        return; /* another exporter replays it */
    }
    status = otelc__pg_replay_file(&x->base, path, deadline, &records, &skipped);
    if (status == 1) {
        unlink(path);
        x->fallback_pending = access(x->fallback, F_OK) == 0;
        otelc_diag(OTELC_DIAG_INFO, "exporter.postgres.replayed",
                   "PostgreSQL exporter: the fallback file is stored (%llu records%s)",
                   (unsigned long long)records, skipped > 0 ? ", some lines skipped" : "");
    } else {
        otelc_diag(OTELC_DIAG_WARN, "exporter.postgres.replay",
                   "PostgreSQL exporter: the fallback file %s is kept for later: %s", path, x->err);
    }
    close(fd);
}

static otelc_status_t pg_export(otelc_exporter_t *self, const otelc_batch_t *batch,
                                uint32_t timeout_ms, otelc_export_result_t *result)
{
    pg_exporter_t *x = (pg_exporter_t *)self;
    uint64_t now = mono_ms(), deadline = now + timeout_ms;
    rows_of_t b = { .signal = x->signal };
    int status = 0;

    if (batch == NULL || batch->n == 0)
        return OTELC_OK;
    b.n = batch->n;
    b.logs = batch->logs;
    b.spans = batch->spans;
    if (x->signal == OTELC_SIGNAL_LOGS && !assign_ids(x, batch->n)) {
        result->message = "out of memory for the record ids";
        return OTELC_ERR_NOMEM;
    }
    b.ids = x->ids;
    if (!build_rows(x, &b)) {
        result->message = "out of memory for the rows";
        return OTELC_ERR_NOMEM;
    }
    /* The database known down: with a fallback file, the batch goes there
     * at once and the worker waits for nothing. */
    if (x->fallback == NULL || now >= x->down_until_ms)
        status = deliver(x, x->signal, deadline);
    if (status == 1) {
        x->down_backoff_ms = 0;
        x->down_until_ms = 0;
        if (x->fallback != NULL && (x->fallback_pending || x->first_export))
            replay_fallback(x, deadline);
        x->first_export = false;
        return OTELC_OK;
    }
    if (status < 0) {
        otelc_diag(OTELC_DIAG_ERROR, "exporter.postgres.batch",
                   "PostgreSQL exporter (%s): a batch of %zu records was refused: %s", x->name,
                   batch->n, x->err);
        result->rejected = batch->n;
        result->message = x->err;
        return OTELC_ERR_IO;
    }
    if (now >= x->down_until_ms) {
        /* Down: the next attempts wait longer, up to 30 s. */
        x->down_backoff_ms = x->down_backoff_ms == 0 ? 1000 : x->down_backoff_ms * 2;
        if (x->down_backoff_ms > 30000)
            x->down_backoff_ms = 30000;
        x->down_until_ms = mono_ms() + x->down_backoff_ms;
        otelc_diag(OTELC_DIAG_WARN, "exporter.postgres.connect",
                   "PostgreSQL exporter (%s): the database is not reachable: %s%s", x->name, x->err,
                   x->fallback != NULL ? "; records go to the fallback file until it is" : "");
    }
    if (x->fallback != NULL) {
        if (to_fallback(x, batch))
            return OTELC_OK;
        otelc_diag(OTELC_DIAG_ERROR, "exporter.postgres.fallback",
                   "PostgreSQL exporter (%s): the fallback file %s cannot be written (%s): %zu "
                   "records dropped",
                   x->name, x->fallback, x->err, batch->n);
    }
    result->message = x->err;
    result->retryable = true;
    return OTELC_ERR_IO;
}

const char *otelc__pg_last_error(const otelc_exporter_t *self)
{
    return ((const pg_exporter_t *)self)->err;
}

/* At shutdown, what waits in the fallback file is stored if the database
 * takes it within the deadline; otherwise the file stays for the next run
 * (or `otelc pg replay`). */
static void pg_shutdown(otelc_exporter_t *self, uint32_t timeout_ms)
{
    pg_exporter_t *x = (pg_exporter_t *)self;
    char path[4200];

    if (x->fallback != NULL) {
        replaying_path(x, path, sizeof(path));
        if (x->fallback_pending || access(path, F_OK) == 0) {
            uint64_t deadline = mono_ms() + timeout_ms;

            x->err[0] = '\0';
            x->sqlstate[0] = '\0';
            x->deadline = deadline;
            if (connect_db(x))
                replay_fallback(x, deadline);
        }
    }
    disconnect(x);
}

static void pg_destroy(otelc_exporter_t *self)
{
    pg_exporter_t *x = (pg_exporter_t *)self;

    disconnect(x);
    otelc__fbuf_free(&x->rows);
    otelc__fbuf_free(&x->perf);
    otelc__fbuf_free(&x->lines);
    free(x->fallback);
    free(x->ids);
    free(x->conninfo);
    free(x->service_buf);
    free(x);
}

/* A child after fork() must not use the parent's connection (its socket is
 * shared): forget it without a word to the server. */
static void pg_fork_child(otelc_exporter_t *self)
{
    pg_exporter_t *x = (pg_exporter_t *)self;

    x->conn = NULL;
    x->staged = false;
    x->days_first = 1;
    x->days_last = 0;
    x->n_other_days = 0;
}

static const otelc_exporter_ops_t pg_ops = {
    .version = OTELC_EXPORTER_INTERFACE_VERSION,
    .name = "postgres",
    .signals = OTELC_SIGNAL_TRACES | OTELC_SIGNAL_LOGS,
    .export_batch = pg_export,
    .shutdown = pg_shutdown,
    .destroy = pg_destroy,
    .fork_child = pg_fork_child,
};

/* service.name of the resource ("unknown_service" without one). */
static const char *service_name(const otelc_resource_t *r, size_t *len)
{
    for (size_t i = 0; r != NULL && i < r->n_attrs; i++) {
        const otelc_attr_t *a = &r->attrs[i];

        if (a->key != NULL && strcmp(a->key, "service.name") == 0 && a->type == OTELC_ATTR_STRING &&
            a->v.s != NULL) {
            *len = a->len == OTELC_NUL_TERMINATED ? strlen(a->v.s) : a->len;
            return a->v.s;
        }
    }
    *len = strlen("unknown_service");
    return "unknown_service";
}

static otelc_status_t pg_create(const otelc_exporter_args_t *args, otelc_exporter_t **out)
{
    const otelc_pg_options_t *o = args->settings;
    pg_exporter_t *x;
    const char *svc;
    size_t svc_len;

    if (args->signal != OTELC_SIGNAL_LOGS && args->signal != OTELC_SIGNAL_TRACES)
        return OTELC_ERR_INVALID;
    x = calloc(1, sizeof(*x));
    if (x == NULL)
        return OTELC_ERR_NOMEM;
    x->base.ops = &pg_ops;
    x->signal = args->signal;
    x->name = args->signal == OTELC_SIGNAL_LOGS ? "logs" : "traces";
    x->conninfo = strdup(o != NULL && o->conninfo != NULL ? o->conninfo : "");
    x->auto_migrate = o != NULL && o->auto_migrate == 1;
    if (o != NULL && o->fallback_file != NULL && o->fallback_file[0] != '\0' &&
        (x->fallback = strdup(o->fallback_file)) == NULL) {
        pg_destroy(&x->base);
        return OTELC_ERR_NOMEM;
    }
    /* The transactions' size and delay: the exporter's own, not the
     * signal's (otelc_exporter_batching_t). */
    if (o != NULL &&
        args->struct_size >= offsetof(otelc_exporter_args_t, batching) + sizeof(args->batching) &&
        args->batching != NULL) {
        args->batching->max_export_batch_size = o->max_export_batch_size;
        args->batching->schedule_delay_ms = o->schedule_delay_ms;
    }
    /* A fallback file left by an earlier run is replayed after the first
     * batch stored. */
    x->first_export = true;
    svc = service_name(args->resource, &svc_len);
    x->service_buf = strndup(svc, svc_len);
    x->service = (otelc_str_t){ x->service_buf, svc_len };
    if (args->resource != NULL)
        x->resource = *args->resource;
    forget(x);
    if (getrandom(x->id_prefix, sizeof(x->id_prefix), 0) != (ssize_t)sizeof(x->id_prefix)) {
        uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)x;

        memcpy(x->id_prefix, &seed, sizeof(seed));
    }
    if (x->conninfo == NULL || x->service_buf == NULL) {
        pg_destroy(&x->base);
        return OTELC_ERR_NOMEM;
    }
    *out = &x->base;
    return OTELC_OK;
}

static const otelc_component_t pg_component = {
    .version = OTELC_COMPONENT_VERSION,
    .name = "postgres",
    .settings = pg_settings,
    .n_settings = sizeof(pg_settings) / sizeof(pg_settings[0]),
    .settings_size = sizeof(otelc_pg_options_t),
    .create = pg_create,
};

otelc_status_t otelc_postgres_register(void)
{
    return otelc_component_register(&pg_component);
}

__attribute__((constructor)) static void pg_register_at_load(void)
{
    otelc_status_t st = otelc_postgres_register();

    if (st != OTELC_OK)
        otelc_diag(OTELC_DIAG_ERROR, "exporter.postgres.register",
                   "the PostgreSQL exporter could not register itself: %s", otelc_status_str(st));
}
