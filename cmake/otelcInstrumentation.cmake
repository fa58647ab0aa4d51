# otelc_instrumentation(NAME <name> SOURCES <files...> [DEPS <libraries...>]):
# the libraries of one folder instrumentation/<name>/, all alike:
#   otelc_<name>_shared  libotelc_<name>.so (otelc::<name>_shared once installed)
#   otelc_<name>_static  libotelc_<name>.a, linking the static core
#   otelc_<name>         what a program links (otelc::<name>): the shared
#                        library and the core
# built from SOURCES with the folder's include/ as the public headers and
# DEPS (its dependency: imported targets, or plain library names) linked
# publicly, since the public header may include the dependency's. Nothing
# in them registers itself at load that a program might not call, so no
# keep-linked feature is needed (instrumentation/auto's constructor runs
# whenever the compiler's hooks pull the library in). Installs the targets
# (otelc-<name>Targets.cmake), the component file otelc-component-<name>.cmake
# that find_package(otelc COMPONENTS <name>) includes, otelc-<name>.pc and the
# header include/otelc/<name>.h, all from the calling folder, and adds <name>
# to the global property OTELC_INSTRUMENTATION_BUILT (its tests/ are built then).
function(otelc_instrumentation)
  cmake_parse_arguments(I "" "NAME" "SOURCES;DEPS" ${ARGN})
  set(n ${I_NAME})
  add_library(otelc_${n}_obj OBJECT ${I_SOURCES})
  target_include_directories(otelc_${n}_obj
    PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} $<TARGET_PROPERTY:otelc,INTERFACE_INCLUDE_DIRECTORIES>)
  foreach(d ${I_DEPS})
    if(TARGET ${d})
      target_include_directories(otelc_${n}_obj SYSTEM PRIVATE
        $<TARGET_PROPERTY:${d},INTERFACE_INCLUDE_DIRECTORIES>)
    endif()
  endforeach()
  set_target_properties(otelc_${n}_obj PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_compile_definitions(otelc_${n}_obj PRIVATE _GNU_SOURCE)
  otelc_picky(otelc_${n}_obj)

  add_library(otelc_${n}_shared SHARED $<TARGET_OBJECTS:otelc_${n}_obj>)
  add_library(otelc_${n}_static STATIC $<TARGET_OBJECTS:otelc_${n}_obj>)
  add_library(otelc_${n} INTERFACE)
  foreach(t otelc_${n}_shared otelc_${n}_static otelc_${n})
    target_include_directories(${t} INTERFACE
      $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
      $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  endforeach()
  set_target_properties(otelc_${n}_shared PROPERTIES OUTPUT_NAME otelc_${n}
    VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR} EXPORT_NAME ${n}_shared)
  set_target_properties(otelc_${n}_static PROPERTIES OUTPUT_NAME otelc_${n} EXPORT_NAME ${n}_static)
  set_target_properties(otelc_${n} PROPERTIES EXPORT_NAME ${n})
  target_link_libraries(otelc_${n}_shared PUBLIC otelc ${I_DEPS})
  target_link_libraries(otelc_${n}_static PUBLIC otelc_static ${I_DEPS})
  target_link_libraries(otelc_${n} INTERFACE otelc_${n}_shared otelc)
  add_library(otelc::${n} ALIAS otelc_${n})
  add_library(otelc::${n}_static ALIAS otelc_${n}_static)

  install(TARGETS otelc_${n} otelc_${n}_shared otelc_${n}_static EXPORT otelc_${n}_targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT otelc_${n}_targets NAMESPACE otelc:: FILE otelc-${n}Targets.cmake
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/otelc)
  install(FILES otelc-component-${n}.cmake DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/otelc)
  install(FILES include/otelc/${n}.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/otelc)
  configure_file(otelc-${n}.pc.in ${CMAKE_CURRENT_BINARY_DIR}/otelc-${n}.pc @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/otelc-${n}.pc
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
  set_property(GLOBAL APPEND PROPERTY OTELC_INSTRUMENTATION_BUILT ${n})
endfunction()
