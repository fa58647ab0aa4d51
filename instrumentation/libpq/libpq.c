/*
 * libpq.c: the traced libpq calls of otelc/libpq.h.
 *
 * Every wrapper is the same three steps around the real call: call_begin()
 * starts the CLIENT span with the attributes the conventions want at
 * creation (system, namespace, server, query text and summary), the libpq
 * function runs, and call_end() reads the result (rows, error, SQLSTATE),
 * writes the slow-statement warning inside the span when the call took
 * longer than the threshold, and ends the span.
 *
 * A COPY is the one call that outlives its wrapper: the exec wrapper that
 * sees PGRES_COPY_IN or PGRES_COPY_OUT parks the call in a small table keyed
 * by the connection, the copy-data wrappers count bytes and rows on it, and
 * otelc_PQgetResult ends it when the final result arrives. The table is
 * bounded (MAX_OPEN_COPIES); a copy that finds it full ends its span at once
 * with the attribute otelc.db.copy.untracked, and the copy itself goes on.
 */
#include "sql_text.h"

#include <otelc/libpq.h>
#include <otelc/otelc.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SCOPE_NAME "otelc.libpq"
#define SCOPE_VERSION "0.1.0"
#define SLOW_LOGGER "db"
#define SUMMARY_SIZE 256u
#define MESSAGE_SIZE 256u
#define MAX_OPEN_COPIES 16u
/* What an open COPY keeps of its text for the slow-statement warning. */
#define COPY_TEXT_SIZE 512u

/* ---- settings: one row of otelc's settings table ---------------------------------- */

typedef struct pq_settings {
    uint32_t slow_query_ms;
} pq_settings_t;

static const otelc_setting_t pq_setting_rows[] = {
    { .env = "OTELC_PQ_SLOW_QUERY_MS",
      .key = "otelc.libpq.slow_query_ms",
      .type = OTELC_SETTING_UINT,
      .offset = offsetof(pq_settings_t, slow_query_ms),
      .def = "500",
      .min = 0,
      .max = 86400000,
      .unit = "milliseconds",
      .doc = "traced libpq calls slower than this write a slow_query warning (0: none)" },
};

/* A component without an exporter: registering it makes otelc read and
 * check its row as it reads its own (`otelc config`, otelc_options_set). */
static const otelc_component_t pq_component = {
    .version = OTELC_COMPONENT_VERSION,
    .name = "libpq",
    .settings = pq_setting_rows,
    .n_settings = sizeof(pq_setting_rows) / sizeof(pq_setting_rows[0]),
    .settings_size = sizeof(pq_settings_t),
};

__attribute__((constructor)) static void pq_register_at_load(void)
{
    otelc_status_t st = otelc_component_register(&pq_component);
    if (st != OTELC_OK)
        otelc_diag(OTELC_DIAG_ERROR, "libpq.register",
                   "the libpq instrumentation could not register its settings: %s",
                   otelc_status_str(st));
}

/* UINT32_MAX: not read yet. */
static _Atomic uint32_t slow_threshold_ms = UINT32_MAX;
static pthread_once_t settings_once = PTHREAD_ONCE_INIT;

/* The threshold of the options otelc runs with (the environment, the config
 * file's otelc.libpq.slow_query_ms, otelc_options_set()), read by otelc's
 * reader of the row above, so that a bad value is reported as every otelc
 * setting is ("invalid value '5x' for OTELC_PQ_SLOW_QUERY_MS: expected
 * milliseconds from 0 to ...; using the default 500"). Before otelc runs,
 * the environment's alone. The settings struct lives as long as the
 * process; this runs once. */
static void settings_read(void)
{
    otelc_options_t opts;
    const pq_settings_t *s = otelc_component_settings("libpq");
    const char *v = getenv("OTELC_PQ_SLOW_QUERY_MS");
    uint32_t ms = 500;

    if (s != NULL) {
        ms = s->slow_query_ms;
    } else if (otelc_options_default(&opts),
               (s = otelc_options_component(&opts, "libpq")) != NULL) {
        if (v != NULL && v[0] != '\0')
            (void)otelc_options_set(&opts, "OTELC_PQ_SLOW_QUERY_MS", v);
        ms = s->slow_query_ms;
    }
    uint32_t unset = UINT32_MAX;
    /* A value set by the program before the first call wins. */
    atomic_compare_exchange_strong(&slow_threshold_ms, &unset, ms);
}

