# pyi_embed_html_page(): build-time embedding of an HTML page made of asset
# files (template, CSS, JS) into a generated C source in the build tree, so
# assets stay files in git and the program carries them (see
# cmake/embed_html_page.cmake). The generated file defines
# `const pyi_html_page SYMBOL` (renderers/src/html_page.h).
#
#   pyi_embed_html_page(OUT_VAR SYMBOL name TEMPLATE file CSS files... JS files...)
# sets OUT_VAR to the generated .c path: add it to a target's sources.
function(pyi_embed_html_page out_var)
  cmake_parse_arguments(arg "" "SYMBOL;TEMPLATE" "CSS;JS" ${ARGN})
  set(output ${CMAKE_CURRENT_BINARY_DIR}/${arg_SYMBOL}.c)
  list(JOIN arg_CSS "|" css)
  list(JOIN arg_JS "|" js)
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DTEMPLATE=${arg_TEMPLATE} "-DCSS=${css}" "-DJS=${js}"
            -DOUTPUT=${output} -DSYMBOL=${arg_SYMBOL}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_html_page.cmake
    DEPENDS ${arg_TEMPLATE} ${arg_CSS} ${arg_JS} ${PROJECT_SOURCE_DIR}/cmake/embed_html_page.cmake
    COMMENT "Embedding HTML page ${arg_SYMBOL}"
    VERBATIM)
  set(${out_var} ${output} PARENT_SCOPE)
endfunction()
