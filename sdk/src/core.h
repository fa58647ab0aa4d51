/*
 * core.h: the SDK's internal headers in one, for modules that use most of
 * them: hot.h (clock, global configuration), tls.h (per-thread state),
 * scope.h (tracers and loggers), registry.h (the threads' rings) and the
 * pipeline's entry points (pipeline.h).
 */
#ifndef OTELC_CORE_H
#define OTELC_CORE_H

#include "hot.h"
#include "pipeline.h"
#include "registry.h"
#include "scope.h"
#include "tls.h"

#endif /* OTELC_CORE_H */
