/*
 * pg_tool.c: otelc-pg, which `otelc pg` runs: the `logging` schema of the
 * PostgreSQL exporter, made, shown and kept.
 *
 *   otelc pg init [--conninfo C]       create or upgrade the schema (the
 *                                      migrations the exporter applies with
 *                                      OTELC_PG_AUTO_MIGRATE=1) and the
 *                                      partitions of yesterday to 3 days on
 *   otelc pg status [--conninfo C]     the schema version, each table's
 *                                      partitions (days), rows and size
 *   otelc pg retention --archive-after DAYS --delete-after DAYS [--conninfo C]
 *                                      move older days' partitions to the
 *                                      archive, drop archived ones past the
 *                                      second bound (logging.retention())
 *   otelc pg replay FILE... [--conninfo C]
 *                                      store what fallback files hold
 *                                      (OTELC_PG_FALLBACK_FILE), as the
 *                                      exporter does once the database is
 *                                      back: a record stored before is not
 *                                      stored twice; a file wholly stored
 *                                      may then be removed
 *
 * The database: --conninfo, else OTELC_PG_CONNINFO, else libpq's defaults
 * (PG* variables, ~/.pgpass). Exit status 0 on success, 1 when the database
 * refused, 2 for a usage error.
 */
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <otelc/otelc.h>
#include <otelc/postgres.h>

#include "postgres_internal.h"
#include "schema.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: otelc pg init [--conninfo C]\n"
               "       otelc pg status [--conninfo C]\n"
               "       otelc pg retention --archive-after DAYS --delete-after DAYS "
               "[--conninfo C]\n"
               "       otelc pg replay FILE... [--conninfo C]\n"
               "The database: --conninfo, else OTELC_PG_CONNINFO, else libpq's defaults "
               "(PG*, ~/.pgpass).\n");
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static PGconn *open_db(const char *conninfo)
{
    const char *keys[] = { "fallback_application_name", "dbname", NULL };
    const char *values[] = { "otelc-pg", conninfo != NULL ? conninfo : "", NULL };
    PGconn *c = PQconnectdbParams(keys, values, 1);

    if (c == NULL || PQstatus(c) != CONNECTION_OK) {
        char err[512];

        /* libpq's message names host, port and user, never the password. */
        otelc__pg_error(c, NULL, err, sizeof(err));
        fprintf(stderr, "otelc pg: cannot connect: %s\n", err);
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, quiet, NULL);
    return c;
}

/* A query's result, or NULL with the server's message on stderr. */
static PGresult *query(PGconn *c, const char *sql, int n, const char *const *params)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);

    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
        char err[512];

        otelc__pg_error(c, r, err, sizeof(err));
        fprintf(stderr, "otelc pg: %s\n", err);
        PQclear(r);
        return NULL;
    }
    return r;
}

static int cmd_init(PGconn *c)
{
    char err[512];
    int applied = otelc__pg_migrate(c, 0, err, sizeof(err));
    long today = (long)(time(NULL) / 86400);

    if (applied < 0) {
        fprintf(stderr, "otelc pg init: %s\n", err);
        return 1;
    }
    if (!otelc__pg_ensure_partitions(c, today - 1, today + 3, 0, err, sizeof(err))) {
        fprintf(stderr, "otelc pg init: partitions: %s\n", err);
        return 1;
    }
    printf("otelc pg init: schema logging at version %d (%d migration%s applied)\n",
           otelc__pg_schema_latest(), applied, applied == 1 ? "" : "s");
    return 0;
}

static int cmd_status(PGconn *c)
{
    static const char sql[] =
        "SELECT t.name, count(p.partition), coalesce(min(p.day)::text, '-'),"
        " coalesce(max(p.day)::text, '-'),"
        " (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM logging.%I',"
        " t.name), false, true, '')))[1]::text,"
        " pg_size_pretty(coalesce(sum(CASE WHEN p.partition IS NULL THEN 0 ELSE"
        " pg_total_relation_size(('logging.' || quote_ident(p.partition))::regclass) END), 0))"
        " FROM unnest(ARRAY['system_logs', 'performance_logs', 'spans', 'archived_system_logs',"
        " 'archived_performance_logs', 'archived_spans']) WITH ORDINALITY AS t(name, o)"
        " LEFT JOIN LATERAL logging.partitions_of(t.name) p ON true"
        " GROUP BY t.name, t.o ORDER BY t.o";
    char err[512];
    int version = otelc__pg_schema_version(c, err, sizeof(err));
    PGresult *r;

    if (version < 0) {
        fprintf(stderr, "otelc pg status: %s\n", err);
        return 1;
    }
    if (version == 0) {
        printf("schema logging: not there (otelc pg init makes it)\n");
        return 1;
    }
    printf("schema logging: version %d%s\n", version,
           version < otelc__pg_schema_latest() ? " (older than this otelc's: otelc pg init)" : "");
    r = query(c, sql, 0, NULL);
    if (r == NULL)
        return 1;
    printf("%-26s %10s  %-10s  %-10s  %12s  %10s\n", "table", "partitions", "first day", "last day",
           "rows", "size");
    for (int i = 0; i < PQntuples(r); i++)
        printf("%-26s %10s  %-10s  %-10s  %12s  %10s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
               PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 5));
    PQclear(r);
    return 0;
}

