# cmake -P script behind the app.char_lm_smoke_* tests.
# Inputs (-D): APP, the ctnn_char_lm executable; OUT, a scratch --out
# directory; MODEL, the --model to train; DATA, a directory of text.
# Runs one short epoch and passes only if the run succeeds and its
# report.json names the model and gives a held-out bits per character that
# is a number (a NaN or an infinity is written as null) below the 6.61 bits
# of guessing uniformly among the 98 characters.
cmake_minimum_required(VERSION 3.25)

foreach(var IN ITEMS APP OUT MODEL DATA)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "char_lm_smoke: ${var} not set")
  endif()
endforeach()

file(REMOVE_RECURSE "${OUT}") # a stale report must not pass
execute_process(COMMAND "${APP}" --model "${MODEL}" --data "${DATA}" --limit 50000 --epochs 1 --sample 60
  --threads 1 --quiet --out "${OUT}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "char_lm_smoke: ctnn_char_lm exited with ${rc}")
endif()
if(NOT EXISTS "${OUT}/report.json")
  message(FATAL_ERROR "char_lm_smoke: ${OUT}/report.json was not written")
endif()

file(READ "${OUT}/report.json" report)
string(JSON kind GET "${report}" model kind)
string(JSON parameters GET "${report}" model parameters)
string(JSON type TYPE "${report}" epochs 0 held_out_bits_per_character)
string(JSON bpc GET "${report}" epochs 0 held_out_bits_per_character)
string(JSON sample GET "${report}" sample text)
if(NOT kind STREQUAL MODEL)
  message(FATAL_ERROR "char_lm_smoke: the report's model is '${kind}', not '${MODEL}'")
endif()
if(NOT parameters GREATER 0)
  message(FATAL_ERROR "char_lm_smoke: the report gives ${parameters} parameters")
endif()
if(NOT type STREQUAL "NUMBER" OR NOT bpc LESS 6.61)
  message(FATAL_ERROR "char_lm_smoke: held-out bits per character ${bpc} (${type}), not a number below 6.61")
endif()
string(LENGTH "${sample}" sample_length)
if(NOT sample_length EQUAL 60)
  message(FATAL_ERROR "char_lm_smoke: the sample has ${sample_length} characters, not 60")
endif()
message("char_lm_smoke: ${MODEL}, ${parameters} parameters, held out ${bpc} bits per character")
