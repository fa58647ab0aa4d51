/*
 * fuzz_logger_levels.c: otelc__logger_level_for() with the input as the
 * OTELC_LOGGER_LEVELS rules, and otelc__parse_level() on the input and on
 * each of its items.
 *
 * Both are compared with a model written here from the contract in
 * config_int.h, for a few fixed logger names and for names made from the
 * prefixes of the rules themselves (the prefix, a child of it, a name that
 * merely starts with it). The input is a NUL-terminated heap copy of exactly
 * its size; bytes after a NUL are not seen, as with an environment variable.
 */
#include "fuzz_check.h"
#include "config_int.h"

#include <string.h>

#define DEFAULT_LEVEL 77 /* not a level, so that "no match" is visible */

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void trim(const char **p, size_t *n)
{
    while (*n > 0 && blank((*p)[0])) {
        (*p)++;
        (*n)--;
    }
    while (*n > 0 && blank((*p)[*n - 1]))
        (*n)--;
}

static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* The model of otelc__parse_level() on s[0 .. n); -1 when it does not parse. */
static int model_level(const char *s, size_t n)
{
    static const struct {
        const char *name;
        int level;
    } names[] = { { "TRACE", 1 },  { "DEBUG", 5 },     { "INFO", 9 },
                  { "WARN", 13 },  { "WARNING", 13 },  { "ERROR", 17 },
                  { "FATAL", 21 }, { "CRITICAL", 21 }, { "OFF", 25 } };

    trim(&s, &n);
    if (n > 0 && s[0] >= '0' && s[0] <= '9') {
        unsigned v = 0;
        for (size_t i = 0; i < n; i++) {
            if (s[i] < '0' || s[i] > '9')
                return -1;
            v = v * 10 + (unsigned)(s[i] - '0');
            if (v > 24)
                return -1;
        }
        return v >= 1 ? (int)v : -1;
    }
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        size_t i = 0;
        if (strlen(names[k].name) != n)
            continue;
        while (i < n && upper(s[i]) == names[k].name[i])
            i++;
        if (i == n)
            return names[k].level;
    }
    return -1;
}

/* The level otelc__parse_level() gives a NUL-terminated copy of s[0 .. n). */
static int real_level(const char *s, size_t n)
{
    char buf[64];
    int level = -1;

    if (n >= sizeof(buf) || memchr(s, '\0', n) != NULL)
        return -2; /* not compared */
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (!otelc__parse_level(buf, &level))
        return -1;
    FUZZ_CHECK(level >= 1 && level <= 25);
    return level;
}

/* The model of otelc__logger_level_for(). */
static int model_level_for(const char *rules, const char *name)
{
    size_t name_len = strlen(name), best_len = 0;
    int best = DEFAULT_LEVEL;

    for (const char *p = rules; p != NULL;) {
        const char *item = p, *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        const char *eq = memchr(item, '=', n);
        const char *prefix = item;
        size_t prefix_len;
        int level;

        p = comma != NULL ? comma + 1 : NULL;
        if (eq == NULL)
            continue;
        prefix_len = (size_t)(eq - item);
        trim(&prefix, &prefix_len);
        level = model_level(eq + 1, n - (size_t)(eq + 1 - item));
        if (prefix_len == 0 || level < 0)
            continue;
        /* The name itself, or the name continuing with a dot. */
        if (prefix_len > name_len || memcmp(prefix, name, prefix_len) != 0)
            continue;
        if (name[prefix_len] != '\0' && name[prefix_len] != '.')
            continue;
        if (prefix_len >= best_len) {
            best_len = prefix_len;
            best = level;
        }
    }
    return best;
}

static void check_name(const char *rules, const char *name)
{
    int got = otelc__logger_level_for(rules, name, DEFAULT_LEVEL);

    FUZZ_CHECK(got == DEFAULT_LEVEL || (got >= 1 && got <= 25));
    if (got != model_level_for(rules, name)) {
        fprintf(stderr, "logger '%s': otelc__logger_level_for gives %d, the model %d\n", name, got,
                model_level_for(rules, name));
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const fixed[] = {
        "", "a", "a.b", "trading", "trading.risk", "tradingdesk", "root", "x.y.z"
    };
    char *rules = malloc(size + 1);
    char name[80];
    unsigned items = 0;

    FUZZ_CHECK(rules != NULL);
    if (size > 0)
        memcpy(rules, data, size);
    rules[size] = '\0';

    /* The whole input as a level. */
    {
        int level = -1, model = model_level(rules, strlen(rules));
        bool ok = otelc__parse_level(rules, &level);
        FUZZ_CHECK(ok == (model >= 0));
        FUZZ_CHECK(!ok || level == model);
        FUZZ_CHECK(!otelc__parse_level(NULL, &level));
    }

    FUZZ_CHECK(otelc__logger_level_for(NULL, "a", DEFAULT_LEVEL) == DEFAULT_LEVEL);
    FUZZ_CHECK(otelc__logger_level_for(rules, NULL, DEFAULT_LEVEL) == DEFAULT_LEVEL);
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        check_name(rules, fixed[i]);

    /* Names from the rules' own prefixes, and each item's level text. Each
     * name costs a pass over all the rules, so the names come from the first
     * items only, which keeps long lists linear. */
    for (const char *p = rules; p != NULL && items++ < 16;) {
        const char *item = p, *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        const char *eq = memchr(item, '=', n);
        const char *prefix = item;
        size_t prefix_len;

        p = comma != NULL ? comma + 1 : NULL;
        if (eq == NULL)
            continue;
        {
            const char *level_text = eq + 1;
            size_t level_len = n - (size_t)(level_text - item);
            int real = real_level(level_text, level_len);
            if (real != -2)
                FUZZ_CHECK(real == model_level(level_text, level_len));
        }
        prefix_len = (size_t)(eq - item);
        trim(&prefix, &prefix_len);
        if (prefix_len == 0 || prefix_len + 3 > sizeof(name))
            continue;
        memcpy(name, prefix, prefix_len);
        name[prefix_len] = '\0';
        check_name(rules, name);
        memcpy(name + prefix_len, ".c", 3);
        check_name(rules, name);
        memcpy(name + prefix_len, "c", 2);
        check_name(rules, name);
        if (prefix_len > 1) {
            name[prefix_len - 1] = '\0';
            check_name(rules, name);
        }
    }
    free(rules);
    return 0;
}
