/*
 * propagation.c: the wire formats that carry a span context between
 * processes (W3C traceparent and tracestate, B3), and the inject/extract
 * glue that applies the configured propagators to a carrier. W3C baggage is
 * in baggage.c, the helpers both use in wire.h.
 *
 * Everything here works on caller-supplied buffers: no allocation, no global
 * state, so every function is thread-safe. Parsers take pointer + length and
 * index strictly below the length; input comes from the network and is never
 * trusted to be NUL-terminated or well-formed.
 */
#include "propagation_int.h"
#include "wire.h"

#include <string.h>

#include "diag.h"

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
