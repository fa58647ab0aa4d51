/*
 * test_pg_export.c: the PostgreSQL exporter against a real server (the
 * test run's throwaway cluster, a database of this program's own): the
 * schema and its migrations, every column of the rows that logs and spans
 * become, hostile text read back exactly, a batch sent twice stored once,
 * the seed's queries, retention by partition. What is read back is read by
 * libpq, not by the exporter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <otelc/otelc.h>
#include <otelc/postgres.h>

#include "pg_harness.h"
#include "postgres_internal.h"
#include "schema.h"

static pg_db_t db;
static int have_db;
static bool paused; /* the server stopped by a test, started again by its teardown */
static bool hung;   /* the server hung (SIGSTOP) by a test, let go by its teardown */

#define NEED_DB()                                                                                  \
    do {                                                                                           \
        if (have_db != 0) {                                                                        \
            assert_int_not_equal(have_db, -1);                                                     \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* The first value of the first row of `sql` on the test database. */
static char *one(const char *sql)
{
    static char out[1 << 21];

    assert_true(pg_run(db.conninfo, sql, out, sizeof(out)));
    return out;
}

static long count(const char *sql)
{
    return atol(one(sql));
}

/* The schema there (as `otelc pg init` makes it), and every table empty:
 * each test starts from this, whatever ran before. */
static void fresh(void)
{
    PGconn *c = PQconnectdb(db.conninfo);
    char err[256];

    assert_int_equal(PQstatus(c), CONNECTION_OK);
    assert_true(otelc__pg_migrate(c, 0, err, sizeof(err)) >= 0);
    PQfinish(c);
    assert_true(pg_run(db.conninfo,
                       "TRUNCATE logging.system_logs, logging.spans, logging.performance_logs,"
                       " logging.archived_system_logs, logging.archived_spans,"
                       " logging.archived_performance_logs",
                       NULL, 0));
}

/* Starts otelc with the exporter for logs and traces, the schema made at
 * start. */
static void start(void)
{
    otelc_options_t o;

    otelc_options_init(&o);
    o.traces_exporter = "postgres";
    o.logs_exporter = "postgres";
    assert_int_equal(otelc_options_set(&o, "OTEL_SERVICE_NAME", "order-gateway"), OTELC_OK);
    assert_int_equal(otelc_options_set(&o, "OTELC_PG_CONNINFO", db.conninfo), OTELC_OK);
    assert_int_equal(otelc_options_set(&o, "OTELC_PG_AUTO_MIGRATE", "1"), OTELC_OK);
    assert_int_equal(otelc_init(&o), OTELC_OK);
}

static void stop(otelc_stats_t *s)
{
    assert_int_equal(otelc_flush(20000), OTELC_OK);
    otelc_stats(s);
    assert_int_equal(otelc_shutdown(20000), OTELC_OK);
}

static int group_setup(void **state)
{
    (void)state;
    have_db = pg_open(&db);
    return 0;
}

/* After a fault test, failed or not: the server up, otelc stopped. */
static int fault_teardown(void **state)
{
    (void)state;
    if (hung && pg_server("unhang"))
        hung = false;
    if (paused && pg_server("resume"))
        paused = false;
    (void)otelc_shutdown(5000);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    pg_close(&db);
    return 0;
}

/* The migrations: applied once, recorded, idempotent. */
static void test_migrate(void **state)
{
    PGconn *c;
    char err[256];

    (void)state;
    NEED_DB();
    c = PQconnectdb(db.conninfo);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    assert_int_equal(otelc__pg_schema_version(c, err, sizeof(err)), 0);
    assert_int_equal(otelc__pg_migrate(c, 0, err, sizeof(err)), otelc__pg_schema_latest());
    assert_int_equal(otelc__pg_migrate(c, 0, err, sizeof(err)), 0);
    assert_int_equal(otelc__pg_schema_version(c, err, sizeof(err)), otelc__pg_schema_latest());
    PQfinish(c);
    assert_int_equal(count("SELECT count(*) FROM logging.schema_migrations"),
                     otelc__pg_schema_latest());
    /* Every column the seed names, with its type. */
    assert_string_equal(
        one("SELECT string_agg(column_name || ' ' || data_type ||"
            " coalesce('(' || character_maximum_length || ')', '') ||"
            " coalesce('(' || numeric_precision || ',' || numeric_scale || ')', ''), ', '"
            " ORDER BY ordinal_position) FROM information_schema.columns"
            " WHERE table_schema = 'logging' AND table_name = 'performance_logs'"),
        "id bigint(64,0), service character varying(50), operation character varying(100), "
        "execution_time_ms numeric(10,3), memory_usage_mb numeric(10,3), "
        "cpu_usage_percent numeric(5,2), timestamp timestamp with time zone, "
        "trace_id character(32), span_id character(16), record_id uuid");
    assert_string_equal(
        one("SELECT string_agg(column_name || ' ' || data_type ||"
            " coalesce('(' || character_maximum_length || ')', ''), ', '"
            " ORDER BY ordinal_position) FROM information_schema.columns"
            " WHERE table_schema = 'logging' AND table_name = 'system_logs'"),
        "id bigint, service character varying(50), level character varying(20), message text, "
        "data jsonb, correlation_id character varying(100), event_type character varying(50), "
        "timestamp timestamp with time zone, trace_id character(32), span_id character(16), "
        "logger text, record_id uuid");
    /* The seed's indexes. */
    assert_int_equal(count("SELECT count(*) FROM pg_indexes WHERE schemaname = 'logging' AND"
                           " indexname IN ('idx_system_logs_timestamp', 'idx_system_logs_service',"
                           " 'idx_system_logs_level', 'idx_system_logs_correlation',"
                           " 'idx_system_logs_event_type', 'idx_system_logs_service_timestamp',"
                           " 'idx_performance_logs_timestamp', 'idx_performance_logs_service',"
                           " 'idx_performance_logs_operation',"
                           " 'idx_performance_logs_service_timestamp')"),
                     10);
}

/* Text that breaks naive COPY or SQL, and what it must read back as. */
static const char hostile[] = "it's \"quoted\" \\ back\\slash\ttab\nnew line\r\n\\.\nend; "
                              "DROP TABLE logging.system_logs; --";

static void test_logs_exact(void **state)
{
    otelc_logger_t *lg;
    otelc_stats_t s;
    char *big = malloc(1 << 20);
    const char nul_text[] = { 'a', '\0', 'b' };
    const char bad_utf8[] = "ok \xff\xfe end \xe2\x82";

    (void)state;
    NEED_DB();
    assert_non_null(big);
    memset(big, 'm', (1 << 20) - 1);
    big[(1 << 20) - 1] = '\0';
    fresh();
    start();
    lg = otelc_logger("execution.order_manager");
    otelc_logger_set_level(lg, OTELC_SEV_DEBUG);
    {
        otelc_token_t t = otelc_correlation_begin("trade-12345", OTELC_NUL_TERMINATED);
        otelc_attr_t attrs[] = {
            OTELC_STR("symbol", "AAPL"), OTELC_INT("qty", 100),      OTELC_DBL("price", 150.25),
            OTELC_BOOL("filled", true),  OTELC_STR("note", hostile), OTELC_STRN("nul", nul_text, 3),
        };

        otelc_log(lg, OTELC_SEV_INFO, "order_submitted", hostile, OTELC_NUL_TERMINATED, attrs,
                  sizeof(attrs) / sizeof(attrs[0]));
        otelc_correlation_end(t);
    }
    otelc_log(lg, OTELC_SEV_WARN, NULL, bad_utf8, OTELC_NUL_TERMINATED, NULL, 0);
    otelc_log(lg, OTELC_SEV_ERROR, NULL, nul_text, 3, NULL, 0);
    otelc_log(lg, OTELC_SEV_FATAL, NULL, big, OTELC_NUL_TERMINATED, NULL, 0);
    otelc_log(lg, OTELC_SEV_DEBUG, NULL, "debug", OTELC_NUL_TERMINATED, NULL, 0);
    stop(&s);
    assert_int_equal(s.logs.produced, 5);
    assert_int_equal(s.logs.exported, 5);
    assert_int_equal(count("SELECT count(*) FROM logging.system_logs"), 5);

    /* The first record, column by column. */
    assert_string_equal(one("SELECT message FROM logging.system_logs WHERE level = 'INFO'"),
                        hostile);
    assert_string_equal(one("SELECT service || '|' || level || '|' || correlation_id || '|' ||"
                            " event_type || '|' || logger FROM logging.system_logs"
                            " WHERE level = 'INFO'"),
                        "order-gateway|INFO|trade-12345|order_submitted|execution.order_manager");
    assert_string_equal(one("SELECT data->>'symbol' || '|' || (data->'qty')::text || '|' ||"
                            " (data->'price')::text || '|' || (data->'filled')::text || '|' ||"
                            " jsonb_typeof(data->'qty') FROM logging.system_logs"
                            " WHERE level = 'INFO'"),
                        "AAPL|100|150.25|true|number");
    assert_string_equal(one("SELECT data->>'note' FROM logging.system_logs WHERE level = 'INFO'"),
                        hostile);
    /* NUL cannot be in PostgreSQL text: U+FFFD, in jsonb and in text. */
    assert_string_equal(one("SELECT data->>'nul' FROM logging.system_logs WHERE level = 'INFO'"),
                        "a\xef\xbf\xbd"
                        "b");
    assert_string_equal(one("SELECT message FROM logging.system_logs WHERE level = 'ERROR'"),
                        "a\xef\xbf\xbd"
                        "b");
    /* Ill-formed UTF-8: one U+FFFD per maximal subpart. */
    assert_string_equal(one("SELECT message FROM logging.system_logs WHERE level = 'WARNING'"),
                        "ok \xef\xbf\xbd\xef\xbf\xbd end \xef\xbf\xbd");
    assert_int_equal(count("SELECT length(message) FROM logging.system_logs"
                           " WHERE level = 'CRITICAL'"),
                     (1 << 20) - 1);
    assert_int_equal(count("SELECT count(*) FROM logging.system_logs WHERE level = 'DEBUG'"), 1);
    /* Logs outside a span carry no trace ids, but the correlation scope
     * started a trace; the time is the record's. */
    assert_int_equal(count("SELECT count(*) FROM logging.system_logs WHERE trace_id IS NULL"), 4);
    assert_int_equal(count("SELECT count(*) FROM logging.system_logs WHERE trace_id IS NOT NULL"
                           " AND correlation_id = 'trade-12345' AND length(span_id) = 16"),
                     1);
    assert_int_equal(count("SELECT count(*) FROM logging.system_logs"
                           " WHERE abs(extract(epoch FROM now() - timestamp)) < 600"),
                     5);
    assert_int_equal(count("SELECT count(DISTINCT record_id) FROM logging.system_logs"), 5);
    free(big);
}

static void test_spans_and_performance(void **state)
{
    otelc_stats_t s;
    otelc_logger_t *lg;
    char trace[64], span[64], sql[512];

    (void)state;
    NEED_DB();
    fresh();
    start();
    lg = otelc_logger("execution");
    {
        otelc_attr_t attrs[] = { OTELC_STR("symbol", "AAPL"),
                                 OTELC_DBL("execution_time_ms", 12.3456),
                                 OTELC_DBL("memory_usage_mb", 1.5),
                                 OTELC_DBL("cpu_usage_percent", 97.125) };
        otelc_span_t parent = otelc_span_start("place_order", attrs, 4);
        otelc_span_t child = otelc_span_start("risk_check", NULL, 0);
        otelc_span_context_t pc = otelc_span_current().ctx;

        (void)pc;
        otelc_log(lg, OTELC_SEV_INFO, NULL, "inside", OTELC_NUL_TERMINATED, NULL, 0);
        otelc_span_add_event(&child, "limit.checked", NULL, 0);
        otelc_span_set_status(&child, OTELC_STATUS_ERROR, "limit exceeded");
        otelc_span_end(&child);
        otelc_span_end(&parent);
    }
    stop(&s);
    assert_int_equal(s.spans.exported, 2);
    assert_int_equal(count("SELECT count(*) FROM logging.spans"), 2);
    assert_true(pg_run(db.conninfo, "SELECT trace_id FROM logging.spans WHERE name = 'place_order'",
                       trace, sizeof(trace)));
    assert_true(pg_run(db.conninfo, "SELECT span_id FROM logging.spans WHERE name = 'place_order'",
                       span, sizeof(span)));
    assert_int_equal(strlen(trace), 32);
    assert_int_equal(strlen(span), 16);
    /* The child: same trace, parent's span id, status, event. */
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM logging.spans WHERE name = 'risk_check' AND trace_id = '%s'"
             " AND parent_span_id = '%s' AND status_code = 'ERROR'"
             " AND status_message = 'limit exceeded' AND kind = 'INTERNAL'"
             " AND service = 'order-gateway' AND events->0->>'name' = 'limit.checked'"
             " AND end_time >= start_time",
             trace, span);
    assert_int_equal(count(sql), 1);
    assert_int_equal(count("SELECT count(*) FROM logging.spans WHERE name = 'place_order'"
                           " AND parent_span_id IS NULL AND attributes->>'symbol' = 'AAPL'"
                           " AND resource->>'service.name' = 'order-gateway'"
                           /* µs times: each cut, so within a µs of the exact ns */
                           " AND abs(duration_ms - extract(epoch FROM end_time - start_time)"
                           " * 1000) <= 0.001 AND duration_ms > 0"),
                     1);
    /* The log inside the spans carries the child's ids. */
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM logging.system_logs l JOIN logging.spans s"
             " ON s.trace_id = l.trace_id AND s.span_id = l.span_id"
             " WHERE s.name = 'risk_check' AND l.message = 'inside'");
    assert_int_equal(count(sql), 1);
    /* The span with performance data is a performance_logs row too. */
    assert_int_equal(count("SELECT count(*) FROM logging.performance_logs"), 1);
    snprintf(sql, sizeof(sql),
             "SELECT service || '|' || operation || '|' || execution_time_ms || '|' ||"
             " memory_usage_mb || '|' || cpu_usage_percent || '|' || (trace_id = '%s')"
             " FROM logging.performance_logs",
             trace);
    assert_string_equal(one(sql), "order-gateway|place_order|12.346|1.500|97.13|true");
}

