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
#include "settings_int.h"

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

bool otelc__parse_decimal(const char *s, size_t n, double *out)
{
    return s != NULL && out != NULL && parse_decimal((text_t){ s, n }, out);
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

/* Copies `s` for a diagnostic: at most size-1 bytes, control characters
 * escaped (\n, \x1b, ...), so that a hostile value cannot forge or break the
 * line, nor colour a terminal. */
static const char *printable(const char *s, char *buf, size_t size)
{
    return otelc__diag_escape(s, strlen(s), buf, size);
}

/* ---- the core's rows -------------------------------------------------------------- */

/*
 * The settings of the core, one row each (otelc/settings.h): the same rows
 * read the environment, the config file (where a row has a key; the
 * structural parts of the OpenTelemetry schema -- processors, samplers,
 * resource attributes, composite propagators -- are walked in yaml/ and
 * hand their values to these rows) and otelc_options_set(). The order is
 * the order of reading: the general attribute limits before the specific
 * ones, which override them.
 */

#define OFF(field) offsetof(otelc_options_t, field)

static const otelc_setting_word_t diag_words[] = {
    { "none", OTELC_DIAG_NONE },   { "error", OTELC_DIAG_ERROR }, { "fatal", OTELC_DIAG_ERROR },
    { "warn", OTELC_DIAG_WARN },   { "warning", OTELC_DIAG_WARN }, { "info", OTELC_DIAG_INFO },
    { "debug", OTELC_DIAG_DEBUG }, { "trace", OTELC_DIAG_DEBUG },  { NULL, 0 },
};

static const otelc_setting_word_t sampler_words[] = {
    { "parentbased_always_on", OTELC_SAMPLER_PARENTBASED_ALWAYS_ON },
    { "always_on", OTELC_SAMPLER_ALWAYS_ON },
    { "always_off", OTELC_SAMPLER_ALWAYS_OFF },
    { "traceidratio", OTELC_SAMPLER_TRACEIDRATIO },
    { "parentbased_always_off", OTELC_SAMPLER_PARENTBASED_ALWAYS_OFF },
    { "parentbased_traceidratio", OTELC_SAMPLER_PARENTBASED_TRACEIDRATIO },
    { NULL, 0 },
};

static const otelc_setting_word_t overflow_words[] = {
    { "drop", OTELC_OVERFLOW_DROP },
    { "block", OTELC_OVERFLOW_BLOCK },
    { NULL, 0 },
};

static const otelc_setting_word_t color_words[] = {
    { "auto", -1 },
    { "always", 1 },
    { "never", 0 },
    { NULL, 0 },
};

/* OTEL_ATTRIBUTE_COUNT_LIMIT: every attribute count of spans, events,
 * links and logs; the specific limits that follow override it. */
static otelc_setting_verdict_t parse_attribute_count(const otelc_setting_t *row, const char *text,
                                                     size_t len, void *settings, char *why,
                                                     size_t why_size)
{
    otelc_options_t *o = settings;
    uint64_t n;

    (void)row;
    (void)why;
    (void)why_size;
    if (!parse_uint((text_t){ text, len }, UINT32_MAX, &n))
        return OTELC_SETTING_REJECTED;
    o->span_limits.attribute_count = o->log_limits.attribute_count = (uint32_t)n;
    o->span_limits.attributes_per_event = o->span_limits.attributes_per_link = (uint32_t)n;
    return OTELC_SETTING_TAKEN;
}

static void show_attribute_count(const otelc_setting_t *row, const void *settings, char *buf,
                                 size_t size)
{
    const otelc_options_t *o = settings;

    (void)row;
    snprintf(buf, size, "%u", (unsigned)o->span_limits.attribute_count);
}

/* OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: of spans and logs. */
static otelc_setting_verdict_t parse_value_length(const otelc_setting_t *row, const char *text,
                                                  size_t len, void *settings, char *why,
                                                  size_t why_size)
{
    otelc_options_t *o = settings;
    uint64_t n;

    (void)row;
    (void)why;
    (void)why_size;
    if (!parse_uint((text_t){ text, len }, UINT32_MAX, &n))
        return OTELC_SETTING_REJECTED;
    o->span_limits.attribute_value_length = o->log_limits.attribute_value_length = (uint32_t)n;
    return OTELC_SETTING_TAKEN;
}

static void show_value_length(const otelc_setting_t *row, const void *settings, char *buf,
                              size_t size)
{
    const otelc_options_t *o = settings;
    uint32_t n = o->span_limits.attribute_value_length;

    (void)row;
    snprintf(buf, size, "%u%s", (unsigned)n, n == UINT32_MAX ? " (no limit)" : "");
}

/* OTEL_TRACES_SAMPLER_ARG: a ratio from 0 to 1. */
static otelc_setting_verdict_t parse_ratio(const otelc_setting_t *row, const char *text,
                                           size_t len, void *settings, char *why, size_t why_size)
{
    double ratio;

    (void)row;
    (void)why;
    (void)why_size;
    if (!parse_decimal((text_t){ text, len }, &ratio) || ratio > 1.0)
        return OTELC_SETTING_REJECTED;
    ((otelc_options_t *)settings)->sampler_ratio = ratio;
    return OTELC_SETTING_TAKEN;
}

static void show_ratio(const otelc_setting_t *row, const void *settings, char *buf, size_t size)
{
    (void)row;
    snprintf(buf, size, "%g", ((const otelc_options_t *)settings)->sampler_ratio);
}

static const struct {
    const char *name;
    unsigned bit;
} propagator_names[] = {
    { "tracecontext", OTELC_PROPAGATOR_TRACECONTEXT },
    { "baggage", OTELC_PROPAGATOR_BAGGAGE },
    { "b3", OTELC_PROPAGATOR_B3 },
    { "b3multi", OTELC_PROPAGATOR_B3MULTI },
    { "none", 0 },
};

#define N_PROPAGATOR_NAMES (sizeof(propagator_names) / sizeof(propagator_names[0]))

/*
 * OTEL_PROPAGATORS (and the config file's composite_list). Known names add
 * to the set, "none" adds nothing, unknown names (jaeger, xray, ottrace,
 * ...) are reported, all in one line, and skipped. A list with no usable
 * name at all keeps what was there rather than leave the process without
 * propagation; "none" alone means no propagator.
 */
static otelc_setting_verdict_t parse_propagators(const otelc_setting_t *row, const char *text,
                                                 size_t len, void *settings, char *why,
                                                 size_t why_size)
{
    otelc_options_t *o = settings;
    const char *p = text, *end = text + len;
    size_t why_len = 0;
    unsigned set = 0, n_unknown = 0;
    bool any_known = false;

    (void)row;
    why[0] = '\0';
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        text_t item = trim((text_t){ p, comma != NULL ? (size_t)(comma - p) : (size_t)(end - p) });
        bool known = false;

        p = comma != NULL ? comma + 1 : end + 1;
        if (item.n == 0)
            continue;
        for (size_t i = 0; i < N_PROPAGATOR_NAMES; i++) {
            if (text_is(item, propagator_names[i].name)) {
                set |= propagator_names[i].bit;
                known = true;
            }
        }
        if (known) {
            any_known = true;
            continue;
        }
        if (n_unknown++ == 0)
            why_len = (size_t)snprintf(why, why_size, "unknown propagator");
        if (why_len + 1 < why_size) {
            int n = snprintf(why + why_len, why_size - why_len, "%s '%.*s'",
                             n_unknown > 1 ? "," : "", (int)(item.n > 32 ? 32 : item.n), item.p);

            why_len = n > 0 ? why_len + (size_t)n : why_len;
            if (why_len >= why_size)
                why_len = why_size - 1;
        }
    }
    if (n_unknown > 1 && why_len + 3 < why_size) {
        /* "unknown propagator 'a', 'b'" -> "unknown propagators 'a', 'b'" */
        memmove(why + 18 + 1, why + 18, why_len - 18 + 1);
        why[18] = 's';
    }
    if (!any_known)
        return n_unknown > 0 ? OTELC_SETTING_REJECTED : OTELC_SETTING_TAKEN;
    o->propagators = set;
    return n_unknown > 0 ? OTELC_SETTING_PARTLY : OTELC_SETTING_TAKEN;
}

