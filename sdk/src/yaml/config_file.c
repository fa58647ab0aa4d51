/*
 * config_file.c: the YAML configuration file, read with libyaml -- the
 * loader's entry point, reading and checking the file, ${VAR} substitution,
 * the typed getters every section uses, and the top level. The sections
 * themselves are in config_schema.c (OpenTelemetry's) and config_otelc.c
 * (otelc's own); config_yaml.h says what the three share.
 *
 * The file is loaded whole with libyaml's document API (a tree of nodes,
 * each with its line and column), then walked along the keys otelc knows.
 * Nothing is applied until the whole file has parsed and every ${...}
 * reference in it has been checked, so that a file that cannot be used as a
 * whole changes nothing. Then every section is applied to a working copy of
 * the options, which replaces the caller's only at the end.
 *
 * The walk follows the OpenTelemetry declarative configuration schema
 * (open-telemetry/opentelemetry-configuration, file format 0.x and 1.x) for
 * the parts otelc implements, and reads otelc's own settings under the
 * top-level key `otelc` (the schema allows additional top-level properties
 * for an implementation's own settings). A key the walk does not know is
 * reported with its line and ignored; a value that does not fit is reported
 * with the expected form and the field keeps what it had. docs/config-file.md
 * is the user's reference of every key.
 *
 * Sections are read in a fixed order whatever their order in the file:
 * log_level first (it decides which reports are shown), the general
 * attribute_limits before the per-provider limits that override them.
 *
 * Memory: the strings stored in the options are copied into chunks that are
 * linked into a static list and never freed, because the options (and the
 * strings otelc_init() copies from them) may be used at any later time. The
 * list keeps them reachable for LeakSanitizer.
 */
#include "config_yaml.h"

#include "config_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Larger files are refused: a configuration is a few KiB. */
#define MAX_FILE_BYTES (4u * 1024u * 1024u)

/* Reports printed for one file; the rest are counted in one last line, so
 * that a broken file cannot fill the diagnostics' rate-limit table. */
#define MAX_REPORTS 32

/* Nodes the walk may look at (see otelc__cfg_visit()); a real configuration
 * has a few hundred. */
#define MAX_VISITS (1ul << 20)

/* Lists and mappings nested in one another; the OpenTelemetry schema needs
 * about ten. libyaml's scanner does work proportional to the depth of flow
 * collections for every token, so 1 MB of '[' would take hours. */
#define MAX_DEPTH 64

/* Anchor comparisons libyaml's loader may make: it looks each alias up
 * among all the anchors before it (and each anchor, for duplicates), so
 * 30,000 anchors with as many aliases take seconds. A configuration has a
 * few. */
#define MAX_ANCHOR_LOOKUPS (1ul << 20)

/* ---- memory kept for the life of the process ----------------------------- */

typedef struct otelc__cfg_chunk {
    struct otelc__cfg_chunk *next;
    size_t size, used;
    unsigned char data[];
} chunk_t;

static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static chunk_t *kept_chunks;

void *otelc__cfg_alloc(otelc__cfg_t *ld, size_t n, size_t align)
{
    chunk_t *c = ld->chunks;
    size_t pad;

    if (n == 0)
        n = 1;
    if (c != NULL) {
        pad = (align - ((uintptr_t)(c->data + c->used) & (align - 1))) & (align - 1);
        if (c->used + pad <= c->size && n <= c->size - c->used - pad) {
            void *p = c->data + c->used + pad;

            c->used += pad + n;
            return p;
        }
    }
    {
        size_t size = n + align > 4096 ? n + align : 4096;

        c = malloc(sizeof(*c) + size);
        if (c == NULL) {
            ld->nomem = true;
            return NULL;
        }
        c->next = ld->chunks;
        c->size = size;
        c->used = 0;
        ld->chunks = c;
    }
    pad = (align - ((uintptr_t)c->data & (align - 1))) & (align - 1);
    c->used = pad + n;
    return c->data + pad;
}

const char *otelc__cfg_strdup(otelc__cfg_t *ld, const char *s, size_t n)
{
    char *p = otelc__cfg_alloc(ld, n + 1, 1);

    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void chunks_free(chunk_t *c)
{
    while (c != NULL) {
        chunk_t *next = c->next;

        free(c);
        c = next;
    }
}

/* Moves this load's chunks to the static list. */
static void chunks_keep(otelc__cfg_t *ld)
{
    chunk_t *last = ld->chunks;

    if (last == NULL)
        return;
    while (last->next != NULL)
        last = last->next;
    pthread_mutex_lock(&kept_lock);
    last->next = kept_chunks;
    kept_chunks = ld->chunks;
    pthread_mutex_unlock(&kept_lock);
    ld->chunks = NULL;
}

void otelc__cfg_sb_put(otelc__cfg_sb_t *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap > 0 ? b->cap : 64;
        char *p;

        while (cap < b->len + n + 1)
            cap *= 2;
        p = realloc(b->p, cap);
        if (p == NULL) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void otelc__cfg_sb_puts(otelc__cfg_sb_t *b, const char *s)
{
    otelc__cfg_sb_put(b, s, strlen(s));
}

void otelc__cfg_sb_clear(otelc__cfg_sb_t *b)
{
    b->len = 0;
    if (b->p != NULL)
        b->p[0] = '\0';
}

void otelc__cfg_sb_free(otelc__cfg_sb_t *b)
{
    free(b->p);
    *b = (otelc__cfg_sb_t){ 0 };
}

/* The built string copied into kept memory ("" when empty). */
const char *otelc__cfg_sb_keep(otelc__cfg_t *ld, otelc__cfg_sb_t *b)
{
    if (b->failed) {
        ld->nomem = true;
        return NULL;
    }
    return otelc__cfg_strdup(ld, b->p != NULL ? b->p : "", b->len);
}

/* ---- reports ------------------------------------------------------------- */

/* Copies `s` (n bytes) for a report: at most size-1 bytes, control
 * characters escaped, so that a value cannot forge or break the line. */
const char *otelc__cfg_printable(const char *s, size_t n, char *buf, size_t size)
{
    return otelc__diag_escape(s, n, buf, size);
}

static unsigned line_of(const yaml_node_t *n)
{
    return n != NULL ? (unsigned)n->start_mark.line + 1 : 0;
}

/*
 * Reports a problem at node `at`: "<file>:<line>: <key path>: <message>".
 * Each place in each file has its own rate-limit key, so that every problem
 * is printed once even when the same message recurs on other lines.
 */
void otelc__cfg_report(otelc__cfg_t *ld, const yaml_node_t *at, const char *fmt, ...)
{
    char msg[640], key[64 + sizeof(ld->shown_path)];
    va_list ap;

    if (ld->too_complex)
        return;
    ld->rejected = true;
    if (ld->reports >= MAX_REPORTS) {
        ld->unreported++;
        return;
    }
    ld->reports++;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(key, sizeof(key), "config:%u:%u:%s", line_of(at),
             at != NULL ? (unsigned)at->start_mark.column : 0u, ld->shown_path);
    if (ld->keypath_len > 0)
        otelc__diag(OTELC_DIAG_WARN, key, "%s:%u: %s: %s", ld->shown_path, line_of(at), ld->keypath,
                    msg);
    else
        otelc__diag(OTELC_DIAG_WARN, key, "%s:%u: %s", ld->shown_path, line_of(at), msg);
}

/* ---- key paths ----------------------------------------------------------- */

/* Appends ".key" (or "key" at the top) to the path shown in reports; returns
 * the length to go back to with otelc__cfg_path_pop(). A path too long is cut. */
size_t otelc__cfg_path_push(otelc__cfg_t *ld, const char *key)
{
    size_t mark = ld->keypath_len, room = sizeof(ld->keypath) - 1 - mark, n = strlen(key);
    char *o = ld->keypath + mark;

    /* By hand: this runs for every key of the file, and snprintf() was a
     * third of the walk of a large one. */
    if (mark > 0 && room > 0) {
        *o++ = '.';
        room--;
    }
    if (n > room)
        n = room;
    memcpy(o, key, n);
    o[n] = '\0';
    ld->keypath_len = (size_t)(o + n - ld->keypath);
    return mark;
}

size_t otelc__cfg_path_push_index(otelc__cfg_t *ld, size_t i)
{
    size_t mark = ld->keypath_len, room = sizeof(ld->keypath) - 1 - mark, n = 0;
    char digits[24], text[26];

    do {
        digits[n++] = (char)('0' + i % 10u);
        i /= 10u;
    } while (i > 0);
    text[0] = '[';
    for (size_t k = 0; k < n; k++)
        text[1 + k] = digits[n - 1 - k];
    text[n + 1] = ']';
    n += 2;
    if (n > room)
        n = room;
    memcpy(ld->keypath + mark, text, n);
    ld->keypath_len = mark + n;
    ld->keypath[ld->keypath_len] = '\0';
    return mark;
}

void otelc__cfg_path_pop(otelc__cfg_t *ld, size_t mark)
{
    ld->keypath_len = mark;
    ld->keypath[mark] = '\0';
}

/* ---- nodes --------------------------------------------------------------- */

yaml_node_t *otelc__cfg_node(otelc__cfg_t *ld, int id)
{
    return yaml_document_get_node(&ld->doc, id);
}

const char *otelc__cfg_kind_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a list";
    default:
        return "a scalar";
    }
}

