/*
 * test_pq_sql_text: what the libpq spans record of a statement's text:
 * otelc_pq_sanitize() (db.query.text, literals replaced by ?) and
 * otelc_pq_summarize() (db.query.summary, the span's name), over SQL that
 * trips naive scanners. No server.
 */
#include <otelc/libpq.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

typedef struct text_case {
    const char *sql, *want;
} text_case_t;

static void check_sanitize(const text_case_t *cases, size_t n)
{
    char out[OTELC_PQ_QUERY_TEXT_MAX];

    for (size_t i = 0; i < n; i++) {
        size_t len = otelc_pq_sanitize(cases[i].sql, out, sizeof(out));
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("sanitize(%s)\n  got  %s\n  want %s", cases[i].sql, out, cases[i].want);
        assert_int_equal(len, strlen(out));
    }
}

static void check_summary(const text_case_t *cases, size_t n)
{
    char out[256];

    for (size_t i = 0; i < n; i++) {
        size_t len = otelc_pq_summarize(cases[i].sql, out, sizeof(out));
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("summarize(%s)\n  got  %s\n  want %s", cases[i].sql, out, cases[i].want);
        assert_int_equal(len, strlen(out));
    }
}

#define CHECK(fn, cases) fn(cases, sizeof(cases) / sizeof(cases[0]))

static void test_strings(void **state)
{
    (void)state;
    static const text_case_t cases[] = {
        { "SELECT * FROM orders WHERE id = 42", "SELECT * FROM orders WHERE id = ?" },
        /* '' inside a string; a backslash is an ordinary character there. */
        { "SELECT 'it''s', 'a\\b' FROM t", "SELECT ?, ? FROM t" },
        { "SELECT 'x'';DROP TABLE t;--'", "SELECT ?" },
        /* Escape strings: \' does not end them, nor does \\ before the end. */
        { "SELECT E'it\\'s', e'x\\\\', E'q''q' FROM t", "SELECT ?, ?, ? FROM t" },
        /* Dollar quotes, with quotes and $ inside, and a tag. */
        { "SELECT $$a 'quoted' $ b$$, $tag$ $$ inside 'x' $tag$ FROM t", "SELECT ?, ? FROM t" },
        { "DO $body$ BEGIN RAISE NOTICE 'pw=%', 'hunter2'; END $body$", "DO ?" },
        /* Prefixed strings: bits, hex, national, Unicode escapes. */
        { "SELECT B'1010', X'1F', N'abc', U&'d\\0061t'", "SELECT ?, ?, ?, ?" },
        /* Typed literals keep their type name. */
        { "SELECT DATE '2024-01-01', INTERVAL '1 day', TIMESTAMP '2024-01-01 10:00'",
          "SELECT DATE ?, INTERVAL ?, TIMESTAMP ?" },
        /* An unterminated string is replaced to the end. */
        { "SELECT 'abc", "SELECT ?" },
        /* So is an unterminated quoted identifier, which would otherwise
         * keep the literals after it (found by fuzz_pq_sql). */
        { "SELECT \"open, 'hunter2' FROM t", "SELECT ?" },
        { "SELECT U&\"open, 'hunter2'", "SELECT ?" },
    };
    CHECK(check_sanitize, cases);
}

static void test_identifiers_kept(void **state)
{
    (void)state;
    static const text_case_t cases[] = {
        /* Quoted identifiers, quotes and digits inside, stay as written. */
        { "SELECT \"col'1\", \"a\"\"b\" FROM t1 JOIN t2 ON t1.id = t2.id",
          "SELECT \"col'1\", \"a\"\"b\" FROM t1 JOIN t2 ON t1.id = t2.id" },
        /* Digits and $ inside identifiers are not numbers or parameters. */
        { "SELECT a1, t2.c3, x$1, _9 FROM s1.t_2", "SELECT a1, t2.c3, x$1, _9 FROM s1.t_2" },
        /* Parameters and NULL are not values. */
        { "SELECT * FROM t WHERE a = $1 AND b IS NULL AND c = $12",
          "SELECT * FROM t WHERE a = $1 AND b IS NULL AND c = $12" },
        { "SELECT U&\"d\\0061t\" FROM t", "SELECT U&\"d\\0061t\" FROM t" },
    };
    CHECK(check_sanitize, cases);
}

static void test_numbers(void **state)
{
    (void)state;
    static const text_case_t cases[] = {
        { "SELECT 3.14, .5, 1e10, 2.5E-3, 7., 0x1F, 0o17, 0b101, 1_000 FROM t1",
          "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? FROM t1" },
        /* A sign belongs to the number; a minus between operands stays. */
        { "SELECT -5, x-1, (-2.5), a - 3 FROM t WHERE a = -3 AND b > - 4 AND c IN (-1, -2)",
          "SELECT ?, x-?, (?), a - ? FROM t WHERE a = ? AND b > - ? AND c IN (?, ?)" },
        { "SELECT f(1)-2, arr[1]-3", "SELECT f(?)-?, arr[?]-?" },
        /* Casts keep their type; the value before them goes. */
        { "SELECT '5'::int, 7::bigint, now()::date, $1::text, 2::numeric(10,2)",
          "SELECT ?::int, ?::bigint, now()::date, $1::text, ?::numeric(?,?)" },
        /* Booleans are literals too. */
        { "UPDATE t SET active = TRUE, deleted = false, note = NULL",
          "UPDATE t SET active = ?, deleted = ?, note = NULL" },
        { "SELECT * FROM t WHERE id IN (1, 2, 3) LIMIT 10 OFFSET 20",
          "SELECT * FROM t WHERE id IN (?, ?, ?) LIMIT ? OFFSET ?" },
    };
    CHECK(check_sanitize, cases);
}

