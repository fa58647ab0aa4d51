# Included by otelcConfig.cmake for find_package(otelc COMPONENTS otlp_grpc):
# the OTLP exporter (otelc::otlp) first, then this transport's dependency
# and its targets otelc::otlp_grpc and otelc::otlp_grpc_static.
include("${CMAKE_CURRENT_LIST_DIR}/otelc-component-otlp.cmake")
include(CMakeFindDependencyMacro)
find_dependency(Threads)
find_dependency(PkgConfig)
pkg_check_modules(GRPC REQUIRED IMPORTED_TARGET grpc)
include("${CMAKE_CURRENT_LIST_DIR}/otelc-otlp_grpcTargets.cmake")
