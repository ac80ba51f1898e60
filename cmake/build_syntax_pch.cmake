# cmake -P script: precompiles <ctnn/ctnn.hpp> with the flags of the
# syntax-only tests (compile-fail, the documentation's code), which load it.
# Inputs (-D): CXX, HEADER (a file that includes <ctnn/ctnn.hpp>), OUTPUT
# (HEADER.gch for g++, any name for clang), and the flags of
# syntax_check_args.cmake (without PCH).

cmake_minimum_required(VERSION 3.25) # policies for -P mode
include("${CMAKE_CURRENT_LIST_DIR}/syntax_check_args.cmake")
ctnn_require_inputs(build_syntax_pch CXX HEADER OUTPUT)

execute_process(COMMAND "${CXX}" ${args} -x c++-header "${HEADER}" -o "${OUTPUT}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  list(JOIN args " " shown)
  message(FATAL_ERROR "build_syntax_pch: ${CXX} ${shown} -x c++-header ${HEADER} -o ${OUTPUT}\n${out}")
endif()