/* The same batch twice (a COMMIT whose answer was lost, a replay): one set
 * of rows. */
static void test_batch_twice_stored_once(void **state)
{
    const otelc_component_t *comp;
    otelc_pg_options_t o = { db.conninfo, 1 };
    otelc_exporter_args_t args;
    otelc_exporter_t *x = NULL;
    otelc_attr_t rattr[] = { OTELC_STR("service.name", "twice") };
    otelc_resource_t res = { rattr, 1 };
    otelc_span_data_t spans[3];
    otelc_batch_t b;
    otelc_export_result_t r = OTELC_EXPORT_RESULT_INIT;

    (void)state;
    NEED_DB();
    fresh();
    comp = otelc_component_find("postgres");
    assert_non_null(comp);
    memset(&args, 0, sizeof(args));
    args.struct_size = sizeof(args);
    args.signal = OTELC_SIGNAL_TRACES;
    args.settings = &o;
    args.resource = &res;
    assert_int_equal(comp->create(&args, &x), OTELC_OK);
    memset(spans, 0, sizeof(spans));
    for (int i = 0; i < 3; i++) {
        memset(spans[i].ctx.trace_id, 0x40 + i, 16);
        memset(spans[i].ctx.span_id, 0x70 + i, 8);
        spans[i].name = (otelc_str_t){ "twice", 5 };
        spans[i].start_ns = 1764760000000000000ull + (uint64_t)i;
        spans[i].end_ns = spans[i].start_ns + 1000;
    }
    b = (otelc_batch_t){ .signal = OTELC_SIGNAL_TRACES, .resource = &res, .spans = spans, .n = 3 };
    assert_int_equal(x->ops->export_batch(x, &b, 10000, &r), OTELC_OK);
    assert_int_equal(x->ops->export_batch(x, &b, 10000, &r), OTELC_OK);
    x->ops->shutdown(x, 1000);
    x->ops->destroy(x);
    assert_int_equal(count("SELECT count(*) FROM logging.spans WHERE service = 'twice'"), 3);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Rows per transaction: the exporter's batch size (OTELC_PG_MAX_EXPORT_
 * BATCH_SIZE, 100 by default), not the pipeline's 512; rows committed
 * together share their xmin. And its delay (OTELC_PG_SCHEDULE_DELAY): a
 * few records wait that long, then go without a flush. */
