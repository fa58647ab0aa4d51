/*
 * config_otelc.c: the settings rows in the config file -- the core's rows
 * over the working copy of the options, and each registered component's
 * rows over its struct in the working copy's component set. The section
 * `otelc` (otelc's own settings and those of the exporters linked in), the
 * attribute limits and the providers' limits are walked here along the
 * rows' keys; the structural parts of the OpenTelemetry schema
 * (config_schema.c) hand single values to otelc__cfg_row().
 *
 * A key such as "otelc.file.channels.*.level" has a wildcard: the mapping
 * at otelc.file.channels holds names, each a mapping of its own, and the
 * row (KEYED) collects "name=value" items.
 */
#include "config_yaml.h"

#include "settings_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The loader's chunks, for strings the rows make. */
static char *chunk_alloc(void *ctx, size_t n)
{
    return (char *)otelc__cfg_alloc(ctx, n, 1);
}

void otelc__cfg_targets_init(otelc__cfg_t *ld)
{
    const struct otelc_component_set *set = ld->o.components;
    size_t n = otelc__n_core_settings;

    for (size_t i = 0; set != NULL && i < set->n; i++)
        n += set->item[i].component->n_settings;
    ld->targets = otelc__cfg_alloc(ld, n * sizeof(*ld->targets), _Alignof(otelc__cfg_target_t));
    if (ld->targets == NULL)
        return;
    for (size_t i = 0; i < otelc__n_core_settings; i++)
        ld->targets[ld->n_targets++] = (otelc__cfg_target_t){ &otelc__core_settings[i], &ld->o };
    for (size_t i = 0; set != NULL && i < set->n; i++) {
        const otelc_component_t *c = set->item[i].component;

        for (size_t j = 0; j < c->n_settings; j++)
            ld->targets[ld->n_targets++] =
                (otelc__cfg_target_t){ &c->settings[j], set->item[i].values };
    }
}

const otelc_setting_t *otelc__cfg_core_row(const char *env)
{
    for (size_t i = 0; i < otelc__n_core_settings; i++) {
        if (otelc__core_settings[i].env != NULL && strcmp(otelc__core_settings[i].env, env) == 0)
            return &otelc__core_settings[i];
    }
    return NULL;
}

/* Reads `len` bytes of `text` by `row`, reporting at `at` what does not read. */
static bool apply_text(otelc__cfg_t *ld, const yaml_node_t *at, const otelc_setting_t *row,
                       void *base, const char *text, size_t len, const char *shown_value)
{
    otelc__setting_alloc_t alloc = { chunk_alloc, ld };
    otelc__setting_report_t r;
    otelc_setting_verdict_t v = otelc__setting_read(row, text, len, false, base, &alloc, &r);
    char shown[128];

    if (v == OTELC_SETTING_TAKEN)
        return true;
    if (strcmp(r.why, "out of memory") == 0) {
        ld->nomem = true;
        return false;
    }
    otelc__cfg_printable(shown_value, strlen(shown_value), shown, sizeof(shown));
    if (v == OTELC_SETTING_PARTLY)
        otelc__cfg_report(ld, at, "invalid value '%s': %s (expected %s); skipping what does not "
                          "read", shown, r.why, r.expected);
    else if (r.why[0] != '\0')
        otelc__cfg_report(ld, at, "invalid value '%s': %s (expected %s); keeping %s", shown, r.why,
                          r.expected, r.kept);
    else
        otelc__cfg_report(ld, at, "invalid value '%s': expected %s; keeping %s", shown, r.expected,
                          r.kept);
    return v == OTELC_SETTING_PARTLY;
}

/* A name under a wildcard or of a KEYED mapping. */
static bool usable_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 63)
        return false;
    for (; *s != '\0'; s++) {
        if (*s == ',' || *s == '=' || *s == '|' || *s == ' ' || *s == '\t')
            return false;
    }
    return true;
}

static void bad_name(otelc__cfg_t *ld, const yaml_node_t *key, const char *name)
{
    char shown[80];

    otelc__cfg_report(ld, key,
                      "'%s' is not usable as a name here (1 to 63 bytes, none of ',', '=', '|' "
                      "or blanks); ignored",
                      otelc__cfg_printable(name, strlen(name), shown, sizeof(shown)));
}

/*
 * A list as one string: the items of a YAML list joined with `sep`, each
 * non-empty and without the separators; or a scalar as it is. 1: in *out;
 * 0: null; -1: reported.
 */
