// cxx_headers.cpp: every public header of otelc, included from C++ as a C++
// service includes them (the build fails when one is not valid C++). The
// span and log macros build C compound literals and are for C code; the
// functions they call are C++-callable: this program links and runs (a
// declaration without its extern "C" would not link).
#include <otelc/otelc.h>
// The exporters' headers, of those built.
#if __has_include(<otelc/file.h>)
#include <otelc/file.h>
#endif
#if __has_include(<otelc/otlp.h>)
#include <otelc/otlp.h>
#endif
#if __has_include(<otelc/postgres.h>)
#include <otelc/postgres.h>
#endif

int main()
{
    otelc_options_t o;
    otelc_options_default(&o);
    o.traces_exporter = "none";
    o.logs_exporter = "none";
    if (otelc_init(&o) != OTELC_OK)
        return 1;
    int ran = 0;
    otelc_task_t t;
    otelc_task_init(&t, [](void *arg) { *static_cast<int *>(arg) = 1; }, &ran);
    otelc_task_run(&t);
    otelc_shutdown(1000);
    return ran == 1 ? 0 : 1;
}
