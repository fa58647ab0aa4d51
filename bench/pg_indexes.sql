-- pg_indexes.sql: what each index set of logging.system_logs costs a COPY
-- (bench/RESULTS.md, "Transactions of 100 rows, and what the indexes cost").
-- 100,000 rows of the exporter's shape are made once and written to
-- /tmp/pgexp/rows.copy (server-side COPY: a superuser, and a directory the
-- server's user can write), then copied into a fresh daily partition under
-- each index set, timed by psql. Run on a throwaway cluster:
--   mkdir -p /tmp/pgexp && chmod 777 /tmp/pgexp
--   tests/pg/cluster.sh start /tmp/pgexp/state
--   psql "$(tests/pg/cluster.sh conninfo /tmp/pgexp/state)" -f bench/pg_indexes.sql
--   tests/pg/cluster.sh stop /tmp/pgexp/state
-- Compare the lines within one run: the machine's speed moves between runs.
\timing on
SET search_path = logging, public;
DROP SCHEMA IF EXISTS exp CASCADE;
CREATE SCHEMA exp;
-- 100k rows like the exporter's: today, 3 attrs in data, a correlation id on each.
CREATE TABLE exp.src AS
SELECT g AS id, 'otelc-bench'::varchar(50) AS service,
       (ARRAY['DEBUG','INFO','WARNING','ERROR'])[1 + g % 4]::varchar(20) AS level,
       'order accepted ' || g AS message,
       jsonb_build_object('order_id', 'ORD-' || g, 'symbol', 'AAPL', 'qty', g % 100) AS data,
       'trade-' || (g / 10) AS correlation_id, 'order_placed'::varchar(50) AS event_type,
       now() + g * interval '1 microsecond' AS timestamp,
       md5(g::text) AS trace_id, substr(md5((g+1)::text), 1, 16) AS span_id,
       'orders'::text AS logger, ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid AS record_id
FROM generate_series(1, 100000) g;
COPY exp.src TO '/tmp/pgexp/rows.copy';
CREATE FUNCTION exp.variant(name text, idx text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE i text;
BEGIN
  EXECUTE format('CREATE TABLE exp.%I (LIKE exp.src) PARTITION BY RANGE (timestamp)', name);
  EXECUTE format('CREATE TABLE exp.%I PARTITION OF exp.%I FOR VALUES FROM (%L) TO (%L)',
                 name || '_p', name, date_trunc('day', now()) - interval '1 day', date_trunc('day', now()) + interval '2 day');
  FOREACH i IN ARRAY idx LOOP
    EXECUTE format(i, 'exp.' || name);
  END LOOP;
END $$;
SELECT exp.variant('v_none', ARRAY[]::text[]);
SELECT exp.variant('v_keys', ARRAY['ALTER TABLE %s ADD PRIMARY KEY (id, timestamp)', 'ALTER TABLE %s ADD UNIQUE (record_id, timestamp)']);
SELECT exp.variant('v_all', ARRAY['ALTER TABLE %s ADD PRIMARY KEY (id, timestamp)', 'ALTER TABLE %s ADD UNIQUE (record_id, timestamp)',
  'CREATE INDEX ON %s (timestamp)', 'CREATE INDEX ON %s (service)', 'CREATE INDEX ON %s (level)', 'CREATE INDEX ON %s (correlation_id)',
  'CREATE INDEX ON %s (event_type)', 'CREATE INDEX ON %s (service, timestamp)', 'CREATE INDEX ON %s (trace_id)']);
SELECT exp.variant('v_seed_only', ARRAY['ALTER TABLE %s ADD PRIMARY KEY (id, timestamp)', 'ALTER TABLE %s ADD UNIQUE (record_id, timestamp)',
  'CREATE INDEX ON %s (timestamp)', 'CREATE INDEX ON %s (service)', 'CREATE INDEX ON %s (level)', 'CREATE INDEX ON %s (correlation_id)',
  'CREATE INDEX ON %s (event_type)', 'CREATE INDEX ON %s (service, timestamp)']);
SELECT exp.variant('v_brin', ARRAY['ALTER TABLE %s ADD PRIMARY KEY (id, timestamp)', 'ALTER TABLE %s ADD UNIQUE (record_id, timestamp)',
  'CREATE INDEX ON %s USING brin (timestamp)', 'CREATE INDEX ON %s (service)', 'CREATE INDEX ON %s (level)', 'CREATE INDEX ON %s (correlation_id)',
  'CREATE INDEX ON %s (event_type)', 'CREATE INDEX ON %s (service, timestamp)', 'CREATE INDEX ON %s (trace_id)']);
SELECT exp.variant('v_no_lowcard', ARRAY['ALTER TABLE %s ADD PRIMARY KEY (id, timestamp)', 'ALTER TABLE %s ADD UNIQUE (record_id, timestamp)',
  'CREATE INDEX ON %s (timestamp)', 'CREATE INDEX ON %s (correlation_id)',
  'CREATE INDEX ON %s (service, timestamp)', 'CREATE INDEX ON %s (trace_id)']);
SELECT exp.variant('v_partial_level', ARRAY['ALTER TABLE %s ADD PRIMARY KEY (id, timestamp)', 'ALTER TABLE %s ADD UNIQUE (record_id, timestamp)',
  'CREATE INDEX ON %s (timestamp)', 'CREATE INDEX ON %s (correlation_id)',
  'CREATE INDEX ON %s (service, timestamp)', 'CREATE INDEX ON %s (trace_id)', 'CREATE INDEX ON %s (level, timestamp) WHERE level IN (''ERROR'', ''CRITICAL'')']);
SELECT exp.variant('v_record_pk', ARRAY['ALTER TABLE %s ADD PRIMARY KEY (record_id, timestamp)',
  'CREATE INDEX ON %s (timestamp)', 'CREATE INDEX ON %s (service)', 'CREATE INDEX ON %s (level)', 'CREATE INDEX ON %s (correlation_id)',
  'CREATE INDEX ON %s (event_type)', 'CREATE INDEX ON %s (service, timestamp)', 'CREATE INDEX ON %s (trace_id)']);
\echo v_none
COPY exp.v_none FROM '/tmp/pgexp/rows.copy';
\echo v_keys
COPY exp.v_keys FROM '/tmp/pgexp/rows.copy';
\echo v_all
COPY exp.v_all FROM '/tmp/pgexp/rows.copy';
\echo v_seed_only
COPY exp.v_seed_only FROM '/tmp/pgexp/rows.copy';
\echo v_brin
COPY exp.v_brin FROM '/tmp/pgexp/rows.copy';
\echo v_no_lowcard
COPY exp.v_no_lowcard FROM '/tmp/pgexp/rows.copy';
\echo v_partial_level
COPY exp.v_partial_level FROM '/tmp/pgexp/rows.copy';
\echo v_record_pk
COPY exp.v_record_pk FROM '/tmp/pgexp/rows.copy';
\echo v_all again
TRUNCATE exp.v_all;
COPY exp.v_all FROM '/tmp/pgexp/rows.copy';
\echo v_none again
TRUNCATE exp.v_none;
COPY exp.v_none FROM '/tmp/pgexp/rows.copy';
