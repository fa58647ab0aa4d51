/*
 * sql_text.c: PostgreSQL statement text read for telemetry: the text with
 * its literals replaced by `?` (db.query.text) and the summary of its
 * operations and targets (db.query.summary, the span's name).
 *
 * Both walk the same lexer, which knows as much of PostgreSQL's lexical
 * structure as telling a literal from an identifier needs: standard strings
 * with '' escapes, escape strings E'..' (backslashes), the prefixed forms
 * B'..', X'..', N'..' and U&'..', dollar quotes $$..$$ and $tag$..$tag$,
 * quoted identifiers "..", positional parameters $1, numbers (decimal,
 * exponent, 0x/0o/0b, underscores), line comments and nested block
 * comments. It never fails: text it does not understand is copied as it
 * is, an unterminated literal runs to the end (and is replaced as a whole),
 * and nothing is allocated.
 */
#include "sql_text.h"

#include <otelc/libpq.h>

#include <string.h>

typedef enum tok_kind {
    TOK_END = 0,
    TOK_SPACE,
    TOK_COMMENT,
    TOK_STRING, /* '..', E'..', B'..', X'..', N'..', U&'..', $$..$$ */
    TOK_QIDENT, /* "..", U&".." */
    TOK_NUMBER,
    TOK_PARAM, /* $1 */
    TOK_WORD,  /* keyword or identifier */
    TOK_PUNCT, /* one character */
} tok_kind_t;

typedef struct tok {
    tok_kind_t kind;
    size_t start, len;
} tok_t;

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Identifier characters as PostgreSQL reads them: letters, '_', and every
 * byte of a multibyte character; digits and '$' after the first. */
static bool is_ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool is_ident_char(unsigned char c)
{
    return is_ident_start(c) || is_digit(c) || c == '$';
}

/* The end of a quoted run that starts after the opening `quote` at `i`: a
 * doubled quote is part of it, and with `backslash` a backslash escapes the
 * next byte. Unterminated: the end of the text, and *closed false. */
static size_t skip_quoted(const char *s, size_t n, size_t i, char quote, bool backslash,
                          bool *closed)
{
    *closed = true;
    while (i < n) {
        if (backslash && s[i] == '\\' && i + 1 < n) {
            i += 2;
        } else if (s[i] == quote) {
            if (i + 1 < n && s[i + 1] == quote)
                i += 2;
            else
                return i + 1;
        } else {
            i++;
        }
    }
    *closed = false;
    return n;
}

/* A dollar quote's opening delimiter at `i` ('$', an optional tag, '$'): its
 * length, or 0 when there is none. */
static size_t dollar_delimiter(const char *s, size_t n, size_t i)
{
    size_t j = i + 1;

    if (j < n && is_ident_start((unsigned char)s[j])) {
        while (j < n && is_ident_char((unsigned char)s[j]) && s[j] != '$')
            j++;
    }
    return j < n && s[j] == '$' ? j + 1 - i : 0;
}

/* The letters that make a string of the next quote: E'..', B'..', X'..', N'..'. */
static bool is_string_prefix(unsigned char c)
{
    const unsigned char lower = (unsigned char)(c | 0x20);

    return lower == 'e' || lower == 'b' || lower == 'x' || lower == 'n';
}

static size_t skip_number(const char *s, size_t n, size_t i)
{
    const char radix = s[i] == '0' && i + 1 < n ? (char)(s[i + 1] | 0x20) : '\0';

    if (radix == 'x' || radix == 'o' || radix == 'b') {
        i += 2;
    } else {
        while (i < n && (is_digit((unsigned char)s[i]) || s[i] == '_'))
            i++;
        if (i < n && s[i] == '.' && !(i + 1 < n && s[i + 1] == '.')) {
            i++;
            while (i < n && (is_digit((unsigned char)s[i]) || s[i] == '_'))
                i++;
        }
        if (i < n && (s[i] == 'e' || s[i] == 'E')) {
            size_t j = i + 1;

            if (j < n && (s[j] == '+' || s[j] == '-'))
                j++;
            if (j < n && is_digit((unsigned char)s[j]))
                i = j;
        }
    }
    /* Digits, or letters run on (123abc, the hex digits of 0x1F): one token,
     * so that no part of a number is left to look like an identifier. */
    while (i < n && (is_ident_char((unsigned char)s[i]) && s[i] != '$'))
        i++;
    return i;
}

