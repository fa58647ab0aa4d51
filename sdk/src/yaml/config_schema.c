/*
 * config_schema.c: the sections of the config file that the OpenTelemetry
 * declarative configuration schema defines -- resource, attribute_limits,
 * propagator, tracer_provider and logger_provider -- as far as otelc
 * implements them. What otelc lacks (a meter provider, jaeger propagation,
 * the experimental samplers, ...) is reported as not supported.
 *
 * otelc runs one batch processor per signal for all its exporters, so the
 * processors of a provider are folded into one: the exporter names make the
 * traces_exporter / logs_exporter list, the batch settings the first
 * processor gives win (a different value later is reported), and a `simple`
 * processor stands for a schedule_delay of 0.
 */
#include "config_yaml.h"

#include "config_int.h"

#include "resource.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- resource ------------------------------------------------------------ */

/* Appends `s` to a resource attribute list with ',', '=', '%', blanks and
 * control characters percent-encoded, since the list is parsed in the
 * format of OTEL_RESOURCE_ATTRIBUTES. */
static void put_encoded(otelc__cfg_sb_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t run = 0; /* bytes before s[i] that go as they are */

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == ',' || c == '=' || c == '%' || c <= 0x20 || c == 0x7f) {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };

            otelc__cfg_sb_put(b, s + run, i - run);
            otelc__cfg_sb_put(b, e, 3);
            run = i + 1;
        }
    }
    otelc__cfg_sb_put(b, s + run, n - run);
}

/* The typed resource attributes read so far (bool, int, double). */
typedef struct typed_attrs {
    otelc_attr_t *attrs;
    size_t n, cap;
} typed_attrs_t;

/* Keeps a bool, int or double attribute with its type; the value `t` (n
 * bytes) has been checked to read as that type. */
static void keep_typed(otelc__cfg_t *ld, typed_attrs_t *typed, const char *name, size_t name_len,
                       int type, const char *t, size_t n)
{
    otelc_attr_t a = { .key = otelc__cfg_strdup(ld, name, name_len) };
    bool neg = n > 0 && t[0] == '-';
    uint64_t u = 0;
    double d = 0;

    if (a.key == NULL || typed->n == typed->cap)
        return;
    if (type == 1) {
        a.type = OTELC_ATTR_BOOL;
        a.v.b = otelc__cfg_word_is_nocase(t, n, "true");
    } else if (type == 2) {
        a.type = OTELC_ATTR_INT;
        (void)otelc__cfg_parse_uint(neg ? t + 1 : t, UINT64_MAX, &u);
        a.v.i = neg ? (int64_t)(0 - u) : (int64_t)u;
    } else {
        a.type = OTELC_ATTR_DOUBLE;
        (void)otelc__cfg_parse_number(neg ? t + 1 : t, &d);
        a.v.d = neg ? -d : d;
    }
    typed->attrs[typed->n++] = a;
}

/* One entry of resource.attributes: {name, value, type}. `name_buf` holds
 * the name while the scratch buffer takes the value; it is the caller's,
 * reused from entry to entry (a file may have tens of thousands). */
