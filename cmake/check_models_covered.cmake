# cmake -P script: every network header in MODELS_DIR must be included by
# TEST_SOURCE (the runtime twin's equivalence test), so that a model added to
# dsl/models is compared with its runtime-graph twin, or be listed there on a
# line "// not compared with the twin: <models/NAME.hpp> (why)" when it uses
# an op the twin does not have.
cmake_minimum_required(VERSION 3.25)
file(GLOB models RELATIVE "${MODELS_DIR}" "${MODELS_DIR}/*.hpp")
file(READ "${TEST_SOURCE}" source)
set(missing "")
set(exempt "")
foreach(m IN LISTS models)
  string(FIND "${source}" "#include <models/${m}>" at)
  string(FIND "${source}" "// not compared with the twin: <models/${m}> (" excused)
  if(NOT at EQUAL -1)
    continue()
  elseif(NOT excused EQUAL -1)
    list(APPEND exempt "${m}")
  else()
    list(APPEND missing "${m}")
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR "dsl/models without a runtime-twin comparison in ${TEST_SOURCE}: ${missing} (include and compare it, or list it on a line \"// not compared with the twin: <models/NAME.hpp> (why)\")")
endif()
list(LENGTH models n)
list(LENGTH exempt n_exempt)
math(EXPR n_compared "${n} - ${n_exempt}")
message(STATUS "${n_compared} models compared with their runtime twin; not compared (ops the twin lacks): ${exempt}")
