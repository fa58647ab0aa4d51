/*
 * wait.h: libpq calls that wait for the server no later than a deadline.
 *
 * libpq's blocking calls (PQconnectdb, PQexec, PQgetResult) wait as long as
 * the server takes to answer, and a server that is hung (stopped, swapped
 * out, its disk stalled) never answers: statement_timeout is the server's
 * own clock and stops with it, and on a unix socket no keepalive notices.
 * The exporter's worker must come back within the export timeout, so that
 * the batch goes to the fallback file and a flush completes: these calls
 * use libpq's asynchronous interface on a nonblocking connection and
 * poll() the socket until the deadline.
 *
 * A deadline is a time in ms of CLOCK_MONOTONIC; 0 means none (wait as
 * libpq would). A call that returns at the deadline leaves the connection
 * in the middle of a statement: it is good only for PQfinish(), which on a
 * nonblocking connection does not wait either.
 */
#ifndef OTELC_PG_WAIT_H
#define OTELC_PG_WAIT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

/* Now, in ms of CLOCK_MONOTONIC. */
uint64_t otelc__pg_now_ms(void);

/*
 * Connects with the keywords and values of PQconnectdbParams() (expanding
 * dbname), waiting until `deadline`; the connection is made nonblocking.
 * Returns the connection (check PQstatus(); CONNECTION_BAD with libpq's
 * message on failure, and then *late tells whether the deadline cut it) or
 * NULL when out of memory. The caller PQfinish()es it in every case.
 */
PGconn *otelc__pg_connect_until(const char *const *keys, const char *const *values,
                                uint64_t deadline, bool *late);

/*
 * Runs `sql` (with `n` text parameters `values` when n > 0: one statement;
 * n == 0: any number of them, as PQexec) and waits for its results until
 * `deadline`. Returns what PQexec would (the last result, or the first
 * error; a PGRES_COPY_IN result at once), never NULL but at the deadline or
 * out of memory: then NULL, and the connection is unusable.
 */
PGresult *otelc__pg_exec_until(PGconn *conn, const char *sql, int n, const char *const *values,
                               uint64_t deadline);

/*
 * Queues `len` bytes of COPY data (PQputCopyData), waiting for room until
 * `deadline`. 1 queued, 0 the deadline passed, -1 libpq refused
 * (PQerrorMessage says why).
 */
int otelc__pg_put_copy_until(PGconn *conn, const char *data, int len, uint64_t deadline);

/* Ends the COPY (PQputCopyEnd, `error` its message when not NULL: the COPY
 * fails), waiting for room until `deadline`. Returns as
 * otelc__pg_put_copy_until(). */
int otelc__pg_end_copy_until(PGconn *conn, const char *error, uint64_t deadline);

/*
 * After the last COPY data: waits for the statement's results until
 * `deadline`, as otelc__pg_exec_until does after sending.
 */
PGresult *otelc__pg_result_until(PGconn *conn, uint64_t deadline);

#endif /* OTELC_PG_WAIT_H */
