/*
 * test_pq_spans: the traced libpq calls against the real PostgreSQL of the
 * test run (tests/pg/cluster.sh, the CTest fixture "pg"; its state file is
 * named by OTELC_TEST_PG_STATE), in a database of the test's own. Every span
 * is read back from a capture exporter, as an exporter would get it.
 *
 * Without a cluster the tests skip, unless OTELC_REQUIRE_PG=1.
 */
#include <otelc/libpq.h>
#include <otelc/otelc.h>

#include "capture_exporter.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static cap_exporter_t cap;
static char host[256], dbname[64], conninfo[512], admin[512];
static PGconn *conn;
static bool have_db;

static bool run_admin(const char *sql)
{
    PGconn *c = PQconnectdb(admin);
    PGresult *r = PQexec(c, sql);
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;

    if (!ok)
        fprintf(stderr, "test_pq_spans: %s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok;
}

/* Runs `sql` untraced on the test's connection; true when it succeeded. */
static bool run_plain(const char *sql, char *value, size_t size)
{
    PGresult *r = PQexec(conn, sql);
    const ExecStatusType st = PQresultStatus(r);
    const bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

    if (ok && value != NULL)
        snprintf(value, size, "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
    if (!ok)
        fprintf(stderr, "test_pq_spans: %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    return ok;
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static int setup(void **state)
{
    const char *path = getenv("OTELC_TEST_PG_STATE");
    FILE *f = path != NULL ? fopen(path, "r") : NULL;
    otelc_options_t o;
    char sql[160];

    (void)state;
    if (f == NULL) {
        const char *req = getenv("OTELC_REQUIRE_PG");
        fprintf(stderr, "test_pq_spans: no cluster (OTELC_TEST_PG_STATE=%s)\n",
                path != NULL ? path : "(unset)");
        return req != NULL && strcmp(req, "1") == 0 ? -1 : 0;
    }
    if (fgets(host, sizeof(host), f) == NULL) {
        fclose(f);
        return -1;
    }
    fclose(f);
    host[strcspn(host, "\n")] = '\0';
    snprintf(dbname, sizeof(dbname), "otelc_libpq_%ld", (long)getpid());
    snprintf(admin, sizeof(admin), "host=%s user=otelc dbname=postgres", host);
    snprintf(conninfo, sizeof(conninfo), "host=%s user=otelc dbname=%s", host, dbname);
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", dbname);
    if (!run_admin(sql))
        return -1;
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
    if (!run_admin(sql))
        return -1;
    conn = PQconnectdb(conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "test_pq_spans: %s", PQerrorMessage(conn));
        return -1;
    }
    PQsetNoticeProcessor(conn, quiet, NULL);
    if (!run_plain("CREATE TABLE items (id int, name text)", NULL, 0))
        return -1;
    have_db = true;

    cap_init(&cap, true);
    cap_options(&o, &cap);
    return otelc_init(&o) == OTELC_OK ? 0 : -1;
}

static int teardown(void **state)
{
    char sql[160];

    (void)state;
    if (have_db) {
        (void)otelc_shutdown(2000);
        PQfinish(conn);
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
        (void)run_admin(sql);
        cap_free(&cap);
    }
    return 0;
}

#define NEED_DB()                                                                                  \
    do {                                                                                           \
        if (!have_db)                                                                              \
            skip();                                                                                \
    } while (0)

/* Records exported so far; what a test made comes after it. */
static size_t mark(void)
{
    size_t n;

    assert_int_equal(otelc_flush(5000), OTELC_OK);
    pthread_mutex_lock(&cap.mu);
    n = cap.n;
    pthread_mutex_unlock(&cap.mu);
    return n;
}

/* The spans named `name` exported since `from` (after a flush): how many,
 * and the last of them in *out. */
static size_t spans_named(size_t from, const char *name, const cap_record_t **out)
{
    size_t count = 0;

    assert_int_equal(otelc_flush(5000), OTELC_OK);
    for (size_t i = from; i < cap.n; i++) {
        if (cap.recs[i].signal == OTELC_SIGNAL_TRACES && strcmp(cap.recs[i].name, name) == 0) {
            count++;
            *out = &cap.recs[i];
        }
    }
    return count;
}

static const cap_record_t *span_named(size_t from, const char *name)
{
    const cap_record_t *r = NULL;

    if (spans_named(from, name, &r) != 1)
        fail_msg("expected one span \"%s\"", name);
    return r;
}

static const cap_record_t *span_with_text(size_t from, const char *text)
{
    const cap_record_t *found = NULL;

    assert_int_equal(otelc_flush(5000), OTELC_OK);
    for (size_t i = from; i < cap.n; i++) {
        const char *v = cap.recs[i].signal == OTELC_SIGNAL_TRACES
                            ? cap_attr(&cap.recs[i], "db.query.text")
                            : NULL;
        if (v != NULL && strcmp(v, text) == 0)
            found = &cap.recs[i];
    }
    if (found == NULL)
        fail_msg("no span with db.query.text \"%s\"", text);
    return found;
}

static void assert_attr(const cap_record_t *r, const char *key, const char *want)
{
    const char *v = cap_attr(r, key);

    if (v == NULL || strcmp(v, want) != 0)
        fail_msg("span \"%s\": %s = %s, want %s", r->name, key, v != NULL ? v : "(absent)", want);
}

/* No attribute of `r` contains `value` (a literal or a parameter). */
static void assert_nowhere(const cap_record_t *r, const char *value)
{
    for (unsigned i = 0; i < r->n_attrs; i++) {
        if (strstr(r->attrs[i].value, value) != NULL)
            fail_msg("span \"%s\": %s holds \"%s\"", r->name, r->attrs[i].key, value);
    }
    assert_null(strstr(r->name, value));
}

static void assert_child_of(const cap_record_t *r, const otelc_span_t *parent)
{
    assert_memory_equal(r->ctx.trace_id, parent->ctx.trace_id, 16);
    assert_memory_equal(r->parent_span_id, parent->ctx.span_id, 8);
}

static void assert_connection_attrs(const cap_record_t *r)
{
    assert_int_equal(r->kind, OTELC_SPAN_KIND_CLIENT);
    assert_string_equal(r->scope, "otelc.libpq");
    assert_attr(r, "db.system.name", "postgresql");
    assert_attr(r, "db.namespace", dbname);
    /* A unix socket: server.address is its directory, the port its name's. */
    assert_attr(r, "server.address", host);
    assert_attr(r, "server.port", PQport(conn));
}

static void test_exec(void **state)
{
    PGresult *res;
    const cap_record_t *r;
    size_t from;

    (void)state;
    NEED_DB();
    from = mark();
    otelc_span_t parent = otelc_span_start("parent", NULL, 0);
    res = otelc_PQexec(conn, "SELECT 1 AS one, 'secret' AS s WHERE 42 = 42");
    otelc_span_end(&parent);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(res, 0, 1), "secret");
    PQclear(res);

    r = span_named(from, "SELECT");
    assert_child_of(r, &parent);
    assert_connection_attrs(r);
    assert_attr(r, "db.query.text", "SELECT ? AS one, ? AS s WHERE ? = ?");
    assert_attr(r, "db.query.summary", "SELECT");
    assert_attr(r, "db.response.returned_rows", "1");
    assert_null(cap_attr(r, "db.operation.name"));
    assert_int_equal(r->status, OTELC_STATUS_UNSET);
    assert_nowhere(r, "secret");
}

static void test_exec_params(void **state)
{
    const char *values[2] = { "7", "hunter2" };
    PGresult *res;
    const cap_record_t *r;
    size_t from;

    (void)state;
    NEED_DB();
    from = mark();
    otelc_span_t parent = otelc_span_start("parent", NULL, 0);
    res = otelc_PQexecParams(conn, "INSERT INTO items (id, name) VALUES ($1, $2)", 2, NULL, values,
                             NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    /* Without parameters the text is not parameterized: sanitized. */
    res = otelc_PQexecParams(conn, "SELECT name FROM items WHERE id = 7", 0, NULL, NULL, NULL, NULL,
                             0);
    assert_int_equal(PQntuples(res), 1);
    PQclear(res);
    otelc_span_end(&parent);

    r = span_named(from, "INSERT items");
    assert_child_of(r, &parent);
    assert_connection_attrs(r);
    /* Parameterized text is recorded as it is; the values never. */
    assert_attr(r, "db.query.text", "INSERT INTO items (id, name) VALUES ($1, $2)");
    assert_attr(r, "db.query.summary", "INSERT items");
    assert_attr(r, "otelc.db.affected_rows", "1");
    assert_nowhere(r, "hunter2");

    r = span_named(from, "SELECT items");
    assert_child_of(r, &parent);
    assert_attr(r, "db.query.text", "SELECT name FROM items WHERE id = ?");
    assert_attr(r, "db.response.returned_rows", "1");
}

static void test_prepared(void **state)
{
    const char *values[1] = { "7" };
    PGresult *res;
    const cap_record_t *r;
    size_t from;

    (void)state;
    NEED_DB();
    from = mark();
    otelc_span_t parent = otelc_span_start("parent", NULL, 0);
    res = otelc_PQprepare(conn, "by_id", "SELECT name FROM items WHERE id = $1", 1, NULL);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    res = otelc_PQexecPrepared(conn, "by_id", 1, values, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(res, 0, 0), "hunter2");
    PQclear(res);
    otelc_span_end(&parent);

    r = span_named(from, "PREPARE SELECT items");
    assert_child_of(r, &parent);
    assert_connection_attrs(r);
    assert_attr(r, "db.operation.name", "PREPARE");
    assert_attr(r, "db.query.text", "SELECT name FROM items WHERE id = $1");

    r = span_named(from, "EXECUTE by_id");
    assert_child_of(r, &parent);
    assert_connection_attrs(r);
    assert_attr(r, "db.operation.name", "EXECUTE");
    assert_attr(r, "db.query.summary", "EXECUTE by_id");
    assert_attr(r, "db.response.returned_rows", "1");
    assert_null(cap_attr(r, "db.query.text"));
    assert_nowhere(r, "hunter2");
}

static void test_error(void **state)
{
    PGresult *res;
    const cap_record_t *r;
    size_t from;

    (void)state;
    NEED_DB();
    from = mark();
    res = otelc_PQexec(conn, "SELECT * FROM no_such_table WHERE x = 'v'");
    assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
    PQclear(res);
    res = otelc_PQexec(conn, "SELEC 1");
    PQclear(res);

    r = span_named(from, "SELECT no_such_table");
    assert_connection_attrs(r);
    assert_int_equal(r->status, OTELC_STATUS_ERROR);
    assert_string_equal(r->status_message, "relation \"no_such_table\" does not exist");
    assert_attr(r, "db.response.status_code", "42P01");
    assert_attr(r, "error.type", "42P01");
    assert_attr(r, "db.query.text", "SELECT * FROM no_such_table WHERE x = ?");

    r = span_named(from, "SELEC");
    assert_int_equal(r->status, OTELC_STATUS_ERROR);
    assert_string_equal(r->status_message, "syntax error at or near \"SELEC\"");
    assert_attr(r, "error.type", "42601");
}

static void test_null_and_bad_connection(void **state)
{
    PGconn *bad;
    const cap_record_t *r;
    size_t from;

    (void)state;
    NEED_DB();
    from = mark();
    assert_null(otelc_PQexec(NULL, "SELECT 1"));
    r = span_named(from, "SELECT");
    assert_int_equal(r->kind, OTELC_SPAN_KIND_CLIENT);
    assert_int_equal(r->status, OTELC_STATUS_ERROR);
    assert_string_equal(r->status_message, "no connection (conn is NULL)");
    assert_attr(r, "error.type", "_OTHER");
    assert_attr(r, "db.system.name", "postgresql");
    assert_null(cap_attr(r, "db.namespace"));
    assert_null(otelc_PQexecPrepared(NULL, "s", 0, NULL, NULL, NULL, 0));
    assert_int_equal(otelc_PQputCopyData(NULL, "x", 1), -1);
    assert_null(otelc_PQgetResult(NULL));
    otelc_PQfinish(NULL);

    /* A connection that failed: libpq's own message, no SQLSTATE. */
    from = mark();
    bad = PQconnectdb("host=/nonexistent-otelc-dir user=otelc dbname=nowhere");
    assert_int_equal(PQstatus(bad), CONNECTION_BAD);
    PGresult *res = otelc_PQexec(bad, "SELECT 2");
    PQclear(res);
    otelc_PQfinish(bad);
    r = span_named(from, "SELECT");
    assert_int_equal(r->status, OTELC_STATUS_ERROR);
    assert_non_null(strstr(r->status_message, "connection"));
    assert_null(strchr(r->status_message, '\n'));
    assert_attr(r, "error.type", "_OTHER");
    assert_attr(r, "db.namespace", "nowhere");
}

static void test_slow_query(void **state)
{
    const cap_record_t *slow_span, *fast_span, *log = NULL;
    size_t from, n_slow = 0;
    PGresult *res;

    (void)state;
    NEED_DB();
    otelc_pq_set_slow_query_threshold_ms(100);
    assert_int_equal(otelc_pq_slow_query_threshold_ms(), 100);
    from = mark();
    res = otelc_PQexec(conn, "SELECT pg_sleep(0.3)");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    res = otelc_PQexec(conn, "SELECT 'fast' WHERE 1 = 1");
    PQclear(res);
    otelc_pq_set_slow_query_threshold_ms(500);

    slow_span = span_with_text(from, "SELECT pg_sleep(?)");
    fast_span = span_with_text(from, "SELECT ? WHERE ? = ?");
    for (size_t i = from; i < cap.n; i++) {
        if (cap.recs[i].signal == OTELC_SIGNAL_LOGS &&
            strcmp(cap.recs[i].event, "slow_query") == 0) {
            n_slow++;
            log = &cap.recs[i];
        }
    }
    /* One warning, for the slow statement only, written inside its span. */
    assert_int_equal(n_slow, 1);
    assert_int_equal(log->severity, OTELC_SEV_WARN);
    assert_string_equal(log->scope, "db");
    assert_memory_equal(log->ctx.span_id, slow_span->ctx.span_id, 8);
    assert_memory_equal(log->ctx.trace_id, slow_span->ctx.trace_id, 16);
    assert_string_equal(cap_attr(log, "db.query.text"), "SELECT pg_sleep(?)");
    assert_string_equal(cap_attr(log, "threshold_ms"), "100");
    assert_true(strtod(cap_attr(log, "duration_ms"), NULL) >= 300.0);
    assert_true(slow_span->end_ns - slow_span->start_ns >= 300000000u);
    assert_true(fast_span->end_ns - fast_span->start_ns < 100000000u);
}

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void test_copy_in(void **state)
{
    static const char *rows[] = { "1\tone\n", "2\ttwo\n", "3\tthree\n" };
    const cap_record_t *r = NULL;
    char count[16];
    size_t from;
    uint64_t before_end;
    PGresult *res;

    (void)state;
    NEED_DB();
    from = mark();
    otelc_span_t parent = otelc_span_start("load", NULL, 0);
    res = otelc_PQexec(conn, "COPY items (id, name) FROM STDIN");
    assert_int_equal(PQresultStatus(res), PGRES_COPY_IN);
    PQclear(res);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(otelc_PQputCopyData(conn, rows[i], (int)strlen(rows[i])), 1);
    before_end = wall_ns();
    assert_int_equal(otelc_PQputCopyEnd(conn, NULL), 1);
    res = otelc_PQgetResult(conn);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    assert_null(otelc_PQgetResult(conn));
    otelc_span_end(&parent);

    assert_true(
        run_plain("SELECT count(*) FROM items WHERE id BETWEEN 1 AND 3", count, sizeof(count)));
    assert_string_equal(count, "3");
    /* One span over the whole copy, ended by its final result. */
    assert_int_equal(spans_named(from, "COPY items", &r), 1);
    assert_child_of(r, &parent);
    assert_connection_attrs(r);
    assert_attr(r, "db.query.text", "COPY items (id, name) FROM STDIN");
    assert_attr(r, "otelc.db.affected_rows", "3");
    assert_attr(r, "otelc.db.copy.bytes", "20");
    assert_int_equal(r->status, OTELC_STATUS_UNSET);
    assert_true(r->end_ns >= before_end);
    /* Nothing else was traced: the load span and the copy. */
    assert_int_equal(cap.n - from, 2);
}

static void test_copy_out(void **state)
{
    const cap_record_t *r;
    size_t from;
    int n, rows = 0;
    char *buf;
    PGresult *res;

    (void)state;
    NEED_DB();
    from = mark();
    res = otelc_PQexec(conn, "COPY (SELECT id FROM items WHERE id <= 3 ORDER BY id) TO STDOUT");
    assert_int_equal(PQresultStatus(res), PGRES_COPY_OUT);
    PQclear(res);
    while ((n = otelc_PQgetCopyData(conn, &buf, 0)) > 0) {
        rows++;
        PQfreemem(buf);
    }
    assert_int_equal(n, -1);
    res = otelc_PQgetResult(conn);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    assert_null(otelc_PQgetResult(conn));
    assert_int_equal(rows, 3);

    r = span_named(from, "COPY SELECT items");
    assert_attr(r, "db.response.returned_rows", "3");
    assert_attr(r, "otelc.db.copy.bytes", "6");
    assert_attr(r, "db.query.text",
                "COPY (SELECT id FROM items WHERE id <= ? ORDER BY id) TO STDOUT");
}

/* A COPY the program abandons ends its span when the connection closes. */
static void test_copy_abandoned(void **state)
{
    const cap_record_t *r;
    PGconn *other;
    PGresult *res;
    size_t from;

    (void)state;
    NEED_DB();
    other = PQconnectdb(conninfo);
    assert_int_equal(PQstatus(other), CONNECTION_OK);
    from = mark();
    res = otelc_PQexec(other, "COPY items FROM STDIN");
    assert_int_equal(PQresultStatus(res), PGRES_COPY_IN);
    PQclear(res);
    assert_int_equal(otelc_PQputCopyData(other, "9\tnine\n", 7), 1);
    otelc_PQfinish(other);

    r = span_named(from, "COPY items");
    assert_int_equal(r->status, OTELC_STATUS_ERROR);
    assert_string_equal(r->status_message, "connection closed during COPY");
    assert_attr(r, "otelc.db.copy.bytes", "7");
}

/* A COPY finished with the plain calls: its span ends at the connection's
 * next traced call, and does not become the parent of that call's span. */
static void test_copy_result_unread(void **state)
{
    const cap_record_t *r;
    PGresult *res;
    size_t from;

    (void)state;
    NEED_DB();
    from = mark();
    otelc_span_t parent = otelc_span_start("load", NULL, 0);
    res = otelc_PQexec(conn, "COPY items FROM STDIN");
    assert_int_equal(PQresultStatus(res), PGRES_COPY_IN);
    PQclear(res);
    assert_int_equal(PQputCopyData(conn, "10\tten\n", 7), 1);
    assert_int_equal(PQputCopyEnd(conn, NULL), 1);
    while ((res = PQgetResult(conn)) != NULL)
        PQclear(res);
    res = otelc_PQexec(conn, "SELECT count(*) FROM items WHERE id = 10");
    assert_string_equal(PQgetvalue(res, 0, 0), "1");
    PQclear(res);
    otelc_span_end(&parent);

    r = span_named(from, "COPY items");
    assert_child_of(r, &parent);
    assert_attr(r, "otelc.db.copy.result_unread", "true");
    assert_int_equal(r->status, OTELC_STATUS_UNSET);
    r = span_named(from, "SELECT items");
    assert_child_of(r, &parent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exec),
        cmocka_unit_test(test_exec_params),
        cmocka_unit_test(test_prepared),
        cmocka_unit_test(test_error),
        cmocka_unit_test(test_null_and_bad_connection),
        cmocka_unit_test(test_slow_query),
        cmocka_unit_test(test_copy_in),
        cmocka_unit_test(test_copy_out),
        cmocka_unit_test(test_copy_abandoned),
        cmocka_unit_test(test_copy_result_unread),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
