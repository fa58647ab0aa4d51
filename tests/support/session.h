/*
 * session.h: ending a test's SDK session the same way everywhere: shut down,
 * clear what a failed test may have left open on the thread (it must not
 * become the parent of the next test's spans), free the captured records.
 */
#ifndef OTELC_TEST_SESSION_H
#define OTELC_TEST_SESSION_H

#include "capture_exporter.h"
#include "core.h"

CAP_FN void session_end(cap_exporter_t *c)
{
    (void)otelc_shutdown(5000);
    if (otelc__tls != NULL)
        otelc__frames_pop_to(otelc__tls, 1);
    cap_free(c);
}

#endif /* OTELC_TEST_SESSION_H */