static void test_comments(void **state)
{
    (void)state;
    static const text_case_t cases[] = {
        /* Comments may hold values: left out, nested ones whole. */
        { "SELECT 1 -- secret 42\nFROM t /* pwd 'x' /* nested */ still */ WHERE a = 'b'",
          "SELECT ? FROM t WHERE a = ?" },
        { "SELECT/*x*/1", "SELECT ?" },
        { "/* traceparent='00-abc' */ SELECT 1", "SELECT ?" },
        /* A comment marker inside a string is part of the string. */
        { "SELECT '-- not a comment', '/* nor this */' FROM t", "SELECT ?, ? FROM t" },
    };
    CHECK(check_sanitize, cases);
}

static void test_sanitize_bounds(void **state)
{
    char out[16];

    (void)state;
    /* Cut at a character boundary: "SELECT " + "é" fits 9 bytes, the
     * second é does not. */
    assert_int_equal(otelc_pq_sanitize("SELECT \xc3\xa9\xc3\xa9\xc3\xa9", out, 10), 9);
    assert_string_equal(out, "SELECT \xc3\xa9");
    assert_int_equal(otelc_pq_sanitize("SELECT \xc3\xa9\xc3\xa9", out, 9), 7);
    assert_string_equal(out, "SELECT ");
    assert_int_equal(otelc_pq_sanitize(NULL, out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(otelc_pq_sanitize("SELECT 1", out, 0), 0);
}

static void test_summary(void **state)
{
    (void)state;
    static const text_case_t cases[] = {
        /* The conventions' own examples. */
        { "SELECT *\nFROM   wuser_table\nWHERE  username = 'x'", "SELECT wuser_table" },
        { "INSERT INTO shipping_details (order_id, address) SELECT order_id, address FROM "
          "orders WHERE order_id = 1",
          "INSERT shipping_details SELECT orders" },
        { "SELECT * FROM songs, artists WHERE songs.artist_id = artists.id",
          "SELECT songs artists" },
        { "SELECT order_date FROM (SELECT * FROM orders o JOIN customers c ON o.customer_id = "
          "c.customer_id)",
          "SELECT SELECT orders customers" },
        { "SELECT * FROM \"song list\", public.artists a", "SELECT \"song list\" public.artists" },
        /* As written, no case folding. */
        { "select * from Orders", "select Orders" },
        { "UPDATE orders SET qty = 5 WHERE id = 7", "UPDATE orders" },
        { "DELETE FROM orders WHERE id = 1", "DELETE orders" },
        { "SELECT * FROM t1 a, t2 AS b, t3", "SELECT t1 t2 t3" },
        { "SELECT * FROM a LEFT JOIN b USING (id) JOIN c ON c.id = a.id", "SELECT a b c" },
        /* COPY: its target, not STDIN; a query inside it. */
        { "COPY fills (id, px) FROM STDIN", "COPY fills" },
        { "COPY (SELECT * FROM fills) TO STDOUT WITH (FORMAT csv)", "COPY SELECT fills" },
        /* Several statements, in order. */
        { "BEGIN; INSERT INTO t VALUES (1); COMMIT", "BEGIN INSERT t COMMIT" },
        /* FROM inside a function call names no table. */
        { "SELECT extract(year FROM ts), substring(s FROM 2) FROM trades", "SELECT trades" },
        { "CREATE TABLE IF NOT EXISTS demo_orders (id int)", "CREATE TABLE demo_orders" },
        { "CREATE UNLOGGED TABLE x (id int)", "CREATE TABLE x" },
        { "DROP TABLE IF EXISTS x", "DROP TABLE x" },
        { "TRUNCATE TABLE ONLY x", "TRUNCATE x" },
        { "WITH recent AS (SELECT * FROM fills) SELECT * FROM recent",
          "SELECT fills SELECT recent" },
        { "SELECT 1", "SELECT" },
        { "SELECT pg_sleep(0.2)", "SELECT" },
        { "SET search_path = app", "SET" },
        /* No literal reaches the summary. */
        { "SELECT 'secret' FROM t WHERE x = 'y' AND z = 42", "SELECT t" },
        { "", "" },
        { "  -- only a comment", "" },
    };
    CHECK(check_summary, cases);
}

static void test_summary_bounds(void **state)
{
    char sql[2048], out[256];
    size_t n = 0, len;

    (void)state;
    n += (size_t)snprintf(sql + n, sizeof(sql) - n, "SELECT * FROM t000");
    for (int i = 1; i < 100; i++)
        n += (size_t)snprintf(sql + n, sizeof(sql) - n, ", t%03d", i);
    /* At most 255 bytes, and never a part of a name: 63 names of 4 bytes
     * ("SELECT" and 62 tables) take 6 + 62 * 5 = 316; 49 tables take 251. */
    len = otelc_pq_summarize(sql, out, sizeof(out));
    assert_true(len <= 255);
    assert_int_equal(len, 6 + 49 * 5);
    assert_string_equal(out + len - 5, " t048");
    /* A smaller buffer: what fits, whole names only. */
    len = otelc_pq_summarize(sql, out, 17);
    assert_string_equal(out, "SELECT t000 t001");
    assert_int_equal(len, 16);
    len = otelc_pq_summarize(sql, out, 16);
    assert_string_equal(out, "SELECT t000");
    assert_int_equal(len, 11);
    assert_int_equal(otelc_pq_summarize(NULL, out, sizeof(out)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings),         cmocka_unit_test(test_identifiers_kept),
        cmocka_unit_test(test_numbers),         cmocka_unit_test(test_comments),
        cmocka_unit_test(test_sanitize_bounds), cmocka_unit_test(test_summary),
        cmocka_unit_test(test_summary_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