static void show_propagators(const otelc_setting_t *row, const void *settings, char *buf,
                             size_t size)
{
    const otelc_options_t *o = settings;
    size_t len = 0;

    (void)row;
    buf[0] = '\0';
    for (size_t i = 0; i + 1 < N_PROPAGATOR_NAMES; i++) {
        if ((o->propagators & propagator_names[i].bit) != 0 && len < size)
            len += (size_t)snprintf(buf + len, size - len, "%s%s", len > 0 ? "," : "",
                                    propagator_names[i].name);
    }
    if (len == 0)
        snprintf(buf, size, "none");
}

/* OTELC_RING_SIZE: bytes with an optional suffix; a power of two from
 * 4 KiB to 1 GiB, or 0 for "derived from the queue sizes". */
static otelc_setting_verdict_t parse_ring_size(const otelc_setting_t *row, const char *text,
                                               size_t len, void *settings, char *why,
                                               size_t why_size)
{
    char buf[64];
    uint64_t n;

    (void)row;
    (void)why;
    (void)why_size;
    if (len >= sizeof(buf))
        return OTELC_SETTING_REJECTED;
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (!otelc__parse_size(buf, &n) || n > (1ull << 30) ||
        (n != 0 && (n < 4096 || (n & (n - 1)) != 0)))
        return OTELC_SETTING_REJECTED;
    ((otelc_options_t *)settings)->ring_size = (uint32_t)n;
    return OTELC_SETTING_TAKEN;
}

