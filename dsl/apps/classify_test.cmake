# cmake -P script behind the app.classify_matches_train test.
# Inputs (-D): APP, a ctnn_classify built from a checkpoint; IMAGES, the IDX
# images the checkpoint's training run predicted; EXPECTED, that run's
# predictions.txt (ctnn_train --predictions). Passes when the classifier,
# its weights compiled in, prints the same class for every image, its
# latencies and the startup time.
cmake_minimum_required(VERSION 3.25)
execute_process(COMMAND "${APP}" --images "${IMAGES}" --time-startup
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "classify_test: ${APP} exited with ${rc}")
endif()
# The classes without the latencies: "image 3: Dress (class 3)  41.2 us".
string(REGEX MATCHALL "image [0-9]+: [^\n]* \\(class [0-9]\\)  [0-9.]+ us\n" lines "${out}")
list(JOIN lines "" classes)
string(REGEX REPLACE "  [0-9.]+ us\n" "\n" classes "${classes}")
file(READ "${EXPECTED}" expected)
if(expected STREQUAL "" OR NOT classes STREQUAL expected)
  message(FATAL_ERROR "classify_test: the classes differ from ${EXPECTED}:\n${expected}\nctnn_classify printed:\n${classes}")
endif()
foreach(regex IN ITEMS "^startup: [0-9]+ us from main\\(\\) to the first class \\(the model and its weights: [0-9]+ us\\)\n"
                       "\n[0-9]+ images in [0-9.]+ us: [0-9.]+ us per image \\(median [0-9.]+ us, fastest [0-9.]+ us\\), batch 1\n$")
  if(NOT out MATCHES "${regex}")
    message(FATAL_ERROR "classify_test: the output does not match '${regex}'")
  endif()
endforeach()
string(REGEX MATCHALL "\\(class [0-9]\\)" seen "${classes}")
list(REMOVE_DUPLICATES seen)
list(LENGTH seen distinct)
message("classify_test: the same classes as the training run (${distinct} distinct)")
