/*
 * settings.c: the settings engine -- rows read by type, the registry of
 * components, the sets of component settings an otelc_options_t carries,
 * and the environment reader every component shares.
 *
 * A row is read the same way from every source; only the report differs
 * (config.c and yaml/ make it). The parsers are those of config.c, which
 * take no sign, no blanks inside, no hex and no locale.
 */
#include "settings_int.h"

#include "config_int.h"
#include "diag.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COMPONENTS 32

/* Longest number, level or word a row reads; longer text does not read. */
#define MAX_WORD 128

/* ---- kept memory ----------------------------------------------------------------- */

/* Blocks that live as long as the process, linked so that they stay
 * reachable for leak checkers. */
typedef struct kept {
    struct kept *next;
    max_align_t data[];
} kept_t;

static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static kept_t *kept_list;

static char *kept_alloc(void *ctx, size_t n)
{
    kept_t *k;

    (void)ctx;
    if (n > SIZE_MAX - sizeof(kept_t))
        return NULL;
    k = calloc(1, sizeof(kept_t) + n);
    if (k == NULL)
        return NULL;
    pthread_mutex_lock(&kept_lock);
    k->next = kept_list;
    kept_list = k;
    pthread_mutex_unlock(&kept_lock);
    return (char *)k->data;
}

const otelc__setting_alloc_t otelc__settings_kept = { kept_alloc, NULL };

/* ---- text ------------------------------------------------------------------------ */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool word_is(const char *s, size_t n, const char *word)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (word[i] == '\0' || lower(s[i]) != lower(word[i]))
            return false;
    }
    return word[i] == '\0';
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_blank((*s)[0])) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_blank((*s)[*n - 1]))
        (*n)--;
}

/* A NUL-terminated copy of a short text, or false when it is too long. */
static bool small_copy(const char *s, size_t n, char buf[MAX_WORD])
{
    if (n >= MAX_WORD)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return true;
}

