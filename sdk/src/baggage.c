/*
 * baggage.c: the W3C baggage header: parsing and normalising it, looking a
 * member up, adding or replacing one (otelc/propagation.h). Like the other
 * wire formats: caller-supplied buffers, no allocation, no global state;
 * input from the network is never trusted to be NUL-terminated or
 * well-formed.
 */
#include "propagation_int.h"
#include "wire.h"

#include <string.h>

#include "diag.h"

/* Returned by baggage_member() for a list member that is not valid. */
#define BAD_MEMBER ((size_t)-1)

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