static void test_transactions_and_delay(void **state)
{
    otelc_logger_t *lg;
    otelc_stats_t st;
    otelc_options_t o;
    uint64_t t0, took;

    (void)state;
    NEED_DB();
    fresh();
    start();
    lg = otelc_logger("transactions");
    for (int i = 0; i < 1024; i++)
        otelc_log(lg, OTELC_SEV_INFO, NULL, "tx", OTELC_NUL_TERMINATED, NULL, 0);
    stop(&st);
    assert_int_equal(st.logs.exported, 1024);
    assert_int_equal(count("SELECT count(*) FROM logging.system_logs"), 1024);
    assert_int_equal(count("SELECT max(n) FROM (SELECT count(*) AS n FROM logging.system_logs"
                           " GROUP BY xmin::text) t"),
                     100);
    assert_true(count("SELECT count(DISTINCT xmin::text) FROM logging.system_logs") >= 11);

    fresh();
    otelc_options_init(&o);
    o.traces_exporter = "none";
    o.logs_exporter = "postgres";
    assert_int_equal(otelc_options_set(&o, "OTELC_PG_CONNINFO", db.conninfo), OTELC_OK);
    assert_int_equal(otelc_options_set(&o, "OTELC_PG_MAX_EXPORT_BATCH_SIZE", "250"), OTELC_OK);
    assert_int_equal(otelc_options_set(&o, "OTELC_PG_SCHEDULE_DELAY", "500"), OTELC_OK);
    assert_int_equal(otelc_options_set(&o, "OTEL_BLRP_SCHEDULE_DELAY", "20"), OTELC_OK);
    assert_int_equal(otelc_init(&o), OTELC_OK);
    lg = otelc_logger("transactions");
    t0 = mono_ms();
    for (int i = 0; i < 3; i++)
        otelc_log(lg, OTELC_SEV_INFO, NULL, "held", OTELC_NUL_TERMINATED, NULL, 0);
    while (count("SELECT count(*) FROM logging.system_logs") < 3 && mono_ms() - t0 < 10000)
        usleep(10000);
    took = mono_ms() - t0;
    assert_int_equal(count("SELECT count(*) FROM logging.system_logs"), 3);
    assert_true(took >= 500);
    /* And 600 at once: transactions of 250, 250, 100. */
    for (int i = 0; i < 600; i++)
        otelc_log(lg, OTELC_SEV_INFO, NULL, "tx", OTELC_NUL_TERMINATED, NULL, 0);
    stop(&st);
    assert_int_equal(count("SELECT count(*) FROM logging.system_logs WHERE message = 'tx'"), 600);
    assert_int_equal(count("SELECT max(n) FROM (SELECT count(*) AS n FROM logging.system_logs"
                           " WHERE message = 'tx' GROUP BY xmin::text) t"),
                     250);
}

/* Retention: days older than 30 move to the archive, archived days older
 * than 90 go; newer ones stay where they are. */