static void read_resource_attribute(otelc__cfg_t *ld, yaml_node_t *item, otelc__cfg_sb_t *list,
                                    typed_attrs_t *typed, otelc__cfg_sb_t *name_buf)
{
    static const char *const types[] = {
        "string", "bool", "int", "double", "string_array", "bool_array", "int_array", "double_array"
    };
    yaml_node_t *name_node = NULL, *value_node = NULL, *type_node = NULL;
    const char *s, *name;
    int type = 0, r;
    size_t name_len, value_mark;
    bool ok = true;

    if (otelc__cfg_mapping(ld, item, "a mapping with name, value and type") <= 0)
        return;
    OTELC__CFG_FOR_EACH_PAIR(ld, item, pair)
    {
        const char *k;
        yaml_node_t *kn, *v;
        size_t mark;

        if (!otelc__cfg_member(ld, pair, &k, &kn, &v, &mark))
            continue;
        if (strcmp(k, "name") == 0)
            name_node = v;
        else if (strcmp(k, "value") == 0)
            value_node = v;
        else if (strcmp(k, "type") == 0)
            type_node = v;
        else
            otelc__cfg_unknown(ld, kn);
        otelc__cfg_path_pop(ld, mark);
    }
    if (type_node != NULL) {
        static const int values[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
        size_t mark = otelc__cfg_path_push(ld, "type");

        ok = otelc__cfg_enum(ld, type_node, types, values, 8,
                             "string, bool, int, double, string_array, bool_array, int_array or "
                             "double_array",
                             &type) ||
             otelc__cfg_scalar(ld, type_node, &s) == 0;
        otelc__cfg_path_pop(ld, mark);
        if (!ok)
            return;
    }
    if (name_node == NULL || value_node == NULL) {
        otelc__cfg_report(ld, item, "an attribute needs a name and a value; ignored");
        return;
    }
    if (otelc__cfg_scalar(ld, name_node, &s) <= 0 || s[0] == '\0') {
        size_t mark = otelc__cfg_path_push(ld, "name");

        otelc__cfg_reject(ld, name_node, "a non-empty string",
                          "nothing (the attribute is ignored)");
        otelc__cfg_path_pop(ld, mark);
        return;
    }
    /* The scratch buffer is reused by the value below. */
    name_len = ld->scratch.len;
    otelc__cfg_sb_clear(name_buf);
    otelc__cfg_sb_put(name_buf, s, name_len);
    if (name_buf->failed) {
        ld->nomem = true;
        return;
    }
    name = name_buf->p;
    value_mark = otelc__cfg_path_push(ld, "value");
    if (type >= 4) {
        otelc__cfg_report(ld, value_node,
                          "array attributes are not supported in otelc's resource (its values "
                          "are strings); attribute '%s' ignored",
                          name);
        goto out;
    }
    r = otelc__cfg_scalar(ld, value_node, &s);
    if (r > 0) {
        size_t n;
        const char *t = otelc__cfg_trim(s, &n);
        double d;
        uint64_t u;

        /* The value must read as its type: an int within 64 bits. */
        if (type == 1)
            ok =
                otelc__cfg_word_is_nocase(t, n, "true") || otelc__cfg_word_is_nocase(t, n, "false");
        else if (type == 2)
            ok = otelc__cfg_parse_uint(t[0] == '-' ? t + 1 : t,
                                       t[0] == '-' ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX,
                                       &u);
        else if (type == 3)
            ok = otelc__cfg_parse_number(t[0] == '-' ? t + 1 : t, &d);
        if (ok && type >= 1 && type <= 3 && !otelc__cfg_word_is(name, name_len, "service.name") &&
            !otelc__cfg_word_is(name, name_len, "service.version")) {
            keep_typed(ld, typed, name, name_len, type, t, n);
            goto out;
        }
    }
    if (r <= 0 || !ok) {
        otelc__cfg_reject(ld, value_node, types[type], "nothing (the attribute is ignored)");
        goto out;
    }
    if (otelc__cfg_word_is(name, name_len, "service.name")) {
        ld->o.service_name = otelc__cfg_strdup(ld, s, ld->scratch.len);
    } else if (otelc__cfg_word_is(name, name_len, "service.version")) {
        ld->o.service_version = otelc__cfg_strdup(ld, s, ld->scratch.len);
    } else {
        if (list->len > 0)
            otelc__cfg_sb_put(list, ",", 1);
        put_encoded(list, name, name_len);
        otelc__cfg_sb_put(list, "=", 1);
        put_encoded(list, s, ld->scratch.len);
    }
out:
    otelc__cfg_path_pop(ld, value_mark);
}

void otelc__cfg_read_resource(otelc__cfg_t *ld, yaml_node_t *map)
{
    typed_attrs_t typed = { NULL, 0, 0 };
    otelc__cfg_sb_t list = { 0 }, name_buf = { 0 };
    yaml_node_t *attributes = NULL, *attributes_list = NULL;
    bool any = false;

    if (otelc__cfg_mapping(ld, map, "a mapping") <= 0)
        return;
    OTELC__CFG_FOR_EACH_PAIR(ld, map, pair)
    {
        const char *k;
        yaml_node_t *kn, *v;
        size_t mark;

        if (!otelc__cfg_member(ld, pair, &k, &kn, &v, &mark))
            continue;
        if (strcmp(k, "attributes") == 0)
            attributes = v;
        else if (strcmp(k, "attributes_list") == 0)
            attributes_list = v;
        else if (strcmp(k, "schema_url") == 0)
            otelc__cfg_unsupported(ld, kn, "the resource carries no schema URL");
        else if (strcmp(k, "detection/development") == 0 || strcmp(k, "detectors") == 0)
            otelc__cfg_unsupported(ld, kn,
                                   "otelc always detects host.name, process.pid and "
                                   "process.executable.name");
        else
            otelc__cfg_unknown(ld, kn);
        otelc__cfg_path_pop(ld, mark);
    }

    /* attributes_list first: entries of `attributes` have priority, and the
     * resource builder lets a later duplicate key replace an earlier one. */
    if (attributes_list != NULL) {
        size_t mark = otelc__cfg_path_push(ld, "attributes_list");
        const char *s, *why;

        if (otelc__cfg_scalar(ld, attributes_list, &s) > 0) {
            why = otelc__resource_attributes_error(s);
            if (why != NULL) {
                char expected[160];

                snprintf(expected, sizeof(expected),
                         "key=value,... with ',', '=' and '%%' percent-encoded (%s)", why);
                otelc__cfg_reject(ld, attributes_list, expected, "no attributes from the list");
            } else if (s[0] != '\0') {
                otelc__cfg_sb_puts(&list, s);
                any = true;
            }
        } else if (attributes_list->type != YAML_SCALAR_NODE) {
            otelc__cfg_reject(ld, attributes_list, "a string", "no attributes from the list");
        }
        otelc__cfg_path_pop(ld, mark);
    }
    if (attributes != NULL) {
        size_t mark = otelc__cfg_path_push(ld, "attributes");

        if (attributes->type == YAML_SEQUENCE_NODE) {
            size_t i = 0;

            typed.cap = (size_t)(attributes->data.sequence.items.top -
                                 attributes->data.sequence.items.start);
            typed.attrs = typed.cap > 0 ? otelc__cfg_alloc(ld, typed.cap * sizeof(otelc_attr_t),
                                                           _Alignof(otelc_attr_t))
                                        : NULL;
            if (typed.attrs == NULL)
                typed.cap = 0;
            OTELC__CFG_FOR_EACH_ITEM(ld, attributes, item)
            {
                size_t m = otelc__cfg_path_push_index(ld, i++);
                yaml_node_t *it = otelc__cfg_node(ld, *item);

                if (it != NULL)
                    read_resource_attribute(ld, it, &list, &typed, &name_buf);
                otelc__cfg_path_pop(ld, m);
            }
            any = true;
            if (typed.n > 0) {
                ld->o.resource_attrs = typed.attrs;
                ld->o.n_resource_attrs = typed.n;
            }
        } else {
            const char *s;

            if (otelc__cfg_scalar(ld, attributes, &s) != 0)
                otelc__cfg_reject(ld, attributes, "a list of {name, value, type}", "no attributes");
        }
        otelc__cfg_path_pop(ld, mark);
    }
    if (any && list.len > 0)
        ld->o.resource_attributes = otelc__cfg_sb_keep(ld, &list);
    if (list.failed)
        ld->nomem = true;
    otelc__cfg_sb_free(&list);
    otelc__cfg_sb_free(&name_buf);
}

/* ---- propagators --------------------------------------------------------- */

/* Whether otelc has the propagator `name`: asked of the core's row of
 * OTEL_PROPAGATORS, which holds the table of names. */
static bool propagator_known(const char *name, size_t n)
{
    const otelc_setting_t *row = otelc__cfg_core_row("OTEL_PROPAGATORS");
    otelc_options_t scratch;
    char why[128];

    memset(&scratch, 0, sizeof(scratch));
    return row->parse(row, name, n, &scratch, why, sizeof(why)) == OTELC_SETTING_TAKEN;
}

/* Adds a known name to the list being built, or reports it at `at`. */
static void propagator_add(otelc__cfg_t *ld, const yaml_node_t *at, const char *name, size_t n,
                           otelc__cfg_sb_t *list)
{
    char shown[64];

    if (propagator_known(name, n)) {
        if (list->len > 0)
            otelc__cfg_sb_put(list, ",", 1);
        otelc__cfg_sb_put(list, name, n);
        return;
    }
    otelc__cfg_report(ld, at, "propagator '%s' is not built into otelc (expected %s); skipped",
                      otelc__cfg_printable(name, n, shown, sizeof(shown)),
                      otelc__cfg_core_row("OTEL_PROPAGATORS")->expected);
}

/*
 * propagator: {composite: [{tracecontext: }, ...], composite_list: "a,b"}.
 * The two lists are joined. Names otelc does not implement (jaeger, ottrace,
 * xray) are reported and skipped; when nothing usable remains, the default
 * stays, as with OTEL_PROPAGATORS. An empty composite means no propagator.
 */
void otelc__cfg_read_propagator(otelc__cfg_t *ld, yaml_node_t *map)
{
    otelc__cfg_sb_t list = { 0 };
    bool any = false;

    if (otelc__cfg_mapping(ld, map, "a mapping") <= 0)
        return;
    OTELC__CFG_FOR_EACH_PAIR(ld, map, pair)
    {
        const char *k;
        yaml_node_t *kn, *v;
        size_t mark;

        if (!otelc__cfg_member(ld, pair, &k, &kn, &v, &mark))
            continue;
        if (strcmp(k, "composite") == 0) {
            if (v->type == YAML_SEQUENCE_NODE) {
                size_t i = 0;

                if (v->data.sequence.items.top == v->data.sequence.items.start)
                    any = true;
                OTELC__CFG_FOR_EACH_ITEM(ld, v, item)
                {
                    size_t m = otelc__cfg_path_push_index(ld, i++);
                    yaml_node_t *it = otelc__cfg_node(ld, *item);
                    const char *name = NULL;
                    const yaml_node_t *at = it;

                    /* An entry is {name: } in file format 1.0, a plain name
                     * in 0.x. */
                    if (it != NULL && it->type == YAML_MAPPING_NODE &&
                        otelc__cfg_pairs_count(it) == 1) {
                        yaml_node_t *key = otelc__cfg_node(ld, it->data.mapping.pairs.start->key);

                        if (key != NULL && key->type == YAML_SCALAR_NODE) {
                            name = (const char *)key->data.scalar.value;
                            at = key;
                        }
                    } else if (it != NULL && it->type == YAML_SCALAR_NODE) {
                        if (otelc__cfg_scalar(ld, it, &name) <= 0)
                            name = NULL;
                    }
                    if (name == NULL)
                        otelc__cfg_report(
                            ld, it, "expected a propagator such as {tracecontext: }; ignored");
                    else
                        propagator_add(ld, at, name, strlen(name), &list);
                    otelc__cfg_path_pop(ld, m);
                }
            } else {
                const char *s;

                if (otelc__cfg_scalar(ld, v, &s) != 0)
                    otelc__cfg_reject(ld, v, "a list of propagators", "the default");
            }
        } else if (strcmp(k, "composite_list") == 0) {
            const char *s;
            int r = otelc__cfg_scalar(ld, v, &s);

            if (r < 0) {
                otelc__cfg_reject(ld, v, "a comma-separated list", "the default");
            } else if (r > 0) {
                char *copy = strdup(s);
                char *cursor = copy, *item;

                if (copy == NULL) {
                    ld->nomem = true;
                } else {
                    while ((item = strsep(&cursor, ",")) != NULL) {
                        size_t n;
                        const char *t = otelc__cfg_trim(item, &n);

                        if (n == 0)
                            continue;
                        propagator_add(ld, v, t, n, &list);
                    }
                    free(copy);
                }
            }
        } else {
            otelc__cfg_unknown(ld, kn);
        }
        otelc__cfg_path_pop(ld, mark);
    }
    /* The names otelc has, read by the row as OTEL_PROPAGATORS is ("none"
     * for an empty composite); with none usable the default stays. */
    if (list.len > 0 || any) {
        const otelc_setting_t *row = otelc__cfg_core_row("OTEL_PROPAGATORS");
        char why[128];

        if (list.len == 0)
            otelc__cfg_sb_puts(&list, "none");
        if (!list.failed)
            (void)row->parse(row, list.p, list.len, &ld->o, why, sizeof(why));
    }
    if (list.failed)
        ld->nomem = true;
    otelc__cfg_sb_free(&list);
}

/* ---- sampler ------------------------------------------------------------- */

/* The one key of a Sampler mapping, and its value. False when `n` is not a
 * mapping with exactly one key (reported). */
static bool sampler_choice(otelc__cfg_t *ld, yaml_node_t *n, const char **name, yaml_node_t **key,
                           yaml_node_t **value)
{
    if (n->type != YAML_MAPPING_NODE || otelc__cfg_pairs_count(n) != 1) {
        otelc__cfg_report(ld, n,
                          "a sampler is a mapping with one key (always_on, always_off, "
                          "trace_id_ratio_based or parent_based); keeping the default sampler");
        return false;
    }
    *key = otelc__cfg_node(ld, n->data.mapping.pairs.start->key);
    *value = otelc__cfg_node(ld, n->data.mapping.pairs.start->value);
    if (*key == NULL || *value == NULL || (*key)->type != YAML_SCALAR_NODE) {
        otelc__cfg_report(ld, n, "a sampler's key must be a string; keeping the default sampler");
        return false;
    }
    *name = (const char *)(*key)->data.scalar.value;
    return true;
}

/*
 * A sampler without a parent rule: always_on, always_off or
 * trace_id_ratio_based. Returns its kind, or -1 (reported).
 */
static int simple_sampler(otelc__cfg_t *ld, yaml_node_t *n, double *ratio)
{
    const char *name;
    yaml_node_t *key, *value;
    int kind = -1;
    size_t mark;

    if (!sampler_choice(ld, n, &name, &key, &value))
        return -1;
    mark = otelc__cfg_path_push(ld, name);
    if (strcmp(name, "always_on") == 0 || strcmp(name, "always_off") == 0) {
        if (otelc__cfg_mapping(ld, value, "nothing (null or {})") >= 0) {
            kind =
                strcmp(name, "always_on") == 0 ? OTELC_SAMPLER_ALWAYS_ON : OTELC_SAMPLER_ALWAYS_OFF;
            if (value->type == YAML_MAPPING_NODE && otelc__cfg_pairs_count(value) > 0) {
                otelc__cfg_report(ld, value, "this sampler takes no settings; they are ignored");
            }
        }
    } else if (strcmp(name, "trace_id_ratio_based") == 0) {
        int m = otelc__cfg_mapping(ld, value, "a mapping with ratio");

        if (m >= 0)
            kind = OTELC_SAMPLER_TRACEIDRATIO;
        if (m > 0) {
            OTELC__CFG_FOR_EACH_PAIR(ld, value, pair)
            {
                const char *k, *s;
                yaml_node_t *kn, *v;
                size_t mk;
                double d;
                int r;

                if (!otelc__cfg_member(ld, pair, &k, &kn, &v, &mk))
                    continue;
                if (strcmp(k, "ratio") == 0) {
                    r = otelc__cfg_scalar(ld, v, &s);
                    if (r > 0 && otelc__cfg_parse_number(s, &d) && d <= 1.0) {
                        *ratio = d;
                    } else if (r != 0) {
                        char kept[32];

                        snprintf(kept, sizeof(kept), "%g", *ratio);
                        otelc__cfg_reject(ld, v, "a number from 0 to 1", kept);
                    }
                } else {
                    otelc__cfg_unknown(ld, kn);
                }
                otelc__cfg_path_pop(ld, mk);
            }
        }
    } else {
        otelc__cfg_report(ld, key,
                          "sampler '%s' is not built into otelc (always_on, always_off, "
                          "trace_id_ratio_based, parent_based); keeping the default sampler",
                          name);
    }
    otelc__cfg_path_pop(ld, mark);
    return kind;
}

/*
 * tracer_provider.sampler. parent_based maps to otelc's parentbased_*
 * samplers when its root is always_on, always_off or trace_id_ratio_based
 * and the four parent rules are the defaults (follow the parent's
 * decision); other combinations are reported and the default stays.
 */
static void read_sampler(otelc__cfg_t *ld, yaml_node_t *n)
{
    const char *name, *s;
    yaml_node_t *key, *value;
    double ratio = ld->o.sampler_ratio;
    int kind = -1;
    size_t mark;

    if (n->type == YAML_SCALAR_NODE && otelc__cfg_scalar(ld, n, &s) == 0)
        return;
    if (!sampler_choice(ld, n, &name, &key, &value))
        return;
    if (strcmp(name, "parent_based") != 0) {
        kind = simple_sampler(ld, n, &ratio);
    } else {
        int m;

        mark = otelc__cfg_path_push(ld, name);
        m = otelc__cfg_mapping(ld, value, "a mapping with root and the parent rules");
        kind = m >= 0 ? OTELC_SAMPLER_PARENTBASED_ALWAYS_ON : -1;
        if (m > 0) {
            OTELC__CFG_FOR_EACH_PAIR(ld, value, pair)
            {
                const char *k, *rule;
                yaml_node_t *kn, *v, *rk, *rv;
                size_t mk;
                bool sampled_rule;

                if (!otelc__cfg_member(ld, pair, &k, &kn, &v, &mk))
                    continue;
                sampled_rule = strcmp(k, "remote_parent_sampled") == 0 ||
                               strcmp(k, "local_parent_sampled") == 0;
                if (strcmp(k, "root") == 0) {
                    int root = simple_sampler(ld, v, &ratio);

                    kind = root == OTELC_SAMPLER_ALWAYS_ON    ? OTELC_SAMPLER_PARENTBASED_ALWAYS_ON
                           : root == OTELC_SAMPLER_ALWAYS_OFF ? OTELC_SAMPLER_PARENTBASED_ALWAYS_OFF
                           : root == OTELC_SAMPLER_TRACEIDRATIO
                               ? OTELC_SAMPLER_PARENTBASED_TRACEIDRATIO
                               : -1;
                } else if (sampled_rule || strcmp(k, "remote_parent_not_sampled") == 0 ||
                           strcmp(k, "local_parent_not_sampled") == 0) {
                    /* otelc's parent-based samplers follow the parent's
                     * decision: only the default rules can be honoured. */
                    if (sampler_choice(ld, v, &rule, &rk, &rv)) {
                        const char *want = sampled_rule ? "always_on" : "always_off";

                        if (strcmp(rule, want) != 0) {
                            otelc__cfg_report(
                                ld, rk,
                                "otelc's parent-based samplers follow the parent's decision: "
                                "only %s is supported here; keeping the default sampler",
                                want);
                            kind = -1;
                        }
                    } else {
                        kind = -1;
                    }
                } else {
                    otelc__cfg_unknown(ld, kn);
                }
                otelc__cfg_path_pop(ld, mk);
                if (kind < 0)
                    break;
            }
        }
        otelc__cfg_path_pop(ld, mark);
    }
    if (kind >= 0) {
        ld->o.sampler = (otelc_sampler_kind_t)kind;
        ld->o.sampler_ratio = ratio;
    }
}

/* ---- processors and exporters -------------------------------------------- */

static void add_exporter(otelc__cfg_t *ld, int sig, const char *name)
{
    otelc__cfg_sb_t *b = &ld->exporters[sig];
    size_t n = strlen(name);

    /* Each name once. */
    for (const char *p = b->p; p != NULL && *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);

        if (len == n && memcmp(p, name, n) == 0)
            return;
        p = comma != NULL ? comma + 1 : p + len;
    }
    if (b->len > 0)
        otelc__cfg_sb_put(b, ",", 1);
    otelc__cfg_sb_put(b, name, n);
}

