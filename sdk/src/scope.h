/*
 * scope.h: the registry of instrumentation scopes: tracers and loggers,
 * their names and versions, and the loggers' levels (logger.c).
 */
#ifndef OTELC_SCOPE_H
#define OTELC_SCOPE_H

#include <otelc/otelc.h>

struct otelc_logger {
    otelc__logger_head_t head; /* first: read by the log macros; its scope index too */
    int explicit_level;        /* set by otelc_logger_set_level, or -1 */
    char *name;
};

struct otelc_tracer {
    uint32_t scope;
};

/* Registers a scope name (+ version); returns its index or UINT32_MAX. */
uint32_t otelc__scope_register(const char *name, const char *version);
/* The scope at `index` (NULL when unknown); safe from any thread. */
const otelc_scope_info_t *otelc__scope_get(uint32_t index);
/* Re-applies configured levels to every logger (init) or turns them off. */
void otelc__loggers_apply_levels(bool running);
void otelc__scopes_fork_child(void);
void otelc__loggers_configure(const otelc_options_t *opts);
void otelc__scopes_lock(void);
void otelc__scopes_unlock(void);

#endif /* OTELC_SCOPE_H */
