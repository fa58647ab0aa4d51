# Included by otelcConfig.cmake for find_package(otelc COMPONENTS otlp_http):
# the OTLP exporter (otelc::otlp) first, then this transport's dependency
# and its targets otelc::otlp_http and otelc::otlp_http_static.
include("${CMAKE_CURRENT_LIST_DIR}/otelc-component-otlp.cmake")
include(CMakeFindDependencyMacro)
find_dependency(CURL)
find_dependency(ZLIB)
include("${CMAKE_CURRENT_LIST_DIR}/otelc-otlp_httpTargets.cmake")