static int list_text(otelc__cfg_t *ld, const yaml_node_t *n, const otelc_setting_t *row,
                     const void *base, char sep, otelc__cfg_sb_t *out)
{
    const char *s;
    char kept[96];
    int r;

    otelc__cfg_sb_clear(out);
    if (n->type == YAML_SEQUENCE_NODE) {
        OTELC__CFG_FOR_EACH_ITEM(ld, n, item)
        {
            yaml_node_t *it = otelc__cfg_node(ld, *item);
            const char *t;
            size_t len;

            if (it == NULL)
                continue;
            if (otelc__cfg_scalar(ld, it, &s) <= 0 ||
                (t = otelc__cfg_trim(s, &len), len == 0) || memchr(t, ',', len) != NULL ||
                memchr(t, '|', len) != NULL) {
                otelc__setting_show(row, base, kept, sizeof(kept));
                otelc__cfg_reject(ld, it,
                                  row->expected != NULL ? row->expected
                                                        : "a list of non-empty strings",
                                  row->type == OTELC_SETTING_KEYED ? "no value for this name"
                                                                   : kept);
                return -1;
            }
            if (out->len > 0)
                otelc__cfg_sb_put(out, &sep, 1);
            otelc__cfg_sb_put(out, t, len);
        }
        if (out->p == NULL)
            otelc__cfg_sb_put(out, "", 0);
        if (out->failed)
            ld->nomem = true;
        if (out->failed)
            return -1;
        /* [] is the empty list, as "none" is; a list of prefixes that is
         * empty says nothing. */
        if (out->len == 0) {
            if (sep != ',')
                return 0;
            otelc__cfg_sb_puts(out, "none");
        }
        return 1;
    }
    r = otelc__cfg_scalar(ld, n, &s);
    if (r < 0) {
        otelc__setting_show(row, base, kept, sizeof(kept));
        otelc__cfg_reject(ld, n, "a list or a string", kept);
        return -1;
    }
    if (r > 0 && sep == ',') {
        otelc__cfg_sb_puts(out, s);
    } else if (r > 0) {
        /* "a, b" as the items of a list: joined with `sep`. */
        const char *p = s;

        while (*p != '\0') {
            const char *comma = strchr(p, ',');
            size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
            const char *t = p;

            p = comma != NULL ? comma + 1 : p + len;
            while (len > 0 && (*t == ' ' || *t == '\t')) {
                t++;
                len--;
            }
            while (len > 0 && (t[len - 1] == ' ' || t[len - 1] == '\t'))
                len--;
            if (len == 0)
                continue;
            if (out->len > 0)
                otelc__cfg_sb_put(out, &sep, 1);
            otelc__cfg_sb_put(out, t, len);
        }
        if (out->len == 0)
            return 0;
        if (out->failed) {
            ld->nomem = true;
            return -1;
        }
    }
    return r;
}

/* One "name=value" item of a KEYED row, the value at node `v`. */
static void keyed_item(otelc__cfg_t *ld, const yaml_node_t *v, const otelc_setting_t *row,
                       void *base, const char *name)
{
    otelc__cfg_sb_t item = { 0 }, value = { 0 };
    int r;

    if (row->value_type == OTELC_SETTING_LIST) {
        r = list_text(ld, v, row, base, '|', &value);
    } else {
        const char *s;

        r = otelc__cfg_scalar(ld, v, &s);
        if (r > 0)
            otelc__cfg_sb_puts(&value, s);
    }
    if (r < 0 && v->type != YAML_SCALAR_NODE && row->value_type != OTELC_SETTING_LIST)
        otelc__cfg_reject(ld, v, "a scalar", "no value for this name");
    if (r > 0 && !value.failed) {
        otelc__setting_alloc_t alloc = { chunk_alloc, ld };
        otelc__setting_report_t rep;
        otelc_setting_verdict_t verdict;

        otelc__cfg_sb_puts(&item, name);
        otelc__cfg_sb_put(&item, "=", 1);
        otelc__cfg_sb_put(&item, value.p, value.len);
        if (!item.failed) {
            verdict = otelc__setting_read(row, item.p, item.len, false, base, &alloc, &rep);
            if (verdict != OTELC_SETTING_TAKEN) {
                char expected[160], shown[128];

                if (strcmp(rep.why, "out of memory") == 0) {
                    ld->nomem = true;
                } else {
                    otelc__setting_expected(row, row->value_type, expected, sizeof(expected));
                    otelc__cfg_report(ld, v, "invalid value '%s': expected %s; keeping no value "
                                      "for this name",
                                      otelc__cfg_printable(value.p, value.len, shown,
                                                           sizeof(shown)),
                                      expected);
                }
            }
        }
    }
    if (item.failed || value.failed)
        ld->nomem = true;
    otelc__cfg_sb_free(&item);
    otelc__cfg_sb_free(&value);
}