uint32_t otelc_pq_slow_query_threshold_ms(void)
{
    uint32_t ms = atomic_load_explicit(&slow_threshold_ms, memory_order_relaxed);

    if (ms == UINT32_MAX) {
        pthread_once(&settings_once, settings_read);
        ms = atomic_load(&slow_threshold_ms);
    }
    return ms;
}

void otelc_pq_set_slow_query_threshold_ms(uint32_t ms)
{
    /* UINT32_MAX is "not read": the largest value a setter can mean is one
     * less, longer than any statement runs. */
    if (ms == UINT32_MAX)
        ms = UINT32_MAX - 1;
    pthread_once(&settings_once, settings_read);
    atomic_store(&slow_threshold_ms, ms);
}

/* ---- the tracer and the logger, made on first use ------------------------------------- */

static otelc_tracer_t *pq_tracer(void)
{
    static _Atomic(otelc_tracer_t *) tracer;
    otelc_tracer_t *t = atomic_load_explicit(&tracer, memory_order_acquire);

    if (t == NULL) {
        t = otelc_tracer(SCOPE_NAME, SCOPE_VERSION);
        atomic_store_explicit(&tracer, t, memory_order_release);
    }
    return t;
}

static otelc_logger_t *pq_logger(void)
{
    static _Atomic(otelc_logger_t *) logger;
    otelc_logger_t *l = atomic_load_explicit(&logger, memory_order_acquire);

    if (l == NULL) {
        l = otelc_logger(SLOW_LOGGER);
        atomic_store_explicit(&logger, l, memory_order_release);
    }
    return l;
}

static uint64_t monotonic_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- one traced call ------------------------------------------------------------------- */

typedef struct call {
    otelc_span_t span;
    uint64_t start_ns;
    bool traced; /* false: the SDK is off, the call is libpq's alone */
    char text[OTELC_PQ_QUERY_TEXT_MAX];
} call_t;

