/*
 * config.c: option defaults and the environment reader.
 *
 * The rule of the reader is the one of DESIGN.md: a value that does not parse
 * is reported once, with the variable's name, the value and what was
 * expected, and the field keeps what it had. The reader never stops early, so
 * that one typo does not hide the rest of the configuration, and it returns
 * OTELC_ERR_INVALID at the end when anything was rejected.
 *
 * Blanks around a value, and around the items of a list, are ignored
 * everywhere (a stray space from shell quoting is not worth a rejection);
 * blanks inside a value are not.
 *
 * Everything here is parsed by hand rather than with strtoul(), strtod() or
 * strcasecmp(): those accept signs, blanks and hex prefixes, and depend on
 * the locale (a German locale reads "0,5" and rejects "0.5"), none of which
 * an environment variable should be subject to.
 */
#include "config_file.h"
#include "config_int.h"
#include "diag.h"
#include "resource.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A piece of a larger string; not NUL-terminated. */
typedef struct text {
    const char *p;
    size_t n;
} text_t;

/* ---- character and text helpers ------------------------------------------ */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static text_t text_of(const char *s)
{
    return (text_t){ s, s != NULL ? strlen(s) : 0 };
}

static text_t trim(text_t t)
{
    while (t.n > 0 && is_blank(t.p[0])) {
        t.p++;
        t.n--;
    }
    while (t.n > 0 && is_blank(t.p[t.n - 1]))
        t.n--;
    return t;
}

/* Case-insensitive (ASCII) comparison of a piece with a NUL-terminated word. */
static bool text_is(text_t t, const char *word)
{
    size_t i;

    for (i = 0; i < t.n; i++) {
        if (word[i] == '\0' || ascii_lower(t.p[i]) != ascii_lower(word[i]))
            return false;
    }
    return word[i] == '\0';
}

/*
 * Takes the next comma-separated item of a list, untrimmed. `*cursor` starts
 * at the list and is NULL after its last item; an empty list has one empty
 * item, and "a," has the items "a" and "".
 */
static bool next_item(const char **cursor, text_t *item)
{
    const char *start = *cursor;
    const char *comma;

    if (start == NULL)
        return false;
    comma = strchr(start, ',');
    if (comma != NULL) {
        *item = (text_t){ start, (size_t)(comma - start) };
        *cursor = comma + 1;
    } else {
        *item = text_of(start);
        *cursor = NULL;
    }
    return true;
}

/* ---- value parsers ------------------------------------------------------- */