static bool parse_days(const char *s, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (end == s || *end != '\0' || v < 0 || v > 100000)
        return false;
    *out = v;
    return true;
}

static int cmd_retention(PGconn *c, long archive_after, long delete_after)
{
    char a[24], d[24];
    const char *params[] = { a, d };
    PGresult *r;
    int archived = 0, deleted = 0;

    snprintf(a, sizeof(a), "%ld", archive_after);
    snprintf(d, sizeof(d), "%ld", delete_after);
    r = query(c, "SELECT action, table_name, day FROM logging.retention($1::int, $2::int)", 2,
              params);
    if (r == NULL)
        return 1;
    for (int i = 0; i < PQntuples(r); i++) {
        bool arch = strcmp(PQgetvalue(r, i, 0), "archived") == 0;

        printf("%s %s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
        if (arch)
            archived++;
        else
            deleted++;
    }
    PQclear(r);
    printf("otelc pg retention: %d partition%s archived (older than %ld days), %d dropped "
           "(archived, older than %ld days)\n",
           archived, archived == 1 ? "" : "s", archive_after, deleted, delete_after);
    return 0;
}

/* The files through an exporter of the component "postgres", as the
 * exporter replays its own. */
static int cmd_replay(const char *conninfo, char **files, int n_files)
{
    const otelc_component_t *comp = otelc_component_find("postgres");
    otelc_pg_options_t o = { conninfo, 0, NULL };
    otelc_exporter_args_t args;
    otelc_exporter_t *x = NULL;
    uint64_t total = 0;
    int status = 0;

    memset(&args, 0, sizeof(args));
    args.struct_size = sizeof(args);
    args.signal = OTELC_SIGNAL_LOGS;
    args.settings = &o;
    if (comp == NULL || comp->create(&args, &x) != OTELC_OK) {
        fprintf(stderr, "otelc pg replay: the PostgreSQL exporter is not there\n");
        return 1;
    }
    for (int i = 0; i < n_files; i++) {
        uint64_t records = 0, skipped = 0;
        struct timespec ts;
        int r;

        /* A minute per round; a round cut short by it goes on where it
         * stopped, for as long as rounds store something. */
        for (;;) {
            uint64_t before = records;

            clock_gettime(CLOCK_MONOTONIC, &ts);
            r = otelc__pg_replay_file(
                x, files[i], (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u + 60000u,
                &records, &skipped);
            if (r != 0 || records == before)
                break;
        }
        total += records;
        if (r == 1) {
            printf("%s: %llu records stored (%llu lines skipped)\n", files[i],
                   (unsigned long long)records, (unsigned long long)skipped);
        } else {
            fprintf(stderr, "otelc pg replay: %s: stopped after %llu records: %s\n", files[i],
                    (unsigned long long)records, otelc__pg_last_error(x));
            status = 1;
        }
    }
    x->ops->destroy(x);
    printf("otelc pg replay: %llu records from %d file%s\n", (unsigned long long)total, n_files,
           n_files == 1 ? "" : "s");
    return status;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : NULL, *conninfo = getenv("OTELC_PG_CONNINFO");
    long archive_after = -1, delete_after = -1;
    char *files[256];
    int n_files = 0;
    PGconn *c;
    int status;

    if (cmd == NULL || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(cmd == NULL ? stderr : stdout);
        return cmd == NULL ? 2 : 0;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--conninfo") == 0 && i + 1 < argc) {
            conninfo = argv[++i];
        } else if (strcmp(argv[i], "--archive-after") == 0 && i + 1 < argc &&
                   parse_days(argv[i + 1], &archive_after)) {
            i++;
        } else if (strcmp(argv[i], "--delete-after") == 0 && i + 1 < argc &&
                   parse_days(argv[i + 1], &delete_after)) {
            i++;
        } else if (strcmp(cmd, "replay") == 0 && argv[i][0] != '-' && n_files < 256) {
            files[n_files++] = argv[i];
        } else {
            fprintf(stderr, "otelc pg: unknown or incomplete option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (strcmp(cmd, "replay") == 0) {
        if (n_files == 0) {
            fprintf(stderr, "otelc pg replay: which files?\n");
            return 2;
        }
        return cmd_replay(conninfo, files, n_files);
    }
    if (strcmp(cmd, "init") != 0 && strcmp(cmd, "status") != 0 && strcmp(cmd, "retention") != 0) {
        fprintf(stderr, "otelc pg: unknown command '%s'\n", cmd);
        usage(stderr);
        return 2;
    }
    if (strcmp(cmd, "retention") == 0 &&
        (archive_after < 0 || delete_after < 0 || delete_after < archive_after)) {
        fprintf(stderr, "otelc pg retention: needs --archive-after DAYS and --delete-after DAYS, "
                        "the second not below the first\n");
        return 2;
    }
    c = open_db(conninfo);
    if (c == NULL)
        return 1;
    if (strcmp(cmd, "init") == 0)
        status = cmd_init(c);
    else if (strcmp(cmd, "status") == 0)
        status = cmd_status(c);
    else
        status = cmd_retention(c, archive_after, delete_after);
    PQfinish(c);
    return status;
}