static void show_ring_size(const otelc_setting_t *row, const void *settings, char *buf,
                           size_t size)
{
    (void)row;
    snprintf(buf, size, "%u", (unsigned)((const otelc_options_t *)settings)->ring_size);
}

#define BATCH_ROWS(ENV, KEY, FIELD, DELAY)                                                         \
    { .env = ENV "SCHEDULE_DELAY", .type = OTELC_SETTING_UINT,                                     \
      .offset = OFF(FIELD.schedule_delay_ms), .def = DELAY, .max = UINT32_MAX,                     \
      .unit = "milliseconds", .doc = "longest wait before a partial batch is exported" },          \
    { .env = ENV "EXPORT_TIMEOUT", .type = OTELC_SETTING_UINT,                                     \
      .offset = OFF(FIELD.export_timeout_ms), .def = "30000", .max = UINT32_MAX,                   \
      .unit = "milliseconds", .doc = "longest one export call may take" },                         \
    { .env = ENV "MAX_QUEUE_SIZE", .type = OTELC_SETTING_UINT,                                     \
      .offset = OFF(FIELD.max_queue_size), .def = "2048", .min = 1,                                \
      .max = OTELC__MAX_QUEUE_SIZE, .unit = "records", .doc = "records waiting to be exported" },  \
    { .env = ENV "MAX_EXPORT_BATCH_SIZE", .type = OTELC_SETTING_UINT,                              \
      .offset = OFF(FIELD.max_export_batch_size), .def = "512", .min = 1,                          \
      .max = OTELC__MAX_EXPORT_BATCH_SIZE, .unit = "records",                                      \
      .doc = "records in one export call; at most the queue size" }

#define LIMIT_ROW(ENV, KEY, FIELD, DEF, UNIT)                                                      \
    { .env = ENV, .key = KEY, .type = OTELC_SETTING_UINT, .offset = OFF(FIELD), .def = DEF,        \
      .max = UINT32_MAX, .unit = UNIT, .flags = OTELC_SETTING_NO_LIMIT }