static void test_retention(void **state)
{
    (void)state;
    NEED_DB();
    fresh();
    assert_true(pg_run(db.conninfo,
                       "SELECT logging.ensure_partitions(current_date - 120, current_date);"
                       "INSERT INTO logging.system_logs (service, level, message, timestamp,"
                       " record_id) SELECT 'ret', 'INFO', 'm', now() - (g || ' days')::interval,"
                       " gen_random_uuid() FROM generate_series(0, 119) g",
                       NULL, 0));
    assert_int_equal(count("SELECT count(*) FROM logging.retention(30, 90)"
                           " WHERE table_name = 'system_logs' AND day >= current_date - 120"),
                     90);
    assert_int_equal(count("SELECT count(*) FROM logging.system_logs"), 31);
    assert_int_equal(count("SELECT count(*) FROM logging.archived_system_logs"), 60);
    assert_int_equal(count("SELECT count(*) FROM logging.archived_system_logs"
                           " WHERE timestamp::date >= current_date - 30"),
                     0);
    /* Partitions moved whole: none left in the active table for those days. */
    assert_int_equal(count("SELECT count(*) FROM logging.partitions_of('system_logs')"
                           " WHERE day < current_date - 30"),
                     0);
    assert_int_equal(count("SELECT count(*) FROM logging.partitions_of('archived_system_logs')"
                           " WHERE day < current_date - 90"),
                     0);
    /* Again: nothing to do. */
    assert_int_equal(count("SELECT count(*) FROM logging.retention(30, 90)"), 0);
}

/* The seed's three queries, as written, give the expected answers. */
static void test_seed_queries(void **state)
{
    (void)state;
    NEED_DB();
    fresh();
    assert_true(pg_run(db.conninfo,
                       "SELECT logging.ensure_partitions(current_date - 1, current_date);"
                       "INSERT INTO logging.system_logs (service, level, message, correlation_id,"
                       " timestamp, record_id) SELECT 'execution', CASE WHEN g % 4 = 0 THEN"
                       " 'ERROR' ELSE 'INFO' END, 'step ' || g, 'trade_12345',"
                       " now() - (g || ' minutes')::interval, gen_random_uuid()"
                       " FROM generate_series(1, 20) g;"
                       "INSERT INTO logging.performance_logs (service, operation,"
                       " execution_time_ms, timestamp, record_id) SELECT 'execution',"
                       " 'place_order', g, now() - (g || ' minutes')::interval,"
                       " gen_random_uuid() FROM generate_series(1, 10) g",
                       NULL, 0));
    /* Unqualified names: `logging` is on the database's search path. */
    assert_string_equal(one("SELECT string_agg(message, ',') FROM (SELECT * FROM system_logs"
                            " WHERE correlation_id = 'trade_12345' ORDER BY timestamp"
                            " LIMIT 3) s"),
                        "step 20,step 19,step 18");
    assert_string_equal(one("SELECT service || ' ' || AVG(execution_time_ms)::numeric(10,1)"
                            " FROM performance_logs WHERE timestamp > NOW() - INTERVAL '1 day'"
                            " GROUP BY service"),
                        "execution 5.5");
    assert_string_equal(one("SELECT string_agg(service || ' ' || level || ' ' || n, ',' ORDER BY"
                            " level) FROM (SELECT service, level, COUNT(*) AS n FROM system_logs"
                            " WHERE timestamp > NOW() - INTERVAL '7 days' AND level IN"
                            " ('ERROR', 'CRITICAL') GROUP BY service, level) s"),
                        "execution ERROR 5");
}