bool otelc__cfg_row(otelc__cfg_t *ld, const yaml_node_t *n, const otelc_setting_t *row, void *base)
{
    otelc__cfg_sb_t text = { 0 };
    const char *s;
    bool taken = false;
    int r;

    if (row->type == OTELC_SETTING_LIST) {
        r = list_text(ld, n, row, base, ',', &text);
        if (r > 0)
            taken = apply_text(ld, n, row, base, text.p, text.len, text.p);
        otelc__cfg_sb_free(&text);
        return taken;
    }
    if (row->type == OTELC_SETTING_KEYED && n->type == YAML_MAPPING_NODE) {
        OTELC__CFG_FOR_EACH_PAIR(ld, n, pair)
        {
            const char *k;
            yaml_node_t *kn, *v;
            size_t mark;

            if (!otelc__cfg_member(ld, pair, &k, &kn, &v, &mark))
                continue;
            if (!usable_name(k))
                bad_name(ld, kn, k);
            else
                keyed_item(ld, v, row, base, k);
            otelc__cfg_path_pop(ld, mark);
        }
        return true;
    }
    r = otelc__cfg_scalar(ld, n, &s);
    if (r == 0)
        return false;
    if (r < 0) {
        char expected[240], kept[96];

        otelc__setting_expected(row, row->type, expected, sizeof(expected));
        otelc__setting_show(row, base, kept, sizeof(kept));
        otelc__cfg_reject(ld, n, expected, kept);
        return false;
    }
    /* An empty string counts as not given, as an empty variable does. */
    if (row->type == OTELC_SETTING_STRING && s[0] == '\0')
        return false;
    if (strlen(s) != ld->scratch.len) {
        char kept[96];

        otelc__setting_show(row, base, kept, sizeof(kept));
        otelc__cfg_reject(ld, n, "a value without NUL characters", kept);
        return false;
    }
    return apply_text(ld, n, row, base, s, ld->scratch.len, s);
}

bool otelc__cfg_row_text(otelc__cfg_t *ld, const yaml_node_t *at, const otelc_setting_t *row,
                         void *base, const char *text, size_t len)
{
    return apply_text(ld, at, row, base, text, len, text);
}

/* ---- walking along the rows' keys ---------------------------------------------------- */

/* The target whose key is `path`, or NULL. */
static const otelc__cfg_target_t *target_at(const otelc__cfg_t *ld, const char *path)
{
    for (size_t i = 0; i < ld->n_targets; i++) {
        if (ld->targets[i].row->key != NULL && strcmp(ld->targets[i].row->key, path) == 0)
            return &ld->targets[i];
    }
    return NULL;
}

/* True when a row's key lies under `path` ("path." then more). */
static bool rows_under(const otelc__cfg_t *ld, const char *path)
{
    size_t n = strlen(path);

    for (size_t i = 0; i < ld->n_targets; i++) {
        const char *k = ld->targets[i].row->key;

        if (k != NULL && strncmp(k, path, n) == 0 && k[n] == '.')
            return true;
    }
    return false;
}

const otelc__cfg_target_t *otelc__cfg_target(const otelc__cfg_t *ld, const char *key)
{
    return target_at(ld, key);
}

static void walk(otelc__cfg_t *ld, yaml_node_t *map, const char *path, const char *name);

static void walk_pair(otelc__cfg_t *ld, yaml_node_t *kn, const char *k, yaml_node_t *v,
                      const char *path, const char *name)
{
    char full[OTELC__CFG_KEYPATH_MAX], wild[OTELC__CFG_KEYPATH_MAX];
    const otelc__cfg_target_t *t;

    if (snprintf(full, sizeof(full), "%s%s%s", path, path[0] != '\0' ? "." : "", k) >=
        (int)sizeof(full)) {
        otelc__cfg_unknown(ld, kn);
        return;
    }
    snprintf(wild, sizeof(wild), "%s%s*", path, path[0] != '\0' ? "." : "");
    t = target_at(ld, full);
    if (t != NULL) {
        if (name != NULL && t->row->type == OTELC_SETTING_KEYED)
            keyed_item(ld, v, t->row, t->base, name);
        else
            (void)otelc__cfg_row(ld, v, t->row, t->base);
    } else if (rows_under(ld, full)) {
        walk(ld, v, full, name);
    } else if (name == NULL && rows_under(ld, wild)) {
        if (!usable_name(k))
            bad_name(ld, kn, k);
        else
            walk(ld, v, wild, k);
    } else if (strcmp(path, "otelc") == 0 && v->type == YAML_MAPPING_NODE) {
        char shown[40];

        otelc__cfg_printable(k, strlen(k), shown, sizeof(shown));
        otelc__cfg_report(ld, kn,
                          "unknown key; ignored (no part of otelc linked into this program reads "
                          "it; for an exporter's settings, link its library, such as "
                          "libotelc_%s)",
                          shown);
    } else {
        otelc__cfg_unknown(ld, kn);
    }
}

/* Walks mapping `map` found at key path `path`; `name` is the wildcard's. */
static void walk(otelc__cfg_t *ld, yaml_node_t *map, const char *path, const char *name)
{
    if (otelc__cfg_mapping(ld, map, "a mapping") <= 0)
        return;
    OTELC__CFG_FOR_EACH_PAIR(ld, map, pair)
    {
        const char *k;
        yaml_node_t *kn, *v;
        size_t mark;

        if (!otelc__cfg_member(ld, pair, &k, &kn, &v, &mark))
            continue;
        walk_pair(ld, kn, k, v, path, name);
        otelc__cfg_path_pop(ld, mark);
    }
}

void otelc__cfg_walk(otelc__cfg_t *ld, yaml_node_t *map, const char *path)
{
    walk(ld, map, path, NULL);
}
