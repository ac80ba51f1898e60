# cmake -P script: runs APP and fails, with the first difference, when its
# output differs from the file DOC (regenerate DOC with the script it names).
execute_process(COMMAND "${APP}" OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${APP} failed with status ${rc}")
endif()
file(READ "${DOC}" doc)
if(NOT out STREQUAL doc)
  string(LENGTH "${out}" n_out)
  string(LENGTH "${doc}" n_doc)
  message(FATAL_ERROR "${DOC} does not match the output of ${APP} (${n_doc} vs ${n_out} characters): "
                      "regenerate it with bash scripts/model_summaries.sh")
endif()
