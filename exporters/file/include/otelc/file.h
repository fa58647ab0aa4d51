/*
 * otelc/file.h: the file exporter, a library of its own (libotelc_file,
 * CMake target otelc::file, pkg-config module otelc-file; it needs zlib).
 *
 * Linking the library is enough for OTEL_TRACES_EXPORTER=file,
 * OTEL_LOGS_EXPORTER=file and the config file to name it: the library
 * registers the exporter when it is loaded (a shared library's constructor;
 * the static library's objects are kept by the linker flag that otelc::file
 * and `pkg-config --static --libs otelc-file` carry). A program may also call
 * otelc_file_register() itself before otelc_init(), which does no harm.
 *
 * The format of the files is in exporters/file/FORMAT.md; the settings in
 * README "File exporter".
 */
#ifndef OTELC_FILE_H
#define OTELC_FILE_H

#include <otelc/config.h>
#include <otelc/exporter.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Registers the exporter under the name "file". Idempotent and thread-safe;
 * returns what otelc_exporter_factory_register() returns.
 */
OTELC_API otelc_status_t otelc_file_register(void);

/*
 * Makes a file exporter for direct use (in otelc_options_t.exporters):
 * `signals` is OTELC_SIGNAL_TRACES, OTELC_SIGNAL_LOGS or both. `opts` is
 * copied (NULL: the defaults of otelc_options_default()). Returns
 * OTELC_ERR_INVALID for no signal or a NULL `out`, OTELC_ERR_NOMEM; *out is
 * set only on success.
 */
OTELC_API otelc_status_t otelc_file_exporter_create(const otelc_file_options_t *opts,
                                                    unsigned signals,
                                                    otelc_exporter_t **out) OTELC_WARN_UNUSED;

#ifdef __cplusplus
}
#endif

#endif /* OTELC_FILE_H */
