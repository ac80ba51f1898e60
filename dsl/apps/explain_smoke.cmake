# cmake -P script behind the app.explain_smoke test.
# Inputs (-D): TRAIN, the ctnn_train executable; APP, ctnn_explain; DATA, a
# small Fashion-MNIST directory (write_tiny_fashion_mnist); OUT, a scratch
# directory.
# Trains LeNet for one epoch on DATA, saves its checkpoint, runs every method
# of ctnn_explain on it, and passes only if each PNG is a PNG and report.json
# holds the saliency ratio and an FGSM success rate of 0 at epsilon 0 (null
# when the briefly trained network classifies no test image correctly).
cmake_minimum_required(VERSION 3.25)

foreach(var IN ITEMS TRAIN APP DATA OUT)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "explain_smoke: ${var} not set")
  endif()
endforeach()

file(REMOVE_RECURSE "${OUT}") # stale pictures must not pass
execute_process(COMMAND "${TRAIN}" --data "${DATA}" --model lenet --epochs 1 --threads 1 --quiet
    --out "${OUT}/train" --checkpoint "${OUT}/lenet.npz"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "explain_smoke: ctnn_train exited with ${rc}:\n${out}${err}")
endif()
execute_process(COMMAND "${APP}" --data "${DATA}" --checkpoint "${OUT}/lenet.npz" --out "${OUT}/explain" --steps 10
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "explain_smoke: ctnn_explain exited with ${rc}")
endif()

foreach(png IN ITEMS saliency occlusion class_model dream conv1_filters conv1_maps conv2_maps fgsm)
  set(file "${OUT}/explain/${png}.png")
  if(NOT EXISTS "${file}")
    message(FATAL_ERROR "explain_smoke: ${file} was not written")
  endif()
  file(READ "${file}" signature LIMIT 8 HEX)
  if(NOT signature STREQUAL "89504e470d0a1a0a")
    message(FATAL_ERROR "explain_smoke: ${file} does not start with PNG's signature: ${signature}")
  endif()
endforeach()

file(READ "${OUT}/explain/report.json" report)
foreach(regex IN ITEMS
    "\"saliency\": {\n    \"images\": [1-9][0-9]*,\n    \"object_ratio\": [0-9.e+-]+,"
    "\"rates\": \\[\n      {\n        \"epsilon\": 0.0,\n        \"success_rate\": (0.0|null)\n"
    "\"class_model\": {\n    \"steps\": 5,"
    "\"picture\": \"fgsm.png\"")
  if(NOT report MATCHES "${regex}")
    message(FATAL_ERROR "explain_smoke: report.json does not match '${regex}':\n${report}")
  endif()
endforeach()
message("explain_smoke: pictures and report written")
