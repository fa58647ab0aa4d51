# otelc_component(NAME OBJECTS <sources or $<TARGET_OBJECTS:...>...>): the
# libraries of one component that registers itself when loaded (an exporter
# or a transport: file, otlp, otlp_http, otlp_grpc), all alike:
#   otelc_<NAME>_shared  libotelc_<NAME>.so (otelc::<NAME>_shared once installed)
#   otelc_<NAME>_static  libotelc_<NAME>.a, kept whole in a static link by
#                        --undefined=otelc_<NAME>_register
#   otelc_<NAME>         what a program links (otelc::<NAME>): the shared
#                        library with the link feature OTELC_KEEP
# and their installation: the targets in otelc-<NAME>Targets.cmake, the
# component file otelc-component-<NAME>.cmake that find_package(otelc
# COMPONENTS <NAME>) includes, and otelc-<NAME with - for _>.pc, both from
# the calling folder. The caller links the dependencies.
function(otelc_component)
  cmake_parse_arguments(C "" "NAME" "OBJECTS" ${ARGN})
  set(n ${C_NAME})
  string(REPLACE "_" "-" pc ${n})
  add_library(otelc_${n}_shared SHARED ${C_OBJECTS})
  add_library(otelc_${n}_static STATIC ${C_OBJECTS})
  add_library(otelc_${n} INTERFACE)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/include)
    foreach(t otelc_${n}_shared otelc_${n}_static otelc_${n})
      target_include_directories(${t} INTERFACE
        $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
        $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
    endforeach()
  endif()
  set_target_properties(otelc_${n}_shared PROPERTIES OUTPUT_NAME otelc_${n}
    VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR} EXPORT_NAME ${n}_shared)
  set_target_properties(otelc_${n}_static PROPERTIES OUTPUT_NAME otelc_${n}
    EXPORT_NAME ${n}_static)
  set_target_properties(otelc_${n} PROPERTIES EXPORT_NAME ${n})
  target_link_options(otelc_${n}_static INTERFACE "LINKER:--undefined=otelc_${n}_register")
  otelc_keep_linked(otelc_${n} otelc_${n}_shared)
  add_library(otelc::${n} ALIAS otelc_${n})
  add_library(otelc::${n}_static ALIAS otelc_${n}_static)
  # The project's tests and tools link every component built, statically.
  set_property(GLOBAL APPEND PROPERTY OTELC_EXPORTER_STATIC_LIBS otelc_${n}_static)

  install(TARGETS otelc_${n} otelc_${n}_shared otelc_${n}_static EXPORT otelc_${n}_targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT otelc_${n}_targets NAMESPACE otelc:: FILE otelc-${n}Targets.cmake
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/otelc)
  install(FILES otelc-component-${n}.cmake DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/otelc)
  configure_file(otelc-${pc}.pc.in ${CMAKE_CURRENT_BINARY_DIR}/otelc-${pc}.pc @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/otelc-${pc}.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endfunction()
