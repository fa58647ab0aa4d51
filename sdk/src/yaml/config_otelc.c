/*
 * config_otelc.c: otelc's own settings in the config file, under the
 * top-level key `otelc` -- levels per logger, masked keys, the buffers, the
 * console and the file exporter with its channels. Each has an OTELC_*
 * environment variable of the same meaning (docs/config-file.md).
 */
#include "config_yaml.h"

#include "config_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the otelc extension ------------------------------------------------- */

/*
 * A list given either as a YAML list of strings or as one comma-separated
 * string, joined into a comma list in `out`. Items must be non-empty and
 * hold no comma; blanks around them are dropped. False when it does not fit
 * (reported by the caller with `expected`).
 */
static bool get_list(otelc__cfg_t *ld, yaml_node_t *n, otelc__cfg_sb_t *out,
                     const yaml_node_t **bad)
{
    const char *s;

    otelc__cfg_sb_clear(out);
    *bad = n;
    if (n->type == YAML_SEQUENCE_NODE) {
        OTELC__CFG_FOR_EACH_ITEM(ld, n, item)
        {
            yaml_node_t *it = otelc__cfg_node(ld, *item);
            size_t len;
            const char *t;

            if (it == NULL || otelc__cfg_scalar(ld, it, &s) <= 0) {
                *bad = it != NULL ? it : n;
                return false;
            }
            t = otelc__cfg_trim(s, &len);
            if (len == 0 || memchr(t, ',', len) != NULL) {
                *bad = it;
                return false;
            }
            if (out->len > 0)
                otelc__cfg_sb_put(out, ",", 1);
            otelc__cfg_sb_put(out, t, len);
        }
        if (out->p == NULL)
            otelc__cfg_sb_put(out, "", 0);
        return !out->failed;
    }
    if (otelc__cfg_scalar(ld, n, &s) <= 0)
        return false;
    otelc__cfg_sb_puts(out, s);
    return !out->failed;
}

/* otelc.loggers: {prefix: LEVEL, ...}, or the OTELC_LOGGER_LEVELS string. */
static void read_loggers(otelc__cfg_t *ld, yaml_node_t *n)
{
    otelc__cfg_sb_t rules = { 0 };
    bool ok = true;

    if (n->type == YAML_MAPPING_NODE) {
        OTELC__CFG_FOR_EACH_PAIR(ld, n, pair)
        {
            const char *k;
            yaml_node_t *kn, *v;
            size_t mark;
            const char *s;
            int level = 0, r;
            char number[16];

            if (!otelc__cfg_member(ld, pair, &k, &kn, &v, &mark))
                continue;
            r = otelc__cfg_scalar(ld, v, &s);
            if (k[0] == '\0' || strpbrk(k, ",= \t") != NULL) {
                otelc__cfg_report(
                    ld, kn,
                    "a logger name prefix cannot be empty or hold ',', '=' or blanks; "
                    "ignored");
            } else if (r < 0 || (r > 0 && !otelc__parse_level(s, &level))) {
                otelc__cfg_reject(ld, v,
                                  "TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF or a severity "
                                  "number from 1 to 24",
                                  "no rule for this prefix");
            } else if (r > 0) {
                snprintf(number, sizeof(number), "=%d", level);
                if (rules.len > 0)
                    otelc__cfg_sb_put(&rules, ",", 1);
                otelc__cfg_sb_puts(&rules, k);
                otelc__cfg_sb_puts(&rules, number);
            }
            otelc__cfg_path_pop(ld, mark);
        }
    } else {
        const char *s;
        int r = otelc__cfg_scalar(ld, n, &s);

        if (r == 0)
            return;
        ok = r > 0;
        if (ok) {
            /* Every item must parse: a rule that does not would be skipped
             * silently at run time. */
            char *copy = strdup(s), *cursor = copy, *item;

            if (copy == NULL) {
                ld->nomem = true;
                return;
            }
            while (ok && (item = strsep(&cursor, ",")) != NULL) {
                char *eq = strchr(item, '=');
                size_t len;
                int level;

                if (otelc__cfg_trim(item, &len) != NULL && len == 0)
                    continue;
                if (eq == NULL)
                    ok = false;
                else {
                    *eq = '\0';
                    ok = otelc__cfg_trim(item, &len) != NULL && len > 0 &&
                         otelc__parse_level(eq + 1, &level);
                }
            }
            free(copy);
        }
        if (ok)
            otelc__cfg_sb_puts(&rules, s);
        else
            otelc__cfg_reject(
                ld, n,
                "a mapping of logger-name prefixes to levels, or prefix=LEVEL,... (LEVEL "
                "one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF or 1 to 24)",
                ld->o.logger_levels != NULL ? ld->o.logger_levels : "none");
    }
    if (ok && rules.len > 0)
        ld->o.logger_levels = otelc__cfg_sb_keep(ld, &rules);
    if (rules.failed)
        ld->nomem = true;
    otelc__cfg_sb_free(&rules);
}

