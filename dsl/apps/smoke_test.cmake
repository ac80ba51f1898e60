# cmake -P script behind the app.train_smoke test.
# Inputs (-D): APP, the ctnn_train executable; OUT, a scratch --out directory;
# MODEL, the --model to train.
# Runs one short epoch and passes only if the run succeeds and writes
# report.json (with the model and an accuracy) and both CSV files with their
# headers.
cmake_minimum_required(VERSION 3.25)

foreach(var IN ITEMS APP OUT MODEL)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "smoke_test: ${var} not set")
  endif()
endforeach()

file(REMOVE_RECURSE "${OUT}") # a stale report must not pass
# One thread: ctest runs other tests beside this one, and a two-thread
# team waiting on a busy core would only slow it down.
execute_process(COMMAND "${APP}" --model "${MODEL}" --epochs 1 --limit 2048 --threads 1 --out "${OUT}" --quiet
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "smoke_test: ctnn_train exited with ${rc}")
endif()

foreach(check IN ITEMS
    "report.json|\"model\": \"${MODEL}\",\n  \"accuracy\": [01](\\.[0-9]+)?,"
    "loss_curve.csv|^epoch,step,loss,lr\n1,1,"
    "epochs.csv|^epoch,train_loss,test_accuracy,seconds,train_accuracy,lr\n1,")
  string(REPLACE "|" ";" check "${check}")
  list(GET check 0 file)
  list(GET check 1 regex)
  if(NOT EXISTS "${OUT}/${file}")
    message(FATAL_ERROR "smoke_test: ${OUT}/${file} was not written")
  endif()
  file(READ "${OUT}/${file}" text)
  if(NOT text MATCHES "${regex}")
    message(FATAL_ERROR "smoke_test: ${OUT}/${file} does not match '${regex}':\n${text}")
  endif()
endforeach()
