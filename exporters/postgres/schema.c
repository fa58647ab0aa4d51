/*
 * schema.c: the migrations of the `logging` schema (see schema.h).
 */
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wait.h"

#include "schema_sql.h" /* generated: otelc__pg_sql_NNNN[] from sql/NNNN_*.sql */

typedef struct migration {
    int version;
    const char *what;
    const char *sql;
} migration_t;

static const migration_t migrations[] = {
    { 1, "the logging schema: system_logs, performance_logs, spans, partitions, retention",
      otelc__pg_sql_0001 },
};
#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

/* The advisory lock the migrations are taken under: any number, the same
 * in every process ("otelc" in ASCII). */
#define MIGRATION_LOCK "7310693706105"

int otelc__pg_schema_latest(void)
{
    return migrations[N_MIGRATIONS - 1].version;
}

void otelc__pg_error(PGconn *conn, const PGresult *r, char *err, size_t err_size)
{
    const char *m = r != NULL ? PQresultErrorMessage(r) : "";

    if (m[0] == '\0')
        m = PQerrorMessage(conn);
    /* The first line: the message, without the DETAIL and HINT lines. */
    snprintf(err, err_size, "%.*s", (int)strcspn(m, "\n"), m);
}

/* The result of `sql` (with n text parameters), waited for until
 * `deadline`; NULL with the reason in err when it did not come. */
static PGresult *query(PGconn *conn, const char *sql, int n, const char *const *values,
                       uint64_t deadline, char *err, size_t err_size)
{
    PGresult *r = otelc__pg_exec_until(conn, sql, n, values, deadline);

    if (r == NULL)
        snprintf(err, err_size, "%s", OTELC__PG_NO_ANSWER);
    return r;
}

/* Runs one statement with text parameters (n > 0), or any number of them
 * (n == 0); false with the server's message in err. */
static bool run_params(PGconn *conn, const char *sql, int n, const char *const *values,
                       uint64_t deadline, char *err, size_t err_size)
{
    PGresult *r = query(conn, sql, n, values, deadline, err, err_size);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

    if (!ok && r != NULL)
        otelc__pg_error(conn, r, err, err_size);
    PQclear(r);
    return ok;
}

/* Runs `sql`; false with the server's message in err. */
static bool run(PGconn *conn, const char *sql, uint64_t deadline, char *err, size_t err_size)
{
    return run_params(conn, sql, 0, NULL, deadline, err, err_size);
}

/* The version recorded, read inside the caller's transaction; -1 on error. */
static int recorded_version(PGconn *conn, uint64_t deadline, char *err, size_t err_size)
{
    PGresult *r = query(conn, "SELECT coalesce(max(version), 0) FROM logging.schema_migrations", 0,
                        NULL, deadline, err, err_size);
    int v = -1;

    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        v = atoi(PQgetvalue(r, 0, 0));
    else if (r != NULL)
        otelc__pg_error(conn, r, err, err_size);
    PQclear(r);
    return v;
}

int otelc__pg_migrate(PGconn *conn, uint64_t deadline, char *err, size_t err_size)
{
    int applied = 0, have;

    if (!run(conn,
             "BEGIN; SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ");"
             "CREATE SCHEMA IF NOT EXISTS logging;"
             "CREATE TABLE IF NOT EXISTS logging.schema_migrations ("
             " version integer PRIMARY KEY, description text NOT NULL,"
             " applied_at timestamptz NOT NULL DEFAULT now())",
             deadline, err, err_size))
        goto fail;
    have = recorded_version(conn, deadline, err, err_size);
    if (have < 0)
        goto fail;
    for (size_t i = 0; i < N_MIGRATIONS; i++) {
        const migration_t *m = &migrations[i];
        const char *values[2];
        char version[16];

        if (m->version <= have)
            continue;
        if (!run(conn, m->sql, deadline, err, err_size))
            goto fail;
        snprintf(version, sizeof(version), "%d", m->version);
        values[0] = version;
        values[1] = m->what;
        if (!run_params(conn,
                        "INSERT INTO logging.schema_migrations (version, description) "
                        "VALUES ($1, $2)",
                        2, values, deadline, err, err_size))
            goto fail;
        applied++;
    }
    if (!run(conn, "COMMIT", deadline, err, err_size))
        goto fail;
    return applied;
fail:
    /* Not after the deadline: the connection is then in mid-statement, and
     * only good for closing (which rolls back). */
    if (deadline == 0 || otelc__pg_now_ms() < deadline)
        PQclear(otelc__pg_exec_until(conn, "ROLLBACK", 0, NULL, deadline));
    return -1;
}

int otelc__pg_schema_version(PGconn *conn, char *err, size_t err_size)
{
    PGresult *r = query(conn, "SELECT to_regclass('logging.schema_migrations') IS NOT NULL", 0,
                        NULL, 0, err, err_size);
    bool exists;
    int v;

    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        if (r != NULL)
            otelc__pg_error(conn, r, err, err_size);
        PQclear(r);
        return -1;
    }
    exists = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (!exists)
        return 0;
    v = recorded_version(conn, 0, err, err_size);
    return v;
}

bool otelc__pg_ensure_partitions(PGconn *conn, long first_day, long last_day, uint64_t deadline,
                                 char *err, size_t err_size)
{
    char a[24], b[24];
    const char *values[2] = { a, b };

    snprintf(a, sizeof(a), "%ld", first_day);
    snprintf(b, sizeof(b), "%ld", last_day);
    return run_params(conn,
                      "SELECT logging.ensure_partitions(date '1970-01-01' + $1::integer,"
                      " date '1970-01-01' + $2::integer)",
                      2, values, deadline, err, err_size);
}
