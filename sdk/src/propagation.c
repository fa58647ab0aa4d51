/*
 * propagation.c: the wire formats that carry a context between processes
 * (W3C traceparent and tracestate, W3C baggage, B3), and the inject/extract
 * glue that applies the configured propagators to a carrier.
 *
 * Everything here works on caller-supplied buffers: no allocation, no global
 * state, so every function is thread-safe. Parsers take pointer + length and
 * index strictly below the length; input comes from the network and is never
 * trusted to be NUL-terminated or well-formed.
 */
#include "propagation_int.h"

#include <string.h>

#include "diag.h"

/* Optional white space of HTTP (RFC 7230 OWS): space and horizontal tab. */
#define IS_OWS(c) ((c) == ' ' || (c) == '\t')

/* Returned by baggage_member() for a list member that is not valid. */
#define BAD_MEMBER ((size_t)-1)

/* ---- small helpers ------------------------------------------------------- */

/*
 * The value of a lower-case hex digit, or -1. Upper case is rejected on
 * purpose: W3C trace-context and B3 both define lower-hex only, and the W3C
 * test suite treats "ABCDEF" in a traceparent as invalid.
 */
static int lower_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Percent-decoding (baggage) accepts either case, as RFC 3986 says. */
static int any_hex_value(char c)
{
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return lower_hex_value(c);
}

/*
 * Decodes 2*n lower-case hex digits into n bytes. Returns false (with `out`
 * partly written) when a character is not lower-case hex.
 */
