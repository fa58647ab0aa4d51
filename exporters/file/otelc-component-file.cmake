# Included by otelcConfig.cmake for find_package(otelc COMPONENTS file):
# the file exporter's dependency, then its targets otelc::file and
# otelc::file_static.
include(CMakeFindDependencyMacro)
find_dependency(ZLIB)
include("${CMAKE_CURRENT_LIST_DIR}/otelc-fileTargets.cmake")