/* True for a plain scalar that YAML's core schema reads as null. */
static bool is_null_text(const char *s, size_t n)
{
    return n == 0 || (n == 1 && s[0] == '~') ||
           (n == 4 &&
            (memcmp(s, "null", 4) == 0 || memcmp(s, "Null", 4) == 0 || memcmp(s, "NULL", 4) == 0));
}

/* ---- ${VAR} substitution ------------------------------------------------- */

static bool is_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool otelc__cfg_is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/*
 * Parses the inside of "${...}": an optional "env:", a variable name, and
 * optionally ":-" and a default value of printable characters and blanks.
 * False when it is not a valid reference.
 */
static bool parse_reference(const char *p, size_t n, const char **name, size_t *name_len,
                            const char **def, size_t *def_len)
{
    size_t i = 0;

    if (n >= 4 && memcmp(p, "env:", 4) == 0)
        i = 4;
    if (i >= n || !is_name_start(p[i]))
        return false;
    *name = p + i;
    while (i < n && otelc__cfg_is_name_char(p[i]))
        i++;
    *name_len = (size_t)(p + i - *name);
    *def = NULL;
    *def_len = 0;
    if (i == n)
        return true;
    if (n - i < 2 || p[i] != ':' || p[i + 1] != '-')
        return false;
    i += 2;
    *def = p + i;
    *def_len = n - i;
    for (; i < n; i++) {
        if (((unsigned char)p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
            return false;
    }
    return true;
}

/*
 * Writes `in` (n bytes) to `out` with the references resolved, as the
 * OpenTelemetry configuration data model says: "$$" is a literal "$" that
 * takes no further part in matching; "${NAME}" and "${env:NAME}" become the
 * variable's value, empty when it is unset; "${NAME:-default}" gives the
 * default when the variable is unset or empty. Values are inserted as they
 * are, never substituted again. A "${" with no "}" before the end or the next
 * "$$" is literal text. Returns false at a "${...}" that is not a valid
 * reference, with *bad and *bad_len showing it.
 */
static bool substitute(const char *in, size_t n, otelc__cfg_sb_t *out, const char **bad,
                       size_t *bad_len)
{
    size_t i = 0, start = 0;

    otelc__cfg_sb_clear(out);
    while (i < n) {
        const char *name, *def;
        size_t j, name_len, def_len;
        char var[256];
        const char *value;

        if (in[i] != '$' || i + 1 >= n || (in[i + 1] != '$' && in[i + 1] != '{')) {
            i++;
            continue;
        }
        otelc__cfg_sb_put(out, in + start, i - start);
        if (in[i + 1] == '$') {
            otelc__cfg_sb_put(out, "$", 1);
            i += 2;
            start = i;
            continue;
        }
        for (j = i + 2; j < n && in[j] != '}'; j++) {
            if (in[j] == '$' && j + 1 < n && in[j + 1] == '$')
                break;
        }
        if (j >= n || in[j] != '}') {
            /* Not closed within this stretch: literal. */
            start = i;
            i++;
            continue;
        }
        if (!parse_reference(in + i + 2, j - i - 2, &name, &name_len, &def, &def_len) ||
            name_len >= sizeof(var)) {
            *bad = in + i;
            *bad_len = j + 1 - i;
            return false;
        }
        memcpy(var, name, name_len);
        var[name_len] = '\0';
        value = getenv(var);
        if (value != NULL && value[0] != '\0')
            otelc__cfg_sb_puts(out, value);
        else if (def != NULL)
            otelc__cfg_sb_put(out, def, def_len);
        i = j + 1;
        start = i;
    }
    otelc__cfg_sb_put(out, in + start, n - start);
    if (out->p == NULL && !out->failed)
        otelc__cfg_sb_put(out, "", 0);
    return true;
}

/*
 * The text of scalar `n` after substitution, in ld->scratch (valid until the
 * next call). Returns 1 with *out set; 0 when the value is null (a plain
 * "null", "~", nothing, or a plain value that substitution left empty); -1
 * when `n` is not a scalar. Every reference was checked before the walk, so
 * substitution cannot fail here.
 */
bool otelc__cfg_visit(otelc__cfg_t *ld, const yaml_node_t *at)
{
    if (++ld->visits <= MAX_VISITS)
        return true;
    if (!ld->too_complex) {
        otelc__cfg_report(ld, at,
                          "the file refers to its nodes more than %lu times (YAML aliases); "
                          "ignoring the whole file",
                          MAX_VISITS);
        /* Whatever the walk meets from now on is not worth a report. */
        ld->too_complex = true;
    }
    return false;
}

int otelc__cfg_scalar(otelc__cfg_t *ld, const yaml_node_t *n, const char **out)
{
    const char *bad;
    size_t bad_len;

    if (n != NULL && !otelc__cfg_visit(ld, n))
        return 0;
    if (n == NULL || n->type != YAML_SCALAR_NODE)
        return -1;
    if (!substitute((const char *)n->data.scalar.value, n->data.scalar.length, &ld->scratch, &bad,
                    &bad_len) ||
        ld->scratch.failed) {
        ld->nomem = ld->scratch.failed;
        return 0;
    }
    if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        is_null_text(ld->scratch.p, ld->scratch.len))
        return 0;
    *out = ld->scratch.p;
    return 1;
}

/* Reports a value that does not fit; `kept` names what the field keeps. */
void otelc__cfg_reject(otelc__cfg_t *ld, const yaml_node_t *n, const char *expected,
                       const char *kept)
{
    char shown[128];

    if (n->type != YAML_SCALAR_NODE)
        otelc__cfg_report(ld, n, "expected %s, found %s; keeping %s", expected,
                          otelc__cfg_kind_name(n), kept);
    else
        otelc__cfg_report(ld, n, "invalid value '%s': expected %s; keeping %s",
                          otelc__cfg_printable(ld->scratch.p != NULL ? ld->scratch.p : "",
                                               ld->scratch.len, shown, sizeof(shown)),
                          expected, kept);
}

void otelc__cfg_unknown(otelc__cfg_t *ld, const yaml_node_t *key)
{
    otelc__cfg_report(ld, key, "unknown key; ignored");
}

void otelc__cfg_unsupported(otelc__cfg_t *ld, const yaml_node_t *key, const char *why)
{
    otelc__cfg_report(ld, key, "not supported by otelc%s%s; ignored", why != NULL ? ": " : "",
                      why != NULL ? why : "");
}

/* ---- value parsers ------------------------------------------------------- */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The text without blanks around it, as a pointer and a length. */
const char *otelc__cfg_trim(const char *s, size_t *n)
{
    size_t len = strlen(s);

    while (len > 0 && is_blank(*s)) {
        s++;
        len--;
    }
    while (len > 0 && is_blank(s[len - 1]))
        len--;
    *n = len;
    return s;
}

bool otelc__cfg_word_is(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

bool otelc__cfg_word_is_nocase(const char *s, size_t n, const char *word)
{
    if (strlen(word) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char a = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];

        if (a != word[i])
            return false;
    }
    return true;
}

/* An integer as YAML's core schema writes one: decimal with an optional '+',
 * 0x hexadecimal or 0o octal. Negative numbers are out of every range here. */
bool otelc__cfg_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    size_t n, i = 0;
    unsigned base = 10;
    uint64_t v = 0;

    s = otelc__cfg_trim(s, &n);
    if (n > 0 && s[0] == '+')
        i = 1;
    if (n - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'o')) {
        base = s[i + 1] == 'x' ? 16 : 8;
        i += 2;
    }
    if (i >= n)
        return false;
    for (; i < n; i++) {
        unsigned d;
        char c = s[i];

        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return false;
        if (d >= base || v > (max - d) / base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

/*
 * A non-negative decimal number: digits with an optional fraction and
 * exponent ("1", "0.25", ".5", "1e-3"). Parsed by hand rather than with
 * strtod(), which follows the locale's decimal separator. Up to 18
 * significant digits are kept, far more than a ratio needs.
 */
bool otelc__cfg_parse_number(const char *s, double *out)
{
    size_t n;

    s = otelc__cfg_trim(s, &n);
    /* YAML's core schema allows a '+'; the rest is the environment's
     * number (config.c). */
    if (n > 0 && s[0] == '+') {
        s++;
        n--;
    }
    return otelc__parse_decimal(s, n, out);
}

/* ---- typed getters -------------------------------------------------------
 *
 * Each reads node `n` into `*field` and returns true when it did. A null
 * value leaves the field alone, silently: the schema reads null as "use the
 * default", and an unset ${VAR} gives null. A value that does not fit is
 * reported and leaves the field alone.
 */

bool otelc__cfg_u32(otelc__cfg_t *ld, const yaml_node_t *n, uint32_t min, uint32_t max,
                    const char *unit, uint32_t *field)
{
    const char *s;
    uint64_t v;
    char expected[96], kept[48];
    int r = otelc__cfg_scalar(ld, n, &s);

    if (r == 0)
        return false;
    if (r > 0 && otelc__cfg_parse_uint(s, max, &v) && v >= min) {
        *field = (uint32_t)v;
        return true;
    }
    snprintf(expected, sizeof(expected), "%s from %u to %u", unit, (unsigned)min, (unsigned)max);
    snprintf(kept, sizeof(kept), "%u%s", (unsigned)*field,
             *field == UINT32_MAX ? " (no limit)" : "");
    otelc__cfg_reject(ld, n, expected, kept);
    return false;
}

bool otelc__cfg_bool(otelc__cfg_t *ld, const yaml_node_t *n, bool *field)
{
    const char *s;
    size_t len;
    int r = otelc__cfg_scalar(ld, n, &s);

    if (r == 0)
        return false;
    if (r > 0) {
        s = otelc__cfg_trim(s, &len);
        if (otelc__cfg_word_is(s, len, "true") || otelc__cfg_word_is(s, len, "True") ||
            otelc__cfg_word_is(s, len, "TRUE")) {
            *field = true;
            return true;
        }
        if (otelc__cfg_word_is(s, len, "false") || otelc__cfg_word_is(s, len, "False") ||
            otelc__cfg_word_is(s, len, "FALSE")) {
            *field = false;
            return true;
        }
    }
    otelc__cfg_reject(ld, n, "true or false", *field ? "true" : "false");
    return false;
}

/* One of `n_words` words (case-insensitive) into an int. */
bool otelc__cfg_enum(otelc__cfg_t *ld, const yaml_node_t *n, const char *const *words,
                     const int *values, size_t n_words, const char *expected, int *field)
{
    const char *s, *kept = "(unknown)";
    size_t len;
    int r = otelc__cfg_scalar(ld, n, &s);

    if (r == 0)
        return false;
    if (r > 0) {
        s = otelc__cfg_trim(s, &len);
        for (size_t i = 0; i < n_words; i++) {
            if (otelc__cfg_word_is_nocase(s, len, words[i])) {
                *field = values[i];
                return true;
            }
        }
    }
    for (size_t i = 0; i < n_words; i++) {
        if (values[i] == *field) {
            kept = words[i];
            break;
        }
    }
    otelc__cfg_reject(ld, n, expected, kept);
    return false;
}

/* Checks that a setting otelc parses but does not use yet is a scalar. */
void otelc__cfg_check_scalar(otelc__cfg_t *ld, const yaml_node_t *n, const char *expected)
{
    const char *s;

    if (otelc__cfg_scalar(ld, n, &s) < 0)
        otelc__cfg_reject(ld, n, expected, "nothing");
}

/* ---- walking mappings and lists ------------------------------------------ */

/* 1: `n` is a mapping; 0: null (nothing to read); -1: something else
 * (reported). */
int otelc__cfg_mapping(otelc__cfg_t *ld, const yaml_node_t *n, const char *expected)
{
    const char *s;

    if (n->type == YAML_MAPPING_NODE)
        return 1;
    if (n->type == YAML_SCALAR_NODE && otelc__cfg_scalar(ld, n, &s) == 0)
        return 0;
    otelc__cfg_reject(ld, n, expected, "the defaults");
    return -1;
}

/*
 * The key of `pair` as a string, with the path pushed (pop with *mark), and
 * its value node. False for a key that is not a plain string (reported).
 * Keys are never substituted: the specification allows ${...} in values only.
 */
bool otelc__cfg_member(otelc__cfg_t *ld, const yaml_node_pair_t *pair, const char **key,
                       yaml_node_t **key_node, yaml_node_t **value, size_t *mark)
{
    yaml_node_t *k = otelc__cfg_node(ld, pair->key);

    *value = otelc__cfg_node(ld, pair->value);
    if (k == NULL || *value == NULL || !otelc__cfg_visit(ld, k))
        return false;
    if (k->type != YAML_SCALAR_NODE ||
        strlen((const char *)k->data.scalar.value) != k->data.scalar.length) {
        otelc__cfg_report(ld, k, "a key must be a string; ignored");
        return false;
    }
    if (strcmp((const char *)k->data.scalar.value, "<<") == 0) {
        /* A merge key of YAML 1.1; the OpenTelemetry configuration is YAML
         * 1.2, where anchors and aliases remain (`otlp_http: *common`). */
        otelc__cfg_report(ld, k,
                          "YAML merge keys (<<) are not part of YAML 1.2, which the "
                          "configuration file follows; ignored (alias a whole mapping instead)");
        return false;
    }
    *key = (const char *)k->data.scalar.value;
    *key_node = k;
    *mark = otelc__cfg_path_push(ld, *key);
    return true;
}

size_t otelc__cfg_pairs_count(const yaml_node_t *map)
{
    return (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
}

/* ---- the top level ------------------------------------------------------- */

/* log_level: otelc's own diagnostics (OTEL_LOG_LEVEL). The schema's levels
 * are those of the SDK's logger; trace reads as debug and fatal as error. */
static void read_log_level(otelc__cfg_t *ld, yaml_node_t *v)
{
    size_t mark = otelc__cfg_path_push(ld, "log_level");

    if (otelc__cfg_row(ld, v, otelc__cfg_core_row("OTEL_LOG_LEVEL"), &ld->o)) {
        /* At once, so that log_level: none also silences the reports about
         * the rest of the file -- unless OTEL_LOG_LEVEL, which beats the
         * implicit file, already decided. */
        const char *env = getenv("OTEL_LOG_LEVEL");

        if (ld->env_ignored || env == NULL || env[0] == '\0')
            otelc__diag_set_level(ld->o.diag_level);
    }
    otelc__cfg_path_pop(ld, mark);
}

static void read_file_format(otelc__cfg_t *ld, yaml_node_t *v)
{
    size_t mark = otelc__cfg_path_push(ld, "file_format");
    const char *s;
    int r = otelc__cfg_scalar(ld, v, &s);

    if (r > 0 && (s[0] == '0' || s[0] == '1') && (s[1] == '\0' || s[1] == '.')) {
        otelc__cfg_path_pop(ld, mark);
        return;
    }
    if (r > 0 && s[0] >= '2' && s[0] <= '9') {
        char shown[32];

        otelc__cfg_report(
            ld, v, "file format '%s' is newer than otelc knows (0.x and 1.x); reading it as 1.x",
            otelc__cfg_printable(s, strlen(s), shown, sizeof(shown)));
    } else {
        otelc__cfg_reject(ld, v, "a version such as \"1.0\"", "reading the file as format 1.x");
    }
    otelc__cfg_path_pop(ld, mark);
}

/* The top-level keys, read in this order whatever their order in the file. */
enum {
    TOP_LOG_LEVEL,
    TOP_FILE_FORMAT,
    TOP_DISABLED,
    TOP_RESOURCE,
    TOP_ATTRIBUTE_LIMITS,
    TOP_PROPAGATOR,
    TOP_TRACER_PROVIDER,
    TOP_LOGGER_PROVIDER,
    TOP_OTELC,
    TOP_COUNT
};

static const char *const top_keys[TOP_COUNT] = {
    [TOP_LOG_LEVEL] = "log_level",
    [TOP_FILE_FORMAT] = "file_format",
    [TOP_DISABLED] = "disabled",
    [TOP_RESOURCE] = "resource",
    [TOP_ATTRIBUTE_LIMITS] = "attribute_limits",
    [TOP_PROPAGATOR] = "propagator",
    [TOP_TRACER_PROVIDER] = "tracer_provider",
    [TOP_LOGGER_PROVIDER] = "logger_provider",
    [TOP_OTELC] = "otelc",
};

static void read_top(otelc__cfg_t *ld, yaml_node_t *root)
{
    yaml_node_t *top[TOP_COUNT] = { NULL };
    size_t mark;

    /* log_level before anything is reported, so that log_level: none
     * silences the reports about the file too. */
    OTELC__CFG_FOR_EACH_PAIR(ld, root, pair)
    {
        yaml_node_t *k = otelc__cfg_node(ld, pair->key), *v = otelc__cfg_node(ld, pair->value);

        if (k != NULL && v != NULL && k->type == YAML_SCALAR_NODE &&
            strcmp((const char *)k->data.scalar.value, top_keys[TOP_LOG_LEVEL]) == 0)
            read_log_level(ld, v);
    }
    OTELC__CFG_FOR_EACH_PAIR(ld, root, pair)
    {
        const char *k;
        yaml_node_t *kn, *v;
        size_t i;

        if (!otelc__cfg_member(ld, pair, &k, &kn, &v, &mark))
            continue;
        for (i = 0; i < TOP_COUNT; i++) {
            if (strcmp(k, top_keys[i]) == 0) {
                top[i] = v;
                break;
            }
        }
        if (i == TOP_COUNT) {
            if (strcmp(k, "meter_provider") == 0)
                otelc__cfg_unsupported(ld, kn, "otelc has no metrics yet");
            else if (strcmp(k, "instrumentation/development") == 0 ||
                     strcmp(k, "instrumentation") == 0)
                otelc__cfg_unsupported(ld, kn, NULL);
            else
                otelc__cfg_unknown(ld, kn);
        }
        otelc__cfg_path_pop(ld, mark);
    }

    if (top[TOP_FILE_FORMAT] != NULL) {
        read_file_format(ld, top[TOP_FILE_FORMAT]);
    } else {
        otelc__cfg_report(ld, root,
                          "file_format is missing (the OpenTelemetry schema requires it, e.g. "
                          "file_format: \"1.0\"); reading the file as format 1.x");
    }
    for (int i = TOP_DISABLED; i < TOP_COUNT; i++) {
        if (top[i] == NULL)
            continue;
        mark = otelc__cfg_path_push(ld, top_keys[i]);
        switch (i) {
        case TOP_DISABLED:
            (void)otelc__cfg_row(ld, top[i], otelc__cfg_core_row("OTEL_SDK_DISABLED"), &ld->o);
            break;
        case TOP_RESOURCE:
            otelc__cfg_read_resource(ld, top[i]);
            break;
        case TOP_ATTRIBUTE_LIMITS:
            otelc__cfg_walk(ld, top[i], "attribute_limits");
            break;
        case TOP_PROPAGATOR:
            otelc__cfg_read_propagator(ld, top[i]);
            break;
        case TOP_TRACER_PROVIDER:
            otelc__cfg_read_provider(ld, top[i], OTELC__CFG_TRACES);
            break;
        case TOP_LOGGER_PROVIDER:
            otelc__cfg_read_provider(ld, top[i], OTELC__CFG_LOGS);
            break;
        case TOP_OTELC:
            otelc__cfg_walk(ld, top[i], "otelc");
            break;
        default:
            break;
        }
        otelc__cfg_path_pop(ld, mark);
    }
}

/* ---- reading the file ---------------------------------------------------- */

/*
 * Reads the whole file into a new buffer. On failure returns NULL with
 * errno set, and *why set where errno would not say it: "larger than
 * 4 MiB", or "not a regular file" for a FIFO, a device or a socket.
 *
 * Only regular files are read: a FIFO blocks open() until a writer comes
 * (forever, at the start of the application) and a device or a socket may
 * block any read. The file is opened without blocking, so that open() on a
 * FIFO returns at once, and refused after fstat(); on a regular file
 * O_NONBLOCK has no effect.
 */
static unsigned char *read_all(const char *path, size_t *size, const char **why)
{
    struct stat st;
    unsigned char *buf = NULL;
    size_t used = 0, cap;
    int fd, saved;

    *why = NULL;
    do {
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) != 0)
        goto fail;
    if (S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        *why = "not a regular file";
        errno = EINVAL;
        goto fail;
    }
    /* A /proc file reports no size, and a file may grow while it is read:
     * read what comes, within the limit. */
    cap = st.st_size > 0 && (uint64_t)st.st_size <= MAX_FILE_BYTES ? (size_t)st.st_size + 1 : 4096;
    buf = malloc(cap);
    if (buf == NULL)
        goto fail;
    for (;;) {
        ssize_t n;

        if (used == cap) {
            unsigned char *bigger;

            if (cap > MAX_FILE_BYTES) {
                *why = "larger than 4 MiB";
                errno = EFBIG;
                goto fail;
            }
            bigger = realloc(buf, cap * 2);
            if (bigger == NULL)
                goto fail;
            buf = bigger;
            cap *= 2;
        }
        n = read(fd, buf + used, cap - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        if (n == 0)
            break;
        used += (size_t)n;
    }
    if (used > MAX_FILE_BYTES) {
        *why = "larger than 4 MiB";
        errno = EFBIG;
        goto fail;
    }
    close(fd);
    *size = used;
    return buf;

fail:
    saved = errno;
    free(buf);
    close(fd);
    errno = saved;
    return NULL;
}

/*
 * The checks of the file as a whole, before anything is applied: a mapping
 * at the top, and every ${...} reference in a value well-formed. Mapping keys
 * are not candidates for substitution, so they are marked and skipped.
 * Returns false (reported) when the file cannot be used.
 */
static bool check_whole(otelc__cfg_t *ld, yaml_node_t *root)
{
    size_t count = (size_t)(ld->doc.nodes.top - ld->doc.nodes.start);
    unsigned char *is_key = calloc(count + 1, 1);
    bool ok = true;

    if (root->type != YAML_MAPPING_NODE) {
        otelc__cfg_report(ld, root,
                          "the file must hold a mapping (file_format: ..., resource: ...), not %s; "
                          "ignoring the whole file",
                          otelc__cfg_kind_name(root));
        free(is_key);
        return false;
    }
    if (is_key == NULL) {
        ld->nomem = true;
        return false;
    }
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *n = ld->doc.nodes.start + i;

        if (n->type != YAML_MAPPING_NODE)
            continue;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            if (p->key >= 1 && (size_t)p->key <= count)
                is_key[p->key] = 1;
        }
    }
    for (size_t i = 0; i < count && ok; i++) {
        yaml_node_t *n = ld->doc.nodes.start + i;
        const char *bad;
        size_t bad_len;

        if (n->type != YAML_SCALAR_NODE || is_key[i + 1])
            continue;
        if (!substitute((const char *)n->data.scalar.value, n->data.scalar.length, &ld->scratch,
                        &bad, &bad_len)) {
            char shown[96];

            otelc__cfg_report(
                ld, n,
                "invalid substitution reference '%s' (expected ${NAME}, ${env:NAME} or "
                "${NAME:-default}, NAME of letters, digits and '_'); ignoring the whole file",
                otelc__cfg_printable(bad, bad_len, shown, sizeof(shown)));
            ok = false;
        }
    }
    free(is_key);
    return ok;
}

/* An anchor of the document and the node it names. */
typedef struct anchor {
    yaml_char_t *name; /* taken from the event */
    int node;
} anchor_t;

/* A collection being filled: its node, and a mapping's key waiting for its
 * value (0: none). */
typedef struct frame {
    int node;
    int key;
} frame_t;

/* The state of one composition. */
typedef struct composer {
    otelc__cfg_t *ld;
    frame_t stack[MAX_DEPTH + 1];
    unsigned depth;
    anchor_t *anchors;
    size_t n_anchors, cap_anchors;
    unsigned long aliases, lookups;
} composer_t;

/* Reports a YAML error of the parser, as "not valid YAML". */
static void yaml_error(otelc__cfg_t *ld, const yaml_parser_t *parser)
{
    char key[64 + sizeof(ld->shown_path)];
    const yaml_mark_t *at = parser->error == YAML_READER_ERROR ? NULL : &parser->problem_mark;

    if (parser->error == YAML_MEMORY_ERROR) {
        ld->nomem = true;
        return;
    }
    snprintf(key, sizeof(key), "config:yaml:%s", ld->shown_path);
    if (at != NULL)
        otelc__diag(OTELC_DIAG_WARN, key, "%s:%u:%u: not valid YAML: %s%s%s; ignoring the whole file",
                    ld->shown_path, (unsigned)at->line + 1, (unsigned)at->column + 1,
                    parser->problem != NULL ? parser->problem : "syntax error",
                    parser->context != NULL ? " " : "",
                    parser->context != NULL ? parser->context : "");
    else
        otelc__diag(OTELC_DIAG_WARN, key,
                    "%s: not valid YAML at byte %zu: %s; ignoring the whole file", ld->shown_path,
                    parser->problem_offset,
                    parser->problem != NULL ? parser->problem : "bad encoding");
    ld->rejected = true;
}

/* Counts anchor comparisons against the budget; false past it (reported). */
static bool lookups_left(composer_t *c, const yaml_event_t *ev)
{
    char key[64 + sizeof(c->ld->shown_path)];

    if (c->lookups <= MAX_ANCHOR_LOOKUPS)
        return true;
    snprintf(key, sizeof(key), "config:anchors:%s", c->ld->shown_path);
    otelc__diag(OTELC_DIAG_WARN, key,
                "%s: too many YAML anchors and aliases (%zu anchors and %lu aliases by line %u; a "
                "configuration has a few); ignoring the whole file",
                c->ld->shown_path, c->n_anchors, c->aliases, (unsigned)ev->start_mark.line + 1);
    c->ld->rejected = true;
    return false;
}

/* Names node `id` by the event's anchor (taken from the event). */
static bool anchor_define(composer_t *c, yaml_char_t **name, int id, const yaml_event_t *ev)
{
    size_t i;

    if (*name == NULL)
        return true;
    /* A later anchor of the same name replaces the earlier (YAML 1.2). */
    c->lookups += c->n_anchors;
    if (!lookups_left(c, ev))
        return false;
    for (i = 0; i < c->n_anchors; i++) {
        if (strcmp((const char *)c->anchors[i].name, (const char *)*name) == 0)
            break;
    }
    if (i < c->n_anchors) {
        c->anchors[i].node = id;
        return true;
    }
    if (c->n_anchors == c->cap_anchors) {
        size_t cap = c->cap_anchors > 0 ? 2 * c->cap_anchors : 16;
        anchor_t *a = realloc(c->anchors, cap * sizeof(*a));

        if (a == NULL) {
            c->ld->nomem = true;
            return false;
        }
        c->anchors = a;
        c->cap_anchors = cap;
    }
    c->anchors[c->n_anchors++] = (anchor_t){ *name, id };
    *name = NULL; /* the composer frees it */
    return true;
}

/* Puts node `id` into the collection being filled, or makes it the root. */
static bool attach(composer_t *c, int id)
{
    frame_t *top;
    yaml_node_t *parent;

    if (c->depth == 0)
        return true; /* the root: the document's first node */
    top = &c->stack[c->depth - 1];
    parent = yaml_document_get_node(&c->ld->doc, top->node);
    if (parent->type == YAML_SEQUENCE_NODE)
        return yaml_document_append_sequence_item(&c->ld->doc, top->node, id) != 0;
    if (top->key == 0) {
        top->key = id;
        return true;
    }
    if (!yaml_document_append_mapping_pair(&c->ld->doc, top->node, top->key, id))
        return false;
    top->key = 0;
    return true;
}

/*
 * Adds the node that `ev` starts (a scalar, a list or a mapping) to the
 * document, taking the event's value and tag instead of copying them as
 * yaml_document_add_scalar(), _add_sequence() and _add_mapping() do (each
 * with a copy of the default tag, and a second UTF-8 check of what the
 * parser has just checked): on a large file those copies, and the frees of
 * the event's own strings, were a third of the time spent composing. A
 * node keeps the event's tag (NULL when the file gives none; the walk never
 * reads tags). A mapping's pairs start with room for 4 (libyaml gives 16),
 * since most mappings of a configuration are small; appending grows them by
 * doubling. libyaml's document frees what it holds with free() and grows
 * its stacks with realloc(), as it allocates with malloc(): the event's
 * strings came from the same allocator, and the stacks made here are grown
 * as libyaml's own loader grows them. Returns the node's id, 0 when out of
 * memory (the event keeps its strings).
 */
static int add_node_taken(yaml_document_t *doc, yaml_event_t *ev)
{
    yaml_node_t node;

    if (doc->nodes.top == doc->nodes.end) {
        size_t n = (size_t)(doc->nodes.end - doc->nodes.start);
        yaml_node_t *grown;

        if (n > (size_t)INT32_MAX / 2)
            return 0;
        grown = realloc(doc->nodes.start, 2 * n * sizeof(*grown));
        if (grown == NULL)
            return 0;
        doc->nodes.top = grown + n;
        doc->nodes.end = grown + 2 * n;
        doc->nodes.start = grown;
    }
    memset(&node, 0, sizeof(node));
    node.start_mark = ev->start_mark;
    node.end_mark = ev->end_mark;
    if (ev->type == YAML_SCALAR_EVENT) {
        node.type = YAML_SCALAR_NODE;
        node.tag = ev->data.scalar.tag;
        node.data.scalar.value = ev->data.scalar.value;
        node.data.scalar.length = ev->data.scalar.length;
        node.data.scalar.style = ev->data.scalar.style;
        ev->data.scalar.tag = NULL;
        ev->data.scalar.value = NULL;
    } else if (ev->type == YAML_SEQUENCE_START_EVENT) {
        yaml_node_item_t *items = malloc(16 * sizeof(*items));

        if (items == NULL)
            return 0;
        node.type = YAML_SEQUENCE_NODE;
        node.tag = ev->data.sequence_start.tag;
        node.data.sequence.items.start = node.data.sequence.items.top = items;
        node.data.sequence.items.end = items + 16;
        node.data.sequence.style = ev->data.sequence_start.style;
        ev->data.sequence_start.tag = NULL;
    } else {
        yaml_node_pair_t *pairs = malloc(4 * sizeof(*pairs));

        if (pairs == NULL)
            return 0;
        node.type = YAML_MAPPING_NODE;
        node.tag = ev->data.mapping_start.tag;
        node.data.mapping.pairs.start = node.data.mapping.pairs.top = pairs;
        node.data.mapping.pairs.end = pairs + 4;
        node.data.mapping.style = ev->data.mapping_start.style;
        ev->data.mapping_start.tag = NULL;
    }
    *doc->nodes.top++ = node;
    return (int)(doc->nodes.top - doc->nodes.start);
}

/* One event of the first document. 1: go on; 0: the document is done;
 * -1: stop (reported, or out of memory). */
static int compose_event(composer_t *c, yaml_event_t *ev)
{
    otelc__cfg_t *ld = c->ld;
    char key[64 + sizeof(ld->shown_path)];
    int id = 0;

    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        id = add_node_taken(&ld->doc, ev);
        if (id == 0)
            break;
        if (!anchor_define(c, &ev->data.scalar.anchor, id, ev))
            return -1;
        return attach(c, id) ? 1 : (ld->nomem = true, -1);
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        if (c->depth >= MAX_DEPTH) {
            snprintf(key, sizeof(key), "config:depth:%s", ld->shown_path);
            otelc__diag(OTELC_DIAG_WARN, key,
                        "%s:%u: nested deeper than %d levels (lists and mappings in one "
                        "another); ignoring the whole file",
                        ld->shown_path, (unsigned)ev->start_mark.line + 1, MAX_DEPTH);
            ld->rejected = true;
            return -1;
        }
        id = add_node_taken(&ld->doc, ev);
        if (id == 0)
            break;
        if (!anchor_define(c, ev->type == YAML_SEQUENCE_START_EVENT
                                  ? &ev->data.sequence_start.anchor
                                  : &ev->data.mapping_start.anchor,
                           id, ev))
            return -1;
        if (!attach(c, id))
            break;
        c->stack[c->depth++] = (frame_t){ id, 0 };
        return 1;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        if (c->depth > 0) {
            yaml_node_t *n = yaml_document_get_node(&ld->doc, c->stack[c->depth - 1].node);

            n->end_mark = ev->end_mark;
            c->depth--;
        }
        return 1;
    case YAML_ALIAS_EVENT: {
        size_t i;

        c->aliases++;
        c->lookups += c->n_anchors;
        if (!lookups_left(c, ev))
            return -1;
        for (i = 0; i < c->n_anchors; i++) {
            if (strcmp((const char *)c->anchors[i].name, (const char *)ev->data.alias.anchor) == 0)
                break;
        }
        if (i == c->n_anchors) {
            snprintf(key, sizeof(key), "config:yaml:%s", ld->shown_path);
            otelc__diag(OTELC_DIAG_WARN, key,
                        "%s:%u:%u: not valid YAML: found undefined alias; ignoring the whole file",
                        ld->shown_path, (unsigned)ev->start_mark.line + 1,
                        (unsigned)ev->start_mark.column + 1);
            ld->rejected = true;
            return -1;
        }
        return attach(c, c->anchors[i].node) ? 1 : (ld->nomem = true, -1);
    }
    case YAML_DOCUMENT_END_EVENT:
        return 0;
    default:
        return 1;
    }
    ld->nomem = true;
    return -1;
}

