/*
 * otelc/libpq.h: traced libpq calls (library otelc_libpq, CMake otelc::libpq).
 *
 * Each wrapper has the signature of the libpq function it is named after and
 * returns what that function returns; it makes one CLIENT span for the call,
 * a child of the thread's active span, following the OpenTelemetry database
 * semantic conventions for PostgreSQL:
 *
 *     PGresult *r = otelc_PQexec(conn, "SELECT * FROM orders WHERE id = 42");
 *     // span "SELECT orders", db.query.text "SELECT * FROM orders WHERE id = ?"
 *
 * A service changes the prefix of the calls it wants traced, or defines
 * OTELC_PQ_TRACE_ALL before including this header to have PQexec,
 * PQexecParams, PQprepare, PQexecPrepared, PQputCopyData, PQputCopyEnd,
 * PQgetCopyData, PQgetResult and PQfinish mean the wrappers in that file.
 * It links otelc::libpq (which brings the core and libpq); the core itself
 * never depends on libpq.
 *
 * Attributes of every span:
 *   db.system.name           "postgresql"
 *   db.namespace             PQdb(conn): the database named when the connection
 *                            was made. The schema is left out: finding the
 *                            current one would take a query of its own.
 *   server.address           PQhost(conn): the host as configured, or for a unix
 *                            socket the socket's directory ("/var/run/postgresql")
 *   server.port              PQport(conn) as a number, when it is one (also for a
 *                            unix socket, whose file name carries the port)
 *   db.query.text            PQexec, and statements without $n parameters: the
 *                            text with every literal (strings, E'..', dollar
 *                            quotes, numbers, TRUE/FALSE) replaced by `?` and
 *                            comments left out (otelc_pq_sanitize). The text of a
 *                            parameterized statement ($1, ...) is recorded as it
 *                            is, as the conventions ask; parameter values never.
 *   db.query.summary         its operations and targets, "SELECT orders"
 *                            (otelc_pq_summarize); also the span's name, or
 *                            "postgresql" when the text names no operation
 *   db.operation.name        "PREPARE" and "EXECUTE" for those two calls (the
 *                            conventions do not take it from the query text)
 *   db.response.returned_rows  rows of a result that has rows (PQntuples)
 *   otelc.db.affected_rows   rows an INSERT, UPDATE, DELETE, COPY, ... changed
 *                            (PQcmdTuples), when the server says
 * On failure (a result of PGRES_FATAL_ERROR or PGRES_BAD_RESPONSE, or no
 * result): status ERROR with the first line of the server's message (or of
 * libpq's, or "conn is NULL"), db.response.status_code and error.type = the
 * SQLSTATE; error.type "_OTHER" when there is none (libpq's own errors: a
 * connection that is bad or lost, out of memory).
 *
 * COPY: a COPY ... FROM STDIN or TO STDOUT started through otelc_PQexec (or
 * otelc_PQexecParams) leaves its span open and active on the calling thread
 * over otelc_PQputCopyData / otelc_PQputCopyEnd or otelc_PQgetCopyData, until
 * otelc_PQgetResult reads the final result: one span covers the whole copy,
 * with otelc.db.copy.bytes (sent or received) and, for COPY TO, the rows
 * received. Finish a COPY on the thread that started it, through these
 * wrappers; otelc_PQfinish ends a COPY span left open (status ERROR), and a
 * COPY whose final result was read with the plain PQgetResult has its span
 * ended by the next traced call on the connection (with
 * otelc.db.copy.result_unread = true), so that it does not stay the
 * thread's active span.
 *
 * Slow statements: a call that takes longer than the threshold also writes a
 * WARNING log record inside its span, event "slow_query", logger "db", with
 * db.query.text, duration_ms and threshold_ms. The threshold is
 * OTELC_PQ_SLOW_QUERY_MS (milliseconds, default 500, 0 turns the warning off;
 * config-file key otelc.libpq.slow_query_ms), taken on the first call from
 * the options otelc runs with (from the environment alone before
 * otelc_init()) and reported on stderr like every otelc setting when it does
 * not read; otelc_pq_set_slow_query_threshold_ms() changes it.
 *
 * A COPY that finds MAX_OPEN_COPIES (16) others open at once ends its span
 * when it starts, with otelc.db.copy.untracked = true; the copy goes on.
 *
 * Cost: a statement's text is scanned twice (sanitize, summarize) on the
 * calling thread, in stack buffers; each thread keeps its last 8 statements
 * (up to 511 bytes) described, in 10 KiB allocated on its first traced call
 * and freed when it exits, so a repeated statement costs a hash and a
 * compare. The span is an otelc span. Measured: instrumentation/README.md.
 *
 * Thread safety: as libpq's. A connection is used by one thread at a time;
 * different connections on different threads are independent.
 */
