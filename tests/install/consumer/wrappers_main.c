/*
 * A program that uses the installed instrumentation libraries as a user
 * does: a traced libpq call (to no server: a NULL connection, which libpq
 * and the wrapper accept) and a traced libcurl request (to a port where
 * nothing listens). Each makes a CLIENT span, printed by the console
 * exporter; built with OTELC_CONSUMER_LIBPQ and/or OTELC_CONSUMER_CURL.
 */
#include <otelc/otelc.h>
#ifdef OTELC_CONSUMER_LIBPQ
#include <otelc/libpq.h>
#endif
#ifdef OTELC_CONSUMER_CURL
#include <otelc/curl.h>
#endif

#include <stdio.h>

int main(void)
{
    otelc_stats_t st;
    int want = 0;

    if (otelc_init(NULL) != OTELC_OK)
        return 1;
#ifdef OTELC_CONSUMER_LIBPQ
    PQclear(otelc_PQexec(NULL, "SELECT 1"));
    want++;
#endif
#ifdef OTELC_CONSUMER_CURL
    {
        CURL *easy = curl_easy_init();
        if (easy == NULL)
            return 2;
        (void)otelc_curl_perform(easy, "GET", "http://127.0.0.1:9/consumer", NULL);
        curl_easy_cleanup(easy);
        want++;
    }
#endif
    if (otelc_flush(5000) != OTELC_OK)
        return 3;
    otelc_stats(&st);
    (void)otelc_shutdown(5000);
    printf("consumer: spans exported=%llu\n", (unsigned long long)st.spans.exported);
    return st.spans.exported == (unsigned long long)want ? 0 : 4;
}
