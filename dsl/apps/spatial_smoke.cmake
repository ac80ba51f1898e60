# cmake -P script behind the app.spatial test.
# Inputs (-D): APP, the ctnn_spatial executable; DATA, a Fashion-MNIST
# directory (the tiny one: a batch of 64 training images); OUT, a scratch
# --out directory; EPOCHS.
# Trains both networks, then checks the report: one entry per epoch for each,
# finite training losses, test accuracies between 0 and 1 in every entry and
# at the end, the picture, and both CSV files with their headers.
cmake_minimum_required(VERSION 3.25)

foreach(var IN ITEMS APP DATA OUT EPOCHS)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "spatial_smoke: ${var} not set")
  endif()
endforeach()

file(REMOVE_RECURSE "${OUT}") # a stale report must not pass
execute_process(COMMAND "${APP}" --data "${DATA}" --epochs ${EPOCHS} --threads 1 --quiet --out "${OUT}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "spatial_smoke: ctnn_spatial exited with ${rc}")
endif()

file(READ "${OUT}/report.json" report)
set(number "^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$")
set(share "^(0(\\.[0-9]+)?([eE]-?[0-9]+)?|1(\\.0+)?)$")
math(EXPR last "${EPOCHS} - 1")
foreach(model IN ITEMS lenet stn_lenet)
  string(JSON epochs LENGTH "${report}" ${model} epochs)
  if(NOT epochs EQUAL EPOCHS)
    message(FATAL_ERROR "spatial_smoke: the report lists ${epochs} epochs of ${model}, not ${EPOCHS}")
  endif()
  foreach(e RANGE ${last})
    string(JSON loss GET "${report}" ${model} epochs ${e} train_loss)
    string(JSON accuracy GET "${report}" ${model} epochs ${e} test_accuracy)
    if(NOT loss MATCHES "${number}")
      message(FATAL_ERROR "spatial_smoke: ${model}'s training loss in epoch ${e} is not a finite number: ${loss}")
    endif()
    if(NOT accuracy MATCHES "${share}")
      message(FATAL_ERROR "spatial_smoke: ${model}'s test accuracy in epoch ${e} is not a share: ${accuracy}")
    endif()
  endforeach()
  string(JSON accuracy GET "${report}" ${model} test_accuracy)
  if(NOT accuracy MATCHES "${share}")
    message(FATAL_ERROR "spatial_smoke: ${model}'s final test accuracy is not a share: ${accuracy}")
  endif()
endforeach()
string(JSON first_loss GET "${report}" stn_lenet epochs 0 train_loss)
string(JSON last_loss GET "${report}" stn_lenet epochs ${last} train_loss)
if(NOT last_loss LESS first_loss)
  message(FATAL_ERROR "spatial_smoke: STN-LeNet's training loss did not fall: ${first_loss} in epoch 1, ${last_loss} in the last")
endif()

file(READ "${OUT}/spatial_transformer.png" magic LIMIT 4 HEX)
if(NOT magic STREQUAL "89504e47")
  message(FATAL_ERROR "spatial_smoke: ${OUT}/spatial_transformer.png is not a PNG file")
endif()
file(READ "${OUT}/epochs.csv" table)
set(header "epoch,lenet_train_loss,lenet_test_accuracy,lenet_seconds,stn_lenet_train_loss,stn_lenet_test_accuracy,stn_lenet_seconds\n1,")
if(NOT table MATCHES "^${header}")
  message(FATAL_ERROR "spatial_smoke: ${OUT}/epochs.csv does not start with '${header}':\n${table}")
endif()
file(READ "${OUT}/loss_curve.csv" curve)
if(NOT curve MATCHES "^step,lenet_loss,stn_lenet_loss\n1,")
  message(FATAL_ERROR "spatial_smoke: ${OUT}/loss_curve.csv does not start with its header:\n${curve}")
endif()