static bool decode_hex(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi = lower_hex_value(s[2 * i]);
        int lo = lower_hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/*
 * Lower-case hex of `n` bytes into out[0 .. 2n), no NUL. common.h declares
 * otelc_hex_encode() for the same job; it lives in util.c, and this file keeps
 * its own copy so that the propagation module builds and is tested alone.
 */
static void encode_hex(const uint8_t *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
}

static bool all_zero(const uint8_t *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (bytes[i] != 0)
            return false;
    return true;
}

/* Same rule as otelc_span_context_is_valid(), kept local for the reason above. */
static bool span_context_valid(const otelc_span_context_t *ctx)
{
    return ctx != NULL && !all_zero(ctx->trace_id, OTELC_TRACE_ID_SIZE) &&
           !all_zero(ctx->span_id, OTELC_SPAN_ID_SIZE);
}

/* Narrows [*s, *s + *len) to exclude leading and trailing OWS. */
static void trim_ows(const char **s, size_t *len)
{
    const char *p = *s;
    size_t n = *len;

    while (n > 0 && IS_OWS(p[0])) {
        p++;
        n--;
    }
    while (n > 0 && IS_OWS(p[n - 1]))
        n--;
    *s = p;
    *len = n;
}

static size_t skip_ows(const char *s, size_t len, size_t i)
{
    while (i < len && IS_OWS(s[i]))
        i++;
    return i;
}

/*
 * The end of the list member that starts at `i`: the next ',' or `len`.
 * Neither tracestate nor baggage allows a comma inside a member, so splitting
 * on commas first and validating each piece afterwards is exact.
 */
static size_t member_end(const char *s, size_t len, size_t i)
{
    const char *comma = memchr(s + i, ',', len - i);
    return comma != NULL ? (size_t)(comma - s) : len;
}

/* Puts an empty string in a string out-parameter, where there is room. */
static void clear_string_out(char *out, size_t size, size_t *out_len)
{
    if (out != NULL && size > 0)
        out[0] = '\0';
    if (out_len != NULL)
        *out_len = 0;
}

/* ---- traceparent --------------------------------------------------------- */

/*
 * Layout of "vv-<32 hex trace id>-<16 hex parent id>-ff": the offsets of the
 * dashes and fields, fixed for version 00 and kept by every later version.
 */
#define TP_TRACE_AT 3
#define TP_SPAN_AT 36
#define TP_FLAGS_AT 53

otelc_status_t otelc_traceparent_parse(const char *s, size_t len, otelc_span_context_t *out)
{
    otelc_span_context_t ctx;
    int version_hi, version_lo, flags_hi, flags_lo, version;

    if (out == NULL)
        return OTELC_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    if (s == NULL)
        goto fail;
    memset(&ctx, 0, sizeof(ctx));

    /* The W3C test suite sends the header with leading and trailing spaces
     * and tabs and expects it to be accepted: HTTP strips OWS around field
     * values, but not every server framework does. */
    trim_ows(&s, &len);
    if (len < OTELC_TRACEPARENT_LEN)
        goto fail;

    version_hi = lower_hex_value(s[0]);
    version_lo = lower_hex_value(s[1]);
    if (version_hi < 0 || version_lo < 0)
        goto fail;
    version = version_hi << 4 | version_lo;
    /* Version ff is forbidden. Version 00 has exactly 55 characters. A later
     * version may append fields, but must keep the version-00 prefix and
     * separate what it adds with a dash, so that "...-01.x" is rejected. */
    if (version == 0xff)
        goto fail;
    if (version == 0 && len != OTELC_TRACEPARENT_LEN)
        goto fail;
    if (len > OTELC_TRACEPARENT_LEN && s[OTELC_TRACEPARENT_LEN] != '-')
        goto fail;

    if (s[2] != '-' || s[TP_SPAN_AT - 1] != '-' || s[TP_FLAGS_AT - 1] != '-')
        goto fail;
    if (!decode_hex(s + TP_TRACE_AT, ctx.trace_id, OTELC_TRACE_ID_SIZE) ||
        !decode_hex(s + TP_SPAN_AT, ctx.span_id, OTELC_SPAN_ID_SIZE))
        goto fail;
    flags_hi = lower_hex_value(s[TP_FLAGS_AT]);
    flags_lo = lower_hex_value(s[TP_FLAGS_AT + 1]);
    if (flags_hi < 0 || flags_lo < 0)
        goto fail;
    ctx.trace_flags = (uint8_t)(flags_hi << 4 | flags_lo);
    /* The meaning of the other flag bits belongs to a version; of an unknown
     * version only the sampled bit is understood (W3C "versioning of
     * traceparent"), so only that bit is carried on. */
    if (version != 0)
        ctx.trace_flags &= OTELC_TRACE_FLAG_SAMPLED;
    if (!span_context_valid(&ctx))
        goto fail;

    ctx.is_remote = true;
    *out = ctx;
    return OTELC_OK;

fail:
    return OTELC_ERR_INVALID;
}

size_t otelc_traceparent_format(const otelc_span_context_t *ctx, char *out, size_t size)
{
    if (!span_context_valid(ctx) || out == NULL || size < OTELC_TRACEPARENT_LEN + 1)
        return 0;
    out[0] = '0';
    out[1] = '0';
    out[2] = '-';
    encode_hex(ctx->trace_id, OTELC_TRACE_ID_SIZE, out + TP_TRACE_AT);
    out[TP_SPAN_AT - 1] = '-';
    encode_hex(ctx->span_id, OTELC_SPAN_ID_SIZE, out + TP_SPAN_AT);
    out[TP_FLAGS_AT - 1] = '-';
    encode_hex(&ctx->trace_flags, 1, out + TP_FLAGS_AT);
    out[OTELC_TRACEPARENT_LEN] = '\0';
    return OTELC_TRACEPARENT_LEN;
}

/* ---- tracestate ---------------------------------------------------------- */

/* Members larger than this are the first dropped when truncating (W3C). */
#define TS_LARGE_MEMBER 128
#define TS_KEY_MAX 256
#define TS_VALUE_MAX 256

static bool is_lcalpha(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/*
 * key     = ( lcalpha / DIGIT ) 0*255( keychar )
 * keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"
 *
 * The grammar of the current draft (w3c/trace-context, spec/20). Trace
 * Context Level 1 split keys into a simple key and a multi-tenant
 * "tenant@system" key with their own lengths (241 and 14) and at most one
 * '@'; the draft folded both into one rule, and the W3C test suite now
 * expects "foo@", "foo@@bar", "foo@bar@baz", a 242-character tenant and a
 * 15-character system to be kept. Only the first character is special: a
 * key cannot start with '@' or a symbol.
 */
static bool tracestate_key_valid(const char *k, size_t n)
{
    if (n < 1 || n > TS_KEY_MAX || !(is_lcalpha(k[0]) || is_digit(k[0])))
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = k[i];
        if (!(is_lcalpha(c) || is_digit(c) || c == '_' || c == '-' || c == '*' || c == '/' ||
              c == '@'))
            return false;
    }
    return true;
}

/*
 * value = 0*255( chr ) nblk-chr
 * chr = %x20 / nblk-chr;  nblk-chr = %x21-2B / %x2D-3C / %x3E-7E
 * That is 1 to 256 printable characters without ',' and '=', not ending in a
 * space. An empty value is invalid (the W3C test "foo=,bar=3").
 */
static bool tracestate_value_valid(const char *v, size_t n)
{
    if (n < 1 || n > TS_VALUE_MAX || v[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x20 || c > 0x7e || c == ',' || c == '=')
            return false;
    }
    return true;
}

typedef struct ts_member {
    const char *text; /* "key=value", trimmed of OWS */
    size_t len;
    size_t key_len;
    bool dropped; /* a repeated key, or removed by truncation */
} ts_member_t;

/*
 * otelc_tracestate_parse(), which also says what was wrong with the header:
 * `*problem` (when `problem` is not NULL) gets a static sentence naming the
 * first reason the header was discarded, or, for a header that was kept, the
 * reason members were left out; NULL when the header was kept whole.
 */
static otelc_status_t tracestate_parse(const char *s, size_t len, char *out, size_t size,
                                       size_t *out_len, const char **problem)
{
    ts_member_t members[OTELC_TRACESTATE_MEMBERS];
    const char *why = NULL;
    /* The normalised length is Σ(len + 1) - 1 over the members kept; keeping
     * Σ(len + 1) avoids special-casing the separator of the first member. */
    size_t n_members = 0, lengths = 0, limit, pos = 0, i = 0;

    clear_string_out(out, size, out_len);
    if (out == NULL || size == 0 || (s == NULL && len > 0)) {
        why = "no buffer to write it to";
        goto fail;
    }

    /* Empty and white-space-only members are allowed (they appear when
     * several tracestate headers are joined) and are dropped. */
    while (i < len) {
        size_t end = member_end(s, len, i);
        const char *m = s + i, *eq;
        size_t m_len = end - i;
        ts_member_t *member;

        i = end + 1;
        trim_ows(&m, &m_len);
        if (m_len == 0)
            continue;
        /* The limit counts the members received, repeated keys included:
         * a list of more than 32 is not a valid tracestate. */
        if (n_members == OTELC_TRACESTATE_MEMBERS) {
            why = "it has more than 32 list members";
            goto fail;
        }
        member = &members[n_members];
        /* No OWS is allowed around '=': "foo =1" has the key "foo ". */
        eq = memchr(m, '=', m_len);
        if (eq == NULL) {
            why = "a list member is not key=value";
            goto fail;
        }
        member->text = m;
        member->len = m_len;
        member->key_len = (size_t)(eq - m);
        member->dropped = false;
        if (!tracestate_key_valid(m, member->key_len)) {
            why = "a key is not 1 to 256 of a-z 0-9 _ - * / @ starting with a letter or digit";
            goto fail;
        }
        if (!tracestate_value_valid(eq + 1, m_len - member->key_len - 1)) {
            why = "a value is not 1 to 256 printable ASCII characters other than ',' and '='";
            goto fail;
        }
        /*
         * A key may appear once. The specification lets a receiver discard
         * duplicates it did not write, and the W3C suite expects the header
         * to be carried on, not dropped whole. The left-most member is the
         * most recent position of that vendor (new and updated members go to
         * the left), so it is the one kept.
         */
        for (size_t j = 0; j < n_members && !member->dropped; j++) {
            if (!members[j].dropped && members[j].key_len == member->key_len &&
                memcmp(members[j].text, m, member->key_len) == 0) {
                member->dropped = true;
                why = "a key appears more than once (the first member with it is kept)";
            }
        }
        if (!member->dropped)
            lengths += m_len + 1;
        n_members++;
    }

    /* W3C: a vendor that must shorten tracestate removes whole members,
     * those over 128 characters first, then from the end (the right-most
     * members are the oldest). The caller's buffer caps the length too. */
    limit = size - 1 < OTELC_TRACESTATE_MAX ? size - 1 : OTELC_TRACESTATE_MAX;
    if (lengths > limit + 1 && why == NULL)
        why = "it is longer than otelc keeps (whole members were dropped)";
    for (size_t j = n_members; j-- > 0 && lengths > limit + 1;) {
        if (!members[j].dropped && members[j].len > TS_LARGE_MEMBER) {
            members[j].dropped = true;
            lengths -= members[j].len + 1;
        }
    }
    for (size_t j = n_members; j-- > 0 && lengths > limit + 1;) {
        if (!members[j].dropped) {
            members[j].dropped = true;
            lengths -= members[j].len + 1;
        }
    }

    for (size_t j = 0; j < n_members; j++) {
        if (members[j].dropped)
            continue;
        if (pos > 0)
            out[pos++] = ',';
        memcpy(out + pos, members[j].text, members[j].len);
        pos += members[j].len;
    }
    out[pos] = '\0';
    if (out_len != NULL)
        *out_len = pos;
    if (problem != NULL)
        *problem = why;
    return OTELC_OK;

fail:
    clear_string_out(out, size, out_len);
    if (problem != NULL)
        *problem = why;
    return OTELC_ERR_INVALID;
}

otelc_status_t otelc_tracestate_parse(const char *s, size_t len, char *out, size_t size,
                                      size_t *out_len)
{
    return tracestate_parse(s, len, out, size, out_len, NULL);
}

/* ---- B3 ------------------------------------------------------------------ */

/* "{32 hex}-{16 hex}-{1|0}" */
#define B3_FORMAT_LEN (2 * OTELC_TRACE_ID_SIZE + 1 + 2 * OTELC_SPAN_ID_SIZE + 2)

/*
 * B3 trace ids are 128 or 64 bits, as 32 or 16 lower-hex characters. A 64-bit
 * id is the low half of a 128-bit one, so it is left-padded with zeros.
 */
static bool b3_trace_id(const char *s, size_t n, uint8_t out[OTELC_TRACE_ID_SIZE])
{
    memset(out, 0, OTELC_TRACE_ID_SIZE);
    if (n == 2 * OTELC_TRACE_ID_SIZE)
        return decode_hex(s, out, OTELC_TRACE_ID_SIZE);
    if (n == OTELC_TRACE_ID_SIZE)
        return decode_hex(s, out + OTELC_TRACE_ID_SIZE / 2, OTELC_TRACE_ID_SIZE / 2);
    return false;
}

/*
 * A B3 sampling state: 1 (accept), 0 (deny), d (debug). Debug is an
 * emphasised accept, and W3C flags have no debug bit, so it maps to sampled.
 * Returns the trace flags, or -1.
 */
static int b3_sampling_state(char c)
{
    if (c == '1' || c == 'd')
        return OTELC_TRACE_FLAG_SAMPLED;
    if (c == '0')
        return 0;
    return -1;
}

otelc_status_t otelc_b3_parse(const char *s, size_t len, otelc_span_context_t *out)
{
    otelc_status_t status = OTELC_ERR_INVALID;
    otelc_span_context_t ctx;
    uint8_t parent[OTELC_SPAN_ID_SIZE];
    const char *dash;
    size_t i;
    int flags;

    if (out == NULL)
        return OTELC_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    if (s == NULL)
        goto fail;
    memset(&ctx, 0, sizeof(ctx));
    trim_ows(&s, &len);

    /* "b3: 0" (and 1, d) carries only a sampling decision, no ids. */
    if (len == 1) {
        flags = b3_sampling_state(s[0]);
        if (flags < 0)
            goto fail;
        out->trace_flags = (uint8_t)flags;
        status = OTELC_ERR_NOT_FOUND;
        goto fail;
    }

    dash = memchr(s, '-', len);
    if (dash == NULL || !b3_trace_id(s, (size_t)(dash - s), ctx.trace_id))
        goto fail;
    i = (size_t)(dash - s) + 1;
    if (len - i < 2 * OTELC_SPAN_ID_SIZE || !decode_hex(s + i, ctx.span_id, OTELC_SPAN_ID_SIZE))
        goto fail;
    i += 2 * OTELC_SPAN_ID_SIZE;

    /* An absent sampling state means "defer": the receiver decides, so the
     * sampled flag stays clear and the local sampler has the last word. */
    if (i < len) {
        if (s[i] != '-' || len - i < 2)
            goto fail;
        flags = b3_sampling_state(s[i + 1]);
        if (flags < 0)
            goto fail;
        ctx.trace_flags = (uint8_t)flags;
        i += 2;
    }
    /* The parent span id is checked for form and not kept: the extracted
     * span id is already the parent of the spans started here. */
    if (i < len) {
        if (s[i] != '-' || len - i != 1 + 2 * OTELC_SPAN_ID_SIZE ||
            !decode_hex(s + i + 1, parent, OTELC_SPAN_ID_SIZE))
            goto fail;
    }
    if (!span_context_valid(&ctx))
        goto fail;

    ctx.is_remote = true;
    *out = ctx;
    status = OTELC_OK;

fail:
    return status;
}

size_t otelc_b3_format(const otelc_span_context_t *ctx, char *out, size_t size)
{
    size_t i = 0;

    if (!span_context_valid(ctx) || out == NULL || size < B3_FORMAT_LEN + 1)
        return 0;
    encode_hex(ctx->trace_id, OTELC_TRACE_ID_SIZE, out);
    i += 2 * OTELC_TRACE_ID_SIZE;
    out[i++] = '-';
    encode_hex(ctx->span_id, OTELC_SPAN_ID_SIZE, out + i);
    i += 2 * OTELC_SPAN_ID_SIZE;
    out[i++] = '-';
    out[i++] = (ctx->trace_flags & OTELC_TRACE_FLAG_SAMPLED) ? '1' : '0';
    out[i] = '\0';
    return i;
}

/* ---- baggage ------------------------------------------------------------- */

/* token characters (RFC 7230 section 3.2.6): the key of a member or property. */
static bool is_tchar(char c)
{
    if (is_lcalpha(c) || (c >= 'A' && c <= 'Z') || is_digit(c))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/*
 * baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E: printable
 * US-ASCII except space, '"', ',', ';' and '\'.
 */
static bool is_baggage_octet(char ch)
{
    unsigned char c = (unsigned char)ch;
    return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\';
}

/* Appends bytes to dst, keeping only what fits below `room`; counts them all. */
static void emit(char *dst, size_t room, size_t *w, const char *src, size_t n)
{
    if (*w < room) {
        size_t fit = room - *w < n ? room - *w : n;
        memcpy(dst + *w, src, fit);
    }
    *w += n;
}

/*
 * Validates one baggage list member (the text between two commas, already
 * trimmed of OWS) and writes its normalised form, "key=value" and
 * ";pkey=pvalue" or ";pkey" per property, at `dst`. Only what fits in `room`
 * bytes is written, but the full length is returned either way, so that the
 * caller can tell whether it fitted. Returns BAD_MEMBER for an invalid
 * member. `*key` and `*key_len` get the key (pointing into `s`).
 *
 * list-member = key OWS "=" OWS value *( OWS ";" OWS property )
 * property    = key OWS "=" OWS value / key OWS
 */
static size_t baggage_member(const char *s, size_t n, char *dst, size_t room, const char **key,
                             size_t *key_len)
{
    size_t i = 0, w = 0, start;

    while (i < n && is_tchar(s[i]))
        i++;
    if (i == 0)
        return BAD_MEMBER;
    *key = s;
    *key_len = i;
    emit(dst, room, &w, s, i);
    i = skip_ows(s, n, i);
    if (i == n || s[i] != '=')
        return BAD_MEMBER;
    emit(dst, room, &w, "=", 1);
    start = i = skip_ows(s, n, i + 1);
    while (i < n && is_baggage_octet(s[i]))
        i++;
    emit(dst, room, &w, s + start, i - start);

    for (;;) {
        i = skip_ows(s, n, i);
        if (i == n)
            break;
        if (s[i] != ';')
            return BAD_MEMBER;
        start = i = skip_ows(s, n, i + 1);
        while (i < n && is_tchar(s[i]))
            i++;
        if (i == start)
            return BAD_MEMBER;
        emit(dst, room, &w, ";", 1);
        emit(dst, room, &w, s + start, i - start);
        i = skip_ows(s, n, i);
        if (i < n && s[i] == '=') {
            start = i = skip_ows(s, n, i + 1);
            while (i < n && is_baggage_octet(s[i]))
                i++;
            emit(dst, room, &w, "=", 1);
            emit(dst, room, &w, s + start, i - start);
        }
    }
    return w;
}

/* Where one member sits in the output being built, for duplicate removal. */
typedef struct bag_entry {
    size_t at;  /* offset of the member in the output */
    size_t len; /* length of the member, without separators */
    size_t key_len;
} bag_entry_t;

/*
 * Reads the next non-empty member of s[0..len) starting at *i and writes it,
 * validated and normalised, at out + pos + sep (sep: 1 when a comma goes
 * before it), in at most *room bytes. Returns its length (more than *room
 * when it did not fit), BAD_MEMBER for a member to skip, or 0 at the end.
 * *key points at its key in the output.
 */
static size_t next_member(const char *s, size_t len, size_t *i, char *out, size_t pos, size_t limit,
                          size_t *sep, size_t *room, const char **key, size_t *key_len)
{
    while (*i < len) {
        size_t end = member_end(s, len, *i), raw_len = end - *i;
        const char *m = s + *i;

        *i = end + 1;
        trim_ows(&m, &raw_len);
        if (raw_len == 0)
            continue;
        *sep = pos > 0 ? 1 : 0;
        *room = limit > pos + *sep ? limit - pos - *sep : 0;
        *key = NULL;
        *key_len = 0;
        return baggage_member(m, raw_len, out + pos + *sep, *room, key, key_len);
    }
    return 0;
}

otelc_status_t otelc_baggage_parse(const char *s, size_t len, char *out, size_t size,
                                   size_t *out_len)
{
    bag_entry_t entries[OTELC_BAGGAGE_MEMBERS];
    size_t n_entries = 0, pos = 0, limit, i = 0;
    bool full = false;

    clear_string_out(out, size, out_len);
    if (out == NULL || size == 0 || (s == NULL && len > 0))
        goto fail;
    limit = size - 1 < OTELC_BAGGAGE_MAX ? size - 1 : OTELC_BAGGAGE_MAX;

    for (;;) {
        size_t sep, room, key_len;
        const char *key;
        size_t m_len = next_member(s, len, &i, out, pos, limit, &sep, &room, &key, &key_len);

        if (m_len == 0)
            break;
        /* The spec lets a receiver drop what it cannot parse; one bad member
         * must not cost the others. */
        if (m_len == BAD_MEMBER)
            continue;
        /* Keep the members that fit, in order, and stop at the first that
         * does not: the header is cut, not reshuffled. */
        if (m_len > room || n_entries == OTELC_BAGGAGE_MEMBERS) {
            full = true;
            break;
        }
        if (sep)
            out[pos] = ',';
        pos += sep;

        /* A key appears once in the output; like the OpenTelemetry SDKs, the
         * last occurrence wins. The earlier member is cut out, with the comma
         * that separates it from its neighbour. */
        for (size_t j = 0; j < n_entries; j++) {
            size_t cut_at, cut_len;

            if (entries[j].key_len != key_len || memcmp(out + entries[j].at, key, key_len) != 0)
                continue;
            cut_at = j == 0 ? 0 : entries[j].at - 1;
            cut_len = entries[j].len + 1;
            memmove(out + cut_at, out + cut_at + cut_len, pos + m_len - cut_at - cut_len);
            pos -= cut_len;
            for (size_t k = j + 1; k < n_entries; k++)
                entries[k].at -= cut_len;
            memmove(&entries[j], &entries[j + 1], (n_entries - j - 1) * sizeof(entries[0]));
            n_entries--;
            break;
        }
        entries[n_entries].at = pos;
        entries[n_entries].len = m_len;
        entries[n_entries].key_len = key_len;
        n_entries++;
        pos += m_len;
    }

    out[pos] = '\0';
    if (out_len != NULL)
        *out_len = pos;
    if (pos == 0)
        goto fail;
    return full ? OTELC_ERR_FULL : OTELC_OK;

fail:
    clear_string_out(out, size, out_len);
    return OTELC_ERR_INVALID;
}

/*
 * The next octet of s[0 .. n) from *i, percent-decoded when `decode` is set,
 * or -1 at the end. A '%' not followed by two hex digits is taken literally:
 * baggage from other implementations is not always encoded, and a lookup
 * should still return what was sent.
 */
static int next_octet(const char *s, size_t n, size_t *i, bool decode)
{
    unsigned char c;

    if (*i >= n)
        return -1;
    c = (unsigned char)s[*i];
    if (decode && c == '%' && n - *i >= 3 && any_hex_value(s[*i + 1]) >= 0 &&
        any_hex_value(s[*i + 2]) >= 0) {
        c = (unsigned char)(any_hex_value(s[*i + 1]) << 4 | any_hex_value(s[*i + 2]));
        *i += 3;
        return c;
    }
    (*i)++;
    return c;
}

/*
 * Reads the next character of the octets of s[0 .. n) from *i (see
 * next_octet()) into seq and returns its length in bytes, 0 at the end.
 *
 * W3C baggage: octets that do not match the UTF-8 encoding scheme are
 * replaced with U+FFFD. Which octets make one replacement follows Unicode's
 * recommended practice (section 3.9, "U+FFFD Substitution of Maximal
 * Subparts"), as the WHATWG and Python decoders do: a lead byte and the
 * continuation bytes that can still begin a well-formed sequence are one
 * ill-formed subsequence, replaced once; the octet that breaks it is read
 * again as the start of the next character. The ranges are those of table
 * 3-7, so overlong forms (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED
 * A0..BF) and code points past U+10FFFF (F4 90.., F5..FF) are ill-formed.
 * `*replaced` is set when a replacement was made.
 */
static size_t next_char(const char *s, size_t n, size_t *i, bool decode, unsigned char seq[4],
                        bool *replaced)
{
    int c = next_octet(s, n, i, decode);
    unsigned lo = 0x80, hi = 0xbf;
    size_t len;

    if (c < 0)
        return 0;
    seq[0] = (unsigned char)c;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        goto replace;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;

    for (size_t k = 1; k < len; k++) {
        size_t at = *i;
        int next = next_octet(s, n, &at, decode);

        if (next < 0 || (unsigned)next < lo || (unsigned)next > hi)
            goto replace;
        seq[k] = (unsigned char)next;
        *i = at;
        lo = 0x80;
        hi = 0xbf;
    }
    return len;

replace:
    seq[0] = 0xef;
    seq[1] = 0xbf;
    seq[2] = 0xbd;
    *replaced = true;
    return 3;
}

/*
 * Percent-decodes src into out and returns the full decoded length. What
 * fits in size - 1 bytes is written, whole characters only, and a NUL after
 * it, so that `out` is valid UTF-8 even when the value was cut.
 */
static size_t percent_decode(const char *src, size_t n, char *out, size_t size, bool *replaced)
{
    unsigned char seq[4];
    size_t w = 0, written = 0, i = 0, k;
    bool cut = false;

    while ((k = next_char(src, n, &i, true, seq, replaced)) > 0) {
        if (!cut && written + k < size) {
            memcpy(out + written, seq, k);
            written += k;
        } else {
            cut = true;
        }
        w += k;
    }
    if (size > 0)
        out[written] = '\0';
    return w;
}

long otelc_baggage_lookup(const char *header, size_t len, const char *name, char *out, size_t size)
{
    const char *value = NULL;
    size_t value_len = 0, name_len, i = 0, decoded;
    bool found = false, replaced = false;

    if (out != NULL && size > 0)
        out[0] = '\0';
    if (name == NULL || (header == NULL && len > 0) || (out == NULL && size > 0))
        return -1;
    name_len = strlen(name);

    /* Every member is looked at and the last match kept, the same rule that
     * otelc_baggage_parse() applies to duplicated keys. The scan tolerates
     * OWS so that a header that was not normalised still works. */
    while (i < len) {
        size_t end = member_end(header, len, i), k_len, v_len;
        const char *m = header + i, *eq, *semi;
        size_t m_len = end - i;

        i = end + 1;
        trim_ows(&m, &m_len);
        eq = m_len > 0 ? memchr(m, '=', m_len) : NULL;
        if (eq == NULL)
            continue;
        k_len = (size_t)(eq - m);
        while (k_len > 0 && IS_OWS(m[k_len - 1]))
            k_len--;
        if (k_len != name_len || memcmp(m, name, name_len) != 0)
            continue;
        eq++;
        v_len = m_len - (size_t)(eq - m);
        semi = memchr(eq, ';', v_len);
        if (semi != NULL)
            v_len = (size_t)(semi - eq);
        trim_ows(&eq, &v_len);
        value = eq;
        value_len = v_len;
        found = true;
    }
    if (!found)
        return -1;
    decoded = percent_decode(value, value_len, out, size, &replaced);
    if (replaced)
        otelc__diag(OTELC_DIAG_DEBUG, "baggage.utf8",
                    "baggage value of '%s' is not UTF-8 after percent-decoding; the ill-formed "
                    "bytes read as U+FFFD",
                    name);
    return (long)decoded;
}

/*
 * Writes "name=<value percent-encoded>" at dst (what fits in `room`) and
 * returns its full length. Bytes that are not baggage-octets are encoded, and
 * '%' too, so that decoding gives back exactly the value that was put. A
 * value that is not UTF-8 is written as a receiver would decode it (W3C:
 * each ill-formed part as U+FFFD, see next_char()), so that the header sent
 * is well-formed and every receiver reads the same value; `*replaced` tells.
 */
static size_t put_member(const char *name, size_t name_len, const char *value, char *dst,
                         size_t room, bool *replaced)
{
    static const char digits[] = "0123456789ABCDEF";
    unsigned char seq[4];
    size_t w = 0, value_len = strlen(value), i = 0, k;

    emit(dst, room, &w, name, name_len);
    emit(dst, room, &w, "=", 1);
    while ((k = next_char(value, value_len, &i, false, seq, replaced)) > 0) {
        if (k == 1 && is_baggage_octet((char)seq[0]) && seq[0] != '%') {
            emit(dst, room, &w, (const char *)seq, 1);
            continue;
        }
        for (size_t j = 0; j < k; j++) {
            char enc[3] = { '%', digits[seq[j] >> 4], digits[seq[j] & 0x0f] };
            emit(dst, room, &w, enc, sizeof(enc));
        }
    }
    return w;
}

otelc_status_t otelc_baggage_put(const char *header, size_t len, const char *name,
                                 const char *value, char *out, size_t size, size_t *out_len)
{
    otelc_status_t status = OTELC_ERR_INVALID;
    size_t name_len, limit, pos = 0, n_members = 0, i = 0;
    bool replaced = false, replaced_utf8 = false;

    clear_string_out(out, size, out_len);
    if (name == NULL || value == NULL || out == NULL || size == 0 || (header == NULL && len > 0))
        goto fail;
    name_len = strlen(name);
    if (name_len == 0)
        goto fail;
    for (size_t j = 0; j < name_len; j++)
        if (!is_tchar(name[j]))
            goto fail;
    status = OTELC_ERR_FULL;
    limit = size - 1 < OTELC_BAGGAGE_MAX ? size - 1 : OTELC_BAGGAGE_MAX;

    /* The existing members are copied through the same validation as
     * otelc_baggage_parse(); the entry named `name` is replaced where it
     * stands, so that the order of the header is kept. */
    for (;;) {
        size_t sep, room, key_len;
        const char *key;
        size_t m_len = next_member(header, len, &i, out, pos, limit, &sep, &room, &key, &key_len);

        if (m_len == 0)
            break;
        if (m_len == BAD_MEMBER)
            continue;
        if (key_len == name_len && memcmp(key, name, name_len) == 0) {
            if (replaced)
                continue;
            m_len = put_member(name, name_len, value, out + pos + sep, room, &replaced_utf8);
            replaced = true;
        }
        if (m_len > room || n_members == OTELC_BAGGAGE_MEMBERS)
            goto fail;
        if (sep)
            out[pos] = ',';
        pos += sep + m_len;
        n_members++;
    }
    if (!replaced) {
        size_t sep = pos > 0 ? 1 : 0, room = limit > pos + sep ? limit - pos - sep : 0;
        size_t m_len = put_member(name, name_len, value, out + pos + sep, room, &replaced_utf8);

        if (m_len > room || n_members == OTELC_BAGGAGE_MEMBERS)
            goto fail;
        if (sep)
            out[pos] = ',';
        pos += sep + m_len;
    }
    out[pos] = '\0';
    if (out_len != NULL)
        *out_len = pos;
    if (replaced_utf8)
        otelc__diag(OTELC_DIAG_WARN, "baggage.put_utf8",
                    "baggage value for '%s' is not valid UTF-8; its ill-formed bytes are sent as "
                    "U+FFFD",
                    name);
    return OTELC_OK;

fail:
    clear_string_out(out, size, out_len);
    return status;
}

/* ---- inject / extract ---------------------------------------------------- */

/* Copies pointer + length into a NUL-terminated buffer for a setter. */
static bool copy_string(char *dst, size_t size, const char *src, size_t len)
{
    if (src == NULL || len >= size)
        return false;
    memcpy(dst, src, len);
    dst[len] = '\0';
    return true;
}

static void inject_span(unsigned propagators, const otelc_span_context_t *span,
                        const char *tracestate, size_t tracestate_len, otelc_setter_fn set,
                        void *carrier)
{
    char buf[OTELC_TRACESTATE_MAX + 1];

    if (propagators & OTELC_PROPAGATOR_TRACECONTEXT) {
        if (otelc_traceparent_format(span, buf, sizeof(buf)) > 0)
            set(carrier, "traceparent", buf);
        if (tracestate_len > 0 && copy_string(buf, sizeof(buf), tracestate, tracestate_len))
            set(carrier, "tracestate", buf);
    }
    if (propagators & OTELC_PROPAGATOR_B3) {
        if (otelc_b3_format(span, buf, sizeof(buf)) > 0)
            set(carrier, "b3", buf);
    }
    if (propagators & OTELC_PROPAGATOR_B3MULTI) {
        encode_hex(span->trace_id, OTELC_TRACE_ID_SIZE, buf);
        buf[2 * OTELC_TRACE_ID_SIZE] = '\0';
        set(carrier, "x-b3-traceid", buf);
        encode_hex(span->span_id, OTELC_SPAN_ID_SIZE, buf);
        buf[2 * OTELC_SPAN_ID_SIZE] = '\0';
        set(carrier, "x-b3-spanid", buf);
        set(carrier, "x-b3-sampled", (span->trace_flags & OTELC_TRACE_FLAG_SAMPLED) ? "1" : "0");
    }
}

void otelc__propagation_inject(unsigned propagators, const otelc_span_context_t *span,
                               const char *tracestate, size_t tracestate_len, const char *baggage,
                               size_t baggage_len, otelc_setter_fn set, void *carrier)
{
    if (set == NULL)
        return;
    if (span_context_valid(span))
        inject_span(propagators, span, tracestate, tracestate_len, set, carrier);

    /* Baggage needs its own 8 KiB buffer to add the NUL the setter expects;
     * it is on the stack only for the duration of this call. */
    if ((propagators & OTELC_PROPAGATOR_BAGGAGE) && baggage_len > 0) {
        char buf[OTELC_BAGGAGE_MAX + 1];
        if (copy_string(buf, sizeof(buf), baggage, baggage_len))
            set(carrier, "baggage", buf);
    }
}

/* A header's value as pointer + length, or false when it is absent. */
static bool get_header(otelc_getter_fn get, void *carrier, const char *key, const char **value,
                       size_t *len)
{
    const char *v = get(carrier, key);

    if (v == NULL)
        return false;
    *value = v;
    *len = strlen(v);
    return true;
}

/*
 * The X-B3-* headers. TraceId and SpanId are required; Sampled is 1 or 0
 * ("true"/"false" from older tracers are accepted, as the B3 specification
 * allows a lenient reader); Flags 1 means debug, which implies sampled.
 */
static bool extract_b3multi(otelc_getter_fn get, void *carrier, otelc_span_context_t *out)
{
    otelc_span_context_t ctx;
    const char *v;
    size_t n;

    memset(&ctx, 0, sizeof(ctx));
    if (!get_header(get, carrier, "x-b3-traceid", &v, &n))
        return false;
    trim_ows(&v, &n);
    if (!b3_trace_id(v, n, ctx.trace_id))
        return false;
    if (!get_header(get, carrier, "x-b3-spanid", &v, &n))
        return false;
    trim_ows(&v, &n);
    if (n != 2 * OTELC_SPAN_ID_SIZE || !decode_hex(v, ctx.span_id, OTELC_SPAN_ID_SIZE))
        return false;
    if (get_header(get, carrier, "x-b3-sampled", &v, &n)) {
        trim_ows(&v, &n);
        if ((n == 1 && v[0] == '1') || (n == 4 && memcmp(v, "true", 4) == 0))
            ctx.trace_flags = OTELC_TRACE_FLAG_SAMPLED;
        else if (!((n == 1 && v[0] == '0') || (n == 5 && memcmp(v, "false", 5) == 0)))
            return false;
    }
    if (get_header(get, carrier, "x-b3-flags", &v, &n)) {
        trim_ows(&v, &n);
        if (n == 1 && v[0] == '1')
            ctx.trace_flags = OTELC_TRACE_FLAG_SAMPLED;
    }
    if (!span_context_valid(&ctx))
        return false;
    ctx.is_remote = true;
    *out = ctx;
    return true;
}

void otelc__propagation_extract(unsigned propagators, otelc_getter_fn get, void *carrier,
                                otelc__propagated_t *out)
{
    const char *v;
    size_t n;
    bool have_span = false;

    if (out == NULL)
        return;
    memset(&out->span, 0, sizeof(out->span));
    out->tracestate[0] = '\0';
    out->tracestate_len = 0;
    out->baggage[0] = '\0';
    out->baggage_len = 0;
    out->rejected = 0;
    if (get == NULL)
        return;

    if (propagators & OTELC_PROPAGATOR_TRACECONTEXT) {
        if (get_header(get, carrier, "traceparent", &v, &n)) {
            if (otelc_traceparent_parse(v, n, &out->span) == OTELC_OK)
                have_span = true;
            else
                out->rejected |= OTELC_PROPAGATOR_TRACECONTEXT;
        }
        /* tracestate means nothing without the traceparent it belongs to. */
        if (have_span && get_header(get, carrier, "tracestate", &v, &n)) {
            const char *problem = NULL;
            otelc_status_t status = tracestate_parse(v, n, out->tracestate, sizeof(out->tracestate),
                                                     &out->tracestate_len, &problem);
            if (problem != NULL) {
                out->rejected |= OTELC_PROPAGATOR_TRACECONTEXT;
                otelc__diag(OTELC_DIAG_DEBUG, "propagation.tracestate",
                            "incoming tracestate %s: %s",
                            status == OTELC_OK ? "kept in part" : "discarded", problem);
            }
        }
    }
    if (!have_span && (propagators & OTELC_PROPAGATOR_B3) &&
        get_header(get, carrier, "b3", &v, &n)) {
        otelc_status_t status = otelc_b3_parse(v, n, &out->span);
        if (status == OTELC_OK)
            have_span = true;
        else {
            /* A lone sampling state is valid B3 but gives no span context. */
            memset(&out->span, 0, sizeof(out->span));
            if (status != OTELC_ERR_NOT_FOUND)
                out->rejected |= OTELC_PROPAGATOR_B3;
        }
    }
    if (!have_span && (propagators & OTELC_PROPAGATOR_B3MULTI)) {
        const char *probe = get(carrier, "x-b3-traceid");
        if (extract_b3multi(get, carrier, &out->span))
            have_span = true;
        else if (probe != NULL)
            out->rejected |= OTELC_PROPAGATOR_B3MULTI;
    }

    if ((propagators & OTELC_PROPAGATOR_BAGGAGE) && get_header(get, carrier, "baggage", &v, &n)) {
        otelc_status_t status =
            otelc_baggage_parse(v, n, out->baggage, sizeof(out->baggage), &out->baggage_len);
        if (status != OTELC_OK)
            out->rejected |= OTELC_PROPAGATOR_BAGGAGE;
    }
}
