# cmake -P script: a run of 2 epochs against the same run stopped after
# epoch 1 (--stop-after 1 --save-state) and resumed (--resume): the saved
# parameters and the loss curves must be the same bytes, and the stopped
# run's parameters must differ (else the comparison could not tell).
#   -DAPP=ctnn_train -DOUT=<scratch dir> -DARGS="--data|dir|--model|mlp|..."
string(REPLACE "|" ";" args "${ARGS}")
file(REMOVE_RECURSE "${OUT}")
function(train name)
  execute_process(COMMAND "${APP}" ${args} --epochs 2 --quiet --out "${OUT}/${name}" ${ARGN}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "the ${name} run failed with status ${rc}: ${out}${err}")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()
train(straight --checkpoint "${OUT}/straight.npz")
train(stopped --stop-after 1 --save-state "${OUT}/state.npz" --checkpoint "${OUT}/stopped.npz")
if(NOT output MATCHES "epoch  1/2 " OR output MATCHES "epoch  2/2 ")
  message(FATAL_ERROR "the stopped run did not stop after epoch 1:\n${output}")
endif()
train(resumed --resume "${OUT}/state.npz" --checkpoint "${OUT}/resumed.npz")
if(NOT output MATCHES "resumed: [^\n]*state\\.npz after epoch 1 of 2\n" OR output MATCHES "epoch  1/2 "
   OR NOT output MATCHES "epoch  2/2 ")
  message(FATAL_ERROR "the resumed run did not train epoch 2 alone:\n${output}")
endif()
foreach(pair IN ITEMS "straight.npz|resumed.npz" "straight/loss_curve.csv|resumed/loss_curve.csv")
  string(REPLACE "|" ";" pair "${pair}")
  list(GET pair 0 a)
  list(GET pair 1 b)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${OUT}/${a}" "${OUT}/${b}" RESULT_VARIABLE same)
  if(NOT same EQUAL 0)
    message(FATAL_ERROR "${a} and ${b} differ: resuming did not continue the run")
  endif()
endforeach()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${OUT}/straight.npz" "${OUT}/stopped.npz" RESULT_VARIABLE same)
if(same EQUAL 0)
  message(FATAL_ERROR "one epoch and two saved the same parameters: the check cannot tell")
endif()
message(STATUS "stopped and resumed, same bits")
