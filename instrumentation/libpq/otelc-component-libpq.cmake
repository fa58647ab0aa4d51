# Included by otelcConfig.cmake for find_package(otelc COMPONENTS libpq):
# libpq, then the targets otelc::libpq, otelc::libpq_shared and
# otelc::libpq_static.
include(CMakeFindDependencyMacro)
find_dependency(PkgConfig)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
include("${CMAKE_CURRENT_LIST_DIR}/otelc-libpqTargets.cmake")
