/*
 * yaml_dl.h: libyaml, loaded when a configuration file is first read.
 *
 * The core library links libc and pthreads only: a service that never reads
 * a config file does not need libyaml installed, and one that does finds it
 * at run time (Debian's libyaml-0-2). The reader's code calls libyaml by its
 * own names; after this header those names are the pointers of a table
 * that otelc__yaml_load() fills with dlopen()/dlsym(). The types come from
 * <yaml.h> at build time, and a libyaml of another ABI has another soname,
 * which dlopen() does not take for this one.
 *
 * Every function the reader calls must be in OTELC__YAML_FUNCTIONS: one that
 * is not is linked directly, and the build fails with an undefined symbol
 * (the library is not linked), not silently.
 */
#ifndef OTELC_YAML_DL_H
#define OTELC_YAML_DL_H

#include <stdbool.h>
#include <yaml.h>

#define OTELC__YAML_FUNCTIONS(X)                                                                   \
    X(int, yaml_parser_initialize, (yaml_parser_t *))                                              \
    X(void, yaml_parser_delete, (yaml_parser_t *))                                                 \
    X(void, yaml_parser_set_input_string, (yaml_parser_t *, const unsigned char *, size_t))        \
    X(int, yaml_parser_parse, (yaml_parser_t *, yaml_event_t *))                                   \
    X(void, yaml_event_delete, (yaml_event_t *))                                                   \
    X(int, yaml_parser_load, (yaml_parser_t *, yaml_document_t *))                                 \
    X(void, yaml_document_delete, (yaml_document_t *))                                             \
    X(yaml_node_t *, yaml_document_get_node, (yaml_document_t *, int))                             \
    X(yaml_node_t *, yaml_document_get_root_node, (yaml_document_t *))                             \
    X(int, yaml_document_initialize,                                                               \
      (yaml_document_t *, yaml_version_directive_t *, yaml_tag_directive_t *,                      \
       yaml_tag_directive_t *, int, int))                                                          \
    X(int, yaml_document_append_sequence_item, (yaml_document_t *, int, int))                      \
    X(int, yaml_document_append_mapping_pair, (yaml_document_t *, int, int, int))

#define OTELC__YAML_POINTER(ret, name, args) ret(*p_##name) args;
struct otelc__yaml_api {
    OTELC__YAML_FUNCTIONS(OTELC__YAML_POINTER)
};
#undef OTELC__YAML_POINTER
extern struct otelc__yaml_api otelc__yaml;

/*
 * Loads libyaml once per process (thread-safe). True when every function is
 * there; otherwise false with *why saying what dlopen()/dlsym() said, for the
 * diagnostic. Cheap after the first call.
 */
bool otelc__yaml_load(const char **why);

#ifndef OTELC__YAML_DL_IMPL
#define yaml_parser_initialize otelc__yaml.p_yaml_parser_initialize
#define yaml_parser_delete otelc__yaml.p_yaml_parser_delete
#define yaml_parser_set_input_string otelc__yaml.p_yaml_parser_set_input_string
#define yaml_parser_parse otelc__yaml.p_yaml_parser_parse
#define yaml_event_delete otelc__yaml.p_yaml_event_delete
#define yaml_parser_load otelc__yaml.p_yaml_parser_load
#define yaml_document_delete otelc__yaml.p_yaml_document_delete
#define yaml_document_get_node otelc__yaml.p_yaml_document_get_node
#define yaml_document_get_root_node otelc__yaml.p_yaml_document_get_root_node
#define yaml_document_initialize otelc__yaml.p_yaml_document_initialize
#define yaml_document_append_sequence_item otelc__yaml.p_yaml_document_append_sequence_item
#define yaml_document_append_mapping_pair otelc__yaml.p_yaml_document_append_mapping_pair
#endif

#endif /* OTELC_YAML_DL_H */
