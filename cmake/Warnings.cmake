# Warnings are errors on otelc's own code (after curl's PickyWarnings.cmake).
# Generated code gets its own targets with relaxed flags.
set(OTELC_WARNINGS
    -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wformat=2 -Wpointer-arith -Wcast-qual -Wundef -Wvla -Wno-missing-field-initializers)

function(otelc_picky target)
  target_compile_options(${target} PRIVATE ${OTELC_WARNINGS})
endfunction()
