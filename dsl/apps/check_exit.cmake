# cmake -P script: runs APP with ARGS ('|'-separated) and passes only if it
# exits with EXPECT_RC and its output (stdout and stderr) matches REGEX.
# Optional: NOT_REGEX, which the output must not match (e.g. a line training
# prints, for an error that must come before training); ABSENT, a path that
# must not exist afterwards (removed before the run: what a failed run must
# not leave behind); MAX_LINES, the most lines stderr may have.
cmake_minimum_required(VERSION 3.25)
string(REPLACE "|" ";" args "${ARGS}")
if(DEFINED ABSENT)
  file(REMOVE_RECURSE "${ABSENT}")
endif()
execute_process(COMMAND "${APP}" ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL EXPECT_RC)
  message(FATAL_ERROR "check_exit: expected exit status ${EXPECT_RC}, got ${rc}")
endif()
if(NOT "${out}${err}" MATCHES "${REGEX}")
  message(FATAL_ERROR "check_exit: the output does not match '${REGEX}'")
endif()
if(DEFINED NOT_REGEX AND "${out}${err}" MATCHES "${NOT_REGEX}")
  message(FATAL_ERROR "check_exit: the output matches '${NOT_REGEX}', which it must not")
endif()
if(DEFINED ABSENT AND EXISTS "${ABSENT}")
  message(FATAL_ERROR "check_exit: the run left '${ABSENT}' behind")
endif()
if(DEFINED MAX_LINES)
  string(REGEX MATCHALL "\n" newlines "${err}")
  list(LENGTH newlines lines)
  if(lines GREATER MAX_LINES)
    message(FATAL_ERROR "check_exit: stderr has ${lines} lines, more than ${MAX_LINES}")
  endif()
endif()
