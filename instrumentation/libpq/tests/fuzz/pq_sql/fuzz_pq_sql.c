/*
 * fuzz_pq_sql.c: the libpq wrappers' statement text functions on arbitrary
 * text (the input up to its first NUL): otelc_pq_sanitize() and
 * otelc_pq_summarize(), whose outputs become db.query.text and the span's
 * name.
 *
 * Invariants: both outputs NUL-terminated within the room, their returned
 * length their string's; no string literal survives (no single quote
 * outside a quoted identifier, which is kept as written: every '...' form,
 * terminated or not, becomes ?); the
 * summary is at most 255 bytes; a smaller buffer gives a prefix of the
 * whole sanitized text; sanitizing the sanitized text changes nothing.
 */
#include "fuzz_check.h"

#include <otelc/libpq.h>

#include <stdbool.h>

#include <stdlib.h>
#include <string.h>

/* No single quote outside the "..." quoted identifiers of `text`. */
static bool no_string_quote(const char *text)
{
    bool in_ident = false;

    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '"')
            in_ident = !in_ident; /* "" inside toggles twice */
        else if (*p == '\'' && !in_ident)
            return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *sql = malloc(size + 1), *out, *again, small[24], summary[300];
    size_t room = 2 * size + 16, n, k;

    if (sql == NULL)
        return 0;
    memcpy(sql, data, size);
    sql[size] = '\0';
    out = malloc(room);
    again = malloc(room);
    FUZZ_CHECK(out != NULL && again != NULL);
    n = otelc_pq_sanitize(sql, out, room);
    FUZZ_CHECK(n < room && strlen(out) == n);
    FUZZ_CHECK(no_string_quote(out));
    k = otelc_pq_sanitize(sql, small, sizeof(small));
    FUZZ_CHECK(k < sizeof(small) && strlen(small) == k);
    FUZZ_CHECK(strncmp(small, out, k) == 0);
    FUZZ_CHECK(otelc_pq_sanitize(out, again, room) == n && strcmp(out, again) == 0);
    k = otelc_pq_summarize(sql, summary, sizeof(summary));
    FUZZ_CHECK(k <= 255 && strlen(summary) == k);
    FUZZ_CHECK(no_string_quote(summary));
    free(again);
    free(out);
    free(sql);
    return 0;
}
