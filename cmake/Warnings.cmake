# Compiler warnings for every target of ours: -Wall -Wextra -Wshadow -Wcast-align,
# errors when PYI_WERROR is on (CI and the README's test command).
add_compile_options(-Wall -Wextra -Wshadow -Wcast-align
                    $<$<COMPILE_LANGUAGE:C>:-Wstrict-prototypes>)
if(PYI_WERROR)
  add_compile_options(-Werror)
endif()