static tok_t next_token(const char *s, size_t n, size_t i)
{
    tok_t t = { TOK_END, i, 0 };
    size_t j = i;
    unsigned char c;
    bool closed;

    if (i >= n)
        return t;
    c = (unsigned char)s[i];
    if (is_space(c)) {
        while (j < n && is_space((unsigned char)s[j]))
            j++;
        t.kind = TOK_SPACE;
    } else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
        while (j < n && s[j] != '\n')
            j++;
        t.kind = TOK_COMMENT;
    } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
        unsigned depth = 1;

        for (j = i + 2; j < n && depth > 0;) {
            if (s[j] == '/' && j + 1 < n && s[j + 1] == '*') {
                depth++;
                j += 2;
            } else if (s[j] == '*' && j + 1 < n && s[j + 1] == '/') {
                depth--;
                j += 2;
            } else {
                j++;
            }
        }
        t.kind = TOK_COMMENT;
    } else if (c == '\'') {
        j = skip_quoted(s, n, i + 1, '\'', false, &closed);
        t.kind = TOK_STRING;
    } else if (c == '"') {
        /* A quoted identifier left open takes the rest of the text, literals
         * included: replaced as a string is, not kept. */
        j = skip_quoted(s, n, i + 1, '"', false, &closed);
        t.kind = closed ? TOK_QIDENT : TOK_STRING;
    } else if (c == '$' && i + 1 < n && is_digit((unsigned char)s[i + 1])) {
        for (j = i + 1; j < n && is_digit((unsigned char)s[j]);)
            j++;
        t.kind = TOK_PARAM;
    } else if (c == '$' && dollar_delimiter(s, n, i) > 0) {
        const size_t dl = dollar_delimiter(s, n, i);

        j = n;
        for (size_t k = i + dl; k + dl <= n; k++) {
            if (s[k] == '$' && memcmp(s + k, s + i, dl) == 0) {
                j = k + dl;
                break;
            }
        }
        t.kind = TOK_STRING;
    } else if (is_digit(c) || (c == '.' && i + 1 < n && is_digit((unsigned char)s[i + 1]))) {
        j = skip_number(s, n, i);
        t.kind = TOK_NUMBER;
    } else if ((c == 'U' || c == 'u') && i + 2 < n && s[i + 1] == '&' &&
               (s[i + 2] == '\'' || s[i + 2] == '"')) {
        j = skip_quoted(s, n, i + 3, s[i + 2], false, &closed);
        t.kind = s[i + 2] == '\'' || !closed ? TOK_STRING : TOK_QIDENT;
    } else if (is_string_prefix(c) && i + 1 < n && s[i + 1] == '\'') {
        j = skip_quoted(s, n, i + 2, '\'', c == 'E' || c == 'e', &closed);
        t.kind = TOK_STRING;
    } else if (is_ident_start(c)) {
        while (j < n && is_ident_char((unsigned char)s[j]))
            j++;
        t.kind = TOK_WORD;
    } else {
        j = i + 1;
        t.kind = TOK_PUNCT;
    }
    t.len = j - i;
    return t;
}

/* `len` bytes at `s` spell `word` (upper case), in any case. */
static bool word_is(const char *s, size_t len, const char *word)
{
    size_t i;

    for (i = 0; i < len && word[i] != '\0'; i++) {
        char c = s[i];

        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c != word[i])
            return false;
    }
    return i == len && word[i] == '\0';
}

/* What a keyword is to the two readings; a word may be several. */
enum {
    KW_SIGN = 1u,         /* a '-' after it before a number is a sign */
    KW_OPERATION = 2u,    /* an operation wherever it appears (subqueries, CTEs) */
    KW_RESERVED = 4u,     /* ends a FROM list; cannot be a table's alias */
    KW_TARGET_NOISE = 8u, /* between an operation and its target */
    KW_DDL_NOISE = 16u,   /* between CREATE / ALTER / DROP and the kind of object */
};

