/*
 * wait.c: libpq calls that wait for the server no later than a deadline
 * (see wait.h).
 */
#include "wait.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <time.h>

uint64_t otelc__pg_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Waits until the connection's socket is ready for `events` (or in error:
 * libpq then tells what happened); false when the deadline came first. */
static bool wait_socket(PGconn *conn, short events, uint64_t deadline)
{
    struct pollfd p = { PQsocket(conn), events, 0 };

    if (p.fd < 0)
        return true;
    for (;;) {
        int timeout = -1, rc;

        if (deadline != 0) {
            uint64_t now = otelc__pg_now_ms();

            if (now >= deadline)
                return false;
            timeout = deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
        }
        rc = poll(&p, 1, timeout);
        if (rc > 0 || (rc < 0 && errno != EINTR))
            return true;
    }
}

/* Sends what libpq holds for the server: 1 sent, 0 the deadline, -1 the
 * connection failed. While the server reads nothing, its answers are read,
 * as libpq asks of a nonblocking caller (a server blocked on writing
 * notices would never read). */
static int flush_until(PGconn *conn, uint64_t deadline)
{
    int f;

    while ((f = PQflush(conn)) == 1) {
        if (!wait_socket(conn, POLLIN | POLLOUT, deadline))
            return 0;
        if (!PQconsumeInput(conn))
            return -1;
    }
    return f == 0 ? 1 : -1;
}

PGconn *otelc__pg_connect_until(const char *const *keys, const char *const *values,
                                uint64_t deadline, bool *late)
{
    PGconn *conn = PQconnectStartParams(keys, values, 1);
    /* Before the first PQconnectPoll(), libpq waits to write. */
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;

    *late = false;
    if (conn == NULL)
        return NULL;
    while (PQstatus(conn) != CONNECTION_BAD && st != PGRES_POLLING_OK &&
           st != PGRES_POLLING_FAILED) {
        if ((st == PGRES_POLLING_READING || st == PGRES_POLLING_WRITING) &&
            !wait_socket(conn, st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline)) {
            *late = true;
            break;
        }
        st = PQconnectPoll(conn);
    }
    /* Nonblocking: COPY data and PQfinish()'s goodbye never wait on a
     * server that reads nothing. */
    if (PQstatus(conn) == CONNECTION_OK)
        (void)PQsetnonblocking(conn, 1);
    return conn;
}

PGresult *otelc__pg_result_until(PGconn *conn, uint64_t deadline)
{
    PGresult *last = NULL, *r;

    if (flush_until(conn, deadline) == 0)
        return NULL;
    for (;;) {
        ExecStatusType st;

        while (PQisBusy(conn)) {
            if (!wait_socket(conn, POLLIN, deadline)) {
                PQclear(last);
                return NULL;
            }
            if (!PQconsumeInput(conn))
                break; /* the connection failed: PQgetResult() says so at once */
        }
        r = PQgetResult(conn);
        if (r == NULL)
            break;
        st = PQresultStatus(r);
        if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
            PQclear(last);
            return r;
        }
        /* As PQexec: the first error is the answer. */
        if (last != NULL && PQresultStatus(last) == PGRES_FATAL_ERROR) {
            PQclear(r);
            continue;
        }
        PQclear(last);
        last = r;
    }
    /* No result at all: the connection's error, as a result. */
    return last != NULL ? last : PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
}

PGresult *otelc__pg_exec_until(PGconn *conn, const char *sql, int n, const char *const *values,
                               uint64_t deadline)
{
    int sent = n > 0 ? PQsendQueryParams(conn, sql, n, NULL, values, NULL, NULL, 0)
                     : PQsendQuery(conn, sql);

    if (!sent)
        return PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
    return otelc__pg_result_until(conn, deadline);
}

int otelc__pg_put_copy_until(PGconn *conn, const char *data, int len, uint64_t deadline)
{
    int r;

    while ((r = PQputCopyData(conn, data, len)) == 0) {
        int f = flush_until(conn, deadline);

        if (f <= 0)
            return f;
    }
    return r == 1 ? 1 : -1;
}

int otelc__pg_end_copy_until(PGconn *conn, const char *error, uint64_t deadline)
{
    int r;

    while ((r = PQputCopyEnd(conn, error)) == 0) {
        int f = flush_until(conn, deadline);

        if (f <= 0)
            return f;
    }
    return r == 1 ? 1 : -1;
}