#ifndef OTELC_LIBPQ_H
#define OTELC_LIBPQ_H

#include <otelc/common.h>

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The longest db.query.text recorded, in bytes; longer texts are cut (at a
 * character boundary), as the conventions allow. */
#define OTELC_PQ_QUERY_TEXT_MAX 2048u

/* ---- the wrappers: libpq's signatures, a span each ----------------------------------- */

/* PQexec. A COPY it starts keeps its span open until otelc_PQgetResult. */
OTELC_API PGresult *otelc_PQexec(PGconn *conn, const char *query);

/* PQexecParams. Parameter values are never recorded. */
OTELC_API PGresult *otelc_PQexecParams(PGconn *conn, const char *command, int nParams,
                                       const Oid *paramTypes, const char *const *paramValues,
                                       const int *paramLengths, const int *paramFormats,
                                       int resultFormat);

/* PQprepare: span "PREPARE <summary>", db.operation.name "PREPARE". */
OTELC_API PGresult *otelc_PQprepare(PGconn *conn, const char *stmtName, const char *query,
                                    int nParams, const Oid *paramTypes);

/* PQexecPrepared: span "EXECUTE <stmtName>" (or "EXECUTE" for the unnamed
 * statement), db.operation.name "EXECUTE". */
OTELC_API PGresult *otelc_PQexecPrepared(PGconn *conn, const char *stmtName, int nParams,
                                         const char *const *paramValues, const int *paramLengths,
                                         const int *paramFormats, int resultFormat);

/* PQputCopyData, PQputCopyEnd, PQgetCopyData: as libpq's, counted on the
 * open COPY span of `conn` (if any). */
OTELC_API int otelc_PQputCopyData(PGconn *conn, const char *buffer, int nbytes);
OTELC_API int otelc_PQputCopyEnd(PGconn *conn, const char *errormsg);
OTELC_API int otelc_PQgetCopyData(PGconn *conn, char **buffer, int async);

/* PQgetResult. The final result of an open COPY ends its span. */
OTELC_API PGresult *otelc_PQgetResult(PGconn *conn);

/* PQfinish. A COPY span still open on `conn` ends first, with status ERROR. */
OTELC_API void otelc_PQfinish(PGconn *conn);

/* ---- settings ------------------------------------------------------------------------ */

/* Sets the slow-statement threshold for the whole process, in milliseconds
 * (0: no warning), over OTELC_PQ_SLOW_QUERY_MS. Thread-safe. */
OTELC_API void otelc_pq_set_slow_query_threshold_ms(uint32_t ms);

/* The threshold in force (reads OTELC_PQ_SLOW_QUERY_MS on first use). */
OTELC_API uint32_t otelc_pq_slow_query_threshold_ms(void);

/* ---- the statement text, as the spans record it -------------------------------------- */

/*
 * Writes `sql` with its literals replaced by `?` into `out` (`size` bytes,
 * always NUL-terminated when size > 0, cut at a character boundary when it
 * does not fit). Replaced: string constants ('..' with '' inside, E'..' with
 * backslash escapes, B'..', X'..', N'..', U&'..'), dollar-quoted strings
 * ($$..$$, $tag$..$tag$), numbers with their sign ("= -5" gives "= ?"), and
 * TRUE / FALSE. Kept: keywords, identifiers (t1 stays t1), quoted
 * identifiers, casts (::int), NULL and parameters ($1). Comments are left
 * out. Returns the length written. `sql` NULL gives "".
 */
OTELC_API size_t otelc_pq_sanitize(const char *sql, char *out, size_t size);

/*
 * Writes the summary of `sql` into `out`: its operations and their targets
 * in the order written, as written, separated by one space, at most 255
 * bytes and never cut inside a name ("SELECT orders", "INSERT shipping
 * SELECT orders", "COPY fills", "BEGIN INSERT orders COMMIT"). No literal
 * reaches it. Returns the length written ("" when none is found).
 */
OTELC_API size_t otelc_pq_summarize(const char *sql, char *out, size_t size);

/* ---- opt-in: the plain names mean the wrappers ---------------------------------------- */

#if defined(OTELC_PQ_TRACE_ALL)
#define PQexec otelc_PQexec
#define PQexecParams otelc_PQexecParams
#define PQprepare otelc_PQprepare
#define PQexecPrepared otelc_PQexecPrepared
#define PQputCopyData otelc_PQputCopyData
#define PQputCopyEnd otelc_PQputCopyEnd
#define PQgetCopyData otelc_PQgetCopyData
#define PQgetResult otelc_PQgetResult
#define PQfinish otelc_PQfinish
#endif

#ifdef __cplusplus
}
#endif

#endif /* OTELC_LIBPQ_H */
