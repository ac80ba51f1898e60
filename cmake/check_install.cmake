# cmake -P script behind the install.find_package test.
# Inputs (-D): BUILD_DIR, CONFIG, CONSUMER_DIR, WORK_DIR, CXX, README.
# Installs BUILD_DIR into WORK_DIR/prefix, then configures, builds and runs
# CONSUMER_DIR against that prefix only, with README's network (its ```cpp
# block that defines namespace mlp) compiled in. Then removes the installed
# headers and checks that the consumer no longer builds: no other copy of
# ctnn (the source tree, another install) can stand in for the installed one.

cmake_minimum_required(VERSION 3.25) # policies for -P mode
include("${CMAKE_CURRENT_LIST_DIR}/doc_blocks.cmake")

foreach(var IN ITEMS BUILD_DIR CONSUMER_DIR WORK_DIR CXX README)
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
if(NOT EXISTS "${prefix}/include/ctnn/ctnn.hpp")
  message(FATAL_ERROR "check_install: ${prefix}/include/ctnn/ctnn.hpp was not installed")
endif()

ctnn_doc_cpp_blocks("${README}" "${WORK_DIR}/readme" blocks)
set(readme_block "")
foreach(entry IN LISTS blocks)
  string(REPLACE "|" ";" fields "${entry}")
  list(GET fields 0 file)
  file(READ "${file}" code)
  if(code MATCHES "namespace mlp" AND code MATCHES "\nint main\\(\\) {\n")
    # The consumer calls it: main() becomes a void function (a renamed
    # int main() would fall off its end, which only main() may do).
    string(REPLACE "\nint main() {\n" "\nvoid readme_main() {\n" code "${code}")
    set(readme_block "${WORK_DIR}/readme_network.cpp")
    file(WRITE "${readme_block}" "${code}")
    break()
  endif()
endforeach()
if(NOT readme_block)
  message(FATAL_ERROR "check_install: no ```cpp block of ${README} defines namespace mlp and int main() {")
endif()

set(generator_args "")
find_program(NINJA_PROGRAM ninja)
if(NINJA_PROGRAM)
  set(generator_args -G Ninja)
endif()
set(build_type_args "")
if(CONFIG)
  set(build_type_args "-DCMAKE_BUILD_TYPE=${CONFIG}")
endif()
# Only this prefix: its config file by path, no package registry.
set(consumer_args ${generator_args} "-Dctnn_DIR=${prefix}/lib/cmake/ctnn" "-DCMAKE_PREFIX_PATH=${prefix}"
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
    "-DCTNN_EXPECTED_PREFIX=${prefix}" "-DCTNN_README_BLOCK=${readme_block}"
    "-DCMAKE_CXX_COMPILER=${CXX}" ${build_type_args})
run("${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${WORK_DIR}/build" ${consumer_args})
run("${CMAKE_COMMAND}" --build "${WORK_DIR}/build" ${config_args})

set(exe "${WORK_DIR}/build/consumer")
if(CONFIG AND EXISTS "${WORK_DIR}/build/${CONFIG}/consumer")
  set(exe "${WORK_DIR}/build/${CONFIG}/consumer") # multi-config generators
endif()
run("${exe}")

# Without the installed headers the same consumer must not build.
file(REMOVE_RECURSE "${prefix}/include/ctnn")
execute_process(COMMAND "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${WORK_DIR}/build_no_headers" ${consumer_args}
  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
if(rc EQUAL 0)
  execute_process(COMMAND "${CMAKE_COMMAND}" --build "${WORK_DIR}/build_no_headers" ${config_args}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(rc EQUAL 0)
    message(FATAL_ERROR "check_install: the consumer built with no ctnn header installed: "
      "it finds ctnn somewhere else than ${prefix}")
  endif()
  if(NOT out MATCHES "ctnn/ctnn\\.hpp")
    message(FATAL_ERROR "check_install: without the installed headers the consumer failed, "
      "but not for want of ctnn/ctnn.hpp:\n${out}")
  endif()
endif()
message(STATUS "without ${prefix}/include/ctnn the consumer does not build, as it should not")