/* Decimal digits only, at least one, at most `max`. */
static bool read_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned d;

        if (s[i] < '0' || s[i] > '9')
            return false;
        d = (unsigned)(s[i] - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static char *copy_text(const otelc__setting_alloc_t *alloc, const char *s, size_t n)
{
    char *p = alloc->fn(alloc->ctx, n + 1);

    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* ---- one value -------------------------------------------------------------------- */

static const char *level_name(int level)
{
    return level == OTELC_SEV_OFF ? "OFF" : level == 0 ? "0" : otelc_severity_text(level);
}

#define LEVELS_EXPECTED                                                                            \
    "TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF or a severity number from 1 to 24"

void otelc__setting_expected(const otelc_setting_t *row, otelc_setting_type_t type, char *buf,
                             size_t size)
{
    size_t len = 0;

    if (row->expected != NULL && type == row->type) {
        snprintf(buf, size, "%s", row->expected);
        return;
    }
    switch (type) {
    case OTELC_SETTING_BOOL:
        snprintf(buf, size, "%s",
                 (row->flags & OTELC_SETTING_NUMBERS) != 0 ? "true, false, 1 or 0"
                                                           : "true or false");
        break;
    case OTELC_SETTING_UINT:
        snprintf(buf, size, "%s from %llu to %llu", row->unit != NULL ? row->unit : "a number",
                 (unsigned long long)row->min, (unsigned long long)row->max);
        break;
    case OTELC_SETTING_SIZE:
        snprintf(buf, size, "a size in bytes (suffixes k, m, g, as in 10MB; 0 for no limit)");
        break;
    case OTELC_SETTING_ENUM:
        buf[0] = '\0';
        for (const otelc_setting_word_t *w = row->words; w != NULL && w->word != NULL; w++) {
            bool last = w[1].word == NULL;
            int n = snprintf(buf + len, size - len, "%s%s", len == 0 ? "" : last ? " or " : ", ",
                             w->word);

            if (n < 0 || (size_t)n >= size - len)
                break;
            len += (size_t)n;
        }
        break;
    case OTELC_SETTING_LEVEL:
        snprintf(buf, size, "%s", LEVELS_EXPECTED);
        break;
    case OTELC_SETTING_LIST:
        snprintf(buf, size, "a list (or one comma-separated string)");
        break;
    case OTELC_SETTING_KEYED:
        snprintf(buf, size, "name=value,...");
        break;
    default:
        snprintf(buf, size, "a string without NUL characters");
        break;
    }
}

void otelc__setting_show(const otelc_setting_t *row, const void *base, char *buf, size_t size)
{
    const char *field = (const char *)base + row->offset;

    switch (row->type) {
    case OTELC_SETTING_BOOL:
        snprintf(buf, size, "%s", *(const bool *)field ? "true" : "false");
        break;
    case OTELC_SETTING_UINT: {
        uint32_t v = *(const uint32_t *)field;

        snprintf(buf, size, "%u%s", (unsigned)v,
                 v == UINT32_MAX && (row->flags & OTELC_SETTING_NO_LIMIT) != 0 ? " (no limit)"
                                                                               : "");
        break;
    }
    case OTELC_SETTING_SIZE:
        snprintf(buf, size, "%llu", (unsigned long long)*(const uint64_t *)field);
        break;
    case OTELC_SETTING_ENUM: {
        int v = *(const int *)field;

        snprintf(buf, size, "(unknown)");
        for (const otelc_setting_word_t *w = row->words; w != NULL && w->word != NULL; w++) {
            if (w->value == v) {
                snprintf(buf, size, "%s", w->word);
                break;
            }
        }
        break;
    }
    case OTELC_SETTING_LEVEL:
        snprintf(buf, size, "%s", level_name(*(const int *)field));
        break;
    case OTELC_SETTING_STRING:
    case OTELC_SETTING_LIST:
    case OTELC_SETTING_KEYED: {
        const char *s = *(const char *const *)field;

        if (s == NULL)
            snprintf(buf, size, "none");
        else
            otelc__diag_escape(s, strlen(s), buf, size);
        break;
    }
    default:
        if (row->show != NULL)
            row->show(row, base, buf, size);
        else
            snprintf(buf, size, "the previous value");
        break;
    }
}

/* A scalar of type `type` (not LIST, KEYED or CUSTOM) into `field`. */
static bool read_scalar(const otelc_setting_t *row, otelc_setting_type_t type, const char *s,
                        size_t n, void *field)
{
    char word[MAX_WORD];
    uint64_t v;
    int level;

    switch (type) {
    case OTELC_SETTING_BOOL:
        if (word_is(s, n, "true") ||
            ((row->flags & OTELC_SETTING_NUMBERS) != 0 && word_is(s, n, "1"))) {
            *(bool *)field = true;
            return true;
        }
        if (word_is(s, n, "false") ||
            ((row->flags & OTELC_SETTING_NUMBERS) != 0 && word_is(s, n, "0"))) {
            *(bool *)field = false;
            return true;
        }
        return false;
    case OTELC_SETTING_UINT:
        if (!read_uint(s, n, row->max != 0 ? row->max : UINT32_MAX, &v) || v < row->min)
            return false;
        *(uint32_t *)field = (uint32_t)v;
        return true;
    case OTELC_SETTING_SIZE:
        if (!small_copy(s, n, word) || !otelc__parse_size(word, &v) || v < row->min ||
            (row->max != 0 && v > row->max))
            return false;
        *(uint64_t *)field = v;
        return true;
    case OTELC_SETTING_ENUM:
        for (const otelc_setting_word_t *w = row->words; w != NULL && w->word != NULL; w++) {
            if (word_is(s, n, w->word)) {
                *(int *)field = w->value;
                return true;
            }
        }
        return false;
    case OTELC_SETTING_LEVEL:
        if (!small_copy(s, n, word) || !otelc__parse_level(word, &level))
            return false;
        *(int *)field = level;
        return true;
    default:
        return false;
    }
}

/* KEYED: checks each "name=value" item; keeps the good ones. */
static otelc_setting_verdict_t read_keyed(const otelc_setting_t *row, const char *s, size_t n,
                                          bool borrow, void *field,
                                          const otelc__setting_alloc_t *alloc,
                                          otelc__setting_report_t *r)
{
    const char *old = *(const char **)field;
    size_t good_len = 0, bad = 0, old_len = old != NULL ? strlen(old) : 0;
    char *good;
    const char *p = s, *end = s + n;

    /* Room for the good items and what was there, on the heap until the
     * result is known: kept memory only for a string that is stored. */
    good = malloc(old_len + 1 + n + 1);
    if (good == NULL) {
        snprintf(r->why, sizeof(r->why), "out of memory");
        return OTELC_SETTING_REJECTED;
    }
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *item = p, *eq;
        size_t item_len = comma != NULL ? (size_t)(comma - p) : (size_t)(end - p);
        const char *name, *value;
        size_t name_len, value_len;
        bool ok = true;

        p = comma != NULL ? comma + 1 : end + 1;
        trim(&item, &item_len);
        if (item_len == 0)
            continue;
        eq = memchr(item, '=', item_len);
        if (eq == NULL) {
            ok = false;
        } else {
            name = item;
            name_len = (size_t)(eq - item);
            value = eq + 1;
            value_len = item_len - name_len - 1;
            trim(&name, &name_len);
            trim(&value, &value_len);
            ok = name_len > 0;
            for (size_t i = 0; ok && i < name_len; i++)
                ok = !is_blank(name[i]) && name[i] != '|';
            if (ok && row->value_type == OTELC_SETTING_LIST) {
                /* prefix|prefix|...: no empty item */
                const char *q = value, *qend = value + value_len;

                ok = value_len > 0;
                while (ok && q <= qend) {
                    const char *bar = memchr(q, '|', (size_t)(qend - q));
                    const char *it = q;
                    size_t it_len = bar != NULL ? (size_t)(bar - q) : (size_t)(qend - q);

                    trim(&it, &it_len);
                    ok = it_len > 0;
                    q = bar != NULL ? bar + 1 : qend + 1;
                }
            } else if (ok) {
                union {
                    uint32_t u;
                    int i;
                    uint64_t z;
                    bool b;
                } scratch;

                ok = read_scalar(row, row->value_type, value, value_len, &scratch);
            }
        }
        if (!ok) {
            if (bad++ == 0)
                snprintf(r->why, sizeof(r->why), "item '%.*s' does not read", (int)item_len,
                         item);
            continue;
        }
        if (good_len > 0)
            good[good_len++] = ',';
        memcpy(good + good_len, item, item_len);
        good_len += item_len;
    }
    good[good_len] = '\0';
    if (bad > 1) {
        size_t w = strlen(r->why);

        snprintf(r->why + w, sizeof(r->why) - w, " (and %zu more)", bad - 1);
    }
    if (good_len == 0 && bad > 0) {
        free(good);
        return OTELC_SETTING_REJECTED;
    }
    if (bad == 0) {
        /* Every item reads: the text as it is. */
        if (old == NULL && borrow && s[n] == '\0') {
            free(good);
            *(const char **)field = s;
            return OTELC_SETTING_TAKEN;
        }
        memcpy(good, s, n);
        good_len = n;
    }
    if (old != NULL && old_len > 0) {
        memmove(good + old_len + 1, good, good_len);
        memcpy(good, old, old_len);
        good[old_len] = ',';
        good_len += old_len + 1;
    }
    {
        char *kept = copy_text(alloc, good, good_len);

        free(good);
        if (kept == NULL) {
            snprintf(r->why, sizeof(r->why), "out of memory");
            return OTELC_SETTING_REJECTED;
        }
        *(const char **)field = kept;
    }
    return bad > 0 ? OTELC_SETTING_PARTLY : OTELC_SETTING_TAKEN;
}

otelc_setting_verdict_t otelc__setting_read(const otelc_setting_t *row, const char *text,
                                            size_t len, bool borrow, void *base,
                                            const otelc__setting_alloc_t *alloc,
                                            otelc__setting_report_t *r)
{
    void *field = (char *)base + row->offset;
    otelc_setting_verdict_t v = OTELC_SETTING_TAKEN;

    if (alloc == NULL)
        alloc = &otelc__settings_kept;
    r->why[0] = '\0';
    r->expected[0] = '\0';
    r->kept[0] = '\0';
    trim(&text, &len);
    switch (row->type) {
    case OTELC_SETTING_STRING:
    case OTELC_SETTING_LIST:
        if (memchr(text, '\0', len) != NULL) {
            v = OTELC_SETTING_REJECTED;
        } else if (row->type == OTELC_SETTING_LIST && word_is(text, len, "none")) {
            *(const char **)field = "";
        } else if (borrow && text[len] == '\0') {
            *(const char **)field = text;
        } else {
            char *copy = copy_text(alloc, text, len);

            if (copy == NULL) {
                snprintf(r->why, sizeof(r->why), "out of memory");
                v = OTELC_SETTING_REJECTED;
            } else {
                *(const char **)field = copy;
            }
        }
        break;
    case OTELC_SETTING_KEYED:
        v = read_keyed(row, text, len, borrow, field, alloc, r);
        break;
    case OTELC_SETTING_CUSTOM:
        v = row->parse(row, text, len, base, r->why, sizeof(r->why));
        break;
    default:
        if (!read_scalar(row, row->type, text, len, field))
            v = OTELC_SETTING_REJECTED;
        break;
    }
    if (v != OTELC_SETTING_TAKEN) {
        otelc__setting_expected(row, row->type, r->expected, sizeof(r->expected));
        otelc__setting_show(row, base, r->kept, sizeof(r->kept));
    }
    return v;
}

void otelc__settings_defaults(const otelc_setting_t *rows, size_t n, void *base)
{
    otelc__setting_report_t r;

    for (size_t i = 0; i < n; i++) {
        if (rows[i].def != NULL)
            (void)otelc__setting_read(&rows[i], rows[i].def, strlen(rows[i].def), true, base,
                                      NULL, &r);
    }
}

/* ---- the environment ------------------------------------------------------------- */

const char *otelc__env_get(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

void otelc__settings_env_report(const char *var, const char *value,
                                const otelc__setting_report_t *r, otelc_setting_verdict_t v)
{
    char key[96], shown[160];

    snprintf(key, sizeof(key), "config.%s", var);
    otelc__diag_escape(value, strlen(value), shown, sizeof(shown));
    if (v == OTELC_SETTING_PARTLY)
        otelc__diag(OTELC_DIAG_WARN, key,
                    "invalid value '%s' for %s: %s (expected %s); skipping what does not read",
                    shown, var, r->why, r->expected);
    else if (r->why[0] != '\0')
        otelc__diag(OTELC_DIAG_WARN, key,
                    "invalid value '%s' for %s: %s (expected %s); using the default %s", shown,
                    var, r->why, r->expected, r->kept);
    else
        otelc__diag(OTELC_DIAG_WARN, key,
                    "invalid value '%s' for %s: expected %s; using the default %s", shown, var,
                    r->expected, r->kept);
}

void otelc__settings_from_env(const otelc_setting_t *rows, size_t n, void *base,
                              bool (*skip)(const otelc_setting_t *row), otelc_status_t *status)
{
    for (size_t i = 0; i < n; i++) {
        const otelc_setting_t *row = &rows[i];
        const char *v;
        otelc__setting_report_t r;
        otelc_setting_verdict_t verdict;

        if (row->env == NULL || (skip != NULL && skip(row)) ||
            (v = otelc__env_get(row->env)) == NULL)
            continue;
        verdict = otelc__setting_read(row, v, strlen(v), true, base, NULL, &r);
        if (verdict != OTELC_SETTING_TAKEN) {
            otelc__settings_env_report(row->env, v, &r, verdict);
            *status = OTELC_ERR_INVALID;
        }
    }
}

/* ---- the registry ----------------------------------------------------------------- */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static const otelc_component_t *registry[MAX_COMPONENTS];
static size_t n_registry;

static size_t field_size(otelc_setting_type_t type)
{
    switch (type) {
    case OTELC_SETTING_BOOL:
        return sizeof(bool);
    case OTELC_SETTING_UINT:
        return sizeof(uint32_t);
    case OTELC_SETTING_SIZE:
        return sizeof(uint64_t);
    case OTELC_SETTING_ENUM:
    case OTELC_SETTING_LEVEL:
        return sizeof(int);
    case OTELC_SETTING_STRING:
    case OTELC_SETTING_LIST:
    case OTELC_SETTING_KEYED:
        return sizeof(const char *);
    case OTELC_SETTING_CUSTOM:
        return 0;
    default:
        return SIZE_MAX;
    }
}

/* Why a component's table cannot be used, or NULL. */
static const char *component_problem(const otelc_component_t *c, size_t *bad_row)
{
    static const char *const names_ok = "abcdefghijklmnopqrstuvwxyz0123456789_-";
    size_t name_len = strlen(c->name);
    unsigned char *scratch;
    const char *why = NULL;

    *bad_row = SIZE_MAX;
    if (name_len == 0 || name_len > 31 || strspn(c->name, names_ok) != name_len)
        return "its name is not 1 to 31 of a-z 0-9 _ -";
    if (c->n_settings > 0 && (c->settings == NULL || c->settings_size == 0))
        return "it has rows but no settings struct";
    scratch = calloc(1, c->settings_size > 0 ? c->settings_size : 1);
    if (scratch == NULL)
        return "out of memory";
    for (size_t i = 0; i < c->n_settings && why == NULL; i++) {
        const otelc_setting_t *row = &c->settings[i];
        size_t fs = field_size(row->type);
        otelc__setting_report_t r;

        *bad_row = i;
        if (fs == SIZE_MAX)
            why = "unknown type";
        else if (row->env == NULL && row->key == NULL)
            why = "neither an environment variable nor a key";
        else if (row->offset > c->settings_size || fs > c->settings_size - row->offset)
            why = "its field is outside the settings struct";
        else if (row->type == OTELC_SETTING_ENUM && row->words == NULL)
            why = "an enum without words";
        else if (row->type == OTELC_SETTING_CUSTOM && row->parse == NULL)
            why = "a custom row without parse()";
        else if (row->type == OTELC_SETTING_KEYED &&
                 row->value_type != OTELC_SETTING_UINT && row->value_type != OTELC_SETTING_LEVEL &&
                 row->value_type != OTELC_SETTING_LIST && row->value_type != OTELC_SETTING_BOOL &&
                 row->value_type != OTELC_SETTING_ENUM)
            why = "a keyed row's values must be UINT, LEVEL, BOOL, ENUM or LIST";
        else if (row->def != NULL &&
                 otelc__setting_read(row, row->def, strlen(row->def), true, scratch, NULL, &r) !=
                     OTELC_SETTING_TAKEN)
            why = "its default does not read";
    }
    free(scratch);
    return why;
}

otelc_status_t otelc_component_register(const otelc_component_t *c)
{
    const char *why;
    size_t i, bad_row;
    otelc_status_t st = OTELC_OK;
    char key[64];

    if (c == NULL || c->name == NULL)
        return OTELC_ERR_INVALID;

    snprintf(key, sizeof(key), "component.%.31s", c->name);
    if (c->version != OTELC_COMPONENT_VERSION) {
        otelc__diag(OTELC_DIAG_ERROR, key,
                    "component '%.31s' not registered: it was built for component interface "
                    "version %u, this otelc has version %u (rebuild it against this otelc)",
                    c->name, (unsigned)c->version, OTELC_COMPONENT_VERSION);
        return OTELC_ERR_INVALID;
    }
    why = component_problem(c, &bad_row);
    if (why != NULL) {
        const otelc_setting_t *row = bad_row < c->n_settings ? &c->settings[bad_row] : NULL;

        otelc__diag(OTELC_DIAG_ERROR, key,
                    "component '%.31s' not registered: %s%s%s%s", c->name,
                    row != NULL ? "setting " : "",
                    row != NULL ? (row->env != NULL ? row->env
                                   : row->key != NULL ? row->key
                                                      : "?")
                                : "",
                    row != NULL ? ": " : "", why);
        return strcmp(why, "out of memory") == 0 ? OTELC_ERR_NOMEM : OTELC_ERR_INVALID;
    }
    pthread_mutex_lock(&registry_lock);
    for (i = 0; i < n_registry; i++) {
        if (strcmp(registry[i]->name, c->name) == 0)
            break;
    }
    if (i == n_registry && n_registry == MAX_COMPONENTS)
        st = OTELC_ERR_FULL;
    else
        registry[i == n_registry ? n_registry++ : i] = c;
    pthread_mutex_unlock(&registry_lock);
    return st;
}

const otelc_component_t *otelc_component_find(const char *name)
{
    const otelc_component_t *found = NULL;

    if (name == NULL)
        return NULL;
    pthread_mutex_lock(&registry_lock);
    for (size_t i = 0; i < n_registry && found == NULL; i++) {
        if (strcmp(registry[i]->name, name) == 0)
            found = registry[i];
    }
    pthread_mutex_unlock(&registry_lock);
    return found;
}

size_t otelc__components(const otelc_component_t **out, size_t max)
{
    size_t n;

    pthread_mutex_lock(&registry_lock);
    n = n_registry;
    for (size_t i = 0; i < n && i < max; i++)
        out[i] = registry[i];
    pthread_mutex_unlock(&registry_lock);
    return n;
}

otelc_status_t otelc_component_defaults(const char *name, void *settings, size_t size)
{
    const otelc_component_t *c = otelc_component_find(name);
    unsigned char *full;

    if (c == NULL)
        return OTELC_ERR_NOT_FOUND;
    if (settings == NULL)
        return OTELC_ERR_INVALID;
    /* The rows may reach past a caller's older, smaller struct: fill a
     * whole one and copy what the caller has room for. */
    full = calloc(1, c->settings_size > 0 ? c->settings_size : 1);
    if (full == NULL)
        return OTELC_ERR_NOMEM;
    otelc__settings_defaults(c->settings, c->n_settings, full);
    memcpy(settings, full, size < c->settings_size ? size : c->settings_size);
    free(full);
    return OTELC_OK;
}

/* ---- sets ------------------------------------------------------------------------ */

void *otelc__component_set_find(const struct otelc_component_set *set,
                                const otelc_component_t *component)
{
    for (size_t i = 0; set != NULL && i < set->n; i++) {
        if (set->item[i].component == component)
            return set->item[i].values;
    }
    return NULL;
}

struct otelc_component_set *otelc__component_set_clone(const struct otelc_component_set *from,
                                                       const otelc__setting_alloc_t *alloc)
{
    const otelc_component_t *comps[MAX_COMPONENTS];
    size_t n = otelc__components(comps, MAX_COMPONENTS), bytes, with_settings = 0;
    struct otelc_component_set *set;
    char *p;

    if (alloc == NULL)
        alloc = &otelc__settings_kept;
    if (n > MAX_COMPONENTS)
        n = MAX_COMPONENTS;
    bytes = sizeof(*set);
    for (size_t i = 0; i < n; i++) {
        if (comps[i]->settings_size > 0) {
            with_settings++;
            bytes += sizeof(set->item[0]) +
                     (comps[i]->settings_size + alignof(max_align_t) - 1) /
                         alignof(max_align_t) * alignof(max_align_t);
        }
    }
    bytes += alignof(max_align_t);
    p = alloc->fn(alloc->ctx, bytes);
    if (p == NULL)
        return NULL;
    set = (struct otelc_component_set *)p;
    set->n = 0;
    p += sizeof(*set) + with_settings * sizeof(set->item[0]);
    p += (alignof(max_align_t) - (uintptr_t)p % alignof(max_align_t)) % alignof(max_align_t);
    for (size_t i = 0; i < n; i++) {
        const otelc_component_t *c = comps[i];
        const void *old;

        if (c->settings_size == 0)
            continue;
        set->item[set->n].component = c;
        set->item[set->n].values = p;
        old = otelc__component_set_find(from, c);
        if (old != NULL) {
            memcpy(p, old, c->settings_size);
        } else {
            memset(p, 0, c->settings_size);
            otelc__settings_defaults(c->settings, c->n_settings, p);
        }
        set->n++;
        p += (c->settings_size + alignof(max_align_t) - 1) / alignof(max_align_t) *
             alignof(max_align_t);
    }
    return set;
}

void *otelc_options_component(otelc_options_t *opts, const char *name)
{
    const otelc_component_t *c = otelc_component_find(name);
    void *values;
    struct otelc_component_set *set;

    if (opts == NULL || c == NULL || c->settings_size == 0)
        return NULL;
    values = otelc__component_set_find(opts->components, c);
    if (values != NULL)
        return values;
    /* Registered after these options were made: a new set with it. */
    set = otelc__component_set_clone(opts->components, NULL);
    if (set == NULL)
        return NULL;
    opts->components = set;
    return otelc__component_set_find(set, c);
}

otelc_status_t otelc_options_set(otelc_options_t *opts, const char *name, const char *value)
{
    const otelc_component_t *comps[MAX_COMPONENTS];
    size_t n;
    const otelc_setting_t *row = NULL;
    void *base = NULL;
    otelc__setting_report_t r;
    otelc_setting_verdict_t v;

    if (opts == NULL || name == NULL || value == NULL)
        return OTELC_ERR_INVALID;
    for (size_t i = 0; i < otelc__n_core_settings && row == NULL; i++) {
        const otelc_setting_t *s = &otelc__core_settings[i];

        if ((s->env != NULL && strcmp(s->env, name) == 0) ||
            (s->key != NULL && strcmp(s->key, name) == 0)) {
            row = s;
            base = opts;
        }
    }
    n = otelc__components(comps, MAX_COMPONENTS);
    for (size_t i = 0; i < n && i < MAX_COMPONENTS && row == NULL; i++) {
        for (size_t j = 0; j < comps[i]->n_settings && row == NULL; j++) {
            const otelc_setting_t *s = &comps[i]->settings[j];

            if ((s->env != NULL && strcmp(s->env, name) == 0) ||
                (s->key != NULL && strcmp(s->key, name) == 0)) {
                row = s;
                base = otelc_options_component(opts, comps[i]->name);
                if (base == NULL)
                    return OTELC_ERR_NOMEM;
            }
        }
    }
    if (row == NULL)
        return OTELC_ERR_NOT_FOUND;
    v = otelc__setting_read(row, value, strlen(value), true, base, NULL, &r);
    if (v == OTELC_SETTING_TAKEN)
        return OTELC_OK;
    otelc__settings_env_report(name, value, &r, v);
    return strcmp(r.why, "out of memory") == 0 ? OTELC_ERR_NOMEM : OTELC_ERR_INVALID;
}

/* The end of the last member of the first version of otelc_options_t: what
 * struct_size 0 means once the struct has grown. */
#define OPTIONS_SIZE_V1 (offsetof(otelc_options_t, id_arg) + sizeof(void *))

size_t otelc__options_size(const otelc_options_t *opts)
{
    if (opts->struct_size == 0)
        return OPTIONS_SIZE_V1;
    return opts->struct_size > sizeof(*opts) ? sizeof(*opts) : opts->struct_size;
}
