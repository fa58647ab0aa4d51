/*
 * config_yaml.h: what the three parts of the config file loader share.
 *
 *   config_file.c    reading and checking the file, ${VAR} substitution, the
 *                    typed getters every section uses, the top level
 *   config_schema.c  the OpenTelemetry schema's sections: resource,
 *                    attribute_limits, propagator, tracer_provider,
 *                    logger_provider
 *   config_otelc.c   otelc's own settings under the key `otelc`
 *
 * Only src/yaml/ includes this header (and so <yaml.h>).
 *
 * Conventions of the getters: each reads a value node into a field and
 * returns true when it did. A null value (YAML null, nothing, or a plain
 * ${VAR} of an unset variable) leaves the field alone without a word: the
 * schema reads null as "use the default". A value that does not fit is
 * reported -- file, line, key path, the value, what was expected and what
 * the field keeps -- and leaves the field alone.
 */
#ifndef OTELC_CONFIG_YAML_H
#define OTELC_CONFIG_YAML_H

#include "config_file.h"
#include "diag.h"
#include "settings_int.h"

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "yaml_dl.h" /* libyaml through dlopen(): its names are pointers from here on */

/* Deepest key path shown in a report, e.g.
 * "tracer_provider.processors[0].batch.exporter.otlp_http.tls.ca_file". */
#define OTELC__CFG_KEYPATH_MAX 200

enum { OTELC__CFG_TRACES = 0, OTELC__CFG_LOGS = 1 };

/* The batch settings, for "the first processor's word wins". */
enum {
    OTELC__CFG_DELAY,
    OTELC__CFG_TIMEOUT,
    OTELC__CFG_QUEUE,
    OTELC__CFG_BATCH,
    OTELC__CFG_BATCH_FIELDS
};

/* A growing string, in ordinary heap memory while it is being built. */
typedef struct otelc__cfg_sb {
    char *p; /* NUL-terminated once anything was put */
    size_t len, cap;
    bool failed; /* out of memory: the content is incomplete */
} otelc__cfg_sb_t;

struct otelc__cfg_chunk;

/* A row and the struct it is read into (the working copy of the options,
 * or a component's settings in the working copy's set). */
typedef struct otelc__cfg_target {
    const otelc_setting_t *row;
    void *base;
} otelc__cfg_target_t;

/* The state of one load. */
typedef struct otelc__cfg {
    const char *path;     /* as given */
    char shown_path[128]; /* as printed in reports */
    yaml_document_t doc;
    otelc_options_t o;               /* the working copy, committed at the end */
    struct otelc__cfg_chunk *chunks; /* this load's kept memory */
    otelc__cfg_sb_t scratch;         /* the current scalar after substitution */
    bool env_ignored;                /* the file came from OTEL_CONFIG_FILE */
    bool nomem;
    bool rejected;        /* a key or value was reported */
    bool too_complex;     /* the walk ran out of its budget of nodes */
    unsigned long visits; /* nodes the walk looked at */
    unsigned reports, unreported;
    char keypath[OTELC__CFG_KEYPATH_MAX];
    size_t keypath_len;
    bool batch_given[2][OTELC__CFG_BATCH_FIELDS];
    otelc__cfg_sb_t exporters[2]; /* the comma lists being built, per signal */
    otelc__cfg_target_t *targets; /* every row the file may set */
    size_t n_targets;
} otelc__cfg_t;

/* ---- memory kept for the life of the process (config_file.c) ------------- */

/* `n` bytes aligned to `align` (a power of two), or NULL with ld->nomem set. */
void *otelc__cfg_alloc(otelc__cfg_t *ld, size_t n, size_t align);
/* A NUL-terminated copy of `n` bytes of `s`, or NULL with ld->nomem set. */
const char *otelc__cfg_strdup(otelc__cfg_t *ld, const char *s, size_t n);

void otelc__cfg_sb_put(otelc__cfg_sb_t *b, const char *s, size_t n);
void otelc__cfg_sb_puts(otelc__cfg_sb_t *b, const char *s);
void otelc__cfg_sb_clear(otelc__cfg_sb_t *b);
void otelc__cfg_sb_free(otelc__cfg_sb_t *b);
/* The built string copied into kept memory ("" when empty), or NULL. */
const char *otelc__cfg_sb_keep(otelc__cfg_t *ld, otelc__cfg_sb_t *b);

/* ---- reports and key paths ----------------------------------------------- */

/* Copies `n` bytes of `s` into `buf` for a report: control characters
 * escaped, cut with "..." to `size` (otelc__diag_escape()). Returns `buf`. */
const char *otelc__cfg_printable(const char *s, size_t n, char *buf, size_t size);

/* Reports a problem at node `at` (NULL: no line): "<file>:<line>: <key
 * path>: <message>", once per place in the file. Marks the load rejected. */
void otelc__cfg_report(otelc__cfg_t *ld, const yaml_node_t *at, const char *fmt, ...)
    OTELC__PRINTF(3, 4);
/* "unknown key; ignored" at a key node. */
void otelc__cfg_unknown(otelc__cfg_t *ld, const yaml_node_t *key);
/* "not supported by otelc[: why]; ignored" at a key node. */
void otelc__cfg_unsupported(otelc__cfg_t *ld, const yaml_node_t *key, const char *why);
/* Reports the value of `n` (the last scalar read) as not fitting. */
void otelc__cfg_reject(otelc__cfg_t *ld, const yaml_node_t *n, const char *expected,
                       const char *kept);

/* Appends ".key" ("[i]") to the key path of reports; returns the mark to go
 * back to with otelc__cfg_path_pop(). */
size_t otelc__cfg_path_push(otelc__cfg_t *ld, const char *key);
size_t otelc__cfg_path_push_index(otelc__cfg_t *ld, size_t i);
void otelc__cfg_path_pop(otelc__cfg_t *ld, size_t mark);