static void read_console(otelc__cfg_t *ld, yaml_node_t *map)
{
    static const char *const words[] = { "auto", "always", "never" };
    static const int values[] = { -1, 1, 0 };

    if (otelc__cfg_mapping(ld, map, "a mapping") <= 0)
        return;
    OTELC__CFG_FOR_EACH_PAIR(ld, map, pair)
    {
        const char *k;
        yaml_node_t *kn, *v;
        size_t mark;

        if (!otelc__cfg_member(ld, pair, &k, &kn, &v, &mark))
            continue;
        if (strcmp(k, "level") == 0)
            otelc__cfg_level(ld, v, &ld->o.console_level);
        else if (strcmp(k, "color") == 0)
            otelc__cfg_enum(ld, v, words, values, 3, "auto, always or never", &ld->o.console_color);
        else
            otelc__cfg_unknown(ld, kn);
        otelc__cfg_path_pop(ld, mark);
    }
}

static bool is_channel_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 63)
        return false;
    for (; *s != '\0'; s++) {
        if (!otelc__cfg_is_name_char(*s) && *s != '.' && *s != '-')
            return false;
    }
    return true;
}

/* otelc.file.channels: {name: {loggers, level, retention_days}, ...}. */
static void read_channels(otelc__cfg_t *ld, yaml_node_t *map)
{
    otelc_file_channel_t *channels;
    size_t n = 0;
    otelc__cfg_sb_t list = { 0 };

    if (otelc__cfg_mapping(ld, map, "a mapping of channel names to settings") <= 0)
        return;
    channels = otelc__cfg_alloc(ld, otelc__cfg_pairs_count(map) * sizeof(*channels),
                                _Alignof(otelc_file_channel_t));
    if (channels == NULL)
        return;
    OTELC__CFG_FOR_EACH_PAIR(ld, map, pair)
    {
        const char *k;
        yaml_node_t *kn, *v;
        size_t mark;
        otelc_file_channel_t c = { 0 };

        if (!otelc__cfg_member(ld, pair, &k, &kn, &v, &mark))
            continue;
        if (!is_channel_name(k)) {
            otelc__cfg_report(ld, kn,
                              "a channel name is 1 to 63 of A-Z a-z 0-9 _ . -; channel ignored");
            otelc__cfg_path_pop(ld, mark);
            continue;
        }
        c.name = otelc__cfg_strdup(ld, k, strlen(k));
        if (otelc__cfg_mapping(ld, v, "a mapping with loggers, level and retention_days") > 0) {
            OTELC__CFG_FOR_EACH_PAIR(ld, v, cp)
            {
                const char *ck;
                yaml_node_t *ckn, *cv;
                size_t cm;
                const yaml_node_t *bad;

                if (!otelc__cfg_member(ld, cp, &ck, &ckn, &cv, &cm))
                    continue;
                if (strcmp(ck, "loggers") == 0) {
                    const char *s;

                    if (get_list(ld, cv, &list, &bad))
                        c.loggers = otelc__cfg_sb_keep(ld, &list);
                    else if (bad->type != YAML_SCALAR_NODE || otelc__cfg_scalar(ld, bad, &s) != 0 ||
                             bad != cv)
                        otelc__cfg_reject(ld, bad,
                                          "a list of logger-name prefixes (or one comma-separated "
                                          "string)",
                                          "the built-in prefixes");
                } else if (strcmp(ck, "level") == 0) {
                    otelc__cfg_level(ld, cv, &c.level);
                } else if (strcmp(ck, "retention_days") == 0) {
                    otelc__cfg_u32(ld, cv, 0, UINT32_MAX, "days", &c.retention_days);
                } else {
                    otelc__cfg_unknown(ld, ckn);
                }
                otelc__cfg_path_pop(ld, cm);
            }
        }
        if (c.name != NULL)
            channels[n++] = c;
        otelc__cfg_path_pop(ld, mark);
    }
    otelc__cfg_sb_free(&list);
    ld->o.file.channels = channels;
    ld->o.file.n_channels = n;
}