const otelc_setting_t otelc__core_settings[] = {
    /* First: it decides which reports about the others are shown. */
    { .env = "OTEL_LOG_LEVEL", .key = "log_level", .type = OTELC_SETTING_ENUM,
      .offset = OFF(diag_level), .def = "warn", .words = diag_words,
      .expected = "none, error, warn, info or debug", .doc = "otelc's own diagnostics" },
    { .env = "OTEL_SDK_DISABLED", .key = "disabled", .type = OTELC_SETTING_BOOL,
      .offset = OFF(disabled), .def = "false", .doc = "every call a no-op" },
    { .env = "OTEL_SERVICE_NAME", .type = OTELC_SETTING_STRING, .offset = OFF(service_name),
      .doc = "service.name" },
    { .env = "OTELC_SERVICE_VERSION", .type = OTELC_SETTING_STRING,
      .offset = OFF(service_version), .doc = "service.version" },
    { .env = "OTEL_RESOURCE_ATTRIBUTES", .type = OTELC_SETTING_STRING,
      .offset = OFF(resource_attributes), .doc = "key=value,... (percent-encoded)" },
    { .env = "OTEL_TRACES_EXPORTER", .type = OTELC_SETTING_STRING,
      .offset = OFF(traces_exporter), .def = "console", .doc = "exporters of spans" },
    { .env = "OTEL_LOGS_EXPORTER", .type = OTELC_SETTING_STRING, .offset = OFF(logs_exporter),
      .def = "console", .doc = "exporters of logs" },
    BATCH_ROWS("OTEL_BSP_", "tracer_provider", spans_batch, "5000"),
    BATCH_ROWS("OTEL_BLRP_", "logger_provider", logs_batch, "1000"),
    { .env = "OTEL_ATTRIBUTE_COUNT_LIMIT", .key = "attribute_limits.attribute_count_limit",
      .type = OTELC_SETTING_CUSTOM, .offset = OFF(span_limits), .def = "128",
      .expected = "a count from 0 to 4294967295", .parse = parse_attribute_count,
      .show = show_attribute_count, .doc = "attributes per span, event, link and log" },
    { .env = "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
      .key = "attribute_limits.attribute_value_length_limit", .type = OTELC_SETTING_CUSTOM,
      .offset = OFF(span_limits), .def = "4294967295",
      .expected = "a length from 0 to 4294967295", .parse = parse_value_length,
      .show = show_value_length, .doc = "longest string value of spans and logs" },
    LIMIT_ROW("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "tracer_provider.limits.attribute_count_limit",
              span_limits.attribute_count, NULL, "a count"),
    LIMIT_ROW("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
              "tracer_provider.limits.attribute_value_length_limit",
              span_limits.attribute_value_length, NULL, "a length"),
    LIMIT_ROW("OTEL_SPAN_EVENT_COUNT_LIMIT", "tracer_provider.limits.event_count_limit",
              span_limits.event_count, "128", "a count"),
    LIMIT_ROW("OTEL_SPAN_LINK_COUNT_LIMIT", "tracer_provider.limits.link_count_limit",
              span_limits.link_count, "128", "a count"),
    LIMIT_ROW("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
              "tracer_provider.limits.event_attribute_count_limit",
              span_limits.attributes_per_event, NULL, "a count"),
    LIMIT_ROW("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "tracer_provider.limits.link_attribute_count_limit",
              span_limits.attributes_per_link, NULL, "a count"),
    LIMIT_ROW("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
              "logger_provider.limits.attribute_count_limit", log_limits.attribute_count, NULL,
              "a count"),
    LIMIT_ROW("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
              "logger_provider.limits.attribute_value_length_limit",
              log_limits.attribute_value_length, NULL, "a length"),
    { .env = "OTEL_TRACES_SAMPLER", .type = OTELC_SETTING_ENUM, .offset = OFF(sampler),
      .def = "parentbased_always_on", .words = sampler_words,
      .expected = "always_on, always_off, traceidratio, parentbased_always_on, "
                  "parentbased_always_off or parentbased_traceidratio",
      .doc = "the sampler" },
    { .env = "OTEL_TRACES_SAMPLER_ARG", .type = OTELC_SETTING_CUSTOM, .offset = OFF(sampler_ratio),
      .def = "1", .expected = "a number from 0 to 1", .parse = parse_ratio, .show = show_ratio,
      .doc = "the ratio of traceidratio samplers" },
    { .env = "OTEL_PROPAGATORS", .type = OTELC_SETTING_CUSTOM,
      .offset = OFF(propagators), .def = "tracecontext,baggage",
      .expected = "tracecontext, baggage, b3, b3multi or none", .parse = parse_propagators,
      .show = show_propagators, .doc = "propagators, comma-separated" },
    { .env = "OTELC_OVERFLOW", .key = "otelc.overflow", .type = OTELC_SETTING_ENUM,
      .offset = OFF(overflow), .def = "drop", .words = overflow_words,
      .doc = "a full thread buffer: drop the record or block" },
    { .env = "OTELC_BLOCK_TIMEOUT_MS", .key = "otelc.block_timeout_ms", .type = OTELC_SETTING_UINT,
      .offset = OFF(block_timeout_ms), .def = "100", .max = UINT32_MAX, .unit = "milliseconds",
      .doc = "longest wait with overflow block" },
    { .env = "OTELC_RING_SIZE", .key = "otelc.ring_size", .type = OTELC_SETTING_CUSTOM,
      .offset = OFF(ring_size), .def = "0",
      .expected = "0 or a power of two from 4096 to 1073741824 bytes (suffixes k, m and g "
                  "allowed, as in 1MiB)",
      .parse = parse_ring_size, .show = show_ring_size, .doc = "bytes of buffer per thread" },
    { .env = "OTELC_LEVEL", .key = "otelc.level", .type = OTELC_SETTING_LEVEL, .offset = OFF(level),
      .def = "INFO", .doc = "the loggers' minimum level" },
    { .env = "OTELC_LOGGER_LEVELS", .key = "otelc.loggers", .type = OTELC_SETTING_KEYED,
      .value_type = OTELC_SETTING_LEVEL, .offset = OFF(logger_levels),
      .expected = "prefix=LEVEL,... (LEVEL one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF "
                  "or 1 to 24)",
      .doc = "levels per logger-name prefix" },
    { .env = "OTELC_CONSOLE_LEVEL", .key = "otelc.console.level", .type = OTELC_SETTING_LEVEL,
      .offset = OFF(console_level), .def = "TRACE", .doc = "the console exporter's minimum" },
    { .env = "OTELC_CONSOLE_COLOR", .key = "otelc.console.color", .type = OTELC_SETTING_ENUM,
      .offset = OFF(console_color), .def = "auto", .words = color_words,
      .doc = "colours on the console" },
    { .env = "OTELC_MASK_KEYS", .key = "otelc.mask_keys", .type = OTELC_SETTING_LIST,
      .offset = OFF(mask_keys),
      .expected = "a list of attribute keys (or one comma-separated string)",
      .doc = "attribute keys whose values are masked; none for no key" },
    { .env = "OTELC_STATS", .key = "otelc.stats", .type = OTELC_SETTING_BOOL,
      .offset = OFF(print_stats), .def = "false", .flags = OTELC_SETTING_NUMBERS,
      .doc = "a summary line at shutdown" },
};

