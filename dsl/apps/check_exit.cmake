# cmake -P script: runs APP with ARGS ('|'-separated) and passes only if it
# exits with EXPECT_RC and its output (stdout and stderr) matches REGEX.
cmake_minimum_required(VERSION 3.25)
string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND "${APP}" ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL EXPECT_RC)
  message(FATAL_ERROR "check_exit: expected exit status ${EXPECT_RC}, got ${rc}")
endif()
if(NOT "${out}${err}" MATCHES "${REGEX}")
  message(FATAL_ERROR "check_exit: the output does not match '${REGEX}'")
endif()
