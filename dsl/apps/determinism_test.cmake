# cmake -P script: trains twice with the same seed and thread count (ARGS, a
# '|'-separated list, plus --checkpoint) and fails unless the two checkpoints
# are the same bytes, then once with another seed, which must differ.
#   -DAPP=ctnn_train -DOUT=<scratch dir> -DARGS="--data|dir|--model|lenet|..."
string(REPLACE "|" ";" args "${ARGS}")
file(REMOVE_RECURSE "${OUT}")
foreach(run IN ITEMS first second other_seed)
  set(seed 7)
  if(run STREQUAL "other_seed")
    set(seed 8)
  endif()
  execute_process(COMMAND "${APP}" ${args} --seed ${seed} --quiet --out "${OUT}/${run}"
                          --checkpoint "${OUT}/${run}.npz"
                  RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${run} run failed with status ${rc}: ${err}")
  endif()
endforeach()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${OUT}/first.npz" "${OUT}/second.npz" RESULT_VARIABLE same)
if(NOT same EQUAL 0)
  message(FATAL_ERROR "two runs with the same seed and threads saved different parameters")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${OUT}/first.npz" "${OUT}/other_seed.npz" RESULT_VARIABLE same)
if(same EQUAL 0)
  message(FATAL_ERROR "runs with seeds 7 and 8 saved the same parameters: the check cannot tell")
endif()
message(STATUS "same seed, same bits; another seed, other bits")