const size_t otelc__n_core_settings = sizeof(otelc__core_settings) / sizeof(otelc__core_settings[0]);

/* ---- defaults ------------------------------------------------------------ */

void otelc_options_default_sized(otelc_options_t *opts, size_t struct_size)
{
    otelc_options_t o;

    if (opts == NULL)
        return;
    memset(&o, 0, sizeof(o));
    otelc__settings_defaults(otelc__core_settings, otelc__n_core_settings, &o);
    /* A struct of an older header is shorter: fill what it has. */
    if (struct_size == 0 || struct_size > sizeof(o))
        struct_size = sizeof(o);
    o.struct_size = struct_size;
    memcpy(opts, &o, struct_size);
}

/* ---- the environment reader ---------------------------------------------- */

/* Rows read apart: OTEL_LOG_LEVEL first. */
static bool skip_log_level(const otelc_setting_t *row)
{
    return row == &otelc__core_settings[0];
}

/* OTEL_BSP_* or OTEL_BLRP_*: the specification requires the batch size to be
 * at most the queue size. When the batch size was asked for explicitly, the
 * clamp is reported; when it is only the default (512 with a queue of, say,
 * 100), clamping is the documented behaviour and not the user's mistake. */
static void clamp_batch(otelc_status_t *status, const char *prefix, otelc_batch_options_t *b)
{
    char queue_var[64], batch_var[64];

    if (b->max_export_batch_size <= b->max_queue_size)
        return;
    snprintf(queue_var, sizeof(queue_var), "%sMAX_QUEUE_SIZE", prefix);
    snprintf(batch_var, sizeof(batch_var), "%sMAX_EXPORT_BATCH_SIZE", prefix);
    if (otelc__env_get(batch_var) != NULL) {
        char key[96];

        snprintf(key, sizeof(key), "config.%s", batch_var);
        otelc__diag(OTELC_DIAG_WARN, key, "%s=%u is greater than %s=%u; using %u", batch_var,
                    (unsigned)b->max_export_batch_size, queue_var, (unsigned)b->max_queue_size,
                    (unsigned)b->max_queue_size);
        *status = OTELC_ERR_INVALID;
    }
    b->max_export_batch_size = b->max_queue_size;
}