/* Decimal digits only, at least one, no sign, no blanks, at most `max`. */
static bool parse_uint(text_t t, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (t.n == 0)
        return false;
    for (size_t i = 0; i < t.n; i++) {
        unsigned d;

        if (!is_digit(t.p[i]))
            return false;
        d = (unsigned)(t.p[i] - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool parse_u32(const char *s, uint32_t *out)
{
    uint64_t v;

    if (!parse_uint(trim(text_of(s)), UINT32_MAX, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

/*
 * A non-negative decimal number: digits with an optional fraction and an
 * optional exponent ("1", "0.25", ".5", "1e-3"). No sign, no "inf" or "nan".
 * Up to 18 significant digits are kept, far more than a ratio needs.
 */
static bool parse_decimal(text_t t, double *out)
{
    const char *s = t.p, *end = t.p + t.n;
    uint64_t mantissa = 0;
    int significant = 0, digits = 0;
    long exponent = 0;
    double v;

    for (; s < end && is_digit(*s); s++, digits++) {
        if (significant < 18) {
            mantissa = mantissa * 10 + (uint64_t)(*s - '0');
            significant += mantissa != 0;
        } else {
            exponent++;
        }
    }
    if (s < end && *s == '.') {
        for (s++; s < end && is_digit(*s); s++, digits++) {
            if (significant < 18) {
                mantissa = mantissa * 10 + (uint64_t)(*s - '0');
                significant += mantissa != 0;
                exponent--;
            }
        }
    }
    if (digits == 0)
        return false;
    if (s < end && (*s == 'e' || *s == 'E')) {
        bool negative = false;
        long e = 0;

        s++;
        if (s < end && (*s == '+' || *s == '-'))
            negative = *s++ == '-';
        if (s == end || !is_digit(*s))
            return false;
        for (; s < end && is_digit(*s); s++) {
            /* Past a thousand the number is 0 or infinite either way. */
            if (e < 1000)
                e = e * 10 + (*s - '0');
        }
        exponent += negative ? -e : e;
    }
    if (s != end)
        return false;

    v = (double)mantissa;
    if (mantissa == 0)
        exponent = 0;
    /* Powers of ten up to 1e22 are exact in a double, so scaling by them in
     * few steps keeps the rounding error to an ulp or two. */
    while (exponent > 0 && v < 1e300) {
        long step = exponent > 22 ? 22 : exponent;
        double p = 1.0;

        for (long i = 0; i < step; i++)
            p *= 10.0;
        v *= p;
        exponent -= step;
    }
    while (exponent < 0 && v > 0.0) {
        long step = -exponent > 22 ? 22 : -exponent;
        double p = 1.0;

        for (long i = 0; i < step; i++)
            p *= 10.0;
        v /= p;
        exponent += step;
    }
    *out = v;
    return true;
}

static const struct {
    const char *name;
    int severity;
} level_names[] = {
    { "TRACE", OTELC_SEV_TRACE },    { "DEBUG", OTELC_SEV_DEBUG },  { "INFO", OTELC_SEV_INFO },
    { "WARN", OTELC_SEV_WARN },      { "WARNING", OTELC_SEV_WARN }, { "ERROR", OTELC_SEV_ERROR },
    { "CRITICAL", OTELC_SEV_FATAL }, { "FATAL", OTELC_SEV_FATAL },  { "OFF", OTELC_SEV_OFF },
};

static bool parse_level_text(text_t t, int *out)
{
    uint64_t number;

    t = trim(t);
    if (t.n > 0 && is_digit(t.p[0])) {
        if (!parse_uint(t, 24, &number) || number < 1)
            return false;
        *out = (int)number;
        return true;
    }
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (text_is(t, level_names[i].name)) {
            *out = level_names[i].severity;
            return true;
        }
    }
    return false;
}

bool otelc__parse_level(const char *s, int *out)
{
    if (s == NULL || out == NULL)
        return false;
    return parse_level_text(text_of(s), out);
}

bool otelc_severity_parse(const char *text, int *out)
{
    return otelc__parse_level(text, out);
}

/* Splits one "prefix=LEVEL" item. False for an item that does not parse. */
static bool parse_rule(text_t item, text_t *prefix, int *level)
{
    const char *eq = memchr(item.p, '=', item.n);

    if (eq == NULL)
        return false;
    *prefix = trim((text_t){ item.p, (size_t)(eq - item.p) });
    if (prefix->n == 0)
        return false;
    return parse_level_text((text_t){ eq + 1, item.n - (size_t)(eq + 1 - item.p) }, level);
}

int otelc__logger_level_for(const char *rules, const char *logger_name, int default_level)
{
    const char *cursor = rules;
    text_t item, prefix;
    size_t name_len, best_len = 0;
    int level, best = default_level;

    if (rules == NULL || logger_name == NULL)
        return default_level;
    name_len = strlen(logger_name);
    while (next_item(&cursor, &item)) {
        if (!parse_rule(trim(item), &prefix, &level))
            continue;
        /* The prefix must end at the end of the name or at a dot, so that
         * "trading" covers "trading.risk" but not "tradingdesk". Logger
         * names are compared exactly: they are identifiers, not words. */
        if (prefix.n > name_len || memcmp(logger_name, prefix.p, prefix.n) != 0)
            continue;
        if (logger_name[prefix.n] != '\0' && logger_name[prefix.n] != '.')
            continue;
        if (prefix.n >= best_len) {
            best_len = prefix.n;
            best = level;
        }
    }
    return best;
}

bool otelc__mask_key_match(const char *keys_csv, const char *key, size_t key_len)
{
    const char *cursor = keys_csv != NULL ? keys_csv : OTELC__DEFAULT_MASK_KEYS;
    text_t item;

    if (key == NULL)
        return false;
    if (key_len == OTELC_NUL_TERMINATED)
        key_len = strlen(key);
    while (next_item(&cursor, &item)) {
        item = trim(item);
        if (item.n != key_len || item.n == 0)
            continue;
        size_t i = 0;
        while (i < key_len && ascii_lower(item.p[i]) == ascii_lower(key[i]))
            i++;
        if (i == key_len)
            return true;
    }
    return false;
}

/* ---- defaults ------------------------------------------------------------ */

void otelc_options_default(otelc_options_t *opts)
{
    if (opts == NULL)
        return;
    memset(opts, 0, sizeof(*opts));
    opts->traces_exporter = "console";
    opts->logs_exporter = "console";
    /* The batch processor defaults of the OpenTelemetry specification. */
    opts->spans_batch = (otelc_batch_options_t){ .max_queue_size = 2048,
                                                 .schedule_delay_ms = 5000,
                                                 .export_timeout_ms = 30000,
                                                 .max_export_batch_size = 512 };
    opts->logs_batch = (otelc_batch_options_t){ .max_queue_size = 2048,
                                                .schedule_delay_ms = 1000,
                                                .export_timeout_ms = 30000,
                                                .max_export_batch_size = 512 };
    opts->span_limits = (otelc_limits_t){ .attribute_count = 128,
                                          .attribute_value_length = UINT32_MAX,
                                          .event_count = 128,
                                          .link_count = 128,
                                          .attributes_per_event = 128,
                                          .attributes_per_link = 128 };
    opts->log_limits = opts->span_limits;
    opts->sampler = OTELC_SAMPLER_PARENTBASED_ALWAYS_ON;
    opts->sampler_ratio = 1.0;
    opts->propagators = OTELC_PROPAGATOR_TRACECONTEXT | OTELC_PROPAGATOR_BAGGAGE;
    opts->overflow = OTELC_OVERFLOW_DROP;
    opts->block_timeout_ms = 100;
    opts->ring_size = 0;
    opts->level = OTELC_SEV_INFO;
    opts->console_level = OTELC_SEV_TRACE;
    opts->console_color = -1;
    opts->mask_keys = NULL;
    opts->print_stats = false;
    opts->diag_level = OTELC_DIAG_WARN;
    opts->file = (otelc_file_options_t){ .directory = "logs",
                                         .format = OTELC_FILE_FORMAT_FLAT,
                                         .level = OTELC_SEV_TRACE,
                                         .max_bytes = 10u * 1024u * 1024u,
                                         .max_files = 5,
                                         .rotate_daily = true,
                                         .retention_days = 30,
                                         .compress = false };
    opts->config_file = NULL;
}

/* ---- the environment reader ---------------------------------------------- */

/* The value of `name`, or NULL when it is unset or empty: the OpenTelemetry
 * specification asks that an empty variable be treated as unset. */
static const char *env_get(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Copies `s` for a diagnostic: at most size-1 bytes, control characters
 * escaped (\n, \x1b, ...), so that a hostile value cannot forge or break the
 * line, nor colour a terminal. */
static const char *printable(const char *s, char *buf, size_t size)
{
    return otelc__diag_escape(s, strlen(s), buf, size);
}

/* Reports a rejected value and marks the reader's result. */
static void reject(otelc_status_t *status, const char *var, const char *value, const char *expected,
                   const char *kept)
{
    char key[96];
    char shown[160];

    snprintf(key, sizeof(key), "config.%s", var);
    otelc__diag(OTELC_DIAG_WARN, key,
                "invalid value '%s' for %s: expected %s; using the default %s",
                printable(value, shown, sizeof(shown)), var, expected, kept);
    *status = OTELC_ERR_INVALID;
}

/* Reads an unsigned 32-bit variable from `min` to `max`. Returns true when
 * the variable was set and taken. */
static bool env_u32(otelc_status_t *status, const char *var, uint32_t min, uint32_t max,
                    const char *unit, uint32_t *field)
{
    const char *v = env_get(var);
    char expected[96], kept[32];
    uint32_t n;

    if (v == NULL)
        return false;
    if (parse_u32(v, &n) && n >= min && n <= max) {
        *field = n;
        return true;
    }
    snprintf(expected, sizeof(expected), "%s from %u to %u", unit, (unsigned)min, (unsigned)max);
    snprintf(kept, sizeof(kept), "%u%s", (unsigned)*field,
             *field == UINT32_MAX && min == 0 ? " (no limit)" : "");
    reject(status, var, v, expected, kept);
    return false;
}

/* Reads a variable that is one of `n` words (case-insensitive) into an int. */
static void env_enum(otelc_status_t *status, const char *var, const char *const *words,
                     const int *values, size_t n, const char *expected, int *field)
{
    const char *v = env_get(var);
    const char *kept = "(unknown)";

    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        if (text_is(trim(text_of(v)), words[i])) {
            *field = values[i];
            return;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (values[i] == *field) {
            kept = words[i];
            break;
        }
    }
    reject(status, var, v, expected, kept);
}

static void env_bool(otelc_status_t *status, const char *var, bool numbers, bool *field)
{
    static const char *const words[] = { "true", "false", "1", "0" };
    static const int values[] = { 1, 0, 1, 0 };
    int b = *field;

    env_enum(status, var, words, values, numbers ? 4 : 2,
             numbers ? "true, false, 1 or 0" : "true or false", &b);
    *field = b != 0;
}

static const char *level_name(int level)
{
    return level == OTELC_SEV_OFF ? "OFF" : otelc_severity_text(level);
}

static void env_level(otelc_status_t *status, const char *var, int *field)
{
    const char *v = env_get(var);

    if (v == NULL)
        return;
    if (!otelc__parse_level(v, field))
        reject(status, var, v,
               "TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF or a severity number from 1 to 24",
               level_name(*field));
}

/* OTEL_LOG_LEVEL comes first and takes effect at once, so that
 * OTEL_LOG_LEVEL=none also silences the reports about the other variables. */
static void env_diag_level(otelc_status_t *status, otelc_options_t *opts)
{
    static const char *const words[] = { "none", "error", "warn", "warning", "info", "debug" };
    static const int values[] = { OTELC_DIAG_NONE, OTELC_DIAG_ERROR, OTELC_DIAG_WARN,
                                  OTELC_DIAG_WARN, OTELC_DIAG_INFO,  OTELC_DIAG_DEBUG };

    if (env_get("OTEL_LOG_LEVEL") == NULL)
        return;
    env_enum(status, "OTEL_LOG_LEVEL", words, values, 6, "none, error, warn, info or debug",
             &opts->diag_level);
    otelc__diag_set_level(opts->diag_level);
}

/*
 * OTEL_BSP_* or OTEL_BLRP_*. The specification requires the batch size to be
 * at most the queue size. When the batch size was asked for explicitly, the
 * clamp is reported; when it is only the default (512 with a queue of, say,
 * 100), clamping is the documented behaviour and not the user's mistake.
 */
static void env_batch(otelc_status_t *status, const char *prefix, otelc_batch_options_t *b)
{
    char queue_var[64], batch_var[64], delay_var[64], timeout_var[64];
    bool batch_given;

    snprintf(queue_var, sizeof(queue_var), "%sMAX_QUEUE_SIZE", prefix);
    snprintf(batch_var, sizeof(batch_var), "%sMAX_EXPORT_BATCH_SIZE", prefix);
    snprintf(delay_var, sizeof(delay_var), "%sSCHEDULE_DELAY", prefix);
    snprintf(timeout_var, sizeof(timeout_var), "%sEXPORT_TIMEOUT", prefix);

    env_u32(status, delay_var, 0, UINT32_MAX, "milliseconds", &b->schedule_delay_ms);
    env_u32(status, timeout_var, 0, UINT32_MAX, "milliseconds", &b->export_timeout_ms);
    env_u32(status, queue_var, 1, OTELC__MAX_QUEUE_SIZE, "a count", &b->max_queue_size);
    batch_given = env_u32(status, batch_var, 1, OTELC__MAX_EXPORT_BATCH_SIZE, "a count",
                          &b->max_export_batch_size);
    if (b->max_export_batch_size > b->max_queue_size) {
        if (batch_given) {
            char key[96];

            snprintf(key, sizeof(key), "config.%s", batch_var);
            otelc__diag(OTELC_DIAG_WARN, key, "%s=%u is greater than %s=%u; using %u", batch_var,
                        (unsigned)b->max_export_batch_size, queue_var, (unsigned)b->max_queue_size,
                        (unsigned)b->max_queue_size);
            *status = OTELC_ERR_INVALID;
        }
        b->max_export_batch_size = b->max_queue_size;
    }
}

/* The general attribute limits first, then the specific ones over them. */
static void env_limits(otelc_status_t *status, otelc_options_t *opts)
{
    otelc_limits_t *span = &opts->span_limits, *log = &opts->log_limits;
    uint32_t n;

    n = span->attribute_count;
    if (env_u32(status, "OTEL_ATTRIBUTE_COUNT_LIMIT", 0, UINT32_MAX, "a count", &n)) {
        span->attribute_count = n;
        span->attributes_per_event = n;
        span->attributes_per_link = n;
        log->attribute_count = n;
    }
    n = span->attribute_value_length;
    if (env_u32(status, "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", 0, UINT32_MAX, "a length", &n)) {
        span->attribute_value_length = n;
        log->attribute_value_length = n;
    }
    env_u32(status, "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", 0, UINT32_MAX, "a count",
            &span->attribute_count);
    env_u32(status, "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", 0, UINT32_MAX, "a length",
            &span->attribute_value_length);
    env_u32(status, "OTEL_SPAN_EVENT_COUNT_LIMIT", 0, UINT32_MAX, "a count", &span->event_count);
    env_u32(status, "OTEL_SPAN_LINK_COUNT_LIMIT", 0, UINT32_MAX, "a count", &span->link_count);
    env_u32(status, "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", 0, UINT32_MAX, "a count",
            &span->attributes_per_event);
    env_u32(status, "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", 0, UINT32_MAX, "a count",
            &span->attributes_per_link);
    env_u32(status, "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", 0, UINT32_MAX, "a count",
            &log->attribute_count);
    env_u32(status, "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", 0, UINT32_MAX, "a length",
            &log->attribute_value_length);
}

static void env_sampler(otelc_status_t *status, otelc_options_t *opts)
{
    /* Indexed by otelc_sampler_kind_t. "custom" cannot come from the
     * environment (a function cannot), but it names the program's choice
     * when a value is rejected. jaeger_remote, parentbased_jaeger_remote and
     * xray are valid elsewhere but not built into otelc, so they are
     * rejected like any unknown name. */
    static const char *const names[] = {
        [OTELC_SAMPLER_PARENTBASED_ALWAYS_ON] = "parentbased_always_on",
        [OTELC_SAMPLER_ALWAYS_ON] = "always_on",
        [OTELC_SAMPLER_ALWAYS_OFF] = "always_off",
        [OTELC_SAMPLER_TRACEIDRATIO] = "traceidratio",
        [OTELC_SAMPLER_PARENTBASED_ALWAYS_OFF] = "parentbased_always_off",
        [OTELC_SAMPLER_PARENTBASED_TRACEIDRATIO] = "parentbased_traceidratio",
        [OTELC_SAMPLER_CUSTOM] = "custom",
    };
    const char *v = env_get("OTEL_TRACES_SAMPLER");

    if (v != NULL) {
        size_t i;

        for (i = 0; i < OTELC_SAMPLER_CUSTOM; i++) {
            if (text_is(trim(text_of(v)), names[i]))
                break;
        }
        if (i < OTELC_SAMPLER_CUSTOM)
            opts->sampler = (otelc_sampler_kind_t)i;
        else
            reject(status, "OTEL_TRACES_SAMPLER", v,
                   "always_on, always_off, traceidratio, parentbased_always_on, "
                   "parentbased_always_off or parentbased_traceidratio",
                   (unsigned)opts->sampler <= OTELC_SAMPLER_CUSTOM ? names[opts->sampler]
                                                                   : "(unknown)");
    }

    v = env_get("OTEL_TRACES_SAMPLER_ARG");
    if (v != NULL) {
        double ratio;
        char kept[32];

        if (parse_decimal(trim(text_of(v)), &ratio) && ratio <= 1.0) {
            opts->sampler_ratio = ratio;
        } else {
            snprintf(kept, sizeof(kept), "%g", opts->sampler_ratio);
            reject(status, "OTEL_TRACES_SAMPLER_ARG", v, "a number from 0 to 1", kept);
        }
    }
}

/*
 * OTEL_PROPAGATORS. Known names add to the set, "none" adds nothing, and
 * unknown names (jaeger, xray, ottrace, ...) are reported, all in one line,
 * and skipped. A list with no usable name at all (only unknown ones) keeps
 * the default rather than leave the process without propagation; "none"
 * alone means no propagator.
 */
static void env_propagators(otelc_status_t *status, otelc_options_t *opts)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {
        { "tracecontext", OTELC_PROPAGATOR_TRACECONTEXT },
        { "baggage", OTELC_PROPAGATOR_BAGGAGE },
        { "b3", OTELC_PROPAGATOR_B3 },
        { "b3multi", OTELC_PROPAGATOR_B3MULTI },
        { "none", 0 },
    };
    const char *v = env_get("OTEL_PROPAGATORS");
    const char *cursor = v;
    char unknown[128] = "";
    size_t unknown_len = 0;
    unsigned set = 0, n_unknown = 0;
    bool any_known = false;
    text_t item;

    if (v == NULL)
        return;
    while (next_item(&cursor, &item)) {
        bool known = false;

        item = trim(item);
        if (item.n == 0)
            continue;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            if (text_is(item, names[i].name)) {
                set |= names[i].bit;
                known = true;
            }
        }
        if (known) {
            any_known = true;
            continue;
        }
        /* The unknown names are listed in the report as far as they fit. */
        n_unknown++;
        if (unknown_len + 1 < sizeof(unknown)) {
            int n = snprintf(unknown + unknown_len, sizeof(unknown) - unknown_len, "%s'%.*s'",
                             unknown_len > 0 ? ", " : "", (int)item.n, item.p);

            unknown_len = n > 0 ? unknown_len + (size_t)n : unknown_len;
            if (unknown_len >= sizeof(unknown))
                unknown_len = sizeof(unknown) - 1;
        }
    }
    if (n_unknown > 0) {
        char shown[160], names_shown[sizeof(unknown)], kept[64] = "";
        size_t kept_len = 0;

        /* Names the set that stays when nothing usable was given: the
         * default, or what the program chose before reading the environment. */
        for (size_t i = 0; i + 1 < sizeof(names) / sizeof(names[0]); i++) {
            if ((opts->propagators & names[i].bit) != 0)
                kept_len += (size_t)snprintf(kept + kept_len, sizeof(kept) - kept_len, "%s%s",
                                             kept_len > 0 ? "," : "", names[i].name);
        }
        if (kept_len == 0)
            snprintf(kept, sizeof(kept), "none");

        otelc__diag(OTELC_DIAG_WARN, "config.OTEL_PROPAGATORS",
                    "invalid value '%s' for OTEL_PROPAGATORS: unknown propagator%s %s "
                    "(expected tracecontext, baggage, b3, b3multi or none); %s%s%s",
                    printable(v, shown, sizeof(shown)), n_unknown > 1 ? "s" : "",
                    printable(unknown, names_shown, sizeof(names_shown)),
                    n_unknown > 1 ? "skipping them" : "skipping it",
                    any_known ? "" : "; using the default ", any_known ? "" : kept);
        *status = OTELC_ERR_INVALID;
    }
    if (any_known)
        opts->propagators = set;
}

/* OTELC_RING_SIZE: bytes with an optional k or m (binary) suffix; a power of
 * two from 4 KiB to 1 GiB, or 0 for "derived from the queue sizes". */
static void env_ring_size(otelc_status_t *status, otelc_options_t *opts)
{
    const char *v = env_get("OTELC_RING_SIZE");
    text_t t;
    uint64_t n, unit = 1;
    char kept[32];

    if (v == NULL)
        return;
    t = trim(text_of(v));
    if (t.n > 0 && (t.p[t.n - 1] == 'k' || t.p[t.n - 1] == 'K')) {
        unit = 1024;
        t.n--;
    } else if (t.n > 0 && (t.p[t.n - 1] == 'm' || t.p[t.n - 1] == 'M')) {
        unit = 1024 * 1024;
        t.n--;
    }
    if (parse_uint(t, UINT32_MAX, &n) && n <= (1ull << 30) / unit) {
        n *= unit;
        if (n == 0 || (n >= 4096 && (n & (n - 1)) == 0)) {
            opts->ring_size = (uint32_t)n;
            return;
        }
    }
    snprintf(kept, sizeof(kept), "%u", (unsigned)opts->ring_size);
    reject(status, "OTELC_RING_SIZE", v,
           "a power of two from 4096 to 1073741824 bytes (suffixes k and m allowed) or 0", kept);
}

bool otelc__parse_size(const char *s, uint64_t *out)
{
    text_t t = trim(text_of(s));
    uint64_t n, unit = 1;
    char c;

    if (s == NULL)
        return false;
    /* "10MB", "10 MiB", "10m", "512k", "1g": binary multiples, as a log
     * size always meant in the seeds' configurations. */
    if (t.n > 0 && (t.p[t.n - 1] == 'b' || t.p[t.n - 1] == 'B')) {
        t.n--;
        if (t.n > 0 && t.p[t.n - 1] == 'i')
            t.n--;
    }
    c = t.n > 0 ? ascii_lower(t.p[t.n - 1]) : '\0';
    if (c == 'k' || c == 'm' || c == 'g') {
        unit = c == 'k' ? 1024u : c == 'm' ? 1024u * 1024u : 1024u * 1024u * 1024u;
        t.n--;
        t = trim(t);
    }
    if (!parse_uint(t, UINT64_MAX / unit, &n))
        return false;
    *out = n * unit;
    return true;
}

static void env_size(otelc_status_t *status, const char *var, uint64_t *field)
{
    const char *v = env_get(var);
    char kept[32];

    if (v == NULL || otelc__parse_size(v, field))
        return;
    snprintf(kept, sizeof(kept), "%llu", (unsigned long long)*field);
    reject(status, var, v, "a size in bytes (suffixes k, m, g; 0 for no limit)", kept);
}

/* The file exporter's settings. The channel lists are checked item by item
 * when the exporter starts, which reports them with the variable's name. */
static void env_file(otelc_status_t *status, otelc_file_options_t *f)
{
    static const char *const words[] = { "flat", "otlp" };
    static const int values[] = { OTELC_FILE_FORMAT_FLAT, OTELC_FILE_FORMAT_OTLP };
    const char *v;
    int format = (int)f->format;

    if ((v = env_get("OTELC_FILE_DIR")) != NULL)
        f->directory = v;
    env_enum(status, "OTELC_FILE_FORMAT", words, values, 2, "flat or otlp", &format);
    f->format = (otelc_file_format_t)format;
    env_level(status, "OTELC_FILE_LEVEL", &f->level);
    env_size(status, "OTELC_FILE_MAX_SIZE", &f->max_bytes);
    env_u32(status, "OTELC_FILE_MAX_FILES", 1, UINT32_MAX, "files", &f->max_files);
    env_bool(status, "OTELC_FILE_ROTATE_DAILY", true, &f->rotate_daily);
    env_u32(status, "OTELC_FILE_RETENTION_DAYS", 0, UINT32_MAX, "days", &f->retention_days);
    env_bool(status, "OTELC_FILE_COMPRESS", true, &f->compress);
    if ((v = env_get("OTELC_FILE_CHANNELS")) != NULL)
        f->channel_routes = v;
    if ((v = env_get("OTELC_FILE_CHANNEL_LEVELS")) != NULL)
        f->channel_levels = v;
    if ((v = env_get("OTELC_FILE_CHANNEL_RETENTION")) != NULL)
        f->channel_retention = v;
}

/* Validates OTELC_LOGGER_LEVELS; the items that parse apply, the others are
 * reported together in one line and skipped at run time. */
static void env_logger_levels(otelc_status_t *status, otelc_options_t *opts)
{
    const char *v = env_get("OTELC_LOGGER_LEVELS");
    const char *cursor = v;
    text_t item, prefix;
    int level, bad = 0;
    text_t first_bad = { NULL, 0 };

    if (v == NULL)
        return;
    opts->logger_levels = v;
    while (next_item(&cursor, &item)) {
        item = trim(item);
        if (item.n == 0 || parse_rule(item, &prefix, &level))
            continue;
        if (bad++ == 0)
            first_bad = item;
    }
    if (bad > 0) {
        char shown[160];

        otelc__diag(OTELC_DIAG_WARN, "config.OTELC_LOGGER_LEVELS",
                    "invalid value '%s' for OTELC_LOGGER_LEVELS: item '%.*s'%s is not "
                    "prefix=LEVEL (LEVEL one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF or "
                    "1 to 24); skipping %s",
                    printable(v, shown, sizeof(shown)), (int)(first_bad.n > 64 ? 64 : first_bad.n),
                    first_bad.p, bad > 1 ? " and others" : "", bad > 1 ? "them" : "it");
        *status = OTELC_ERR_INVALID;
    }
}

otelc_status_t otelc_options_from_env(otelc_options_t *opts)
{
    otelc_status_t status = OTELC_OK;
    const char *v;

    if (opts == NULL)
        return OTELC_ERR_INVALID;

    env_diag_level(&status, opts);

    env_bool(&status, "OTEL_SDK_DISABLED", false, &opts->disabled);

    if ((v = env_get("OTEL_SERVICE_NAME")) != NULL)
        opts->service_name = v;
    if ((v = env_get("OTELC_SERVICE_VERSION")) != NULL)
        opts->service_version = v;
    if ((v = env_get("OTEL_RESOURCE_ATTRIBUTES")) != NULL) {
        /* Checked here so that the caller learns of it from the status; an
         * invalid list is stored all the same and ignored as a whole when
         * the resource is built, as the specification asks. */
        const char *why = otelc__resource_attributes_error(v);

        opts->resource_attributes = v;
        if (why != NULL) {
            char shown[160];

            otelc__diag(OTELC_DIAG_WARN, "config.OTEL_RESOURCE_ATTRIBUTES",
                        "invalid value '%s' for OTEL_RESOURCE_ATTRIBUTES: %s (expected "
                        "key=value,... with ',', '=' and '%%' in keys and values "
                        "percent-encoded); ignoring the whole list",
                        printable(v, shown, sizeof(shown)), why);
            status = OTELC_ERR_INVALID;
        }
    }
    if ((v = env_get("OTEL_TRACES_EXPORTER")) != NULL)
        opts->traces_exporter = v;
    if ((v = env_get("OTEL_LOGS_EXPORTER")) != NULL)
        opts->logs_exporter = v;

    env_batch(&status, "OTEL_BSP_", &opts->spans_batch);
    env_batch(&status, "OTEL_BLRP_", &opts->logs_batch);
    env_limits(&status, opts);
    env_sampler(&status, opts);
    env_propagators(&status, opts);

    {
        static const char *const words[] = { "drop", "block" };
        static const int values[] = { OTELC_OVERFLOW_DROP, OTELC_OVERFLOW_BLOCK };
        int overflow = (int)opts->overflow;

        env_enum(&status, "OTELC_OVERFLOW", words, values, 2, "drop or block", &overflow);
        opts->overflow = (otelc_overflow_t)overflow;
    }
    env_u32(&status, "OTELC_BLOCK_TIMEOUT_MS", 0, UINT32_MAX, "milliseconds",
            &opts->block_timeout_ms);
    env_ring_size(&status, opts);

    env_level(&status, "OTELC_LEVEL", &opts->level);
    env_logger_levels(&status, opts);
    env_level(&status, "OTELC_CONSOLE_LEVEL", &opts->console_level);
    {
        static const char *const words[] = { "auto", "always", "never" };
        static const int values[] = { -1, 1, 0 };

        env_enum(&status, "OTELC_CONSOLE_COLOR", words, values, 3, "auto, always or never",
                 &opts->console_color);
    }

    /* An empty variable counts as unset, so OTELC_MASK_KEYS="" cannot say
     * "mask nothing"; the word "none" does. */
    if ((v = env_get("OTELC_MASK_KEYS")) != NULL)
        opts->mask_keys = text_is(trim(text_of(v)), "none") ? "" : v;

    env_file(&status, &opts->file);

    env_bool(&status, "OTELC_STATS", true, &opts->print_stats);
    return status;
}

#ifndef OTELC_HAVE_YAML
/* A build without libyaml (OTELC_WITH_YAML=OFF) cannot read the file; it
 * says so once, and the options come from the defaults and the environment. */
otelc_status_t otelc__config_file_load(const char *path, bool env_ignored, otelc_options_t *opts,
                                       bool *applied)
{
    char shown[160];

    (void)env_ignored;
    if (applied != NULL)
        *applied = false;
    if (path == NULL || opts == NULL || applied == NULL)
        return OTELC_ERR_INVALID;
    otelc__diag(OTELC_DIAG_WARN, "config.file.unsupported",
                "cannot read the configuration file '%s': this otelc was built without YAML "
                "support (OTELC_WITH_YAML=OFF); using the defaults and the environment instead",
                printable(path, shown, sizeof(shown)));
    return OTELC_ERR_UNSUPPORTED;
}

otelc_status_t otelc__config_file_load_buffer(const char *name, const void *data, size_t size,
                                              bool env_ignored, otelc_options_t *opts,
                                              bool *applied)
{
    (void)data;
    (void)size;
    return otelc__config_file_load(name, env_ignored, opts, applied);
}

void otelc__config_file_release(void)
{
}
#endif

/*
 * The configuration file comes between the defaults and the environment
 * (DESIGN.md "Configuration"). With OTEL_CONFIG_FILE set, the specification
 * has the file replace the environment: no other OTEL_* or OTELC_* variable
 * is read then, except through ${VAR} references in the file. The implicit
 * ./otelc.yaml is a convenience of otelc, not of the specification, and the
 * environment still overrides it. A file that cannot be used is reported by
 * the loader, and the options come from the defaults and the environment as
 * if there were no file.
 */
otelc_status_t otelc_options_init(otelc_options_t *opts)
{
    otelc_status_t file_status = OTELC_OK, env_status;
    const char *path;
    bool applied = false;

    if (opts == NULL)
        return OTELC_ERR_INVALID;
    otelc_options_default(opts);
    path = env_get("OTEL_CONFIG_FILE");
    if (path != NULL) {
        file_status = otelc__config_file_load(path, true, opts, &applied);
        if (applied)
            return file_status;
    } else if (access(OTELC__CONFIG_FILE_IMPLICIT, F_OK) == 0) {
        file_status = otelc__config_file_load(OTELC__CONFIG_FILE_IMPLICIT, false, opts, &applied);
    }
    env_status = otelc_options_from_env(opts);
    return file_status != OTELC_OK ? file_status : env_status;
}
