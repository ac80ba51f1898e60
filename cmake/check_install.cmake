# cmake -P script behind the install.find_package test.
# Inputs (-D): BUILD_DIR, CONFIG, CONSUMER_DIR, WORK_DIR, CXX.
# Installs BUILD_DIR into WORK_DIR/prefix, then configures, builds and runs
# CONSUMER_DIR against that prefix only.

cmake_minimum_required(VERSION 3.25) # policies for -P mode

foreach(var IN ITEMS BUILD_DIR CONSUMER_DIR WORK_DIR CXX)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "check_install: ${var} not set")
  endif()
endforeach()

function(run)
  list(JOIN ARGN " " shown)
  message(STATUS "+ ${shown}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${shown}")
  endif()
endfunction()

# Start clean so a previous run (or an older install layout) cannot leak in.
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

set(config_args "")
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()
run("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}" ${config_args})

set(generator_args "")
find_program(NINJA_PROGRAM ninja)
if(NINJA_PROGRAM)
  set(generator_args -G Ninja)
endif()
set(build_type_args "")
if(CONFIG)
  set(build_type_args "-DCMAKE_BUILD_TYPE=${CONFIG}")
endif()
run("${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${WORK_DIR}/build" ${generator_args}
    "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_CXX_COMPILER=${CXX}" ${build_type_args})
run("${CMAKE_COMMAND}" --build "${WORK_DIR}/build" ${config_args})

set(exe "${WORK_DIR}/build/consumer")
if(CONFIG AND EXISTS "${WORK_DIR}/build/${CONFIG}/consumer")
  set(exe "${WORK_DIR}/build/${CONFIG}/consumer") # multi-config generators
endif()
run("${exe}")
