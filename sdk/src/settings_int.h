/*
 * settings_int.h: the settings engine (settings.c) as the environment reader
 * (config.c) and the config-file reader (yaml/) use it.
 *
 * A row (otelc/settings.h) is read by otelc__setting_read() whatever the
 * source: the environment, the file or otelc_options_set(). The sources
 * differ only in how they report (a variable's name, or file:line and a key
 * path) and in where new strings live (the environment's own memory, the
 * file loader's chunks, the engine's kept memory), so both come in as
 * arguments.
 */
#ifndef OTELC_SETTINGS_INT_H
#define OTELC_SETTINGS_INT_H

#include <otelc/config.h>
#include <otelc/settings.h>

/* One struct of settings per component, for one otelc_options_t. */
struct otelc_component_set {
    size_t n;
    struct {
        const otelc_component_t *component;
        void *values;
    } item[];
};

/* What a rejected or partly taken value gets reported with. */
typedef struct otelc__setting_report {
    char why[200];      /* what was wrong; "" when `expected` says it all */
    char expected[240]; /* the form the value must have */
    char kept[96];      /* what the field keeps */
} otelc__setting_report_t;

/* Where the strings a read makes (KEYED joins, rebuilt lists) are put:
 * `n` bytes, or NULL when out of memory. */
typedef struct otelc__setting_alloc {
    char *(*fn)(void *ctx, size_t n);
    void *ctx;
} otelc__setting_alloc_t;

/*
 * Reads `len` bytes of `text` (blanks around it are dropped here) into the
 * field of `row` in `base`. `borrow` says that `text` outlives the settings
 * (the environment), so a string may point into it; otherwise strings are
 * copied with `alloc`. On REJECTED or PARTLY fills `report`. An allocation
 * failure is REJECTED with why "out of memory".
 */
otelc_setting_verdict_t otelc__setting_read(const otelc_setting_t *row, const char *text,
                                            size_t len, bool borrow, void *base,
                                            const otelc__setting_alloc_t *alloc,
                                            otelc__setting_report_t *report);

/* The form a value of `type` must have for `row`, for a report. */
void otelc__setting_expected(const otelc_setting_t *row, otelc_setting_type_t type, char *buf,
                             size_t size);

/* The field's value as a report shows it ("5000", "INFO", "none", ...). */
void otelc__setting_show(const otelc_setting_t *row, const void *base, char *buf, size_t size);

/* The engine's kept memory, for otelc__setting_alloc_t (never freed). */
extern const otelc__setting_alloc_t otelc__settings_kept;

/* The core's rows, over otelc_options_t (config.c). */
extern const otelc_setting_t otelc__core_settings[];
extern const size_t otelc__n_core_settings;

/* Fills `base` from the rows' defaults (silently: they were checked). */
void otelc__settings_defaults(const otelc_setting_t *rows, size_t n, void *base);

/*
 * Applies the environment to the rows of one table: each set variable is
 * read, and a value that does not read is reported ("invalid value '...'
 * for VAR: ...") and leaves the field alone. `skip` (may be NULL) names
 * rows the caller reads itself. Sets *status to OTELC_ERR_INVALID on a report.
 */
void otelc__settings_from_env(const otelc_setting_t *rows, size_t n, void *base,
                              bool (*skip)(const otelc_setting_t *row),
                              otelc_status_t *status);

/* The value of variable `name`, or NULL when unset or empty. */
const char *otelc__env_get(const char *name);

/* Reports a value of the environment that does not read, as the reader does. */
void otelc__settings_env_report(const char *var, const char *value,
                                const otelc__setting_report_t *r, otelc_setting_verdict_t v);

/* ---- components ------------------------------------------------------------------ */

/* The registered components, in registration order, copied into `out`
 * (at most `max`); returns how many there are. */
size_t otelc__components(const otelc_component_t **out, size_t max);

/*
 * A new set for `opts`: every registered component with a settings struct,
 * each a copy of what `from` holds for it or the defaults. Allocated with
 * `alloc` (NULL: the engine's kept memory). NULL when out of memory.
 */
struct otelc_component_set *otelc__component_set_clone(const struct otelc_component_set *from,
                                                       const otelc__setting_alloc_t *alloc);

/* The struct of `component` in `set`, or NULL. */
void *otelc__component_set_find(const struct otelc_component_set *set,
                                const otelc_component_t *component);

/* The struct size an options struct was compiled with. */
size_t otelc__options_size(const otelc_options_t *opts);

#endif /* OTELC_SETTINGS_INT_H */
