/*
 * trading_demo: a small trading flow instrumented with otelc.
 *
 *   market-data thread ──quotes──► T strategy/execution workers ──fills──► exchange thread
 *   (feed, seeded LCG)   (bounded   (signal → risk check → order)  (bounded  (fill, audit)
 *                         queue)                                    queue)
 *
 * Each quote becomes one trade. A trade runs inside a correlation scope
 * ("trade-<n>"), which starts a trace; the strategy signal, the risk check and
 * the order placement are nested spans of it, and the fill is handled on
 * another thread that continues the same trace through a captured context.
 * Every log record carries the trace id, span id and correlation id of the
 * place it was written from, plus the fields bound with OTELC_BIND.
 *
 *   ./build/examples/trading_demo --orders 50 --threads 4   # files in ./logs
 *   OTEL_TRACES_EXPORTER=console OTEL_LOGS_EXPORTER=console ./build/examples/trading_demo
 *
 * With OTELC_PG_CONNINFO set (and the demo built with otelc::libpq), each
 * order and each fill is also written to a table of the demo's own,
 * demo_orders, through the traced libpq calls of otelc/libpq.h: the
 * INSERT is a CLIENT span inside place_order, the UPDATE one inside
 * handle_fill, with db.query.text and no value of the order in it.
 *
 * Prices, quantities and risk decisions come from one seeded generator on
 * the market-data thread, so two runs produce the same trades (only ids,
 * times and the interleaving of threads differ).
 */
#include <otelc/otelc.h>
#if defined(OTELC_DEMO_LIBPQ)
#include <otelc/libpq.h>
#endif

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 64
#define MAX_NOTIONAL 20000.0  /* risk limit per order, in quote currency */
#define WARN_NOTIONAL 16000.0 /* 80 % of the limit: accepted, with a warning */
#define PRICE_BAND_PCT 2.0    /* a quote that moved more than this is suspect */
#define VENUE "PAPER-X"

/* Unset or empty: the OpenTelemetry rule for configuration variables. */
static int is_unset(const char *name)
{
    const char *v = getenv(name);
    return v == NULL || v[0] == '\0';
}

/* ---- the instruments, and the records that travel between threads ------ */

typedef struct instrument {
    const char *symbol;
    double start_price;
    double min_qty, max_qty; /* order sizes are drawn from this range */
    double lot;              /* quantity step: fractions for crypto, 1 for shares */
    double fee_rate;         /* commission as a fraction of the notional */
} instrument_t;

static const instrument_t INSTRUMENTS[] = {
    { "BTCUSDT", 50000.0, 0.010, 0.480, 0.001, 0.0010 },
    { "ETHUSDT", 3000.0, 0.100, 8.000, 0.001, 0.0010 },
    { "SOLUSDT", 150.0, 1.000, 160.0, 0.1, 0.0010 },
    { "AAPL", 190.0, 10.0, 125.0, 1.0, 0.00005 },
    { "MSFT", 420.0, 5.0, 57.0, 1.0, 0.00005 },
};
#define N_INSTRUMENTS (sizeof(INSTRUMENTS) / sizeof(INSTRUMENTS[0]))

typedef struct quote {
    uint64_t seq; /* 1..orders; also the trade number */
    const instrument_t *inst;
    double bid, ask, prev_mid;
    double qty; /* the size the strategy will trade (drawn by the feed for reproducibility) */
} quote_t;

typedef struct order {
    uint64_t seq;
    char order_id[24];
    const instrument_t *inst;
    const char *side; /* "BUY" or "SELL" */
    double qty, price, move_pct;
} order_t;

/* What the exchange thread receives: the order and the context it was sent in. */
typedef struct fill_msg {
    order_t order;
    otelc_context_t *ctx; /* owned by the message; released after the fill */
} fill_msg_t;

/* ---- a bounded blocking queue (mutex + condition variables) ------------- */

typedef struct queue {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    unsigned char *slots;
    size_t item_size, capacity, head, count;
    bool closed;
} queue_t;

