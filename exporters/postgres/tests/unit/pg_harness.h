/*
 * pg_harness.h: a database of its own for a test program, in the throwaway
 * cluster that tests/pg/cluster.sh starts for the whole test run (CTest
 * fixture "pg"; its state file is named by OTELC_TEST_PG_STATE).
 *
 * pg_open() makes the database otelc_test_<pid> and returns its
 * conninfo; pg_close() drops it (unless OTELC_TEST_PG_KEEP is set). Without a cluster, tests skip,
 * unless OTELC_REQUIRE_PG=1 (the test command sets it): then they fail.
 */
#ifndef OTELC_PG_HARNESS_H
#define OTELC_PG_HARNESS_H

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct pg_db {
    char host[256];     /* the socket's directory */
    char name[64];      /* the database */
    char conninfo[512]; /* of the database */
    char admin[512];    /* of the cluster's postgres database */
} pg_db_t;

static void pg_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Runs `sql` on a connection to `conninfo`; the first row's first value
 * into out (out_size bytes) when given. False with a message on stderr. */
static bool pg_run(const char *conninfo, const char *sql, char *out, size_t out_size)
{
    PGconn *c = PQconnectdb(conninfo);
    PGresult *r;
    bool ok;

    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "pg_run: %s", PQerrorMessage(c));
        PQfinish(c);
        return false;
    }
    PQsetNoticeProcessor(c, pg_quiet, NULL); /* "does not exist, skipping" */
    r = PQexec(c, sql);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "pg_run: %s: %s", sql, PQresultErrorMessage(r));
    if (ok && out != NULL) {
        if (PQntuples(r) > 0 && PQnfields(r) > 0)
            snprintf(out, out_size, "%s", PQgetvalue(r, 0, 0));
        else
            out[0] = '\0';
    }
    PQclear(r);
    PQfinish(c);
    return ok;
}

/* 0: the database is there; 1: no cluster (skip); -1: a failure. */
static int pg_open(pg_db_t *db)
{
    const char *state = getenv("OTELC_TEST_PG_STATE");
    FILE *f = state != NULL ? fopen(state, "r") : NULL;
    char sql[128];

    memset(db, 0, sizeof(*db));
    if (f == NULL) {
        if (getenv("OTELC_REQUIRE_PG") != NULL && strcmp(getenv("OTELC_REQUIRE_PG"), "1") == 0) {
            fprintf(stderr, "pg_open: no cluster (OTELC_TEST_PG_STATE=%s)\n",
                    state != NULL ? state : "(unset)");
            return -1;
        }
        return 1;
    }
    if (fgets(db->host, sizeof(db->host), f) == NULL) {
        fclose(f);
        return -1;
    }
    fclose(f);
    db->host[strcspn(db->host, "\n")] = '\0';
    snprintf(db->name, sizeof(db->name), "otelc_test_%ld", (long)getpid());
    snprintf(db->admin, sizeof(db->admin), "host=%s user=otelc dbname=postgres", db->host);
    snprintf(db->conninfo, sizeof(db->conninfo), "host=%s user=otelc dbname=%s", db->host,
             db->name);
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", db->name);
    if (!pg_run(db->admin, sql, NULL, 0))
        return -1;
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db->name);
    return pg_run(db->admin, sql, NULL, 0) ? 0 : -1;
}

/* Stops ("pause") or starts again ("resume") the cluster's server. */
static bool pg_server(const char *what)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "%s %s %s", OTELC_PG_CLUSTER_SH, what,
             getenv("OTELC_TEST_PG_STATE"));
    return system(cmd) == 0;
}

static void pg_close(pg_db_t *db)
{
    char sql[160];

    /* OTELC_TEST_PG_KEEP=1 keeps it, to look at after a failure. */
    if (db->name[0] == '\0' || getenv("OTELC_TEST_PG_KEEP") != NULL)
        return;
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", db->name);
    (void)pg_run(db->admin, sql, NULL, 0);
    db->name[0] = '\0';
}

#endif /* OTELC_PG_HARNESS_H */
