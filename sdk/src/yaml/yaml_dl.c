/*
 * yaml_dl.c: finds libyaml at run time (see yaml_dl.h).
 */
#define OTELC__YAML_DL_IMPL
#include "yaml_dl.h"

#include "config_file.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

/* The soname the build found (CMake reads it from the library); the
 * Debian 12 one otherwise. */
#ifndef OTELC_YAML_SONAME
#define OTELC_YAML_SONAME "libyaml-0.so.2"
#endif

struct otelc__yaml_api otelc__yaml;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool loaded;
static char failure[256];
static const char *soname = OTELC_YAML_SONAME;

void otelc__yaml_set_soname(const char *name)
{
    soname = name;
}

static void load(void)
{
    void *h;
    const char *err;

    dlerror();
    h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        err = dlerror();
        snprintf(failure, sizeof(failure), "libyaml (%s) is not installed: %s", soname,
                 err != NULL ? err : "dlopen failed");
        return;
    }
    /* dlsym() returns void *; a function pointer is converted through a
     * union, as POSIX allows, rather than cast (which ISO C does not). */
#define OTELC__YAML_RESOLVE(ret, name, args)                                                       \
    {                                                                                              \
        union {                                                                                    \
            void *obj;                                                                             \
            ret(*fn) args;                                                                         \
        } u;                                                                                       \
        u.obj = dlsym(h, #name);                                                                   \
        if (u.obj == NULL) {                                                                       \
            snprintf(failure, sizeof(failure), "%s has no %s", soname, #name);                     \
            dlclose(h);                                                                            \
            return;                                                                                \
        }                                                                                          \
        otelc__yaml.p_##name = u.fn;                                                               \
    }
    OTELC__YAML_FUNCTIONS(OTELC__YAML_RESOLVE)
#undef OTELC__YAML_RESOLVE
    /* Kept loaded for the life of the process: the pointers stay valid. */
    loaded = true;
}

bool otelc__yaml_load(const char **why)
{
    pthread_once(&once, load);
    if (!loaded && why != NULL)
        *why = failure;
    return loaded;
}