/*
 * The settings of an OTLP exporter block (otlp_http, otlp_grpc) of a
 * provider: handed to the rows of the OTLP exporter's component for that
 * signal (otelc.otlp.traces.* or otelc.otlp.logs.*: the per-signal
 * settings, so an otlp_http endpoint is used verbatim, as the schema
 * means it). Where libotelc_otlp is not linked the values are only checked
 * (a typo is still reported), and the pipeline reports the exporter.
 */
typedef struct otlp_block {
    otelc__cfg_t *ld;
    int sig;
    bool linked;
} otlp_block_t;

/* One value for row otelc.otlp.<signal>.<field>, from node v. */
static void otlp_value(otlp_block_t *b, yaml_node_t *v, const char *field)
{
    char key[80];
    const otelc__cfg_target_t *t;

    snprintf(key, sizeof(key), "otelc.otlp.%s.%s", b->sig == OTELC__CFG_TRACES ? "traces" : "logs",
             field);
    t = otelc__cfg_target(b->ld, key);
    if (t == NULL)
        otelc__cfg_check_scalar(b->ld, v, "a string");
    else
        (void)otelc__cfg_row(b->ld, v, t->row, t->base);
}

static void otlp_text(otlp_block_t *b, yaml_node_t *at, const char *field, const char *text,
                      size_t len)
{
    char key[80];
    const otelc__cfg_target_t *t;

    snprintf(key, sizeof(key), "otelc.otlp.%s.%s", b->sig == OTELC__CFG_TRACES ? "traces" : "logs",
             field);
    t = otelc__cfg_target(b->ld, key);
    if (t != NULL)
        (void)otelc__cfg_row_text(b->ld, at, t->row, t->base, text, len);
}

