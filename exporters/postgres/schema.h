/*
 * schema.h: the `logging` schema of the PostgreSQL exporter, its versioned
 * migrations (sql/NNNN_*.sql, embedded at build time) and what reads it
 * back (`otelc pg status`).
 *
 * Migrations are applied in order, each once, each in one transaction with
 * the row that records it in logging.schema_migrations, under an advisory
 * lock: two processes starting together apply each migration once, and a
 * migration that fails leaves the schema as it was.
 */
#ifndef OTELC_PG_SCHEMA_H
#define OTELC_PG_SCHEMA_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The reason given when the server did not answer by the deadline. */
#define OTELC__PG_NO_ANSWER "the database did not answer within the export timeout"

/* The schema version this library writes for: the last migration's. */
int otelc__pg_schema_latest(void);

/*
 * Brings the database's schema to the latest version, waiting for the
 * server until `deadline` (ms of CLOCK_MONOTONIC, 0: no deadline; see
 * wait.h). Returns the number of migrations applied (0: it was current) or
 * -1 with the reason in err (the server's message, which never holds a
 * password, or OTELC__PG_NO_ANSWER: then the connection is good only for
 * closing).
 */
int otelc__pg_migrate(PGconn *conn, uint64_t deadline, char *err, size_t err_size);

/* The database's schema version: 0 when there is no `logging` schema of
 * ours, -1 on failure (err says why). */
int otelc__pg_schema_version(PGconn *conn, char *err, size_t err_size);

/*
 * Makes the daily partitions from `first_day` to `last_day` (days since
 * the Unix epoch, UTC) that do not exist yet: logging.ensure_partitions(),
 * waiting until `deadline` as otelc__pg_migrate() does. False with the
 * reason in err.
 */
bool otelc__pg_ensure_partitions(PGconn *conn, long first_day, long last_day, uint64_t deadline,
                                 char *err, size_t err_size);

/* The server's message for the failed result `r` (or the connection's when
 * r is NULL or says nothing), its first line, into err. */
void otelc__pg_error(PGconn *conn, const PGresult *r, char *err, size_t err_size);

#endif /* OTELC_PG_SCHEMA_H */
