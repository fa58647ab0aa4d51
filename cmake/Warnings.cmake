# otelc's own code is compiled with these warnings (after curl's
# PickyWarnings.cmake). Generated code gets its own targets with relaxed flags.
#
# OTELC_WERROR turns them into errors. It is off by default: a user's newer
# compiler may warn where ours did not (gcc 12's -Wformat-truncation is one),
# and that must not stop a build of a release. The project's own test
# command (scripts/test.sh, which CI runs) turns it on for every build, so
# that no warning gets into the tree.
option(OTELC_WERROR "Treat compiler warnings on otelc's own code as errors" OFF)

set(OTELC_WARNINGS
    -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wformat=2 -Wpointer-arith -Wcast-qual -Wundef -Wvla -Wno-missing-field-initializers)
if(OTELC_WERROR)
  list(APPEND OTELC_WARNINGS -Werror)
endif()

function(otelc_picky target)
  target_compile_options(${target} PRIVATE ${OTELC_WARNINGS})
endfunction()
