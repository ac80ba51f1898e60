# Included by the cmake -P scripts that run the compiler themselves
# (check_compile_fail.cmake, check_doc_blocks.cmake, build_syntax_pch.cmake).
# Inputs (-D): '|'-separated INCLUDE_DIRECTORIES, COMPILE_DEFINITIONS,
# COMPILE_OPTIONS and IMPLICIT_INCLUDE_DIRECTORIES; optional CXX_ID and PCH
# (a precompiled <ctnn/ctnn.hpp> of build_syntax_pch.cmake).
# Sets `args`: -std=c++20, the flags, and those that load PCH when given.
# Defines ctnn_require_inputs(<script> <var>...), which stops the script
# when one of its own -D inputs is missing.

function(ctnn_require_inputs script)
  foreach(var IN LISTS ARGN)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
      message(FATAL_ERROR "${script}: ${var} not set")
    endif()
  endforeach()
endfunction()

set(args -std=c++20 -fdiagnostics-color=never)
# The compiler's own dirs (/usr/include) must not reappear as -I: that
# reorders the search path and breaks libstdc++'s #include_next.
string(REPLACE "|" ";" implicit "${IMPLICIT_INCLUDE_DIRECTORIES}")
foreach(prop IN ITEMS INCLUDE_DIRECTORIES COMPILE_DEFINITIONS COMPILE_OPTIONS)
  string(REPLACE "|" ";" items "${${prop}}")
  foreach(item IN LISTS items)
    if(item STREQUAL "" OR (prop STREQUAL "INCLUDE_DIRECTORIES" AND item IN_LIST implicit))
      continue()
    elseif(prop STREQUAL "INCLUDE_DIRECTORIES")
      list(APPEND args "-I${item}")
    elseif(prop STREQUAL "COMPILE_DEFINITIONS")
      list(APPEND args "-D${item}")
    else()
      list(APPEND args "${item}")
    endif()
  endforeach()
endforeach()

# The header's parse is most of a syntax check's time (a compile-fail test:
# 4.6 s without, 1.6 s with it, g++ 12). A header that cannot be used is an
# error, not a silent slow parse: clang refuses a mismatched one anyway.
if(DEFINED PCH AND NOT PCH STREQUAL "")
  if(CXX_ID STREQUAL "Clang")
    list(APPEND args -include-pch "${PCH}")
  else()
    string(REGEX REPLACE "\\.gch$" "" pch_header "${PCH}")
    list(APPEND args -Werror=invalid-pch -include "${pch_header}")
  endif()
endif()