typedef struct keyword {
    const char *word; /* upper case */
    unsigned classes;
} keyword_t;

/* Sorted by word (strcmp), for the binary search of keyword_classes(). */
static const keyword_t keywords[] = {
    { "ALL", KW_SIGN },
    { "AND", KW_SIGN | KW_RESERVED },
    { "ANY", KW_SIGN },
    { "ARRAY", KW_SIGN },
    { "AS", KW_SIGN },
    { "BETWEEN", KW_SIGN },
    { "BY", KW_SIGN },
    { "CASE", KW_SIGN },
    { "CROSS", KW_RESERVED },
    { "DEFAULT", KW_RESERVED },
    { "DELETE", KW_OPERATION | KW_RESERVED },
    { "DO", KW_RESERVED },
    { "ELSE", KW_SIGN | KW_RESERVED },
    { "END", KW_RESERVED },
    { "EXCEPT", KW_RESERVED },
    { "EXISTS", KW_TARGET_NOISE },
    { "FETCH", KW_RESERVED },
    { "FOR", KW_RESERVED },
    { "FROM", KW_RESERVED },
    { "FULL", KW_RESERVED },
    { "GLOBAL", KW_DDL_NOISE },
    { "GROUP", KW_RESERVED },
    { "HAVING", KW_SIGN | KW_RESERVED },
    { "IF", KW_TARGET_NOISE },
    { "ILIKE", KW_SIGN },
    { "IN", KW_SIGN | KW_RESERVED },
    { "INNER", KW_RESERVED },
    { "INSERT", KW_OPERATION | KW_RESERVED },
    { "INTERSECT", KW_RESERVED },
    { "INTERVAL", KW_SIGN },
    { "INTO", KW_RESERVED },
    { "IS", KW_SIGN | KW_RESERVED },
    { "JOIN", KW_RESERVED },
    { "LATERAL", KW_RESERVED },
    { "LEFT", KW_RESERVED },
    { "LIKE", KW_SIGN },
    { "LIMIT", KW_SIGN | KW_RESERVED },
    { "LOCAL", KW_DDL_NOISE },
    { "MATERIALIZED", KW_DDL_NOISE },
    { "MERGE", KW_OPERATION | KW_RESERVED },
    { "NATURAL", KW_RESERVED },
    { "NOT", KW_SIGN | KW_RESERVED | KW_TARGET_NOISE },
    { "OFFSET", KW_SIGN | KW_RESERVED },
    { "ON", KW_SIGN | KW_RESERVED },
    { "ONLY", KW_RESERVED | KW_TARGET_NOISE },
    { "OR", KW_SIGN | KW_RESERVED | KW_DDL_NOISE },
    { "ORDER", KW_RESERVED },
    { "OUTER", KW_RESERVED },
    { "OVERRIDING", KW_RESERVED },
    { "RECURSIVE", KW_DDL_NOISE },
    { "REPLACE", KW_DDL_NOISE },
    { "RETURN", KW_SIGN },
    { "RETURNING", KW_RESERVED },
    { "RIGHT", KW_RESERVED },
    { "SELECT", KW_SIGN | KW_OPERATION | KW_RESERVED },
    { "SET", KW_SIGN | KW_RESERVED },
    { "TABLE", KW_TARGET_NOISE },
    { "TABLESAMPLE", KW_RESERVED },
    { "TEMP", KW_DDL_NOISE },
    { "TEMPORARY", KW_DDL_NOISE },
    { "THEN", KW_SIGN | KW_RESERVED },
    { "TO", KW_RESERVED },
    { "UNION", KW_RESERVED },
    { "UNIQUE", KW_DDL_NOISE },
    { "UNLOGGED", KW_DDL_NOISE },
    { "UPDATE", KW_OPERATION | KW_RESERVED },
    { "USING", KW_RESERVED },
    { "VALUES", KW_SIGN | KW_RESERVED },
    { "WHEN", KW_SIGN | KW_RESERVED },
    { "WHERE", KW_SIGN | KW_RESERVED },
    { "WINDOW", KW_RESERVED },
    { "WITH", KW_RESERVED },
};