static void read_rotation(otelc__cfg_t *ld, yaml_node_t *map)
{
    otelc_file_options_t *f = &ld->o.file;

    if (otelc__cfg_mapping(ld, map, "a mapping") <= 0)
        return;
    OTELC__CFG_FOR_EACH_PAIR(ld, map, pair)
    {
        const char *k;
        yaml_node_t *kn, *v;
        size_t mark;

        if (!otelc__cfg_member(ld, pair, &k, &kn, &v, &mark))
            continue;
        if (strcmp(k, "max_size") == 0)
            otelc__cfg_size(ld, v, &f->max_bytes);
        else if (strcmp(k, "max_files") == 0)
            otelc__cfg_u32(ld, v, 1, UINT32_MAX, "files", &f->max_files);
        else if (strcmp(k, "daily") == 0)
            otelc__cfg_bool(ld, v, &f->rotate_daily);
        else
            otelc__cfg_unknown(ld, kn);
        otelc__cfg_path_pop(ld, mark);
    }
}

static void read_file_exporter(otelc__cfg_t *ld, yaml_node_t *map)
{
    static const char *const formats[] = { "flat", "otlp" };
    static const int format_values[] = { OTELC_FILE_FORMAT_FLAT, OTELC_FILE_FORMAT_OTLP };
    otelc_file_options_t *f = &ld->o.file;

    if (otelc__cfg_mapping(ld, map, "a mapping") <= 0)
        return;
    OTELC__CFG_FOR_EACH_PAIR(ld, map, pair)
    {
        const char *k;
        yaml_node_t *kn, *v;
        size_t mark;

        if (!otelc__cfg_member(ld, pair, &k, &kn, &v, &mark))
            continue;
        if (strcmp(k, "directory") == 0) {
            otelc__cfg_string(ld, v, &f->directory);
        } else if (strcmp(k, "format") == 0) {
            int format = (int)f->format;

            if (otelc__cfg_enum(ld, v, formats, format_values, 2, "flat or otlp", &format))
                f->format = (otelc_file_format_t)format;
        } else if (strcmp(k, "level") == 0) {
            otelc__cfg_level(ld, v, &f->level);
        } else if (strcmp(k, "rotation") == 0) {
            read_rotation(ld, v);
        } else if (strcmp(k, "retention_days") == 0) {
            otelc__cfg_u32(ld, v, 0, UINT32_MAX, "days", &f->retention_days);
        } else if (strcmp(k, "compress") == 0) {
            otelc__cfg_bool(ld, v, &f->compress);
        } else if (strcmp(k, "channels") == 0) {
            read_channels(ld, v);
        } else {
            otelc__cfg_unknown(ld, kn);
        }
        otelc__cfg_path_pop(ld, mark);
    }
}