/* The keys of the schema, and the row each one sets. */
static const char *otlp_field(const char *k)
{
    static const char *const map[][2] = {
        { "endpoint", "endpoint" },
        { "certificate", "certificate" },
        { "certificate_file", "certificate" },
        { "client_key", "client_key" },
        { "client_key_file", "client_key" },
        { "client_certificate", "client_certificate" },
        { "client_certificate_file", "client_certificate" },
        { "timeout", "timeout" },
        { "compression", "compression" },
        { "insecure", "insecure" },
        { "headers_list", "headers" },
        { "protocol", "protocol" },
        /* under tls: */
        { "ca_file", "certificate" },
        { "cert_file", "client_certificate" },
        { "key_file", "client_key" },
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i][0], k) == 0)
            return map[i][1];
    return NULL;
}

/* headers: [{name: n, value: v}, ...] as the row's "n=v,..." text (with
 * ',', '=' and '%' percent-encoded, as the row decodes them). */
static void otlp_headers(otlp_block_t *b, yaml_node_t *v)
{
    otelc__cfg_t *ld = b->ld;
    otelc__cfg_sb_t text = { 0 };
    size_t i = 0;

    if (v->type != YAML_SEQUENCE_NODE) {
        otelc__cfg_reject(ld, v, "a list of {name, value}", "no headers");
        return;
    }
    OTELC__CFG_FOR_EACH_ITEM(ld, v, item)
    {
        size_t m = otelc__cfg_path_push_index(ld, i++);
        yaml_node_t *it = otelc__cfg_node(ld, *item);
        const char *name = NULL, *value = NULL;

        if (it != NULL && otelc__cfg_mapping(ld, it, "a mapping with name and value") > 0) {
            OTELC__CFG_FOR_EACH_PAIR(ld, it, hp)
            {
                const char *hk, *s;
                yaml_node_t *hkn, *hv;
                size_t hm;

                if (!otelc__cfg_member(ld, hp, &hk, &hkn, &hv, &hm))
                    continue;
                if (strcmp(hk, "name") == 0 || strcmp(hk, "value") == 0) {
                    /* The node's own text: the scalar's is a scratch
                     * buffer that the next one reuses. */
                    if (otelc__cfg_scalar(ld, hv, &s) > 0)
                        *(hk[0] == 'n' ? &name : &value) = (const char *)hv->data.scalar.value;
                    else
                        otelc__cfg_check_scalar(ld, hv, "a string");
                } else {
                    otelc__cfg_unknown(ld, hkn);
                }
                otelc__cfg_path_pop(ld, hm);
            }
            if (name != NULL && value != NULL && name[0] != '\0') {
                if (text.len > 0)
                    otelc__cfg_sb_put(&text, ",", 1);
                put_encoded(&text, name, strlen(name));
                otelc__cfg_sb_put(&text, "=", 1);
                put_encoded(&text, value, strlen(value));
            } else if ((name == NULL) != (value == NULL)) {
                otelc__cfg_report(ld, it, "a header needs both name and value; skipped");
            }
        }
        otelc__cfg_path_pop(ld, m);
    }
    if (text.failed)
        ld->nomem = true;
    else if (text.len > 0)
        otlp_text(b, v, "headers", text.p, text.len);
    otelc__cfg_sb_free(&text);
}

