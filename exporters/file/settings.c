/*
 * settings.c: the file exporter's settings, one row each (otelc/settings.h).
 * The core reads them from the environment and the config file for every
 * otelc_options_t it makes, and hands the result to the exporter's create().
 */
#include "file.h"
#include <otelc/file.h>

#include <stddef.h>

#define OFF(field) offsetof(otelc_file_options_t, field)

static const otelc_setting_word_t format_words[] = {
    { "flat", OTELC_FILE_FORMAT_FLAT },
    { "otlp", OTELC_FILE_FORMAT_OTLP },
    { NULL, 0 },
};

static const otelc_setting_t file_settings[] = {
    { .env = "OTELC_FILE_DIR", .key = "otelc.file.directory", .type = OTELC_SETTING_STRING,
      .offset = OFF(directory), .def = "logs", .doc = "the directory of the files" },
    { .env = "OTELC_FILE_FORMAT", .key = "otelc.file.format", .type = OTELC_SETTING_ENUM,
      .offset = OFF(format), .def = "flat", .words = format_words,
      .doc = "flat (jq-friendly) or otlp (OTLP/JSON)" },
    { .env = "OTELC_FILE_LEVEL", .key = "otelc.file.level", .type = OTELC_SETTING_LEVEL,
      .offset = OFF(level), .def = "TRACE", .doc = "the files' lowest severity" },
    { .env = "OTELC_FILE_MAX_SIZE", .key = "otelc.file.rotation.max_size",
      .type = OTELC_SETTING_SIZE, .offset = OFF(max_bytes), .def = "10MiB",
      .doc = "rotate a file that would grow past it; 0 never" },
    { .env = "OTELC_FILE_MAX_FILES", .key = "otelc.file.rotation.max_files",
      .type = OTELC_SETTING_UINT, .offset = OFF(max_files), .def = "5", .min = 1,
      .max = UINT32_MAX, .unit = "files", .doc = "size-rotated files kept per channel and day" },
    { .env = "OTELC_FILE_ROTATE_DAILY", .key = "otelc.file.rotation.daily",
      .type = OTELC_SETTING_BOOL, .offset = OFF(rotate_daily), .def = "true",
      .flags = OTELC_SETTING_NUMBERS, .doc = "rotate at local midnight" },
    { .env = "OTELC_FILE_RETENTION_DAYS", .key = "otelc.file.retention_days",
      .type = OTELC_SETTING_UINT, .offset = OFF(retention_days), .def = "30", .max = UINT32_MAX,
      .unit = "days", .doc = "rotated files older than this are deleted; 0 keeps them" },
    { .env = "OTELC_FILE_COMPRESS", .key = "otelc.file.compress", .type = OTELC_SETTING_BOOL,
      .offset = OFF(compress), .def = "false", .flags = OTELC_SETTING_NUMBERS,
      .doc = "gzip files once rotated" },
    { .env = "OTELC_FILE_CHANNELS", .key = "otelc.file.channels.*.loggers",
      .type = OTELC_SETTING_KEYED, .value_type = OTELC_SETTING_LIST,
      .offset = OFF(channel_routes),
      .expected = "name=prefix|prefix|...,... (logger-name prefixes per channel)",
      .doc = "the loggers each channel takes" },
    { .env = "OTELC_FILE_CHANNEL_LEVELS", .key = "otelc.file.channels.*.level",
      .type = OTELC_SETTING_KEYED, .value_type = OTELC_SETTING_LEVEL,
      .offset = OFF(channel_levels),
      .expected = "name=LEVEL,... (LEVEL one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF or "
                  "1 to 24)",
      .doc = "the lowest severity per channel" },
    { .env = "OTELC_FILE_CHANNEL_RETENTION", .key = "otelc.file.channels.*.retention_days",
      .type = OTELC_SETTING_KEYED, .value_type = OTELC_SETTING_UINT,
      .offset = OFF(channel_retention), .max = UINT32_MAX, .unit = "days",
      .expected = "name=DAYS,... (0 keeps forever)", .doc = "retention per channel" },
};

const otelc_component_t otelc__file_component = {
    .version = OTELC_COMPONENT_VERSION,
    .name = "file",
    .settings = file_settings,
    .n_settings = sizeof(file_settings) / sizeof(file_settings[0]),
    .settings_size = sizeof(otelc_file_options_t),
    .create = otelc__file_create,
};
