# Included by otelcConfig.cmake for find_package(otelc COMPONENTS postgres):
# libpq, then the targets otelc::postgres and otelc::postgres_static.
include(CMakeFindDependencyMacro)
find_dependency(PkgConfig)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
include("${CMAKE_CURRENT_LIST_DIR}/otelc-postgresTargets.cmake")