static void read_otlp_settings(otelc__cfg_t *ld, yaml_node_t *map, int sig, bool grpc)
{
    otlp_block_t b = { ld, sig, false };
    bool json = false;

    if (otelc__cfg_mapping(ld, map, "a mapping") < 0)
        return;
    /* The block's kind says the protocol; `encoding: json` or an explicit
     * `protocol` (set after) changes it. */
    otlp_text(&b, map, "protocol", grpc ? "grpc" : "http/protobuf",
              strlen(grpc ? "grpc" : "http/protobuf"));
    if (otelc__cfg_mapping(ld, map, "a mapping") == 0)
        return;
    OTELC__CFG_FOR_EACH_PAIR(ld, map, pair)
    {
        const char *k, *field;
        yaml_node_t *kn, *v;
        size_t mark;

        if (!otelc__cfg_member(ld, pair, &k, &kn, &v, &mark))
            continue;
        if (!grpc && strcmp(k, "encoding") == 0) {
            static const char *const words[] = { "protobuf", "json" };
            static const int values[] = { 0, 1 };
            int e = 0;

            otelc__cfg_enum(ld, v, words, values, 2, "protobuf or json", &e);
            json = e == 1;
        } else if (strcmp(k, "headers") == 0) {
            otlp_headers(&b, v);
        } else if (strcmp(k, "tls") == 0) {
            if (otelc__cfg_mapping(ld, v, "a mapping") > 0) {
                OTELC__CFG_FOR_EACH_PAIR(ld, v, tp)
                {
                    const char *tk, *tf;
                    yaml_node_t *tkn, *tv;
                    size_t tm;

                    if (!otelc__cfg_member(ld, tp, &tk, &tkn, &tv, &tm))
                        continue;
                    tf = otlp_field(tk);
                    if (tf != NULL && strcmp(tf, "endpoint") != 0 && strcmp(tf, "timeout") != 0 &&
                        strcmp(tf, "protocol") != 0 && strcmp(tf, "headers") != 0 &&
                        strcmp(tf, "compression") != 0)
                        otlp_value(&b, tv, tf);
                    else
                        otelc__cfg_unknown(ld, tkn);
                    otelc__cfg_path_pop(ld, tm);
                }
            }
        } else if ((field = otlp_field(k)) != NULL) {
            otlp_value(&b, v, field);
        } else {
            otelc__cfg_unknown(ld, kn);
        }
        otelc__cfg_path_pop(ld, mark);
    }
    if (json)
        otlp_text(&b, map, "protocol", "http/json", 9);
}

