# cmake -P script behind ctnn_add_compile_fail_test().
# Inputs (-D): CXX, SOURCE, REGEX, and the flags of syntax_check_args.cmake
# (the precompiled header PCH optional).
# Passes only if compiling SOURCE with CTNN_SHOULD_FAIL defined is rejected
# AND the diagnostics match every pattern in REGEX (so an unrelated error
# does not count) AND the compiler reports exactly one error.

cmake_minimum_required(VERSION 3.25) # policies for -P mode

include("${CMAKE_CURRENT_LIST_DIR}/syntax_check_args.cmake")
ctnn_require_inputs(check_compile_fail CXX SOURCE REGEX)

list(APPEND args -fsyntax-only -DCTNN_SHOULD_FAIL)

execute_process(
  COMMAND "${CXX}" ${args} "${SOURCE}"
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output) # same variable: stdout and stderr combined

# Raw output first: FATAL_ERROR would re-wrap the compiler's diagnostics.
list(JOIN args " " shown)
if(rc EQUAL 0)
  message(NOTICE "${CXX} ${shown} ${SOURCE}\n${output}")
  message(FATAL_ERROR "compiled, but must not")
endif()
# REGEX may hold several patterns separated by '&&&': each must match (the
# message text, and the layer name and shapes in the instantiation line).
string(REPLACE "&&&" ";" patterns "${REGEX}")
foreach(pattern IN LISTS patterns)
  if(NOT output MATCHES "${pattern}")
    message(NOTICE "${CXX} ${shown} ${SOURCE}\n${output}")
    message(FATAL_ERROR "failed as required, but the diagnostics do not match '${pattern}'")
  endif()
endforeach()
# One mistake, one error: a diagnostic that drags further errors behind it
# (a cascade through code generated from a broken type) fails the test.
string(REGEX MATCHALL "error:" errors "${output}")
list(LENGTH errors error_count)
if(NOT error_count EQUAL 1)
  message(NOTICE "${CXX} ${shown} ${SOURCE}\n${output}")
  message(FATAL_ERROR "rejected with the right diagnostic, but with ${error_count} errors instead of one")
endif()
message(STATUS "rejected as expected with one error (matched '${REGEX}')")