/*
 * Parses `buf` into ld->doc, in one pass over libyaml's events: the
 * document is composed here, with the bounds checked as it grows -- at
 * most MAX_DEPTH lists and mappings nested in one another, at most
 * MAX_ANCHOR_LOOKUPS anchor comparisons -- rather than by libyaml's loader
 * after a pass of its own to check them (which read the text twice: two
 * thirds of the time of a large file). The nesting is checked as each
 * collection opens, before libyaml's scanner, whose work grows with the
 * depth of flow collections, goes any deeper. False (reported) when the
 * text is not valid YAML or beyond a bound; a file of no document gives an
 * empty document.
 */
static bool parse_yaml(otelc__cfg_t *ld, const unsigned char *buf, size_t size)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    composer_t c = { .ld = ld };
    bool ok = true, have_doc = false, done = false;

    if (!yaml_parser_initialize(&parser)) {
        ld->nomem = true;
        return false;
    }
    yaml_parser_set_input_string(&parser, buf, size);
    while (ok && !done) {
        int r = 1;

        if (!yaml_parser_parse(&parser, &ev)) {
            yaml_error(ld, &parser);
            ok = false;
            break;
        }
        if (ev.type == YAML_STREAM_END_EVENT) {
            done = true;
        } else if (ev.type == YAML_DOCUMENT_START_EVENT) {
            if (have_doc) {
                /* Only the first document is read; say so, and stop. */
                yaml_node_t at = { .start_mark = ev.start_mark };

                otelc__cfg_report(ld, &at,
                                  "only the first YAML document of the file is read; this one "
                                  "is ignored");
                done = true;
            } else if (!yaml_document_initialize(&ld->doc, NULL, NULL, NULL, 1, 1)) {
                ld->nomem = true;
                ok = false;
            } else {
                have_doc = true;
            }
        } else if (have_doc) {
            r = compose_event(&c, &ev);
            if (r < 0)
                ok = false;
        }
        yaml_event_delete(&ev);
    }
    for (size_t i = 0; i < c.n_anchors; i++)
        free(c.anchors[i].name);
    free(c.anchors);
    yaml_parser_delete(&parser);
    if (!have_doc && ok) {
        /* No document at all: an empty one, so that the caller has one. */
        if (!yaml_document_initialize(&ld->doc, NULL, NULL, NULL, 1, 1)) {
            ld->nomem = true;
            return false;
        }
        return true;
    }
    if (!ok && have_doc)
        yaml_document_delete(&ld->doc);
    return ok;
}

