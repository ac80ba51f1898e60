# cmake -P script behind the app.train_transfer test.
# Inputs (-D): APP, the ctnn_train executable; OUT, a scratch directory.
# Trains the plain MLP briefly with --checkpoint, then the batch-norm variant
# with --init-from that checkpoint and --freeze fc1: the shared tensors
# (fc1.weight, fc2.weight, fc3.*) load, and fc1 is frozen.
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE "${OUT}")
set(common --model mlp --epochs 1 --limit 1024 --threads 1 --quiet)
execute_process(COMMAND "${APP}" ${common} --out "${OUT}/a" --checkpoint "${OUT}/a.npz"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0 OR NOT EXISTS "${OUT}/a.npz" OR EXISTS "${OUT}/a.npz.tmp")
  message(FATAL_ERROR "transfer_test: the first run (${rc}) did not leave ${OUT}/a.npz")
endif()
execute_process(COMMAND "${APP}" ${common} --out "${OUT}/b" --batch-norm --dropout 0.1 --optimizer adam
    --init-from "${OUT}/a.npz" --freeze fc1
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "transfer_test: the second run exited with ${rc}")
endif()
foreach(regex IN ITEMS "init: 4 tensors from [^\n]*a\\.npz: fc1\\.weight, fc2\\.weight, fc3\\.bias, fc3\\.weight"
                       "frozen: fc1\\.weight\n")
  if(NOT out MATCHES "${regex}")
    message(FATAL_ERROR "transfer_test: the output does not match '${regex}'")
  endif()
endforeach()
file(READ "${OUT}/b/report.json" report)
if(NOT report MATCHES "\"frozen\": \\[\"fc1\"\\]" OR NOT report MATCHES "\"batch_norm\": true")
  message(FATAL_ERROR "transfer_test: report.json lacks the flags:\n${report}")
endif()