static bool queue_init(queue_t *q, size_t item_size, size_t capacity)
{
    memset(q, 0, sizeof(*q));
    q->slots = calloc(capacity, item_size);
    q->item_size = item_size;
    q->capacity = capacity;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    return q->slots != NULL;
}

static void queue_destroy(queue_t *q)
{
    pthread_cond_destroy(&q->not_full);
    pthread_cond_destroy(&q->not_empty);
    pthread_mutex_destroy(&q->mu);
    free(q->slots);
}

/* Copies `item` in, waiting while the queue is full. False once closed. */
static bool queue_push(queue_t *q, const void *item)
{
    bool ok = false;
    pthread_mutex_lock(&q->mu);
    while (q->count == q->capacity && !q->closed)
        pthread_cond_wait(&q->not_full, &q->mu);
    if (!q->closed) {
        memcpy(q->slots + ((q->head + q->count) % q->capacity) * q->item_size, item, q->item_size);
        q->count++;
        ok = true;
        pthread_cond_signal(&q->not_empty);
    }
    pthread_mutex_unlock(&q->mu);
    return ok;
}

/* Copies the oldest item out, waiting while empty. False once closed and drained. */
static bool queue_pop(queue_t *q, void *item)
{
    bool ok = false;
    pthread_mutex_lock(&q->mu);
    while (q->count == 0 && !q->closed)
        pthread_cond_wait(&q->not_empty, &q->mu);
    if (q->count > 0) {
        memcpy(item, q->slots + q->head * q->item_size, q->item_size);
        q->head = (q->head + 1) % q->capacity;
        q->count--;
        ok = true;
        pthread_cond_signal(&q->not_full);
    }
    pthread_mutex_unlock(&q->mu);
    return ok;
}

static void queue_close(queue_t *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mu);
}

/* ---- shared state -------------------------------------------------------- */

typedef struct demo {
    uint64_t orders, seed;
    queue_t quotes, fills;
    atomic_uint_fast64_t submitted, rejected, filled;
} demo_t;

/* One logger per component, named like the channels of the Python designs.
 * Loggers live for the whole process; keep the pointers. */
static otelc_logger_t *feed_log, *signal_log, *risk_log, *order_log, *audit_log;

/* ---- the demo's own table, through the traced libpq calls ---------------- */

/* Each thread that writes orders has a connection of its own (a libpq
 * connection serves one thread at a time); NULL: no database. */
#if defined(OTELC_DEMO_LIBPQ)
static _Thread_local PGconn *thread_db;

static const char DEMO_TABLE[] =
    "CREATE TABLE IF NOT EXISTS demo_orders (order_id text PRIMARY KEY, symbol text, side text,"
    " qty double precision, price double precision, fill_price double precision,"
    " filled_at timestamptz)";

/* Connects this thread when OTELC_PG_CONNINFO is set. A database that is not
 * there is reported and the demo runs on without it. */
static void db_open(void)
{
    const char *conninfo = getenv("OTELC_PG_CONNINFO");

    if (conninfo == NULL || conninfo[0] == '\0')
        return;
    thread_db = PQconnectdb(conninfo);
    if (PQstatus(thread_db) != CONNECTION_OK) {
        OTELC_WARN(order_log, "demo database unavailable",
                   OTELC_STR("error", PQerrorMessage(thread_db)));
        PQfinish(thread_db);
        thread_db = NULL;
    }
}

static void db_close(void)
{
    otelc_PQfinish(thread_db);
    thread_db = NULL;
}

/* Runs one parameterized statement, traced; a failure is logged (and is on
 * the statement's span with its SQLSTATE). */