/* The KW_* classes of a word (any case); 0 for a word that is none. */
static unsigned keyword_classes(const char *s, size_t len)
{
    char up[16];
    size_t lo = 0, hi = sizeof(keywords) / sizeof(keywords[0]);

    if (len < 2 || len >= sizeof(up))
        return 0;
    for (size_t i = 0; i < len; i++)
        up[i] = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 'a' + 'A') : s[i];
    up[len] = '\0';
    while (lo < hi) {
        const size_t mid = (lo + hi) / 2;
        const char *k = keywords[mid].word;
        size_t j = 0;
        int c;

        /* strcmp, inline: the words are short, the call was half the cost. */
        while (j < len && up[j] == k[j])
            j++;
        c = (unsigned char)up[j] - (unsigned char)k[j];

        if (c == 0)
            return keywords[mid].classes;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

/* ---- db.query.text ------------------------------------------------------------------ */

typedef struct out_buf {
    char *p;
    size_t size, len; /* len: bytes written; at most size - 1 */
    bool full;
} out_buf_t;

/* Appends `n` bytes, or what fits of them without cutting a UTF-8 sequence. */
static void put(out_buf_t *o, const char *s, size_t n)
{
    if (o->full || o->size == 0)
        return;
    if (n > o->size - 1 - o->len) {
        n = o->size - 1 - o->len;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        o->full = true;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

size_t otelc_pq_sanitize(const char *sql, char *out, size_t size)
{
    out_buf_t o = { out, size, 0, false };
    size_t n, i = 0;
    tok_kind_t prev = TOK_END; /* the last token that was not space or comment */
    tok_t prev_tok = { TOK_END, 0, 0 };
    bool after_comment = false;

    if (size > 0)
        out[0] = '\0';
    if (sql == NULL)
        return 0;
    n = strlen(sql);
    while (i < n && !o.full) {
        tok_t t = next_token(sql, n, i);

        switch (t.kind) {
        case TOK_SPACE:
            /* "t <comment> WHERE" gives "t WHERE", not two spaces. */
            if (!(after_comment && (o.len == 0 || is_space((unsigned char)out[o.len - 1]))))
                put(&o, sql + t.start, t.len);
            break;
        case TOK_COMMENT:
            /* Comments may hold anything (values, names, a traceparent):
             * left out, with a space where one is needed. */
            if (o.len > 0 && !is_space((unsigned char)out[o.len - 1]))
                put(&o, " ", 1);
            break;
        case TOK_STRING:
        case TOK_NUMBER:
            put(&o, "?", 1);
            break;
        case TOK_WORD:
            if (word_is(sql + t.start, t.len, "TRUE") || word_is(sql + t.start, t.len, "FALSE"))
                put(&o, "?", 1);
            else
                put(&o, sql + t.start, t.len);
            break;
        case TOK_PUNCT: {
            /* A sign before a number belongs to the literal: "= -5" gives
             * "= ?". After an operand, '-' subtracts and stays. */
            const size_t k = t.start + 1;
            const bool before_number =
                sql[t.start] == '-' && k < n &&
                (is_digit((unsigned char)sql[k]) ||
                 (sql[k] == '.' && k + 1 < n && is_digit((unsigned char)sql[k + 1])));
            bool sign = false;

            if (before_number) {
                const bool after_operand =
                    prev == TOK_NUMBER || prev == TOK_STRING || prev == TOK_QIDENT ||
                    prev == TOK_PARAM ||
                    (prev == TOK_PUNCT &&
                     (sql[prev_tok.start] == ')' || sql[prev_tok.start] == ']')) ||
                    (prev == TOK_WORD &&
                     !(keyword_classes(sql + prev_tok.start, prev_tok.len) & KW_SIGN));
                sign = !after_operand;
            }
            if (!sign)
                put(&o, sql + t.start, t.len);
            break;
        }
        default:
            put(&o, sql + t.start, t.len);
            break;
        }
        if (t.kind != TOK_SPACE && t.kind != TOK_COMMENT) {
            prev = t.kind;
            prev_tok = t;
        }
        if (t.kind != TOK_SPACE)
            after_comment = t.kind == TOK_COMMENT;
        i = t.start + t.len;
    }
    return o.len;
}

bool otelc__pq_has_placeholder(const char *sql)
{
    size_t n, i = 0;

    if (sql == NULL)
        return false;
    n = strlen(sql);
    while (i < n) {
        tok_t t = next_token(sql, n, i);

        if (t.kind == TOK_PARAM)
            return true;
        i = t.start + t.len;
    }
    return false;
}

/* ---- db.query.summary --------------------------------------------------------------- */

#define SUMMARY_MAX 255u
#define MAX_NESTING 32u

typedef enum expect {
    EXPECT_NONE = 0,
    EXPECT_ONE,  /* a target: after INTO, UPDATE, COPY, TABLE, CALL */
    EXPECT_LIST, /* targets with aliases, comma-separated: after FROM, JOIN */
} expect_t;

typedef struct summary {
    out_buf_t o;
    size_t limit; /* SUMMARY_MAX, or less when the buffer is smaller */
} summary_t;

/* Adds one operation or target, or nothing more once one does not fit
 * whole: the summary is never cut inside a name. */
static void emit(summary_t *sm, const char *s, size_t n)
{
    const size_t need = n + (sm->o.len > 0 ? 1 : 0);

    if (sm->o.full || sm->o.len + need > sm->limit) {
        sm->o.full = true;
        return;
    }
    if (sm->o.len > 0)
        put(&sm->o, " ", 1);
    put(&sm->o, s, n);
}

/* The next token at or after `i` that is neither space nor a comment. */
static tok_t next_significant(const char *s, size_t n, size_t i)
{
    tok_t t;

    do {
        t = next_token(s, n, i);
        i = t.start + t.len;
    } while (t.kind == TOK_SPACE || t.kind == TOK_COMMENT);
    return t;
}

size_t otelc_pq_summarize(const char *sql, char *out, size_t size)
{
    summary_t sm = { { out, size, 0, false },
                     size > 0 && size - 1 < SUMMARY_MAX ? size - 1 : SUMMARY_MAX };
    size_t n, i = 0, depth = 0, n_ops = 0;
    size_t op_depth[MAX_NESTING];
    bool op_has_from[MAX_NESTING]; /* SELECT, DELETE: FROM names targets */
    bool at_start = true, ddl = false, alias_next = false, after_list_target = false;
    bool copy_statement = false;
    expect_t expect = EXPECT_NONE, after_target = EXPECT_NONE;

    if (size > 0)
        out[0] = '\0';
    if (sql == NULL)
        return 0;
    n = strlen(sql);
    while (i < n) {
        tok_t t = next_significant(sql, n, i);
        const char *w = sql + t.start;

        unsigned kc;

        if (t.kind == TOK_END)
            break;
        i = t.start + t.len;
        kc = t.kind == TOK_WORD ? keyword_classes(w, t.len) : 0;

        if (t.kind == TOK_PUNCT && w[0] == ';') {
            at_start = true;
            ddl = alias_next = after_list_target = copy_statement = false;
            expect = after_target = EXPECT_NONE;
            depth = n_ops = 0;
            continue;
        }
        if (t.kind == TOK_PUNCT && w[0] == '(') {
            depth++;
            expect = EXPECT_NONE;
            after_list_target = false;
            continue;
        }
        if (t.kind == TOK_PUNCT && w[0] == ')') {
            if (depth > 0)
                depth--;
            while (n_ops > 0 && op_depth[n_ops - 1] > depth)
                n_ops--;
            after_list_target = false;
            continue;
        }
        if (t.kind == TOK_PUNCT && w[0] == ',' && after_list_target) {
            after_list_target = false;
            expect = EXPECT_LIST;
            continue;
        }

        if (t.kind == TOK_WORD && at_start) {
            at_start = false;
            /* WITH names CTEs, not an operation: the SELECTs inside and
             * after it are the operations. */
            if (word_is(w, t.len, "WITH"))
                continue;
            emit(&sm, w, t.len);
            if ((kc & KW_OPERATION) && n_ops < MAX_NESTING) {
                op_depth[n_ops] = depth;
                op_has_from[n_ops++] = word_is(w, t.len, "SELECT") || word_is(w, t.len, "DELETE");
            }
            if (word_is(w, t.len, "COPY"))
                copy_statement = true;
            if (word_is(w, t.len, "CREATE") || word_is(w, t.len, "ALTER") ||
                word_is(w, t.len, "DROP"))
                ddl = true;
            else if (word_is(w, t.len, "UPDATE") || word_is(w, t.len, "COPY") ||
                     word_is(w, t.len, "TRUNCATE") || word_is(w, t.len, "CALL") ||
                     word_is(w, t.len, "LOCK"))
                expect = EXPECT_ONE;
            continue;
        }
        if (t.kind == TOK_WORD && ddl) {
            if (kc & KW_DDL_NOISE)
                continue;
            ddl = false;
            emit(&sm, w, t.len); /* TABLE, INDEX, VIEW, ... */
            expect = EXPECT_ONE;
            continue;
        }
        if ((t.kind == TOK_WORD || t.kind == TOK_QIDENT) && expect != EXPECT_NONE) {
            if (kc & KW_TARGET_NOISE)
                continue;
            if (t.kind == TOK_QIDENT || !(kc & KW_RESERVED)) {
                /* A qualified name, schema.table or "a"."b", as written. */
                size_t end = t.start + t.len;

                for (;;) {
                    tok_t dot = next_token(sql, n, end), part;

                    if (dot.kind != TOK_PUNCT || sql[dot.start] != '.')
                        break;
                    part = next_token(sql, n, dot.start + 1);
                    if (part.kind != TOK_WORD && part.kind != TOK_QIDENT)
                        break;
                    end = part.start + part.len;
                }
                emit(&sm, w, end - t.start);
                i = end;
                after_target = expect;
                after_list_target = expect == EXPECT_LIST;
                alias_next = false;
                expect = EXPECT_NONE;
                continue;
            }
            expect = EXPECT_NONE;
        }
        if (after_list_target && (t.kind == TOK_WORD || t.kind == TOK_QIDENT)) {
            /* "orders o", "orders AS o": the alias, once. */
            if (t.kind == TOK_WORD && word_is(w, t.len, "AS") && !alias_next) {
                alias_next = true;
                continue;
            }
            if (t.kind == TOK_QIDENT || !(kc & KW_RESERVED)) {
                if (alias_next || after_target == EXPECT_LIST) {
                    alias_next = false;
                    after_target = EXPECT_NONE;
                    continue;
                }
            }
        }
        after_list_target = false;
        alias_next = false;
        if (t.kind != TOK_WORD)
            continue;
        if (kc & KW_OPERATION) {
            emit(&sm, w, t.len);
            if (n_ops < MAX_NESTING) {
                op_depth[n_ops] = depth;
                op_has_from[n_ops++] = word_is(w, t.len, "SELECT") || word_is(w, t.len, "DELETE");
            }
            if (word_is(w, t.len, "UPDATE"))
                expect = EXPECT_ONE;
        } else if (word_is(w, t.len, "FROM") || word_is(w, t.len, "JOIN")) {
            /* FROM of a SELECT or DELETE at its own level: not the FROM of
             * COPY ... FROM STDIN, nor of EXTRACT(YEAR FROM ts). */
            const bool of_query = n_ops > 0 && op_depth[n_ops - 1] == depth &&
                                  op_has_from[n_ops - 1] && !(copy_statement && depth == 0);

            if (of_query)
                expect = EXPECT_LIST;
        } else if (word_is(w, t.len, "INTO")) {
            if (!(copy_statement && depth == 0))
                expect = EXPECT_ONE;
        }
    }
    return sm.o.len;
}