/* An exporter name usable in a comma list. */
static bool is_exporter_name(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (!otelc__cfg_is_name_char(*s) && *s != '-' && *s != '.' && *s != '/')
            return false;
    }
    return true;
}

/*
 * exporter: {<name>: <settings>}. console and the OTLP exporters are the
 * schema's; any other name is an exporter registered with
 * a component (otelc/settings.h: file, with libotelc_file), and goes into
 * the list as it is: the pipeline reports a name it cannot make. Returns
 * true when an exporter was named.
 */
static bool read_exporter(otelc__cfg_t *ld, yaml_node_t *n, int sig)
{
    const char *name;
    yaml_node_t *key, *value;
    size_t mark;

    if (n->type != YAML_MAPPING_NODE || otelc__cfg_pairs_count(n) != 1) {
        otelc__cfg_report(ld, n,
                          "an exporter is a mapping with one key, such as {console: }; ignored");
        return false;
    }
    key = otelc__cfg_node(ld, n->data.mapping.pairs.start->key);
    value = otelc__cfg_node(ld, n->data.mapping.pairs.start->value);
    if (key == NULL || value == NULL || key->type != YAML_SCALAR_NODE) {
        otelc__cfg_report(ld, n, "an exporter's key must be a string; ignored");
        return false;
    }
    name = (const char *)key->data.scalar.value;
    mark = otelc__cfg_path_push(ld, name);
    if (strcmp(name, "otlp_http") == 0 || strcmp(name, "otlp_grpc") == 0 ||
        strcmp(name, "otlp") == 0) {
        read_otlp_settings(ld, value, sig, strcmp(name, "otlp_grpc") == 0);
        add_exporter(ld, sig, "otlp");
    } else if (!is_exporter_name(name)) {
        char shown[64];

        otelc__cfg_report(ld, key, "'%s' is not an exporter name; ignored",
                          otelc__cfg_printable(name, strlen(name), shown, sizeof(shown)));
        otelc__cfg_path_pop(ld, mark);
        return false;
    } else {
        /* console and the exporters of components take their settings
         * under otelc.<name>, where their rows are. The schema's exporters
         * otelc lacks are left to the pipeline, which reports them by name. */
        bool lacking = strcmp(name, "zipkin") == 0 || strncmp(name, "otlp_file", 9) == 0;

        if (!lacking && otelc__cfg_mapping(ld, value, "nothing (null or {})") > 0 &&
            otelc__cfg_pairs_count(value) > 0)
            otelc__cfg_report(ld, value,
                              "the %s exporter takes no settings here (they go under otelc.%s); "
                              "ignored",
                              name, name);
        add_exporter(ld, sig, name);
    }
    otelc__cfg_path_pop(ld, mark);
    return true;
}