static void loader_free(otelc__cfg_t *ld)
{
    if (ld == NULL)
        return;
    chunks_free(ld->chunks);
    otelc__cfg_sb_free(&ld->scratch);
    otelc__cfg_sb_free(&ld->exporters[OTELC__CFG_TRACES]);
    otelc__cfg_sb_free(&ld->exporters[OTELC__CFG_LOGS]);
    free(ld);
}

static char *loader_chunk_alloc(void *ctx, size_t n)
{
    return otelc__cfg_alloc(ctx, n, _Alignof(max_align_t));
}

static otelc__cfg_t *loader_new(const char *path, bool env_ignored, const otelc_options_t *opts)
{
    otelc__cfg_t *ld = calloc(1, sizeof(*ld));

    if (ld == NULL)
        return NULL;
    ld->path = path;
    ld->env_ignored = env_ignored;
    ld->o = *opts;
    otelc__cfg_printable(path, strlen(path), ld->shown_path, sizeof(ld->shown_path));
    /* The components' settings in a set of the working copy's own, in this
     * load's chunks: kept if the load is applied, freed if not. */
    {
        otelc__setting_alloc_t alloc = { loader_chunk_alloc, ld };

        ld->o.components = otelc__component_set_clone(opts->components, &alloc);
        if (ld->o.components == NULL) {
            chunks_free(ld->chunks);
            free(ld);
            return NULL;
        }
    }
    otelc__cfg_targets_init(ld);
    if (ld->targets == NULL) {
        chunks_free(ld->chunks);
        free(ld);
        return NULL;
    }

    /* OTEL_LOG_LEVEL beats the implicit ./otelc.yaml; it takes effect now
     * so that it also governs the reports about the file. The environment
     * reader that runs next reports a value that does not parse. */
    if (!env_ignored) {
        static const char *const words[] = { "none", "error", "warn", "warning", "info", "debug" };
        static const int values[] = { OTELC_DIAG_NONE, OTELC_DIAG_ERROR, OTELC_DIAG_WARN,
                                      OTELC_DIAG_WARN, OTELC_DIAG_INFO,  OTELC_DIAG_DEBUG };
        const char *env = getenv("OTEL_LOG_LEVEL");
        size_t len;

        for (size_t i = 0; env != NULL && i < 6; i++) {
            const char *t = otelc__cfg_trim(env, &len);

            if (otelc__cfg_word_is_nocase(t, len, words[i]))
                otelc__diag_set_level(values[i]);
        }
    }
    return ld;
}

