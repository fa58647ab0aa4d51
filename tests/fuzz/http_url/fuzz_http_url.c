/*
 * fuzz_http_url.c: otelc_http_url_redact() on arbitrary text (the input up
 * to its first NUL), and otelc_http_method_known().
 *
 * Invariants: the returned length is the whole redacted URL; with room it
 * is written whole and NUL-terminated, and with less room the output is its
 * prefix, cut to the room, still NUL-terminated; redacting the redacted URL
 * changes nothing (credentials and signed query values stay REDACTED, the
 * rest is kept); a method is one of the nine or "_OTHER".
 */
#include "fuzz_check.h"

#include <otelc/http.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = malloc(size + 1), *out, *again, small[17];
    size_t n, m, k;
    const char *method;

    if (url == NULL)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    n = otelc_http_url_redact(url, NULL, 0);
    out = malloc(n + 1);
    again = malloc(n + 1);
    FUZZ_CHECK(out != NULL && again != NULL);
    m = otelc_http_url_redact(url, out, n + 1);
    FUZZ_CHECK(m == n && strlen(out) == n);
    /* A small buffer: a prefix of the whole, NUL-terminated. */
    k = otelc_http_url_redact(url, small, sizeof(small));
    FUZZ_CHECK(k == n);
    FUZZ_CHECK(strlen(small) == (n < sizeof(small) ? n : sizeof(small) - 1));
    FUZZ_CHECK(strncmp(small, out, strlen(small)) == 0);
    /* Redaction is a fixed point. */
    FUZZ_CHECK(otelc_http_url_redact(out, again, n + 1) == n);
    FUZZ_CHECK(strcmp(out, again) == 0);
    method = otelc_http_method_known(url);
    FUZZ_CHECK(method != NULL);
    FUZZ_CHECK(strcmp(method, "_OTHER") == 0 || strcmp(method, url) == 0);
    free(again);
    free(out);
    free(url);
    return 0;
}
