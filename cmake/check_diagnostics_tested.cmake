# cmake -P script: every diagnostic under INCLUDE_DIR must be named by a
# compile-fail test. A diagnostic is a class template whose body opens with a
# static_assert whose message starts with "CTNN_" (core/diagnostics.hpp and a
# few op headers). It counts as tested when the REGEX of some
# ctnn_add_compile_fail_test(...) call in TESTS_CMAKELISTS contains
# "<name><" (the compiler's instantiation line, so the test proves that this
# diagnostic, and not another with the same message, fired).
# Inputs (-D): INCLUDE_DIR, TESTS_CMAKELISTS, optional MIN_DIAGNOSTICS (20):
# finding fewer diagnostics fails too, so a broken scan cannot pass.
cmake_minimum_required(VERSION 3.25)

foreach(var IN ITEMS INCLUDE_DIR TESTS_CMAKELISTS)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "check_diagnostics_tested: ${var} not set")
  endif()
endforeach()
if(NOT DEFINED MIN_DIAGNOSTICS OR "${MIN_DIAGNOSTICS}" STREQUAL "")
  set(MIN_DIAGNOSTICS 20)
endif()

set(ws "[ \t\r\n]")
# struct/class NAME { static_assert(<condition, no ';' nor string> "CTNN_
set(diagnostic_re "(struct|class)${ws}+([A-Za-z_][A-Za-z0-9_]*)${ws}*(final${ws}*)?{${ws}*(public:${ws}*)?static_assert${ws}*\\([^;\"]*\"CTNN_")

# --- the diagnostics --------------------------------------------------------
file(GLOB_RECURSE headers LIST_DIRECTORIES false "${INCLUDE_DIR}/*.hpp" "${INCLUDE_DIR}/*.h")
list(SORT headers)
set(diagnostics "")   # names
set(where "")         # "name (file:line)", same order
foreach(header IN LISTS headers)
  file(READ "${header}" text)
  file(RELATIVE_PATH rel "${INCLUDE_DIR}" "${header}")
  set(rest "${text}")
  set(offset 0)
  while(TRUE)
    string(REGEX MATCH "${diagnostic_re}" m "${rest}")
    if(m STREQUAL "")
      break()
    endif()
    set(name "${CMAKE_MATCH_2}")
    string(FIND "${rest}" "${m}" at)
    string(SUBSTRING "${rest}" 0 ${at} before)
    string(LENGTH "${m}" len)
    math(EXPR next "${at} + ${len}")
    string(SUBSTRING "${rest}" ${next} -1 rest)
    # A template: the struct directly follows its template <...> header.
    if(NOT before MATCHES ">${ws}*$")
      math(EXPR offset "${offset} + ${next}")
      continue()
    endif()
    string(SUBSTRING "${text}" 0 ${offset} done)
    string(REGEX MATCHALL "\n" nl "${done}${before}")
    list(LENGTH nl line)
    math(EXPR line "${line} + 1")
    math(EXPR offset "${offset} + ${next}")
    if(NOT name IN_LIST diagnostics)
      list(APPEND diagnostics "${name}")
      list(APPEND where "${name} (${rel}:${line})")
    endif()
  endwhile()
endforeach()

list(LENGTH diagnostics n)
if(n LESS MIN_DIAGNOSTICS)
  message(FATAL_ERROR "check_diagnostics_tested: found only ${n} diagnostic templates under ${INCLUDE_DIR} "
    "(at least ${MIN_DIAGNOSTICS} expected): the scan is broken or the headers moved")
endif()

# --- the REGEX of every compile-fail test -------------------------------------
file(READ "${TESTS_CMAKELISTS}" tests)
# Drop comment lines, so that a test commented out does not count.
string(REGEX REPLACE "(^|\n)[ \t]*#[^\n]*" "\\1" tests "${tests}")
set(regexes "")
set(n_tests 0)
set(rest "${tests}")
while(TRUE)
  string(FIND "${rest}" "ctnn_add_compile_fail_test(" at)
  if(at EQUAL -1)
    break()
  endif()
  math(EXPR at "${at} + 27")
  string(SUBSTRING "${rest}" ${at} -1 rest)
  # The call's REGEX "..." argument (a CMake quoted argument: \" and \\ escape).
  string(REGEX MATCH "REGEX${ws}+\"(([^\"\\\\]|\\\\.)*)\"" m "${rest}")
  if(m STREQUAL "")
    continue()
  endif()
  string(APPEND regexes "\n${CMAKE_MATCH_1}")
  math(EXPR n_tests "${n_tests} + 1")
endwhile()

set(untested "")
foreach(entry IN LISTS where)
  string(REGEX MATCH "^[A-Za-z0-9_]+" name "${entry}")
  if(NOT regexes MATCHES "(^|[^A-Za-z0-9_])${name}<")
    list(APPEND untested "${entry}")
  endif()
endforeach()

if(untested)
  list(LENGTH untested n_untested)
  list(JOIN untested "\n  " shown)
  message(FATAL_ERROR "${n_untested} of ${n} diagnostics have no compile-fail test whose REGEX names "
    "\"<diagnostic><\" (ctnn_add_compile_fail_test in ${TESTS_CMAKELISTS}):\n  ${shown}")
endif()
message(STATUS "all ${n} diagnostic templates under ${INCLUDE_DIR} are named by the REGEX of one of "
  "${n_tests} compile-fail tests")