/* Parses, checks and applies the file's content; see config_file.h. */
static otelc_status_t loader_run(otelc__cfg_t *ld, const unsigned char *buf, size_t size,
                                 otelc_options_t *opts, bool *applied)
{
    otelc_status_t st = OTELC_OK;
    bool have_doc = false;
    yaml_node_t *root;

    if (!parse_yaml(ld, buf, size)) {
        st = ld->nomem ? OTELC_ERR_NOMEM : OTELC_ERR_INVALID;
        goto out;
    }
    have_doc = true;
    root = yaml_document_get_root_node(&ld->doc);
    /* An empty file sets nothing, which is not an error. */
    if (root != NULL) {
        if (!check_whole(ld, root)) {
            st = ld->nomem ? OTELC_ERR_NOMEM : OTELC_ERR_INVALID;
            goto out;
        }
        read_top(ld, root);
    }
    if (ld->too_complex) {
        st = OTELC_ERR_INVALID;
        goto out;
    }
    ld->o.config_file = otelc__cfg_strdup(ld, ld->path, strlen(ld->path));
    if (ld->nomem) {
        otelc__diag(OTELC_DIAG_ERROR, "config:nomem",
                    "out of memory reading the configuration file '%s'; using the defaults "
                    "and the environment instead",
                    ld->shown_path);
        st = OTELC_ERR_NOMEM;
        goto out;
    }
    if (ld->unreported > 0) {
        char key[64 + sizeof(ld->shown_path)];

        snprintf(key, sizeof(key), "config:more:%s", ld->shown_path);
        otelc__diag(OTELC_DIAG_WARN, key, "%s: %u more problems not shown", ld->shown_path,
                    ld->unreported);
    }
    *opts = ld->o;
    chunks_keep(ld);
    *applied = true;
    st = ld->rejected ? OTELC_ERR_INVALID : OTELC_OK;

out:
    if (have_doc)
        yaml_document_delete(&ld->doc);
    return st;
}

