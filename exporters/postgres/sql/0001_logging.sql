-- 0001_logging.sql: migration 1 of the `logging` schema (see schema.c, which
-- embeds the migrations and applies them in order, each once, each in the
-- transaction that records it in logging.schema_migrations).
--
-- The tables of seed 000 with every column it names and its types, plus
-- trace_id and span_id, and `spans`. Each is partitioned by day on its
-- time column; logging.ensure_partitions() makes the days' partitions and
-- logging.retention() moves old ones into the archived_* tables and drops
-- archived ones, a partition at a time. Rows carry a unique record id
-- (record_id, or a span's trace and span ids), so that a batch stored twice
-- is stored once: the exporter inserts with ON CONFLICT DO NOTHING.

CREATE SCHEMA IF NOT EXISTS logging;

CREATE SEQUENCE logging.system_logs_id_seq AS bigint;
CREATE TABLE logging.system_logs (
    id bigint NOT NULL DEFAULT nextval('logging.system_logs_id_seq'),
    service varchar(50) NOT NULL,
    level varchar(20) NOT NULL, -- DEBUG, INFO, WARNING, ERROR, CRITICAL
    message text NOT NULL,
    data jsonb,                 -- the record's attributes
    correlation_id varchar(100),
    event_type varchar(50),
    timestamp timestamptz NOT NULL DEFAULT now(),
    trace_id char(32),
    span_id char(16),
    logger text,                -- the logger's name (instrumentation scope)
    record_id uuid NOT NULL,
    PRIMARY KEY (id, timestamp),
    UNIQUE (record_id, timestamp)
) PARTITION BY RANGE (timestamp);
CREATE INDEX idx_system_logs_timestamp ON logging.system_logs (timestamp);
CREATE INDEX idx_system_logs_service ON logging.system_logs (service);
CREATE INDEX idx_system_logs_level ON logging.system_logs (level);
CREATE INDEX idx_system_logs_correlation ON logging.system_logs (correlation_id);
CREATE INDEX idx_system_logs_event_type ON logging.system_logs (event_type);
CREATE INDEX idx_system_logs_service_timestamp ON logging.system_logs (service, timestamp);
CREATE INDEX idx_system_logs_trace ON logging.system_logs (trace_id);

CREATE SEQUENCE logging.performance_logs_id_seq AS bigint;
CREATE TABLE logging.performance_logs (
    id bigint NOT NULL DEFAULT nextval('logging.performance_logs_id_seq'),
    service varchar(50) NOT NULL,
    operation varchar(100) NOT NULL,
    execution_time_ms decimal(10,3) NOT NULL,
    memory_usage_mb decimal(10,3),
    cpu_usage_percent decimal(5,2),
    timestamp timestamptz NOT NULL DEFAULT now(),
    trace_id char(32),
    span_id char(16),
    record_id uuid NOT NULL,
    PRIMARY KEY (id, timestamp),
    UNIQUE (record_id, timestamp)
) PARTITION BY RANGE (timestamp);
CREATE INDEX idx_performance_logs_timestamp ON logging.performance_logs (timestamp);
CREATE INDEX idx_performance_logs_service ON logging.performance_logs (service);
CREATE INDEX idx_performance_logs_operation ON logging.performance_logs (operation);
CREATE INDEX idx_performance_logs_service_timestamp ON logging.performance_logs (service, timestamp);

CREATE TABLE logging.spans (
    trace_id char(32) NOT NULL,
    span_id char(16) NOT NULL,
    parent_span_id char(16),  -- NULL for a root span
    name text NOT NULL,
    kind varchar(10) NOT NULL, -- INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER
    service varchar(50) NOT NULL,
    start_time timestamptz NOT NULL,
    end_time timestamptz NOT NULL,
    duration_ms decimal(15,3) NOT NULL,
    status_code varchar(5) NOT NULL, -- UNSET, OK, ERROR
    status_message text,
    correlation_id varchar(100),
    attributes jsonb,
    events jsonb,
    links jsonb,
    resource jsonb,
    PRIMARY KEY (trace_id, span_id, start_time)
) PARTITION BY RANGE (start_time);
CREATE INDEX idx_spans_start_time ON logging.spans (start_time);
CREATE INDEX idx_spans_service_start_time ON logging.spans (service, start_time);
CREATE INDEX idx_spans_name ON logging.spans (name);
CREATE INDEX idx_spans_correlation ON logging.spans (correlation_id);

-- The archive: the same columns, partitioned the same way; partitions move
-- here whole (DETACH, ATTACH), never row by row.
CREATE TABLE logging.archived_system_logs (LIKE logging.system_logs INCLUDING ALL)
    PARTITION BY RANGE (timestamp);
CREATE TABLE logging.archived_performance_logs (LIKE logging.performance_logs INCLUDING ALL)
    PARTITION BY RANGE (timestamp);
CREATE TABLE logging.archived_spans (LIKE logging.spans INCLUDING ALL)
    PARTITION BY RANGE (start_time);
ALTER TABLE logging.archived_system_logs ALTER COLUMN id DROP DEFAULT;
ALTER TABLE logging.archived_performance_logs ALTER COLUMN id DROP DEFAULT;

-- The partition of table `t` (one of the three) for day `d` (UTC):
-- t_pYYYYMMDD.
CREATE FUNCTION logging.partition_name(t text, d date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT t || '_p' || to_char(d, 'YYYYMMDD') $$;

-- Makes the daily partitions of the three tables from day `first` to day
-- `last` (UTC) that do not exist yet; returns how many it made. The
-- exporter calls it at start for the next days, and for the days of a
-- batch that has rows outside them (a replay of an old fallback file).
CREATE FUNCTION logging.ensure_partitions(first date, last date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    t text;
    d date;
    made integer := 0;
BEGIN
    FOREACH t IN ARRAY ARRAY['system_logs', 'performance_logs', 'spans'] LOOP
        d := first;
        WHILE d <= last LOOP
            IF to_regclass(format('logging.%I', logging.partition_name(t, d))) IS NULL THEN
                EXECUTE format('CREATE TABLE IF NOT EXISTS logging.%I PARTITION OF logging.%I '
                               'FOR VALUES FROM (%L) TO (%L)',
                               logging.partition_name(t, d), t,
                               d::timestamp AT TIME ZONE 'UTC',
                               (d + 1)::timestamp AT TIME ZONE 'UTC');
                made := made + 1;
            END IF;
            d := d + 1;
        END LOOP;
    END LOOP;
    RETURN made;
END $$;

-- The partitions of `parent` and their days, from their names.
CREATE FUNCTION logging.partitions_of(parent text)
RETURNS TABLE (partition text, day date)
LANGUAGE sql STABLE AS $$
    SELECT c.relname::text, to_date(right(c.relname, 8), 'YYYYMMDD')
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent
    JOIN pg_namespace n ON n.oid = p.relnamespace
    WHERE n.nspname = 'logging' AND p.relname = parent AND c.relname ~ '_p[0-9]{8}$'
$$;

-- Retention, a partition at a time: the days older than
-- `archive_after_days` move from each table into its archived_ table
-- (DETACH and ATTACH: no row is copied unless the archive already holds
-- that day, from an earlier replay), and archived days older than
-- `delete_after_days` are dropped. For a database cron
-- (SELECT * FROM logging.retention(30, 90)) as for `otelc pg retention`.
-- Returns one row per partition moved or dropped.
CREATE FUNCTION logging.retention(archive_after_days integer, delete_after_days integer)
RETURNS TABLE (action text, table_name text, day date)
LANGUAGE plpgsql AS $$
DECLARE
    t text;
    p record;
    archived text;
    today date;
BEGIN
    -- Days are UTC days, as the partitions are, whatever the session's TimeZone.
    today := (now() AT TIME ZONE 'UTC')::date;
    IF archive_after_days < 0 OR delete_after_days < archive_after_days THEN
        RAISE EXCEPTION 'retention: need 0 <= archive_after_days (%) <= delete_after_days (%)',
            archive_after_days, delete_after_days;
    END IF;
    FOREACH t IN ARRAY ARRAY['system_logs', 'performance_logs', 'spans'] LOOP
        FOR p IN SELECT * FROM logging.partitions_of(t)
                 WHERE partitions_of.day < today - archive_after_days ORDER BY 2 LOOP
            archived := logging.partition_name('archived_' || t, p.day);
            EXECUTE format('ALTER TABLE logging.%I DETACH PARTITION logging.%I', t, p.partition);
            IF to_regclass(format('logging.%I', archived)) IS NULL THEN
                EXECUTE format('ALTER TABLE logging.%I RENAME TO %I', p.partition, archived);
                IF t <> 'spans' THEN
                    EXECUTE format('ALTER TABLE logging.%I ALTER COLUMN id DROP DEFAULT', archived);
                END IF;
                EXECUTE format('ALTER TABLE logging.%I ATTACH PARTITION logging.%I '
                               'FOR VALUES FROM (%L) TO (%L)', 'archived_' || t, archived,
                               p.day::timestamp AT TIME ZONE 'UTC',
                               (p.day + 1)::timestamp AT TIME ZONE 'UTC');
            ELSE
                EXECUTE format('INSERT INTO logging.%I SELECT * FROM logging.%I ON CONFLICT DO NOTHING',
                               archived, p.partition);
                EXECUTE format('DROP TABLE logging.%I', p.partition);
            END IF;
            action := 'archived';
            table_name := t;
            day := p.day;
            RETURN NEXT;
        END LOOP;
        FOR p IN SELECT * FROM logging.partitions_of('archived_' || t)
                 WHERE partitions_of.day < today - delete_after_days ORDER BY 2 LOOP
            EXECUTE format('DROP TABLE logging.%I', p.partition);
            action := 'deleted';
            table_name := 'archived_' || t;
            day := p.day;
            RETURN NEXT;
        END LOOP;
    END LOOP;
END $$;

-- The seed's queries name the tables without the schema: `logging` goes on
-- the database's search path (new sessions), after the usual entries.
DO $$ BEGIN
    EXECUTE format('ALTER DATABASE %I SET search_path = "$user", public, logging',
                   current_database());
END $$;
