/*
 * config_int.h: parsers behind otelc_options_from_env() that the core also
 * uses at run time (logger levels, masked keys). They are pure functions:
 * no allocation, no diagnostics, no global state, safe on any thread.
 */
#ifndef OTELC_CONFIG_INT_H
#define OTELC_CONFIG_INT_H

#include <otelc/config.h>
#include <otelc/log.h>

/*
 * Parses a level as OTELC_LEVEL, OTELC_CONSOLE_LEVEL and the items of
 * OTELC_LOGGER_LEVELS give it: a name (TRACE, DEBUG, INFO, WARN, WARNING,
 * ERROR, CRITICAL, FATAL, OFF; case-insensitive) or a severity number 1..24.
 * CRITICAL is FATAL (21); OFF is OTELC_SEV_OFF (25). Blanks around the value
 * are ignored. On success stores the severity number in *out and returns
 * true; otherwise leaves *out alone and returns false. NULL gives false.
 */
bool otelc__parse_level(const char *s, int *out);

/*
 * The level of the logger `logger_name` under `rules`, a comma-separated
 * list of "prefix=LEVEL" items (blanks around items, prefixes and levels are
 * allowed). A prefix matches the name itself or the name followed by a dot:
 * "trading" matches "trading" and "trading.risk" but not "tradingdesk". The
 * longest matching prefix wins; among equal prefixes, the last item. Items
 * that do not parse are skipped (otelc_options_from_env() reports them).
 * Returns `default_level` when no item matches or `rules` or `logger_name`
 * is NULL.
 */
int otelc__logger_level_for(const char *rules, const char *logger_name, int default_level);

/*
 * True when the attribute key `key` (key_len bytes, or OTELC_NUL_TERMINATED)
 * is one of the comma-separated `keys_csv`, compared exactly but for ASCII
 * case, blanks around the list items ignored. NULL `keys_csv` means the
 * default list (api_key, api_secret, password, token, secret, credentials,
 * private_key, encryption_key); "" masks nothing. NULL `key` gives false.
 */
bool otelc__mask_key_match(const char *keys_csv, const char *key, size_t key_len);

/*
 * Parses a size as OTELC_FILE_MAX_SIZE and the config file give it: decimal
 * digits with an optional suffix k, m or g (binary multiples; "KB", "MiB"
 * and the like are read the same), blanks around it ignored. On success
 * stores the bytes in *out and returns true; otherwise false.
 */
bool otelc__parse_size(const char *s, uint64_t *out);

/*
 * Parses `n` bytes of `s` as a non-negative decimal number: digits with an
 * optional fraction and exponent ("1", "0.25", ".5", "1e-3"), no sign, no
 * blanks, no "inf" or "nan", whatever the locale. True with *out set.
 */
bool otelc__parse_decimal(const char *s, size_t n, double *out);

/*
 * The largest batch settings otelc takes, per signal. Every exporter has a
 * queue with room for the records of both signals, allocated at init, and
 * each thread's ring is derived from the sum of the queue sizes: unbounded
 * 32-bit sizes wrapped that sum, the allocation failed and the exporter was
 * lost. A batch is one export call: 65,536 spans are already far more than
 * an OTLP receiver takes in one message (4 MiB by default for gRPC). Values
 * over these are reported and not taken from the environment or the config
 * file; otelc_init() clamps a program's larger value to them, reported.
 */
#define OTELC__MAX_QUEUE_SIZE 1048576u
#define OTELC__MAX_EXPORT_BATCH_SIZE 65536u

/* The list a NULL mask_keys stands for. */
#define OTELC__DEFAULT_MASK_KEYS                                                                   \
    "api_key,api_secret,password,token,secret,credentials,private_key,encryption_key"

#endif /* OTELC_CONFIG_INT_H */
