# cmake -P script: every network header in MODELS_DIR must be included by
# TEST_SOURCE (the runtime twin's equivalence test), so that a model added to
# dsl/models is compared with its runtime-graph twin.
cmake_minimum_required(VERSION 3.25)
file(GLOB models RELATIVE "${MODELS_DIR}" "${MODELS_DIR}/*.hpp")
file(READ "${TEST_SOURCE}" source)
set(missing "")
foreach(m IN LISTS models)
  string(FIND "${source}" "#include <models/${m}>" at)
  if(at EQUAL -1)
    list(APPEND missing "${m}")
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR "dsl/models without a runtime-twin comparison in ${TEST_SOURCE}: ${missing}")
endif()
list(LENGTH models n)
message(STATUS "${n} models, each compared with its runtime twin")