/* libyaml is loaded when a file is first read (yaml_dl.h); a machine
 * without it gets the file refused with the reason, once, and the options
 * come from the defaults and the environment. */
static bool yaml_ready(const char *path)
{
    const char *why = NULL;
    char shown[160];

    if (otelc__yaml_load(&why))
        return true;
    otelc__diag(OTELC_DIAG_WARN, "config.file.libyaml",
                "cannot read the configuration file '%s': %s (install libyaml-0-2); using the "
                "defaults and the environment instead",
                otelc__diag_escape(path, strlen(path), shown, sizeof(shown)), why);
    return false;
}

otelc_status_t otelc__config_file_load(const char *path, bool env_ignored, otelc_options_t *opts,
                                       bool *applied)
{
    otelc__cfg_t *ld;
    unsigned char *buf;
    size_t size = 0;
    const char *why;
    otelc_status_t st;

    if (applied != NULL)
        *applied = false;
    if (path == NULL || opts == NULL || applied == NULL)
        return OTELC_ERR_INVALID;
    if (!yaml_ready(path))
        return OTELC_ERR_UNSUPPORTED;
    ld = loader_new(path, env_ignored, opts);
    if (ld == NULL)
        return OTELC_ERR_NOMEM;
    buf = read_all(path, &size, &why);
    if (buf == NULL) {
        char key[64 + sizeof(ld->shown_path)];
        int err = errno;

        snprintf(key, sizeof(key), "config:open:%s", ld->shown_path);
        otelc__diag(OTELC_DIAG_WARN, key,
                    "cannot read the configuration file '%s': %s; using the defaults and the "
                    "environment instead",
                    ld->shown_path, why != NULL ? why : strerror(err));
        loader_free(ld);
        return err == ENOMEM ? OTELC_ERR_NOMEM : OTELC_ERR_IO;
    }
    st = loader_run(ld, buf, size, opts, applied);
    free(buf);
    loader_free(ld);
    return st;
}

otelc_status_t otelc__config_file_load_buffer(const char *name, const void *data, size_t size,
                                              bool env_ignored, otelc_options_t *opts,
                                              bool *applied)
{
    otelc__cfg_t *ld;
    otelc_status_t st;

    if (applied != NULL)
        *applied = false;
    if (name == NULL || (data == NULL && size > 0) || opts == NULL || applied == NULL)
        return OTELC_ERR_INVALID;
    if (size > MAX_FILE_BYTES)
        return OTELC_ERR_IO;
    if (!yaml_ready(name))
        return OTELC_ERR_UNSUPPORTED;
    ld = loader_new(name, env_ignored, opts);
    if (ld == NULL)
        return OTELC_ERR_NOMEM;
    st = loader_run(ld, data != NULL ? data : (const void *)"", size, opts, applied);
    loader_free(ld);
    return st;
}

void otelc__config_file_release(void)
{
    chunk_t *c;

    pthread_mutex_lock(&kept_lock);
    c = kept_chunks;
    kept_chunks = NULL;
    pthread_mutex_unlock(&kept_lock);
    chunks_free(c);
}