/* Copies `s` into `out` (`size` bytes), cut at a character boundary. */
static void copy_cut(char *out, size_t size, const char *s)
{
    size_t n = strlen(s);

    if (n > size - 1) {
        n = size - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

/* A port as a number, or -1 when it is not one. */
static long port_number(const char *s)
{
    char *end;
    long v;

    if (s == NULL || s[0] < '0' || s[0] > '9')
        return -1;
    v = strtol(s, &end, 10);
    return *end == '\0' && v > 0 && v <= 65535 ? v : -1;
}

/* ---- what a statement's text becomes, cached per thread ------------------------------- */

/*
 * A service runs the same few statements again and again, and the two text
 * scans are most of a wrapper's own cost (2 us for a 114-byte statement on
 * the reference VM, against 0.1 us to hash and compare it). Each thread
 * keeps the last statements it described, direct-mapped by a hash of the
 * text; a hit is confirmed on the whole text, so a collision only costs a
 * scan. Made on the thread's first call (10 KiB), freed when it exits.
 * Statements of CACHE_SQL_MAX bytes or more are scanned every time.
 */
#define CACHE_SLOTS 8u
#define CACHE_SQL_MAX 512u

typedef struct described {
    uint64_t hash; /* 0: an empty slot */
    uint32_t len;
    bool parameterized;
    char sql[CACHE_SQL_MAX];
    char text[CACHE_SQL_MAX]; /* never longer than the statement */
    char summary[SUMMARY_SIZE];
} described_t;

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static bool cache_key_made;
static _Thread_local described_t *thread_cache;
static _Thread_local bool thread_cache_failed;

static void cache_key_make(void)
{
    cache_key_made = pthread_key_create(&cache_key, free) == 0;
}

static described_t *cache_get(void)
{
    if (thread_cache == NULL && !thread_cache_failed) {
        pthread_once(&cache_once, cache_key_make);
        if (cache_key_made)
            thread_cache = calloc(CACHE_SLOTS, sizeof(described_t));
        if (thread_cache != NULL && pthread_setspecific(cache_key, thread_cache) != 0) {
            free(thread_cache);
            thread_cache = NULL;
        }
        thread_cache_failed = thread_cache == NULL;
    }
    return thread_cache;
}

/* FNV-1a, 64 bits; never 0 (the empty slot). */
static uint64_t text_hash(const char *s, size_t n, bool parameterized)
{
    uint64_t h = 0xcbf29ce484222325u ^ (parameterized ? 1u : 0u);

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3u;
    return h != 0 ? h : 1;
}

/* db.query.text and db.query.summary of `sql`, computed. */
static void describe_now(const char *sql, bool parameterized, char *text, size_t text_size,
                         char *summary)
{
    if (parameterized && otelc__pq_has_placeholder(sql))
        copy_cut(text, text_size, sql);
    else
        (void)otelc_pq_sanitize(sql, text, text_size);
    (void)otelc_pq_summarize(sql, summary, SUMMARY_SIZE);
}

/* The same, from the thread's cache when the statement was seen. `summary`
 * has SUMMARY_SIZE bytes. */
static void describe(const char *sql, bool parameterized, char *text, size_t text_size,
                     char *summary)
{
    const size_t len = strlen(sql);
    described_t *cache = len < CACHE_SQL_MAX ? cache_get() : NULL;
    described_t *d;
    uint64_t h;

    if (cache == NULL) {
        describe_now(sql, parameterized, text, text_size, summary);
        return;
    }
    h = text_hash(sql, len, parameterized);
    d = &cache[h % CACHE_SLOTS];
    if (!(d->hash == h && d->len == len && d->parameterized == parameterized &&
          memcmp(d->sql, sql, len) == 0)) {
        describe_now(sql, parameterized, d->text, sizeof(d->text), d->summary);
        memcpy(d->sql, sql, len);
        d->len = (uint32_t)len;
        d->parameterized = parameterized;
        d->hash = h;
    }
    copy_cut(text, text_size, d->text);
    memcpy(summary, d->summary, SUMMARY_SIZE);
}

static void copy_reap(PGconn *conn);

/*
 * Starts the span of one call. `sql` is the statement's text (NULL for
 * PQexecPrepared); `parameterized` says that its values travel apart from it
 * (PQexecParams, PQprepare), so that a text with $n placeholders is recorded
 * as it is. `operation` is "PREPARE" or "EXECUTE" for those calls, else NULL;
 * `statement` is the prepared statement's name.
 */
static void call_begin(call_t *c, PGconn *conn, const char *sql, bool parameterized,
                       const char *operation, const char *statement)
{
    char summary[SUMMARY_SIZE];
    otelc_attr_t attrs[8];
    size_t n = 0;
    const char *s;
    long port;

    c->traced = otelc_is_enabled();
    c->text[0] = '\0';
    if (!c->traced)
        return;
    copy_reap(conn);
    summary[0] = '\0';
    if (sql != NULL)
        describe(sql, parameterized, c->text, sizeof(c->text), summary);
    if (operation == NULL) {
        /* The statement's own summary, as it is. */
    } else if (sql != NULL) {
        char of_text[SUMMARY_SIZE];

        memcpy(of_text, summary, sizeof(of_text));
        snprintf(summary, sizeof(summary), of_text[0] != '\0' ? "%s %s" : "%s", operation, of_text);
    } else if (statement != NULL && statement[0] != '\0') {
        snprintf(summary, sizeof(summary), "%s %s", operation, statement);
    } else {
        snprintf(summary, sizeof(summary), "%s", operation);
    }

    attrs[n++] = OTELC_STR("db.system.name", "postgresql");
    if (conn != NULL && (s = PQdb(conn)) != NULL && s[0] != '\0')
        attrs[n++] = OTELC_STR("db.namespace", s);
    if (conn != NULL && (s = PQhost(conn)) != NULL && s[0] != '\0')
        attrs[n++] = OTELC_STR("server.address", s);
    if (conn != NULL && (port = port_number(PQport(conn))) > 0)
        attrs[n++] = OTELC_INT("server.port", port);
    if (sql != NULL)
        attrs[n++] = OTELC_STR("db.query.text", c->text);
    if (summary[0] != '\0')
        attrs[n++] = OTELC_STR("db.query.summary", summary);
    if (operation != NULL)
        attrs[n++] = OTELC_STR("db.operation.name", operation);

    otelc_span_options_t so = {
        .tracer = pq_tracer(),
        .name = summary[0] != '\0' ? summary : "postgresql",
        .name_len = OTELC_NUL_TERMINATED,
        .kind = OTELC_SPAN_KIND_CLIENT,
        .attrs = attrs,
        .n_attrs = n,
    };
    c->span = otelc_span_start_ex(&so);
    c->start_ns = monotonic_ns();
}

/* The first line of `msg`, without the "ERROR:  " libpq puts before a
 * server's message in PQerrorMessage(). */
static void first_line(char *out, size_t size, const char *msg)
{
    size_t n;

    if (strncmp(msg, "ERROR:  ", 8) == 0)
        msg += 8;
    n = strcspn(msg, "\r\n");
    if (n > size - 1) {
        /* Cut before the character that does not fit whole. */
        n = size - 1;
        while (n > 0 && ((unsigned char)msg[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, msg, n);
    out[n] = '\0';
}

/* Records the outcome of a call whose result is `res` (NULL: none). */
static void record_result(const otelc_span_t *span, PGconn *conn, const PGresult *res)
{
    const ExecStatusType st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;

    if (res == NULL || st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE) {
        const char *sqlstate = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        const char *msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        char line[MESSAGE_SIZE];

        if (msg == NULL && res != NULL && PQresultErrorMessage(res)[0] != '\0')
            msg = PQresultErrorMessage(res);
        if (msg == NULL)
            msg = conn == NULL ? "no connection (conn is NULL)" : PQerrorMessage(conn);
        if (msg[0] == '\0')
            msg = "no result";
        first_line(line, sizeof(line), msg);
        if (sqlstate != NULL && sqlstate[0] != '\0') {
            otelc_span_set_attrs(
                span,
                (const otelc_attr_t[]){ OTELC_STR("db.response.status_code", sqlstate),
                                        OTELC_STR("error.type", sqlstate) },
                2);
        } else {
            otelc_span_set_attrs(span, &OTELC_STR("error.type", "_OTHER"), 1);
        }
        otelc_span_set_status(span, OTELC_STATUS_ERROR, line);
    } else if (st == PGRES_TUPLES_OK || st == PGRES_SINGLE_TUPLE) {
        otelc_span_set_attrs(span, &OTELC_INT("db.response.returned_rows", PQntuples(res)), 1);
    } else if (st == PGRES_COMMAND_OK) {
        /* PQcmdTuples is "" for commands without a row count (BEGIN, SET). */
        const char *count = PQcmdTuples((PGresult *)(uintptr_t)res);

        if (count[0] >= '0' && count[0] <= '9')
            otelc_span_set_attrs(span, &OTELC_INT("otelc.db.affected_rows", atoll(count)), 1);
    }
}

/* The slow-statement warning, inside the span (still active here). */
static void warn_if_slow(const char *text, uint64_t start_ns)
{
    const uint32_t threshold = otelc_pq_slow_query_threshold_ms();
    const uint64_t elapsed = monotonic_ns() - start_ns;
    otelc_logger_t *log;

    if (threshold == 0 || elapsed <= (uint64_t)threshold * 1000000u)
        return;
    log = pq_logger();
    if (otelc_logger_enabled(log, OTELC_SEV_WARN)) {
        const double ms = (double)elapsed / 1e6;
        char message[96];

        snprintf(message, sizeof(message), "slow query: %.1f ms (threshold %u ms)", ms,
                 (unsigned)threshold);
        otelc_log(log, OTELC_SEV_WARN, "slow_query", message, OTELC_NUL_TERMINATED,
                  (const otelc_attr_t[]){
                      OTELC_STR("db.system.name", "postgresql"), OTELC_STR("db.query.text", text),
                      OTELC_DBL("duration_ms", ms), OTELC_INT("threshold_ms", threshold) },
                  4);
    }
}

/* ---- open COPY operations ------------------------------------------------------------- */

typedef struct open_copy {
    PGconn *conn; /* NULL: a free slot */
    otelc_span_t span;
    uint64_t start_ns;
    uint64_t bytes;
    int64_t rows_out; /* rows received (COPY TO) */
    bool out;         /* COPY TO: rows come from the server */
    char text[COPY_TEXT_SIZE];
} open_copy_t;

static pthread_mutex_t copies_lock = PTHREAD_MUTEX_INITIALIZER;
static open_copy_t copies[MAX_OPEN_COPIES];
/* How many slots are taken: the copy-data wrappers take the lock only when
 * some COPY is open. */
static atomic_uint n_copies;

/* The slot of `conn`, or NULL. Called with the lock held. */
static open_copy_t *copy_find(const PGconn *conn)
{
    for (size_t i = 0; i < MAX_OPEN_COPIES; i++) {
        if (copies[i].conn == conn)
            return &copies[i];
    }
    return NULL;
}

/* Parks a call whose result started a COPY; false when no slot is free. */
static bool copy_park(const call_t *c, PGconn *conn, bool out)
{
    open_copy_t *slot;

    pthread_mutex_lock(&copies_lock);
    slot = conn != NULL ? copy_find(NULL) : NULL;
    if (slot != NULL) {
        slot->conn = conn;
        slot->span = c->span;
        slot->start_ns = c->start_ns;
        slot->bytes = 0;
        slot->rows_out = 0;
        slot->out = out;
        copy_cut(slot->text, sizeof(slot->text), c->text);
        atomic_fetch_add(&n_copies, 1);
    }
    pthread_mutex_unlock(&copies_lock);
    return slot != NULL;
}

/* Takes the open COPY of `conn` out of the table into `*out`. */
static bool copy_take(PGconn *conn, open_copy_t *out)
{
    open_copy_t *slot;

    if (conn == NULL || atomic_load_explicit(&n_copies, memory_order_relaxed) == 0)
        return false;
    pthread_mutex_lock(&copies_lock);
    slot = copy_find(conn);
    if (slot != NULL) {
        *out = *slot;
        slot->conn = NULL;
        atomic_fetch_sub(&n_copies, 1);
    }
    pthread_mutex_unlock(&copies_lock);
    return slot != NULL;
}

/* Adds to the counters of the open COPY of `conn`, if there is one. */
static void copy_count(const PGconn *conn, uint64_t bytes, int64_t rows)
{
    open_copy_t *slot;

    if (conn == NULL || atomic_load_explicit(&n_copies, memory_order_relaxed) == 0)
        return;
    pthread_mutex_lock(&copies_lock);
    slot = copy_find(conn);
    if (slot != NULL) {
        slot->bytes += bytes;
        slot->rows_out += rows;
    }
    pthread_mutex_unlock(&copies_lock);
}

static void copy_end(open_copy_t *oc, PGconn *conn, const PGresult *res, const char *why)
{
    otelc_span_set_attrs(&oc->span, &OTELC_INT("otelc.db.copy.bytes", (int64_t)oc->bytes), 1);
    if (oc->out)
        otelc_span_set_attrs(&oc->span, &OTELC_INT("db.response.returned_rows", oc->rows_out), 1);
    if (why != NULL) {
        otelc_span_set_attrs(&oc->span, &OTELC_STR("error.type", "_OTHER"), 1);
        otelc_span_set_status(&oc->span, OTELC_STATUS_ERROR, why);
    } else if (res != NULL) {
        record_result(&oc->span, conn, res);
    }
    warn_if_slow(oc->text, oc->start_ns);
    otelc_span_end(&oc->span);
}

/*
 * A COPY whose final result the program read past the wrappers (a plain
 * PQgetResult): the connection is idle again, and its span would stay the
 * thread's active span, the parent of everything after it. The next traced
 * call on the connection ends it first, marked
 * otelc.db.copy.result_unread (its outcome is not known). A connection
 * still busy (PQTRANS_ACTIVE) is left alone.
 */
static void copy_reap(PGconn *conn)
{
    open_copy_t oc;

    if (conn == NULL || atomic_load_explicit(&n_copies, memory_order_relaxed) == 0 ||
        PQtransactionStatus(conn) == PQTRANS_ACTIVE)
        return;
    if (copy_take(conn, &oc)) {
        otelc_span_set_attrs(&oc.span, &OTELC_BOOL("otelc.db.copy.result_unread", true), 1);
        copy_end(&oc, conn, NULL, NULL);
    }
}

/* Ends a call: parks it when its result started a COPY, else records the
 * result and ends the span. */
static void call_end(call_t *c, PGconn *conn, const PGresult *res)
{
    const ExecStatusType st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;

    if (!c->traced)
        return;
    if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
        if (copy_park(c, conn, st == PGRES_COPY_OUT))
            return;
        otelc_span_set_attrs(&c->span, &OTELC_BOOL("otelc.db.copy.untracked", true), 1);
    } else {
        record_result(&c->span, conn, res);
    }
    warn_if_slow(c->text, c->start_ns);
    otelc_span_end(&c->span);
}

/* ---- the wrappers ---------------------------------------------------------------------- */

PGresult *otelc_PQexec(PGconn *conn, const char *query)
{
    call_t c;
    PGresult *res;

    call_begin(&c, conn, query, false, NULL, NULL);
    res = PQexec(conn, query);
    call_end(&c, conn, res);
    return res;
}

PGresult *otelc_PQexecParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
                             const char *const *paramValues, const int *paramLengths,
                             const int *paramFormats, int resultFormat)
{
    call_t c;
    PGresult *res;

    call_begin(&c, conn, command, nParams > 0, NULL, NULL);
    res = PQexecParams(conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats,
                       resultFormat);
    call_end(&c, conn, res);
    return res;
}

PGresult *otelc_PQprepare(PGconn *conn, const char *stmtName, const char *query, int nParams,
                          const Oid *paramTypes)
{
    call_t c;
    PGresult *res;

    call_begin(&c, conn, query, true, "PREPARE", stmtName);
    res = PQprepare(conn, stmtName, query, nParams, paramTypes);
    call_end(&c, conn, res);
    return res;
}

PGresult *otelc_PQexecPrepared(PGconn *conn, const char *stmtName, int nParams,
                               const char *const *paramValues, const int *paramLengths,
                               const int *paramFormats, int resultFormat)
{
    call_t c;
    PGresult *res;

    call_begin(&c, conn, NULL, true, "EXECUTE", stmtName);
    res = PQexecPrepared(conn, stmtName, nParams, paramValues, paramLengths, paramFormats,
                         resultFormat);
    call_end(&c, conn, res);
    return res;
}

int otelc_PQputCopyData(PGconn *conn, const char *buffer, int nbytes)
{
    const int rc = PQputCopyData(conn, buffer, nbytes);

    if (rc == 1 && nbytes > 0)
        copy_count(conn, (uint64_t)nbytes, 0);
    return rc;
}

int otelc_PQputCopyEnd(PGconn *conn, const char *errormsg)
{
    return PQputCopyEnd(conn, errormsg);
}

int otelc_PQgetCopyData(PGconn *conn, char **buffer, int async)
{
    const int rc = PQgetCopyData(conn, buffer, async);

    /* In COPY TO, each buffer libpq returns is one row. */
    if (rc > 0)
        copy_count(conn, (uint64_t)rc, 1);
    return rc;
}

PGresult *otelc_PQgetResult(PGconn *conn)
{
    PGresult *res = PQgetResult(conn);
    open_copy_t oc;

    if (res != NULL) {
        const ExecStatusType st = PQresultStatus(res);

        /* Still copying (a PQgetResult before the end of COPY IN returns
         * PGRES_COPY_IN again): the span stays open. */
        if (st != PGRES_COPY_IN && st != PGRES_COPY_OUT && st != PGRES_COPY_BOTH &&
            copy_take(conn, &oc))
            copy_end(&oc, conn, res, NULL);
    }
    return res;
}

void otelc_PQfinish(PGconn *conn)
{
    open_copy_t oc;

    if (copy_take(conn, &oc))
        copy_end(&oc, conn, NULL, "connection closed during COPY");
    PQfinish(conn);
}
