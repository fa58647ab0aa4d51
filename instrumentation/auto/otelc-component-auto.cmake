# Included by otelcConfig.cmake for find_package(otelc COMPONENTS auto): the
# targets otelc::auto and otelc::auto_static (no dependency but the core).
include("${CMAKE_CURRENT_LIST_DIR}/otelc-autoTargets.cmake")
