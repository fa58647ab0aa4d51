# Included by otelcConfig.cmake for find_package(otelc COMPONENTS curl): the
# libcurl helper's dependency, then its targets otelc::curl and
# otelc::curl_static.
include(CMakeFindDependencyMacro)
find_dependency(CURL)
include("${CMAKE_CURRENT_LIST_DIR}/otelc-curlTargets.cmake")