/* ---- nodes --------------------------------------------------------------- */

yaml_node_t *otelc__cfg_node(otelc__cfg_t *ld, int id);
/* "a mapping", "a list" or "a scalar". */
const char *otelc__cfg_kind_name(const yaml_node_t *n);

/*
 * The text of scalar `n` after ${VAR} substitution, in ld->scratch (valid
 * until the next call). Returns 1 with *out set; 0 for null; -1 when `n` is
 * not a scalar.
 */
int otelc__cfg_scalar(otelc__cfg_t *ld, const yaml_node_t *n, const char **out);

/* 1: `n` is a mapping; 0: null; -1: something else (reported as not being
 * `expected`). */
int otelc__cfg_mapping(otelc__cfg_t *ld, const yaml_node_t *n, const char *expected);

/*
 * The key of `pair` (a string; otherwise reported and false), its node and
 * its value node, with the key pushed on the path: pop with *mark.
 */
bool otelc__cfg_member(otelc__cfg_t *ld, const yaml_node_pair_t *pair, const char **key,
                       yaml_node_t **key_node, yaml_node_t **value, size_t *mark);

size_t otelc__cfg_pairs_count(const yaml_node_t *map);

/*
 * Counts a visit to a node. False, once the walk has looked at more nodes
 * than a real configuration has (reported once, and the whole file is then
 * ignored): YAML aliases make a node count once for every place that refers
 * to it, and lists of aliases to lists of aliases could otherwise make a
 * small file take hours to walk. Every loop of the walk stops then.
 */
bool otelc__cfg_visit(otelc__cfg_t *ld, const yaml_node_t *at);

#define OTELC__CFG_FOR_EACH_PAIR(ld, map, pair)                                                    \
    for (yaml_node_pair_t *pair = (map)->data.mapping.pairs.start;                                 \
         pair < (map)->data.mapping.pairs.top && otelc__cfg_visit((ld), (map)); pair++)

#define OTELC__CFG_FOR_EACH_ITEM(ld, seq, item)                                                    \
    for (yaml_node_item_t *item = (seq)->data.sequence.items.start;                                \
         item < (seq)->data.sequence.items.top && otelc__cfg_visit((ld), (seq)); item++)

/* ---- text ---------------------------------------------------------------- */

/* `s` without blanks around it: a pointer into `s` and the length. */
const char *otelc__cfg_trim(const char *s, size_t *n);
bool otelc__cfg_word_is(const char *s, size_t n, const char *word);
bool otelc__cfg_word_is_nocase(const char *s, size_t n, const char *word);
bool otelc__cfg_is_name_char(char c);
/* An integer as YAML's core schema writes one (decimal, 0x, 0o), at most
 * `max`; no sign but '+'. */
bool otelc__cfg_parse_uint(const char *s, uint64_t max, uint64_t *out);
/* A non-negative decimal number ("1", "0.25", ".5", "1e-3"), locale-free. */
bool otelc__cfg_parse_number(const char *s, double *out);

/* ---- typed getters (see the conventions above) --------------------------- */

/* An integer from `min` to `max`. */
bool otelc__cfg_u32(otelc__cfg_t *ld, const yaml_node_t *n, uint32_t min, uint32_t max,
                    const char *unit, uint32_t *field);
bool otelc__cfg_bool(otelc__cfg_t *ld, const yaml_node_t *n, bool *field);
/* One of `n_words` words, case-insensitive, stored as the matching value. */
bool otelc__cfg_enum(otelc__cfg_t *ld, const yaml_node_t *n, const char *const *words,
                     const int *values, size_t n_words, const char *expected, int *field);
/* Checks that a setting otelc reads but does not use yet is a scalar. */
void otelc__cfg_check_scalar(otelc__cfg_t *ld, const yaml_node_t *n, const char *expected);

/* ---- the sections -------------------------------------------------------- */

/* config_schema.c */
void otelc__cfg_read_resource(otelc__cfg_t *ld, yaml_node_t *map);
void otelc__cfg_read_propagator(otelc__cfg_t *ld, yaml_node_t *map);
/* tracer_provider (OTELC__CFG_TRACES) or logger_provider (OTELC__CFG_LOGS). */
void otelc__cfg_read_provider(otelc__cfg_t *ld, yaml_node_t *map, int sig);

/* config_otelc.c: the rows */

/* Fills ld->targets from the core's rows and the working copy's set. */
void otelc__cfg_targets_init(otelc__cfg_t *ld);
/* The core's row of environment variable `env`. */
const otelc_setting_t *otelc__cfg_core_row(const char *env);
/* The target (row and base) whose config-file key is `key`, or NULL: the
 * component is not linked. */
const otelc__cfg_target_t *otelc__cfg_target(const otelc__cfg_t *ld, const char *key);
/* Reads `text` (made from node `at`) by `row` into `base`, reported at `at`
 * as a value of the file. True when something was stored. */
bool otelc__cfg_row_text(otelc__cfg_t *ld, const yaml_node_t *at, const otelc_setting_t *row,
                         void *base, const char *text, size_t len);
/* Reads value node `n` by `row` into `base`; what does not read is
 * reported at `n`. True when something was stored. */
bool otelc__cfg_row(otelc__cfg_t *ld, const yaml_node_t *n, const otelc_setting_t *row,
                    void *base);
/* Walks mapping `map`, found at key path `path` ("otelc",
 * "attribute_limits", "tracer_provider.limits"), along the rows' keys:
 * other keys are reported as unknown. */
void otelc__cfg_walk(otelc__cfg_t *ld, yaml_node_t *map, const char *path);

#endif /* OTELC_CONFIG_YAML_H */