/* otelc.ring_size: 0, or a power of two from 4 KiB to 1 GiB. */
static void read_ring_size(otelc__cfg_t *ld, yaml_node_t *v)
{
    uint64_t n = ld->o.ring_size;
    char kept[32];
    const char *s;
    int r = otelc__cfg_scalar(ld, v, &s);

    if (r == 0)
        return;
    if (r > 0 && otelc__parse_size(s, &n) &&
        (n == 0 || (n >= 4096 && n <= (1u << 30) && (n & (n - 1)) == 0))) {
        ld->o.ring_size = (uint32_t)n;
        return;
    }
    snprintf(kept, sizeof(kept), "%u", (unsigned)ld->o.ring_size);
    otelc__cfg_reject(ld, v, "0 or a power of two from 4096 to 1073741824 bytes (as in 1MiB)",
                      kept);
}

void otelc__cfg_read_otelc(otelc__cfg_t *ld, yaml_node_t *map)
{
    static const char *const overflow_words[] = { "drop", "block" };
    static const int overflow_values[] = { OTELC_OVERFLOW_DROP, OTELC_OVERFLOW_BLOCK };
    otelc__cfg_sb_t list = { 0 };

    if (otelc__cfg_mapping(ld, map, "a mapping") <= 0)
        return;
    OTELC__CFG_FOR_EACH_PAIR(ld, map, pair)
    {
        const char *k;
        yaml_node_t *kn, *v;
        size_t mark;

        if (!otelc__cfg_member(ld, pair, &k, &kn, &v, &mark))
            continue;
        if (strcmp(k, "level") == 0) {
            otelc__cfg_level(ld, v, &ld->o.level);
        } else if (strcmp(k, "loggers") == 0) {
            read_loggers(ld, v);
        } else if (strcmp(k, "mask_keys") == 0) {
            const yaml_node_t *bad;
            const char *s;

            if (get_list(ld, v, &list, &bad)) {
                size_t len;
                const char *t = otelc__cfg_trim(list.p, &len);

                /* "none", as in OTELC_MASK_KEYS, and [] mask nothing. */
                ld->o.mask_keys =
                    otelc__cfg_word_is_nocase(t, len, "none") ? "" : otelc__cfg_sb_keep(ld, &list);
            } else if (bad->type != YAML_SCALAR_NODE || otelc__cfg_scalar(ld, bad, &s) != 0 ||
                       bad != v) {
                otelc__cfg_reject(ld, bad,
                                  "a list of attribute keys (or one comma-separated string)",
                                  "the default list");
            }
        } else if (strcmp(k, "overflow") == 0) {
            int o = (int)ld->o.overflow;

            if (otelc__cfg_enum(ld, v, overflow_words, overflow_values, 2, "drop or block", &o))
                ld->o.overflow = (otelc_overflow_t)o;
        } else if (strcmp(k, "block_timeout_ms") == 0) {
            otelc__cfg_u32(ld, v, 0, UINT32_MAX, "milliseconds", &ld->o.block_timeout_ms);
        } else if (strcmp(k, "ring_size") == 0) {
            read_ring_size(ld, v);
        } else if (strcmp(k, "stats") == 0) {
            otelc__cfg_bool(ld, v, &ld->o.print_stats);
        } else if (strcmp(k, "console") == 0) {
            read_console(ld, v);
        } else if (strcmp(k, "file") == 0) {
            read_file_exporter(ld, v);
        } else if (strcmp(k, "postgres") == 0) {
            /* Reserved for the PostgreSQL exporter, which a later otelc
             * brings; until then its settings are not read. */
            otelc__cfg_report(ld, kn,
                              "the PostgreSQL exporter is not built into this otelc yet; its "
                              "settings are ignored");
        } else {
            otelc__cfg_unknown(ld, kn);
        }
        otelc__cfg_path_pop(ld, mark);
    }
    if (list.failed)
        ld->nomem = true;
    otelc__cfg_sb_free(&list);
}
