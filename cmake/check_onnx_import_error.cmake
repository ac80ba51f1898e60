# cmake -P script: tools/onnx_import.py must refuse MODEL with exit code 2, a
# message on stderr matching REGEX (the node, its op type, its attributes),
# and no header written.
#   -DPYTHON=... -DTOOL=.../onnx_import.py -DMODEL=x.onnx -DOUTPUT=x.hpp -DREGEX=...
cmake_minimum_required(VERSION 3.25)
file(REMOVE "${OUTPUT}")
execute_process(
  COMMAND "${PYTHON}" "${TOOL}" "${MODEL}" -o "${OUTPUT}" --namespace refused
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "onnx_import.py exited with ${rc}, not 2, for ${MODEL}\nstdout: ${out}\nstderr: ${err}")
endif()
if(NOT err MATCHES "${REGEX}")
  message(FATAL_ERROR "onnx_import.py's message does not match '${REGEX}':\n${err}")
endif()
if(EXISTS "${OUTPUT}")
  message(FATAL_ERROR "onnx_import.py refused ${MODEL} but wrote ${OUTPUT}")
endif()
message(STATUS "refused as expected: ${err}")
