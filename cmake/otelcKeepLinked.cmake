# The link feature OTELC_KEEP, for the libraries that register an exporter
# or a transport from a constructor: a program may call nothing in them, and
# a linker that defaults to --as-needed (Debian's, Ubuntu's) would drop them.
# A library linked as $<LINK_LIBRARY:OTELC_KEEP,lib> sits between
# --push-state,--no-as-needed and --pop-state. As a link feature CMake keeps
# the flags with each library: the plain flag strings used before were
# folded into one when a program linked two such libraries, which left the
# second outside the bracket.
#
# Included by otelc's own build and, installed, by otelcConfig.cmake, so
# that the exported targets carry the same feature into a user's project.
set(CMAKE_LINK_LIBRARY_USING_OTELC_KEEP
  "LINKER:--push-state,--no-as-needed" "<LINK_ITEM>" "LINKER:--pop-state")
set(CMAKE_LINK_LIBRARY_USING_OTELC_KEEP_SUPPORTED TRUE)

# otelc_keep_linked(INTERFACE_TARGET SHARED_TARGET): INTERFACE_TARGET links
# SHARED_TARGET with the feature, in the build tree and, under its export
# name in the otelc:: namespace, once installed (install(EXPORT) does not
# rename a target inside $<LINK_LIBRARY>).
function(otelc_keep_linked interface shared)
  get_target_property(exported ${shared} EXPORT_NAME)
  if(NOT exported)
    set(exported ${shared})
  endif()
  target_link_libraries(${interface} INTERFACE
    "$<BUILD_INTERFACE:$<LINK_LIBRARY:OTELC_KEEP,${shared}>>"
    "$<INSTALL_INTERFACE:$<LINK_LIBRARY:OTELC_KEEP,otelc::${exported}>>")
endfunction()