otelc_status_t otelc_options_from_env(otelc_options_t *opts)
{
    otelc_status_t status = OTELC_OK;
    otelc_options_t o;
    struct otelc_component_set *set;
    const char *v;
    size_t size;

    if (opts == NULL)
        return OTELC_ERR_INVALID;
    /* A struct of an older header: read into a whole one. */
    size = otelc__options_size(opts);
    otelc_options_default(&o);
    memcpy(&o, opts, size);
    o.struct_size = size;

    /* OTEL_LOG_LEVEL takes effect at once, so that OTEL_LOG_LEVEL=none also
     * silences the reports about the other variables. */
    otelc__settings_from_env(otelc__core_settings, 1, &o, NULL, &status);
    if (otelc__env_get("OTEL_LOG_LEVEL") != NULL)
        otelc__diag_set_level(o.diag_level);
    otelc__settings_from_env(otelc__core_settings, otelc__n_core_settings, &o, skip_log_level,
                             &status);

    /* Checked here so that the caller learns of it from the status; an
     * invalid list is stored all the same and ignored as a whole when the
     * resource is built, as the specification asks. */
    if ((v = otelc__env_get("OTEL_RESOURCE_ATTRIBUTES")) != NULL) {
        const char *why = otelc__resource_attributes_error(v);

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
    clamp_batch(&status, "OTEL_BSP_", &o.spans_batch);
    clamp_batch(&status, "OTEL_BLRP_", &o.logs_batch);

    /* The components' rows, in a set of these options' own. */
    set = otelc__component_set_clone(o.components, NULL);
    if (set != NULL) {
        o.components = set;
        for (size_t i = 0; i < set->n; i++)
            otelc__settings_from_env(set->item[i].component->settings,
                                     set->item[i].component->n_settings, set->item[i].values,
                                     NULL, &status);
    } else {
        otelc__diag(OTELC_DIAG_ERROR, "config.nomem",
                    "out of memory reading the exporters' settings from the environment; "
                    "they keep what they had");
        status = OTELC_ERR_NOMEM;
    }
    memcpy(opts, &o, size);
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
otelc_status_t otelc_options_init_sized(otelc_options_t *opts, size_t struct_size)
{
    otelc_status_t file_status = OTELC_OK, env_status;
    const char *path;
    bool applied = false;

    if (opts == NULL)
        return OTELC_ERR_INVALID;
    otelc_options_default_sized(opts, struct_size);
    path = otelc__env_get("OTEL_CONFIG_FILE");
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
