# Included by otelcConfig.cmake for find_package(otelc COMPONENTS otlp), and
# by each transport's component: protobuf-c, then the targets otelc::otlp
# and otelc::otlp_static (which register the exporter "otlp"; a program
# also needs a transport: otlp_http or otlp_grpc). Loaded once.
if(NOT TARGET otelc::otlp)
  include(CMakeFindDependencyMacro)
  find_dependency(PkgConfig)
  pkg_check_modules(PROTOBUF_C REQUIRED IMPORTED_TARGET libprotobuf-c)
  include("${CMAKE_CURRENT_LIST_DIR}/otelc-otlpTargets.cmake")
endif()