static void db_run(const char *sql, int n, const char *const *values)
{
    PGresult *r;

    if (thread_db == NULL)
        return;
    r = otelc_PQexecParams(thread_db, sql, n, NULL, values, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        OTELC_WARN(order_log, "demo database write failed",
                   OTELC_STR("error", PQresultErrorMessage(r)));
    PQclear(r);
}

/* Makes the table, untraced: setting up is no part of a trade. */
static void db_setup(void)
{
    db_open();
    if (thread_db != NULL)
        PQclear(PQexec(thread_db, DEMO_TABLE));
    db_close();
}

static void db_record_order(const char *order_id, const char *symbol, const char *side, double qty,
                            double price)
{
    char q[32], p[32];
    const char *values[5] = { order_id, symbol, side, q, p };

    snprintf(q, sizeof(q), "%.17g", qty);
    snprintf(p, sizeof(p), "%.17g", price);
    /* A rerun of the same seed places the same order ids: the row starts over. */
    db_run("INSERT INTO demo_orders (order_id, symbol, side, qty, price) VALUES ($1, $2, $3, $4, "
           "$5) ON CONFLICT (order_id) DO UPDATE SET symbol = $2, side = $3, qty = $4, price = $5,"
           " fill_price = NULL, filled_at = NULL",
           5, values);
}

static void db_record_fill(const char *order_id, double fill_price)
{
    char p[32];
    const char *values[2] = { p, order_id };

    snprintf(p, sizeof(p), "%.17g", fill_price);
    db_run("UPDATE demo_orders SET fill_price = $1, filled_at = now() WHERE order_id = $2", 2,
           values);
}
#else
static void db_setup(void)
{
}
static void db_open(void)
{
}
static void db_close(void)
{
}
static void db_record_order(const char *order_id, const char *symbol, const char *side, double qty,
                            double price)
{
    (void)order_id, (void)symbol, (void)side, (void)qty, (void)price;
}
static void db_record_fill(const char *order_id, double fill_price)
{
    (void)order_id, (void)fill_price;
}
#endif

/* A linear congruential generator (Knuth's MMIX constants): deterministic and
 * good enough for made-up prices. Returns a value in [0, 1). */
static double lcg_uniform(uint64_t *state)
{
    *state = *state * 6364136223846793005u + 1442695040888963407u;
    return (double)(*state >> 11) / 9007199254740992.0; /* 53 bits / 2^53 */
}

/* Rounds to `1 / scale` (scale 100: cents), so that logs show 184.53, not
 * 184.52961835043071. Dividing by the scale gives the double nearest the
 * decimal value; multiplying by 0.01 would not. */
static double round_to(double x, double scale)
{
    return round(x * scale) / scale;
}

/* ---- market data: one thread publishes quotes ---------------------------- */

static void *market_data_main(void *arg)
{
    demo_t *d = arg;
    uint64_t rng = d->seed;
    double mid[N_INSTRUMENTS];

    for (size_t i = 0; i < N_INSTRUMENTS; i++)
        mid[i] = INSTRUMENTS[i].start_price;
    OTELC_INFO(feed_log, "market data feed connected", OTELC_STR("venue", VENUE),
               OTELC_INT("symbols", N_INSTRUMENTS), OTELC_INT("quotes", d->orders));

    for (uint64_t seq = 1; seq <= d->orders; seq++) {
        const size_t i = (size_t)(lcg_uniform(&rng) * N_INSTRUMENTS);
        const instrument_t *inst = &INSTRUMENTS[i];
        /* A random walk of ±0.6 % per tick, with a 3 % jump one time in twenty. */
        const double shock = lcg_uniform(&rng) < 0.05 ? 0.03 : 0.006;
        const double prev = mid[i];
        mid[i] = prev * (1.0 + shock * (2.0 * lcg_uniform(&rng) - 1.0));
        const double size = inst->min_qty + lcg_uniform(&rng) * (inst->max_qty - inst->min_qty);

        const quote_t q = { .seq = seq,
                            .inst = inst,
                            .bid = round_to(mid[i] * 0.9999, 100),
                            .ask = round_to(mid[i] * 1.0001, 100),
                            .prev_mid = prev,
                            .qty = round_to(floor(size / inst->lot) * inst->lot, 1000) };
        /* DEBUG: below the default level, so it costs one compare and is not recorded. */
        OTELC_DEBUG(feed_log, "quote", OTELC_STR("symbol", inst->symbol), OTELC_DBL("bid", q.bid),
                    OTELC_DBL("ask", q.ask));
        if (!queue_push(&d->quotes, &q))
            break;
    }
    queue_close(&d->quotes); /* lets the workers drain and stop */
    OTELC_INFO(feed_log, "market data feed finished", OTELC_INT("quotes", d->orders));
    return NULL;
}

/* ---- strategy: OTELC_FUNC makes a span named "compute_signal" ------------ */

typedef struct signal {
    const char *side; /* BUY on upward momentum, SELL on downward */
    double entry, take_profit, stop_loss, momentum_pct;
} signal_t;

static signal_t compute_signal(const quote_t *q)
{
    OTELC_FUNC(OTELC_STR("symbol", q->inst->symbol), OTELC_DBL("bid", q->bid),
               OTELC_DBL("ask", q->ask));
    const double mid = (q->bid + q->ask) / 2.0;
    const double momentum = (mid - q->prev_mid) / q->prev_mid * 100.0;
    const bool is_long = momentum >= 0.0;
    const signal_t s = {
        .side = is_long ? "BUY" : "SELL",
        .entry = is_long ? q->ask : q->bid,
        .take_profit = round_to(mid * (is_long ? 1.02 : 0.98), 100),
        .stop_loss = round_to(mid * (is_long ? 0.99 : 1.01), 100),
        .momentum_pct = round_to(momentum, 1000),
    };
    /* The message is copied as is (no format string); the data go in attributes.
     * "symbol" is not repeated: it is bound by the trade's OTELC_BIND. */
    OTELC_INFO(signal_log, is_long ? "LONG signal generated" : "SHORT signal generated",
               OTELC_STR("type", is_long ? "LONG_ENTRY" : "SHORT_ENTRY"),
               OTELC_DBL("entry", s.entry), OTELC_DBL("tp", s.take_profit),
               OTELC_DBL("sl", s.stop_loss), OTELC_DBL("momentum_pct", s.momentum_pct));
    return s;
}

/* ---- risk: a named span, so that its status can be set ------------------- */

/* The audit record of a refused order; it carries the risk_check span's ids. */
static void audit_rejection(const order_t *o, int severity, const char *reason)
{
    OTELC_EVENT(audit_log, severity, "order_rejected", "order rejected",
                OTELC_STR("order_id", o->order_id), OTELC_STR("symbol", o->inst->symbol),
                OTELC_STR("side", o->side), OTELC_DBL("qty", o->qty), OTELC_DBL("price", o->price),
                OTELC_STR("rejection_reason", reason));
}

static bool risk_check(const order_t *o)
{
    const double notional = round_to(o->qty * o->price, 100);
    OTELC_SPAN_VAR(span, "risk_check", OTELC_STR("order_id", o->order_id),
                   OTELC_DBL("notional", notional), OTELC_DBL("max_notional", MAX_NOTIONAL),
                   OTELC_DBL("price_move_pct", o->move_pct));

    /* The early returns below end the span: it is closed by its cleanup attribute. */
    if (fabs(o->move_pct) > PRICE_BAND_PCT) {
        /* An error: the span gets an "exception" event and status ERROR. */
        otelc_span_record_error(&span, "PriceBandBreached", "quote moved beyond the price band");
        audit_rejection(o, OTELC_SEV_ERROR, "price_band_breached");
        return false;
    }
    if (notional > MAX_NOTIONAL) {
        /* A business refusal: status ERROR with a description, logged at WARN. */
        otelc_span_set_status(&span, OTELC_STATUS_ERROR, "max notional exceeded");
        audit_rejection(o, OTELC_SEV_WARN, "max_notional_exceeded");
        return false;
    }
    if (notional > WARN_NOTIONAL)
        OTELC_WARN(risk_log, "risk threshold approaching", OTELC_DBL("notional", notional),
                   OTELC_DBL("limit", MAX_NOTIONAL));
    OTELC_SPAN_ATTRS(&span, OTELC_BOOL("approved", true));
    return true;
}

/* ---- execution: a CLIENT span, and the hand-off to the exchange thread ---- */

static void place_order(demo_t *d, const order_t *o)
{
    OTELC_SPAN_KIND(OTELC_SPAN_KIND_CLIENT, "place_order", OTELC_STR("order_id", o->order_id),
                    OTELC_STR("side", o->side), OTELC_DBL("qty", o->qty),
                    OTELC_DBL("price", o->price), OTELC_STR("venue", VENUE));

    /* An audit event: event.name "order_submitted", a complete record on its own. */
    OTELC_EVENT(audit_log, OTELC_SEV_INFO, "order_submitted", "order submitted",
                OTELC_STR("order_id", o->order_id), OTELC_STR("symbol", o->inst->symbol),
                OTELC_STR("side", o->side), OTELC_DBL("qty", o->qty), OTELC_DBL("price", o->price),
                OTELC_STR("order_type", "LIMIT"));
    /* With OTELC_PG_CONNINFO: the order's row, a CLIENT span of this one. */
    db_record_order(o->order_id, o->inst->symbol, o->side, o->qty, o->price);

    /* The fill arrives on another thread. Capture the context here, inside
     * place_order, so that the fill's span becomes this span's child and its
     * logs carry this trade's correlation id and bound fields. */
    fill_msg_t m = { .order = *o, .ctx = otelc_context_capture() };
    if (queue_push(&d->fills, &m))
        atomic_fetch_add(&d->submitted, 1);
    else
        otelc_context_release(m.ctx); /* not sent: the message still owns it */
    OTELC_DEBUG(order_log, "order sent to exchange", OTELC_STR("order_id", o->order_id));
}

/* One trade: correlation scope → signal → risk check → order. */
static void run_trade(demo_t *d, const quote_t *q)
{
    char trade_id[32];
    snprintf(trade_id, sizeof(trade_id), "trade-%" PRIu64, q->seq);

    /* No span is active on this thread, so the correlation scope starts the
     * trade's root span ("correlation"); everything below is in its trace. */
    OTELC_CORRELATION(trade_id)
    {
        /* Binds nest: logs inside carry symbol as well as account and strategy. */
        OTELC_BIND(OTELC_STR("symbol", q->inst->symbol))
        {
            /* Performance spans over the trade and over each of its steps
             * (strategy, risk, execution): execution_time_ms, and
             * cpu_usage_percent or the memory figures where asked, on the
             * span (a logging.performance_logs row with the PostgreSQL
             * exporter, a line of performance.log with the file
             * exporter), and a WARNING slow_operation record past the
             * threshold. */
            OTELC_PERF("trade_decision", .threshold_ms = 50, .cpu = true);
            signal_t s;
            bool approved;
            {
                OTELC_PERF("strategy", .threshold_ms = 10);
                s = compute_signal(q);
            }
            order_t o = { .seq = q->seq,
                          .inst = q->inst,
                          .side = s.side,
                          .qty = q->qty,
                          .price = s.entry,
                          .move_pct = s.momentum_pct };
            snprintf(o.order_id, sizeof(o.order_id), "ORD-%06" PRIu64, q->seq);
            {
                OTELC_PERF("risk", .threshold_ms = 10);
                approved = risk_check(&o);
            }
            if (approved) {
                OTELC_PERF("execution", .threshold_ms = 20, .memory = true);
                place_order(d, &o);
            } else {
                atomic_fetch_add(&d->rejected, 1);
            }
        }
    }
}

static void *worker_main(void *arg)
{
    demo_t *d = arg;
    quote_t q;

    /* Every log this worker writes carries account and strategy, as with
     * structlog's bound contextvars or loguru's contextualize(). */
    db_open();
    OTELC_BIND(OTELC_STR("account", "ACC-7"), OTELC_STR("strategy", "momentum"))
    {
        while (queue_pop(&d->quotes, &q))
            run_trade(d, &q);
    }
    db_close();
    return NULL;
}

/* ---- the exchange: continues each trade's trace on its own thread --------- */

static void *exchange_main(void *arg)
{
    demo_t *d = arg;
    fill_msg_t m;

    db_open();
    while (queue_pop(&d->fills, &m)) {
        const order_t *o = &m.order;
        OTELC_ATTACHED(m.ctx)
        {
            /* A CONSUMER span whose parent is the worker's place_order span. */
            OTELC_SPAN_KIND(OTELC_SPAN_KIND_CONSUMER, "handle_fill",
                            OTELC_STR("order_id", o->order_id), OTELC_STR("venue", VENUE));
            /* Deterministic price improvement of 0 to 2 ticks of 0.01. */
            const double improvement = (double)(o->seq % 3) * 0.01;
            const double fill_price = round_to(
                strcmp(o->side, "BUY") == 0 ? o->price - improvement : o->price + improvement, 100);
            const double commission = round_to(fill_price * o->qty * o->inst->fee_rate, 10000);
            OTELC_EVENT(audit_log, OTELC_SEV_INFO, "order_filled", "order filled",
                        OTELC_STR("order_id", o->order_id), OTELC_STR("symbol", o->inst->symbol),
                        OTELC_STR("side", o->side), OTELC_DBL("filled_qty", o->qty),
                        OTELC_DBL("fill_price", fill_price), OTELC_DBL("commission", commission));
            db_record_fill(o->order_id, fill_price);
        }
        otelc_context_release(m.ctx);
        atomic_fetch_add(&d->filled, 1);
    }
    db_close();
    return NULL;
}

/* ---- main ---------------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: trading_demo [--orders N] [--threads T] [--seed S]\n"
            "  --orders N   trades to run (default 20)\n"
            "  --threads T  strategy/execution worker threads, 1-%d (default 2)\n"
            "  --seed S     seed of the price generator (default 42)\n"
            "Configured by the OTEL_* and OTELC_* environment variables, e.g.\n"
            "  OTELC_STATS=1 OTELC_CONSOLE_LEVEL=WARNING OTEL_TRACES_SAMPLER=traceidratio\n"
            "  OTEL_TRACES_SAMPLER_ARG=0.5 OTEL_SDK_DISABLED=true\n"
            "  OTELC_PG_CONNINFO=...  also write each order and fill to the table\n"
            "                         demo_orders, through traced libpq calls\n",
            MAX_THREADS);
}

/* Parses a decimal number in [min, max]; false when it is not one. */
static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    v = strtoull(s, &end, 10);
    if (*end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    static demo_t d; /* shared with every thread; static, so zeroed */
    uint64_t threads = 2, submitted, rejected, filled;
    pthread_t feed, exchange, workers[MAX_THREADS];
    size_t started = 0;
    int rc = 0;

    d.orders = 20;
    d.seed = 42;
    for (int i = 1; i < argc; i += 2) {
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--orders") == 0) {
            ok = parse_u64(val, 1, 10000000, &d.orders);
        } else if (strcmp(argv[i], "--threads") == 0) {
            ok = parse_u64(val, 1, MAX_THREADS, &threads);
        } else if (strcmp(argv[i], "--seed") == 0) {
            ok = parse_u64(val, 0, UINT64_MAX, &d.seed);
        }
        if (!ok) {
            fprintf(stderr, "trading_demo: bad argument: %s %s\n", argv[i], val ? val : "");
            usage(stderr);
            return 2;
        }
    }

    /* The options come from the config file (OTEL_CONFIG_FILE or ./otelc.yaml)
     * and the OTEL_* / OTELC_* variables. When neither names an exporter,
     * the demo writes JSON-lines files under ./logs (one per channel, spans
     * in traces.log) and shows WARNING and above on the console: a developer
     * sees everything with no server running. Should init fail, every otelc
     * call is a no-op and the demo runs on. */
    otelc_options_t opts;
    (void)otelc_options_init(&opts);
    if (opts.config_file == NULL && is_unset("OTEL_TRACES_EXPORTER") &&
        is_unset("OTEL_LOGS_EXPORTER") && otelc_exporter_factory_exists("file")) {
        opts.traces_exporter = "file";
        opts.logs_exporter = "file,console";
        if (is_unset("OTELC_CONSOLE_LEVEL"))
            opts.console_level = OTELC_SEV_WARN;
    }
    const otelc_status_t st = otelc_init(&opts);
    if (st != OTELC_OK)
        fprintf(stderr, "trading_demo: otelc_init: %s\n", otelc_status_str(st));

    feed_log = otelc_logger("market_data.feed");
    signal_log = otelc_logger("trading.signals");
    risk_log = otelc_logger("risk.manager");
    order_log = otelc_logger("execution.order_manager");
    audit_log = otelc_logger("audit.trades");

    /* api_key is a sensitive key: its value is exported as ***MASKED***. */
    OTELC_EVENT(order_log, OTELC_SEV_INFO, "broker_connected", "broker connected",
                OTELC_STR("broker", "PaperBroker"), OTELC_STR("venue", VENUE),
                OTELC_STR("api_key", "pk-live-4f9c2e7a1b3d"), OTELC_INT("workers", threads));

    db_setup();
    if (!queue_init(&d.quotes, sizeof(quote_t), 64) ||
        !queue_init(&d.fills, sizeof(fill_msg_t), 64)) {
        fprintf(stderr, "trading_demo: out of memory\n");
        rc = 1;
        goto out;
    }
    /* Consumers start before producers, and stop in the order the data flow:
     * feed, then workers (they drain the quotes), then the exchange (the fills). */
    if (pthread_create(&exchange, NULL, exchange_main, &d) != 0) {
        fprintf(stderr, "trading_demo: cannot start the exchange thread\n");
        rc = 1;
        goto out;
    }
    /* otelc_thread_create: each worker starts with this thread's context
     * (here: none yet, so each trade is a trace of its own). */
    while (started < threads &&
           otelc_thread_create(&workers[started], NULL, worker_main, &d) == 0)
        started++;
    if (started < threads || pthread_create(&feed, NULL, market_data_main, &d) != 0) {
        fprintf(stderr, "trading_demo: cannot start the worker or feed threads\n");
        queue_close(&d.quotes);
        rc = 1;
    } else {
        pthread_join(feed, NULL);
    }
    for (size_t i = 0; i < started; i++)
        pthread_join(workers[i], NULL);
    queue_close(&d.fills);
    pthread_join(exchange, NULL);

    submitted = atomic_load(&d.submitted);
    rejected = atomic_load(&d.rejected);
    filled = atomic_load(&d.filled);
    OTELC_INFO(order_log, "trading session finished", OTELC_INT("orders", d.orders),
               OTELC_INT("submitted", submitted), OTELC_INT("rejected", rejected),
               OTELC_INT("filled", filled));
    if (rc == 0 && (filled != submitted || submitted + rejected != d.orders)) {
        fprintf(stderr,
                "trading_demo: orders lost: %" PRIu64 " submitted, %" PRIu64 " rejected, %" PRIu64
                " filled\n",
                submitted, rejected, filled);
        rc = 1;
    }

out:
    /* Exports what is still buffered and stops, within 5 s. With OTELC_STATS=1
     * it prints "otelc: spans produced=N exported=N dropped=0 ..." on stderr. */
    if (otelc_shutdown(5000) == OTELC_ERR_TIMEOUT) {
        fprintf(stderr, "trading_demo: otelc_shutdown: deadline passed\n");
        rc = 1;
    }
    queue_destroy(&d.fills);
    queue_destroy(&d.quotes);
    return rc;
}