/* Lines in a file (0 when there is none). */
static long lines_in(const char *path)
{
    FILE *f = fopen(path, "r");
    long n = 0;
    int c;

    if (f == NULL)
        return 0;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* Starts otelc as start() does, with a fallback file. */
static void start_with_fallback(const char *path)
{
    otelc_options_t o;

    otelc_options_init(&o);
    o.traces_exporter = "postgres";
    o.logs_exporter = "postgres";
    assert_int_equal(otelc_options_set(&o, "OTEL_SERVICE_NAME", "order-gateway"), OTELC_OK);
    assert_int_equal(otelc_options_set(&o, "OTELC_PG_CONNINFO", db.conninfo), OTELC_OK);
    assert_int_equal(otelc_options_set(&o, "OTELC_PG_AUTO_MIGRATE", "1"), OTELC_OK);
    assert_int_equal(otelc_options_set(&o, "OTELC_PG_FALLBACK_FILE", path), OTELC_OK);
    /* Short export timeouts: a down database costs each batch this long. */
    assert_int_equal(otelc_options_set(&o, "OTEL_BLRP_EXPORT_TIMEOUT", "1000"), OTELC_OK);
    assert_int_equal(otelc_options_set(&o, "OTEL_BSP_EXPORT_TIMEOUT", "1000"), OTELC_OK);
    assert_int_equal(otelc_init(&o), OTELC_OK);
}

static void produce(otelc_logger_t *lg, int from, int to)
{
    for (int i = from; i < to; i++) {
        otelc_attr_t a[] = { OTELC_INT("seq", i), OTELC_STR("note", hostile) };
        otelc_span_t sp = otelc_span_start("order", a, 2);

        otelc_log(lg, OTELC_SEV_INFO, "order_placed", hostile, OTELC_NUL_TERMINATED, a, 2);
        otelc_span_end(&sp);
    }
}

/* The database down: batches go to the fallback file (the application and
 * the stats see them exported); back up, the exporter replays the file
 * itself, removes it, and every record is stored exactly once, with the
 * same content as a record stored directly. */
static void test_down_fallback_replayed(void **state)
{
    char path[] = "/tmp/otelc_pg_fallback_XXXXXX", file[64], replaying[80];
    int fd;
    otelc_logger_t *lg;
    otelc_stats_t s;
    char sql[256];

    (void)state;
    NEED_DB();
    fresh();
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    snprintf(file, sizeof(file), "%s.jsonl", path);
    snprintf(replaying, sizeof(replaying), "%s.replaying", file);
    assert_true(pg_server("pause"));
    paused = true;
    start_with_fallback(file);
    lg = otelc_logger("execution");
    produce(lg, 0, 50);
    assert_int_equal(otelc_flush(20000), OTELC_OK);
    assert_int_equal(lines_in(file), 100);
    assert_true(pg_server("resume"));
    paused = false;
    /* The next batch stored brings the file in with it. */
    produce(lg, 50, 60);
    stop(&s);
    assert_int_equal(s.logs.produced, 60);
    assert_int_equal(s.logs.exported, 60);
    assert_int_equal(s.spans.exported, 60);
    assert_int_equal(access(file, F_OK), -1);
    assert_int_equal(access(replaying, F_OK), -1);
    assert_int_equal(count("SELECT count(*) FROM logging.system_logs"), 60);
    assert_int_equal(count("SELECT count(DISTINCT (data->>'seq')::int) FROM logging.system_logs"),
                     60);
    assert_int_equal(count("SELECT count(*) FROM logging.spans"), 60);
    assert_int_equal(count("SELECT count(DISTINCT (attributes->>'seq')::int) FROM logging.spans"),
                     60);
    /* A replayed row reads as one stored directly (seq 0 went through the
     * file, seq 55 did not). */
    snprintf(sql, sizeof(sql),
             "SELECT count(DISTINCT (service, level, message, data - 'seq', correlation_id,"
             " event_type, logger)) FROM logging.system_logs WHERE (data->>'seq')::int IN (0, 55)");
    assert_int_equal(count(sql), 1);
    assert_string_equal(one("SELECT message FROM logging.system_logs WHERE data->>'seq' = '0'"),
                        hostile);
    assert_int_equal(count("SELECT count(DISTINCT (name, kind, service, status_code,"
                           " attributes - 'seq', resource)) FROM logging.spans"
                           " WHERE (attributes->>'seq')::int IN (0, 55)"),
                     1);
}

/* A whole run with the database down: `n` logs and `n` spans go to a new
 * fallback file (its name in `file`, 64 bytes), which stays; the server is
 * up again afterwards. */
static void run_while_down(char *file, int n)
{
    char path[] = "/tmp/otelc_pg_down_XXXXXX";
    int fd = mkstemp(path);
    otelc_stats_t s;

    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    snprintf(file, 64, "%s.jsonl", path);
    assert_true(pg_server("pause"));
    paused = true;
    start_with_fallback(file);
    produce(otelc_logger("execution"), 0, n);
    stop(&s);
    assert_int_equal(s.logs.exported, n);
    assert_int_equal(s.spans.exported, n);
    assert_int_equal(lines_in(file), 2 * n);
    assert_true(pg_server("resume"));
    paused = false;
}

/* The database down for a whole run: the fallback file stays; `otelc pg
 * replay FILE` stores it by hand, and a second replay stores nothing more. */
static void test_replay_by_hand(void **state)
{
    char file[64], cmd[1200];

    (void)state;
    NEED_DB();
    fresh();
    run_while_down(file, 20);
    snprintf(cmd, sizeof(cmd), "%s replay %s --conninfo '%s'", OTELC_PG_TOOL, file, db.conninfo);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(count("SELECT count(*) FROM logging.system_logs"), 20);
    assert_int_equal(count("SELECT count(*) FROM logging.spans"), 20);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(count("SELECT count(*) FROM logging.system_logs"), 20);
    assert_int_equal(count("SELECT count(*) FROM logging.spans"), 20);
    assert_string_equal(one("SELECT message FROM logging.system_logs LIMIT 1"), hostile);
    unlink(file);
}

/* A replay cut short goes on where it stopped: the second run stores only
 * the lines the first did not, and the offset file goes with the file. */
static void test_replay_resumes(void **state)
{
    char file[64], off[80];
    const otelc_component_t *comp = otelc_component_find("postgres");
    otelc_pg_options_t o = { db.conninfo, 0, NULL, 100, 10000 };
    otelc_exporter_args_t args;
    otelc_exporter_t *x = NULL;
    uint64_t records = 0, skipped = 0, deadline;
    struct timespec ts;

    (void)state;
    NEED_DB();
    fresh();
    run_while_down(file, 600);
    snprintf(off, sizeof(off), "%s.offset", file);

    memset(&args, 0, sizeof(args));
    args.struct_size = sizeof(args);
    args.signal = OTELC_SIGNAL_LOGS;
    args.settings = &o;
    assert_non_null(comp);
    assert_int_equal(comp->create(&args, &x), OTELC_OK);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    deadline = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u + 30000u;
    /* Cut short after one transaction of 512 lines. */
    otelc__pg_replay_stop_after = 1;
    assert_int_equal(otelc__pg_replay_file(x, file, deadline, &records, &skipped), 0);
    otelc__pg_replay_stop_after = 0;
    assert_int_equal(records, 512);
    assert_int_equal(count("SELECT (SELECT count(*) FROM logging.system_logs) +"
                           " (SELECT count(*) FROM logging.spans)"),
                     512);
    assert_int_equal(access(off, F_OK), 0);
    /* Taken up again: the other 688 lines only. */
    records = 0;
    assert_int_equal(otelc__pg_replay_file(x, file, deadline, &records, &skipped), 1);
    assert_int_equal(records, 688);
    assert_int_equal(skipped, 0);
    assert_int_equal(count("SELECT count(*) FROM logging.system_logs"), 600);
    assert_int_equal(count("SELECT count(*) FROM logging.spans"), 600);
    assert_int_equal(count("SELECT count(DISTINCT record_id) FROM logging.system_logs"), 600);
    assert_int_not_equal(access(off, F_OK), 0); /* done: the offset is gone */
    /* Again from the start (no offset): all 1,200 read, none stored twice. */
    records = 0;
    assert_int_equal(otelc__pg_replay_file(x, file, deadline, &records, &skipped), 1);
    assert_int_equal(records, 1200);
    assert_int_equal(count("SELECT count(*) FROM logging.system_logs"), 600);
    x->ops->shutdown(x, 1000);
    x->ops->destroy(x);
    unlink(file);
}

/* A producer thread: one log and one span (seq numbers) every 5 ms until
 * told to stop. */
typedef struct producer {
    pthread_t thread;
    atomic_bool stop;
    int produced;
} producer_t;

static void *producer_main(void *arg)
{
    producer_t *p = arg;
    otelc_logger_t *lg = otelc_logger("execution");
    struct timespec pause = { 0, 5 * 1000000L };

    while (!atomic_load(&p->stop)) {
        produce(lg, p->produced, p->produced + 1);
        p->produced++;
        nanosleep(&pause, NULL);
    }
    return NULL;
}

/* A timed phase of the fault script (by design, not a wait for a
 * condition). */
static void phase(unsigned seconds)
{
    struct timespec t = { (time_t)seconds, 0 };

    while (nanosleep(&t, &t) != 0)
        ;
}

/* The database stopped for 10 s mid-run and started again while the
 * service keeps producing: every record stored once, none dropped. */
static void test_down_10s_mid_run(void **state)
{
    char path[] = "/tmp/otelc_pg_mid_XXXXXX", file[64];
    producer_t p = { 0 };
    otelc_stats_t s;
    int fd;

    (void)state;
    NEED_DB();
    fresh();
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    snprintf(file, sizeof(file), "%s.jsonl", path);
    start_with_fallback(file);
    assert_int_equal(pthread_create(&p.thread, NULL, producer_main, &p), 0);
    phase(2);
    assert_true(pg_server("pause"));
    paused = true;
    phase(10);
    assert_true(pg_server("resume"));
    paused = false;
    phase(3);
    atomic_store(&p.stop, true);
    pthread_join(p.thread, NULL);
    stop(&s);
    printf("produced %d logs and %d spans; %ld lines waited in the fallback file at the end\n",
           p.produced, p.produced, lines_in(file));
    assert_true(p.produced > 1000);
    assert_int_equal(s.logs.produced, p.produced);
    assert_int_equal(s.logs.exported, p.produced);
    assert_int_equal(s.spans.exported, p.produced);
    assert_int_equal(access(file, F_OK), -1);
    assert_int_equal(count("SELECT count(*) FROM logging.system_logs"), p.produced);
    assert_int_equal(count("SELECT count(DISTINCT (data->>'seq')::int) FROM logging.system_logs"),
                     p.produced);
    assert_int_equal(count("SELECT max((data->>'seq')::int) FROM logging.system_logs"),
                     p.produced - 1);
    assert_int_equal(count("SELECT count(*) FROM logging.spans"), p.produced);
    assert_int_equal(count("SELECT count(DISTINCT (attributes->>'seq')::int) FROM logging.spans"),
                     p.produced);
}

/* ---- the answer to COMMIT lost ---------------------------------------------------- */

/*
 * A proxy between the exporter and the server, on a unix socket of its own:
 * it relays both ways, and when armed, it closes the connection at the
 * server's answer to COMMIT instead of passing it on. The server has
 * committed; the exporter sees the connection break in COMMIT and cannot
 * know: it sends the batch again.
 */
typedef struct proxy {
    char dir[64], server[300];
    int listen_fd;
    pthread_t thread;
    atomic_bool armed, stop;
    atomic_int fired, relays;
} proxy_t;

/* Relays one connection until either side closes (or the cut). */
static void relay(proxy_t *px, int client)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int server = socket(AF_UNIX, SOCK_STREAM, 0);
    char buf[1 << 15], pending[1 << 15];
    size_t have = 0;

    if (strlen(px->server) < sizeof(sa.sun_path))
        memcpy(sa.sun_path, px->server, strlen(px->server) + 1);
    if (server < 0 || connect(server, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(client);
        if (server >= 0)
            close(server);
        return;
    }
    for (;;) {
        struct pollfd fds[2] = { { client, POLLIN, 0 }, { server, POLLIN, 0 } };
        ssize_t n;

        if (poll(fds, 2, 200) < 0 || atomic_load(&px->stop))
            break;
        if (fds[0].revents & (POLLIN | POLLHUP)) {
            n = read(client, buf, sizeof(buf));
            if (n <= 0 || write(server, buf, (size_t)n) != n)
                break;
        }
        if (fds[1].revents & (POLLIN | POLLHUP)) {
            bool cut = false;
            size_t at = 0;

            n = read(server, pending + have, sizeof(pending) - have);
            if (n <= 0)
                break;
            have += (size_t)n;
            /* Whole messages only: a type byte, a length that counts
             * itself, the body. CommandComplete 'C' "COMMIT" is the cut. */
            while (have - at >= 5) {
                uint32_t len = (uint32_t)(unsigned char)pending[at + 1] << 24 |
                               (uint32_t)(unsigned char)pending[at + 2] << 16 |
                               (uint32_t)(unsigned char)pending[at + 3] << 8 |
                               (unsigned char)pending[at + 4];

                if (have - at < 1 + (size_t)len)
                    break;
                if (pending[at] == 'C' && len >= 11 && memcmp(pending + at + 5, "COMMIT", 6) == 0 &&
                    atomic_exchange(&px->armed, false)) {
                    cut = true;
                    break;
                }
                at += 1 + len;
            }
            if (at > 0 && write(client, pending, at) != (ssize_t)at)
                break;
            memmove(pending, pending + at, have - at);
            have -= at;
            if (cut) {
                atomic_fetch_add(&px->fired, 1);
                break;
            }
        }
    }
    close(client);
    close(server);
}

typedef struct relay_arg {
    proxy_t *px;
    int client;
} relay_arg_t;

static void *relay_main(void *arg)
{
    relay_arg_t a = *(relay_arg_t *)arg;

    free(arg);
    relay(a.px, a.client);
    atomic_fetch_sub(&a.px->relays, 1);
    return NULL;
}

/* A relay thread per connection: each exporter holds one open. */
static void *proxy_main(void *arg)
{
    proxy_t *px = arg;

    while (!atomic_load(&px->stop)) {
        struct pollfd pfd = { px->listen_fd, POLLIN, 0 };
        relay_arg_t *a;
        pthread_t t;
        int c;

        if (poll(&pfd, 1, 100) <= 0)
            continue;
        c = accept(px->listen_fd, NULL, NULL);
        if (c < 0 || (a = malloc(sizeof(*a))) == NULL) {
            if (c >= 0)
                close(c);
            continue;
        }
        a->px = px;
        a->client = c;
        atomic_fetch_add(&px->relays, 1);
        if (pthread_create(&t, NULL, relay_main, a) != 0) {
            atomic_fetch_sub(&px->relays, 1);
            close(c);
            free(a);
            continue;
        }
        pthread_detach(t);
    }
    return NULL;
}

static void proxy_start(proxy_t *px)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    snprintf(px->dir, sizeof(px->dir), "/tmp/otelc_pgproxy_XXXXXX");
    assert_non_null(mkdtemp(px->dir));
    snprintf(px->server, sizeof(px->server), "%s/.s.PGSQL.5432", db.host);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/.s.PGSQL.5432", px->dir);
    px->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(px->listen_fd >= 0);
    assert_int_equal(bind(px->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(px->listen_fd, 4), 0);
    assert_int_equal(pthread_create(&px->thread, NULL, proxy_main, px), 0);
}

static void proxy_stop(proxy_t *px)
{
    char sock[128];

    atomic_store(&px->stop, true);
    pthread_join(px->thread, NULL);
    /* The relays see `stop` within their 200 ms poll. */
    while (atomic_load(&px->relays) > 0) {
        struct timespec t = { 0, 10 * 1000000L };

        nanosleep(&t, NULL);
    }
    close(px->listen_fd);
    snprintf(sock, sizeof(sock), "%s/.s.PGSQL.5432", px->dir);
    unlink(sock);
    rmdir(px->dir);
}

/* The server commits a batch but its answer to COMMIT never arrives: the
 * exporter sends the batch again on a new connection, and each record is
 * stored once (logs by record id, spans by their ids). */
static void test_commit_answer_lost(void **state)
{
    proxy_t px;
    const otelc_component_t *comp;
    otelc_pg_options_t o = { NULL, 1, NULL };
    otelc_exporter_args_t args;
    otelc_exporter_t *x[2] = { NULL, NULL };
    otelc_attr_t rattr[] = { OTELC_STR("service.name", "lost-commit") };
    otelc_resource_t res = { rattr, 1 };
    static otelc_log_data_t logs[100];
    static otelc_span_data_t spans[100];
    char conninfo[300];

    (void)state;
    NEED_DB();
    fresh();
    memset(&px, 0, sizeof(px));
    proxy_start(&px);
    snprintf(conninfo, sizeof(conninfo), "host=%s user=otelc dbname=%s", px.dir, db.name);
    o.conninfo = conninfo;
    comp = otelc_component_find("postgres");
    assert_non_null(comp);
    for (int k = 0; k < 2; k++) {
        memset(&args, 0, sizeof(args));
        args.struct_size = sizeof(args);
        args.signal = k == 0 ? OTELC_SIGNAL_LOGS : OTELC_SIGNAL_TRACES;
        args.settings = &o;
        args.resource = &res;
        assert_int_equal(comp->create(&args, &x[k]), OTELC_OK);
    }
    for (int i = 0; i < 100; i++) {
        memset(&logs[i], 0, sizeof(logs[i]));
        logs[i].time_ns = 1764760000000000000ull + (uint64_t)i * 1000u;
        logs[i].severity = OTELC_SEV_INFO;
        logs[i].body = (otelc_str_t){ "committed once", 14 };
        memset(&spans[i], 0, sizeof(spans[i]));
        memset(spans[i].ctx.trace_id, 0x20 + i, 16);
        memset(spans[i].ctx.span_id, 0x60 + i, 8);
        spans[i].name = (otelc_str_t){ "lost", 4 };
        spans[i].start_ns = logs[i].time_ns;
        spans[i].end_ns = logs[i].time_ns + 500;
    }
    for (int k = 0; k < 2; k++) {
        otelc_batch_t b = { .signal = k == 0 ? OTELC_SIGNAL_LOGS : OTELC_SIGNAL_TRACES,
                            .resource = &res,
                            .n = 100 };
        otelc_export_result_t r = OTELC_EXPORT_RESULT_INIT;

        if (k == 0)
            b.logs = logs;
        else
            b.spans = spans;
        /* The first COMMIT after the connection is made: the batch's. */
        assert_int_equal(x[k]->ops->export_batch(x[k], &b, 10000, &r), OTELC_OK);
        atomic_store(&px.armed, true);
        assert_int_equal(x[k]->ops->export_batch(x[k], &b, 10000, &r), OTELC_OK);
        assert_false(atomic_load(&px.armed));
    }
    for (int k = 0; k < 2; k++) {
        x[k]->ops->shutdown(x[k], 1000);
        x[k]->ops->destroy(x[k]);
    }
    proxy_stop(&px);
    assert_int_equal(atomic_load(&px.fired), 2);
    /* The logs' second export gave them new record ids: 200 rows, each
     * batch once; the spans' ids are theirs: 100 rows. */
    assert_int_equal(
        count("SELECT count(*) FROM logging.system_logs WHERE service = 'lost-commit'"), 200);
    assert_int_equal(count("SELECT count(DISTINCT record_id) FROM logging.system_logs"), 200);
    assert_int_equal(count("SELECT count(*) FROM logging.spans WHERE service = 'lost-commit'"),
                     100);
}

/* The fallback file's disk full (/dev/full answers every write with
 * ENOSPC) while the database is down: those batches are dropped, counted,
 * and reported with the reason; once the database is back, records are
 * stored again. produced = stored + dropped. */
static void test_fallback_disk_full(void **state)
{
    char errpath[] = "/tmp/otelc_pg_err_XXXXXX", text[4096];
    /* Close-on-exec: the server this test starts again must not keep them
     * (nor, through them, the test's own stderr). */
    int errfd = mkostemp(errpath, O_CLOEXEC), saved = fcntl(2, F_DUPFD_CLOEXEC, 3);
    otelc_logger_t *lg;
    otelc_stats_t s;
    ssize_t n;

    (void)state;
    NEED_DB();
    fresh();
    assert_true(errfd >= 0 && saved >= 0);
    assert_true(pg_server("pause"));
    paused = true;
    /* The diagnostics go to stderr: into a file for the test to read. */
    assert_true(dup2(errfd, 2) >= 0);
    start_with_fallback("/dev/full");
    lg = otelc_logger("execution");
    produce(lg, 0, 20);
    assert_int_equal(otelc_flush(20000), OTELC_OK);
    assert_true(pg_server("resume"));
    paused = false;
    produce(lg, 20, 30);
    stop(&s);
    dup2(saved, 2);
    close(saved);
    n = pread(errfd, text, sizeof(text) - 1, 0);
    close(errfd);
    unlink(errpath);
    assert_true(n > 0);
    text[n] = '\0';
    printf("%s", text);
    assert_non_null(strstr(text, "the fallback file /dev/full cannot be written (No space left "
                                 "on device)"));
    assert_int_equal(s.logs.produced, 30);
    assert_int_equal(s.logs.exported + s.logs.dropped[OTELC_DROP_EXPORTER], 30);
    assert_int_equal(s.spans.exported + s.spans.dropped[OTELC_DROP_EXPORTER], 30);
    assert_true(s.logs.dropped[OTELC_DROP_EXPORTER] >= 20);
    assert_true(s.spans.dropped[OTELC_DROP_EXPORTER] >= 20);
    assert_int_equal(count("SELECT count(*) FROM logging.system_logs"), (long)s.logs.exported);
    assert_int_equal(count("SELECT count(*) FROM logging.spans"), (long)s.spans.exported);
    assert_int_equal(
        count("SELECT count(*) FROM logging.system_logs WHERE (data->>'seq')::int < 20"), 0);
}

/* ---- a hung database ---------------------------------------------------------------- */

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Awaits `n` lines in `path`, until `deadline` (mono_ms); the lines there. */
static long await_lines(const char *path, long n, uint64_t deadline)
{
    struct timespec t = { 0, 20 * 1000000L };
    long have;

    while ((have = lines_in(path)) < n && mono_ms() < deadline)
        nanosleep(&t, NULL);
    return have;
}

/* The export timeout of this test: what one export may cost. */
#define HUNG_EXPORT_TIMEOUT_MS 1000

/*
 * A hung database delays no other exporter and never the application. The
 * server takes connections and statements and answers nothing (the
 * postmaster and every backend stopped by SIGSTOP, not a server down:
 * nothing refuses, nothing breaks, libpq would wait forever). While it is
 * hung: no log or span call takes long, the file exporter beside the
 * PostgreSQL one writes every record, and a flush returns within the export
 * timeout, the PostgreSQL exporter having put what it could not store into
 * its fallback file. Let go, the database holds every record exactly once,
 * and nothing was dropped.
 */
static void test_hung_database(void **state)
{
    char dir[] = "/tmp/otelc_pg_hung_XXXXXX", fallback[96], logs_file[96], spans_file[96];
    char cmd[160];
    otelc_options_t o;
    otelc_logger_t *lg;
    otelc_stats_t s;
    uint64_t worst_ns = 0, t0, flush_ms, dropped = 0;
    otelc_status_t flushed;
    const int warm = 20;
    int n = 0;

    (void)state;
    NEED_DB();
    fresh();
    assert_non_null(mkdtemp(dir));
    snprintf(fallback, sizeof(fallback), "%s/fallback.jsonl", dir);
    snprintf(logs_file, sizeof(logs_file), "%s/trading.log", dir);
    snprintf(spans_file, sizeof(spans_file), "%s/traces.log", dir);
    otelc_options_init(&o);
    o.traces_exporter = "postgres,file";
    o.logs_exporter = "postgres,file";
    assert_int_equal(otelc_options_set(&o, "OTEL_SERVICE_NAME", "order-gateway"), OTELC_OK);
    assert_int_equal(otelc_options_set(&o, "OTELC_PG_CONNINFO", db.conninfo), OTELC_OK);
    assert_int_equal(otelc_options_set(&o, "OTELC_PG_AUTO_MIGRATE", "1"), OTELC_OK);
    assert_int_equal(otelc_options_set(&o, "OTELC_PG_FALLBACK_FILE", fallback), OTELC_OK);
    assert_int_equal(otelc_options_set(&o, "OTELC_PG_SCHEDULE_DELAY", "100"), OTELC_OK);
    assert_int_equal(otelc_options_set(&o, "OTELC_FILE_DIR", dir), OTELC_OK);
    assert_int_equal(otelc_options_set(&o, "OTEL_BLRP_SCHEDULE_DELAY", "50"), OTELC_OK);
    assert_int_equal(otelc_options_set(&o, "OTEL_BSP_SCHEDULE_DELAY", "50"), OTELC_OK);
    assert_int_equal(otelc_options_set(&o, "OTEL_BLRP_EXPORT_TIMEOUT", "1000"), OTELC_OK);
    assert_int_equal(otelc_options_set(&o, "OTEL_BSP_EXPORT_TIMEOUT", "1000"), OTELC_OK);
    assert_int_equal(otelc_init(&o), OTELC_OK);
    lg = otelc_logger("execution");

    /* Connected first: the exporters hold connections when the server
     * hangs, the case where libpq waits for an answer that never comes. */
    produce(lg, 0, warm);
    assert_int_equal(otelc_flush(20000), OTELC_OK);
    assert_int_equal(count("SELECT count(*) FROM logging.system_logs"), warm);
    assert_int_equal(count("SELECT count(*) FROM logging.spans"), warm);

    assert_true(pg_server("hang"));
    hung = true;
    /* The application goes on for 3 s, a log and a span every ms, each
     * call timed. */
    t0 = mono_ms();
    for (n = warm; mono_ms() - t0 < 3000; n++) {
        otelc_attr_t a[] = { OTELC_INT("seq", n), OTELC_STR("note", "during the hang") };
        struct timespec pause = { 0, 1000000L };
        uint64_t a0 = mono_ns(), a1, a2;
        otelc_span_t sp = otelc_span_start("order", a, 2);

        otelc_log(lg, OTELC_SEV_INFO, "order_placed", "hung", OTELC_NUL_TERMINATED, a, 2);
        a1 = mono_ns();
        otelc_span_end(&sp);
        a2 = mono_ns();
        if (a1 - a0 > worst_ns)
            worst_ns = a1 - a0;
        if (a2 - a1 > worst_ns)
            worst_ns = a2 - a1;
        nanosleep(&pause, NULL);
    }
    printf("hung: %d logs and %d spans produced, the slowest call %.3f ms\n", n - warm, n - warm,
           (double)worst_ns / 1e6);
    assert_true(worst_ns < 50u * 1000000u);
    /* The file exporter is not held up by its neighbour. */
    assert_int_equal(await_lines(logs_file, n, mono_ms() + 20000), n);
    assert_int_equal(await_lines(spans_file, n, mono_ms() + 20000), n);
    /* Each export is bounded by its timeout: what the database did not
     * take went to the fallback file, so the flush completes. */
    t0 = mono_ms();
    flushed = otelc_flush(3 * HUNG_EXPORT_TIMEOUT_MS);
    flush_ms = mono_ms() - t0;
    printf("hung: otelc_flush took %llu ms (%s), %ld lines in the fallback file\n",
           (unsigned long long)flush_ms, otelc_status_str(flushed), lines_in(fallback));
    assert_true(flush_ms <= 3 * HUNG_EXPORT_TIMEOUT_MS + 500);
    assert_int_equal(flushed, OTELC_OK);
    assert_true(lines_in(fallback) > 0);

    assert_true(pg_server("unhang"));
    hung = false;
    stop(&s);
    for (int r = 0; r < OTELC_DROP_SLOTS; r++)
        dropped += s.logs.dropped[r] + s.spans.dropped[r];
    assert_int_equal(s.logs.produced, n);
    assert_int_equal(s.spans.produced, n);
    assert_int_equal(s.logs.exported, n);
    assert_int_equal(s.spans.exported, n);
    assert_int_equal(dropped, 0);
    /* Every record in the database once: by record id (logs), by span id,
     * and by the producer's sequence number. */
    assert_int_equal(count("SELECT count(*) FROM logging.system_logs"), n);
    assert_int_equal(count("SELECT count(DISTINCT record_id) FROM logging.system_logs"), n);
    assert_int_equal(count("SELECT count(DISTINCT (data->>'seq')::int) FROM logging.system_logs"),
                     n);
    assert_int_equal(count("SELECT count(*) FROM logging.spans"), n);
    assert_int_equal(count("SELECT count(DISTINCT span_id) FROM logging.spans"), n);
    assert_int_equal(count("SELECT count(DISTINCT (attributes->>'seq')::int) FROM logging.spans"),
                     n);
    /* The fallback file was stored and removed. */
    assert_int_equal(access(fallback, F_OK), -1);
    unlink(logs_file);
    unlink(spans_file);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrate),
        cmocka_unit_test(test_logs_exact),
        cmocka_unit_test(test_spans_and_performance),
        cmocka_unit_test(test_batch_twice_stored_once),
        cmocka_unit_test(test_transactions_and_delay),
        cmocka_unit_test(test_retention),
        cmocka_unit_test(test_seed_queries),
        cmocka_unit_test_teardown(test_down_fallback_replayed, fault_teardown),
        cmocka_unit_test_teardown(test_replay_by_hand, fault_teardown),
        cmocka_unit_test_teardown(test_replay_resumes, fault_teardown),
        cmocka_unit_test_teardown(test_down_10s_mid_run, fault_teardown),
        cmocka_unit_test(test_commit_answer_lost),
        cmocka_unit_test_teardown(test_fallback_disk_full, fault_teardown),
        cmocka_unit_test_teardown(test_hung_database, fault_teardown),
    };

    if (getenv("PG_TEST") != NULL)
        cmocka_set_test_filter(getenv("PG_TEST"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