/* One batch setting, read by the row of its OTEL_BSP_* or OTEL_BLRP_*
 * variable: the first processor's word wins. */
static void batch_setting(otelc__cfg_t *ld, yaml_node_t *v, int sig, int which, const char *var,
                          uint32_t *field)
{
    char env[64];
    otelc_options_t scratch = ld->o;
    uint32_t n;

    snprintf(env, sizeof(env), "%s%s", sig == OTELC__CFG_TRACES ? "OTEL_BSP_" : "OTEL_BLRP_", var);
    if (!otelc__cfg_row(ld, v, otelc__cfg_core_row(env), &scratch))
        return;
    /* The field of the scratch copy that the row wrote. */
    n = *(const uint32_t *)((const char *)&scratch + ((const char *)field - (const char *)&ld->o));
    if (ld->batch_given[sig][which] && n != *field) {
        otelc__cfg_report(
            ld, v,
            "otelc runs one batch processor per signal, and an earlier processor set %u; "
            "keeping %u",
            (unsigned)*field, (unsigned)*field);
        return;
    }
    *field = n;
    ld->batch_given[sig][which] = true;
}

/* One entry of processors: {batch: {...}} or {simple: {exporter: ...}}.
 * Returns true when it named an exporter. */
static bool read_processor(otelc__cfg_t *ld, yaml_node_t *n, int sig)
{
    otelc_batch_options_t *b = sig == OTELC__CFG_TRACES ? &ld->o.spans_batch : &ld->o.logs_batch;
    const char *name;
    yaml_node_t *key, *value;
    bool simple, named = false, has_exporter = false;
    size_t mark;

    if (n->type != YAML_MAPPING_NODE || otelc__cfg_pairs_count(n) != 1) {
        otelc__cfg_report(ld, n, "a processor is a mapping with one key, batch or simple; ignored");
        return false;
    }
    key = otelc__cfg_node(ld, n->data.mapping.pairs.start->key);
    value = otelc__cfg_node(ld, n->data.mapping.pairs.start->value);
    if (key == NULL || value == NULL || key->type != YAML_SCALAR_NODE) {
        otelc__cfg_report(ld, n, "a processor's key must be a string; ignored");
        return false;
    }
    name = (const char *)key->data.scalar.value;
    simple = strcmp(name, "simple") == 0;
    if (!simple && strcmp(name, "batch") != 0) {
        otelc__cfg_report(ld, key,
                          "processor '%s' is not built into otelc (batch, simple); ignored", name);
        return false;
    }
    mark = otelc__cfg_path_push(ld, name);
    if (otelc__cfg_mapping(ld, value, "a mapping with an exporter") > 0) {
        OTELC__CFG_FOR_EACH_PAIR(ld, value, pair)
        {
            const char *k;
            yaml_node_t *kn, *v;
            size_t mk;

            if (!otelc__cfg_member(ld, pair, &k, &kn, &v, &mk))
                continue;
            if (strcmp(k, "exporter") == 0) {
                has_exporter = true;
                named = read_exporter(ld, v, sig) || named;
            } else if (!simple && strcmp(k, "schedule_delay") == 0) {
                batch_setting(ld, v, sig, OTELC__CFG_DELAY, "SCHEDULE_DELAY",
                              &b->schedule_delay_ms);
            } else if (!simple && strcmp(k, "export_timeout") == 0) {
                batch_setting(ld, v, sig, OTELC__CFG_TIMEOUT, "EXPORT_TIMEOUT",
                              &b->export_timeout_ms);
            } else if (!simple && strcmp(k, "max_queue_size") == 0) {
                batch_setting(ld, v, sig, OTELC__CFG_QUEUE, "MAX_QUEUE_SIZE", &b->max_queue_size);
            } else if (!simple && strcmp(k, "max_export_batch_size") == 0) {
                batch_setting(ld, v, sig, OTELC__CFG_BATCH, "MAX_EXPORT_BATCH_SIZE",
                              &b->max_export_batch_size);
            } else {
                otelc__cfg_unknown(ld, kn);
            }
            otelc__cfg_path_pop(ld, mk);
        }
    }
    if (!has_exporter)
        otelc__cfg_report(ld, key, "a processor needs an exporter; ignored");
    /* A simple processor exports each record at once: otelc's one batch
     * processor then waits for nothing. */
    if (simple && named) {
        if (ld->batch_given[sig][OTELC__CFG_DELAY] && b->schedule_delay_ms != 0)
            otelc__cfg_report(
                ld, key,
                "a simple processor means schedule_delay 0, but an earlier processor set "
                "%u (otelc runs one batch processor per signal); keeping %u",
                (unsigned)b->schedule_delay_ms, (unsigned)b->schedule_delay_ms);
        else
            b->schedule_delay_ms = 0;
        ld->batch_given[sig][OTELC__CFG_DELAY] = true;
    }
    otelc__cfg_path_pop(ld, mark);
    return named;
}

/* tracer_provider / logger_provider. */
void otelc__cfg_read_provider(otelc__cfg_t *ld, yaml_node_t *map, int sig)
{
    otelc_batch_options_t *b = sig == OTELC__CFG_TRACES ? &ld->o.spans_batch : &ld->o.logs_batch;
    const char *configurator = sig == OTELC__CFG_TRACES ? "tracer_configurator/development"
                                                        : "logger_configurator/development";
    yaml_node_t *processors = NULL;

    if (otelc__cfg_mapping(ld, map, "a mapping") <= 0)
        return;
    OTELC__CFG_FOR_EACH_PAIR(ld, map, pair)
    {
        const char *k;
        yaml_node_t *kn, *v;
        size_t mark;

        if (!otelc__cfg_member(ld, pair, &k, &kn, &v, &mark))
            continue;
        if (strcmp(k, "processors") == 0) {
            processors = v;
            if (v->type == YAML_SEQUENCE_NODE) {
                size_t i = 0;
                bool named = v->data.sequence.items.top == v->data.sequence.items.start;

                OTELC__CFG_FOR_EACH_ITEM(ld, v, item)
                {
                    size_t m = otelc__cfg_path_push_index(ld, i++);
                    yaml_node_t *it = otelc__cfg_node(ld, *item);

                    if (it != NULL)
                        named = read_processor(ld, it, sig) || named;
                    otelc__cfg_path_pop(ld, m);
                }
                /* Processors that all failed keep the default exporters;
                 * an empty list means none. */
                if (!named)
                    processors = NULL;
            } else {
                const char *s;

                if (otelc__cfg_scalar(ld, v, &s) != 0) {
                    otelc__cfg_reject(ld, v, "a list of processors", "the default exporters");
                    processors = NULL;
                }
            }
        } else if (strcmp(k, "limits") == 0) {
            otelc__cfg_walk(ld, v,
                            sig == OTELC__CFG_TRACES ? "tracer_provider.limits"
                                                     : "logger_provider.limits");
        } else if (sig == OTELC__CFG_TRACES && strcmp(k, "sampler") == 0) {
            read_sampler(ld, v);
        } else if (strcmp(k, configurator) == 0) {
            otelc__cfg_unsupported(ld, kn, "use otelc.loggers for per-logger levels");
        } else {
            otelc__cfg_unknown(ld, kn);
        }
        otelc__cfg_path_pop(ld, mark);
    }
    if (processors != NULL) {
        const char *list =
            ld->exporters[sig].len > 0 ? otelc__cfg_sb_keep(ld, &ld->exporters[sig]) : "none";

        if (list != NULL) {
            if (sig == OTELC__CFG_TRACES)
                ld->o.traces_exporter = list;
            else
                ld->o.logs_exporter = list;
        }
    }
    /* The specification requires the batch size to be at most the queue
     * size; as OTEL_BSP_* do, an explicit larger one is reported. */
    if (b->max_export_batch_size > b->max_queue_size) {
        if (ld->batch_given[sig][OTELC__CFG_BATCH]) {
            size_t mark = otelc__cfg_path_push(ld, "processors");

            otelc__cfg_report(ld, map,
                              "max_export_batch_size %u is larger than max_queue_size %u; using %u",
                              (unsigned)b->max_export_batch_size, (unsigned)b->max_queue_size,
                              (unsigned)b->max_queue_size);
            otelc__cfg_path_pop(ld, mark);
        }
        b->max_export_batch_size = b->max_queue_size;
    }
}
