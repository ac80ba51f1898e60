# cmake -P script behind the docs.code_blocks.* tests: every ```cpp block of
# a Markdown file must compile (g++ or clang -fsyntax-only, with ctnn's
# include dirs, definitions and options).
# Inputs (-D): CXX, MARKDOWN, CONTEXT_DIR, WORK_DIR, and the flags of
# syntax_check_args.cmake (the precompiled header PCH optional).
#
# A block is compiled
#   - as is when it has an #include and an int main(): a whole program;
#   - inside CONTEXT_DIR/NAME.hpp when the line before it is
#     <!-- ctnn: context NAME -->: the block replaces the context's line
#     "// ctnn: block" (or follows the context when it has none);
#   - not at all when the line before it is <!-- ctnn: fragment -->: elided
#     code ("...", "for (...)") that shows a call's shape, not a program.
# Any other block fails the test: make it whole or mark it. The test also
# fails when no block compiled, and reports how many did.

cmake_minimum_required(VERSION 3.25) # policies for -P mode
include("${CMAKE_CURRENT_LIST_DIR}/doc_blocks.cmake")

include("${CMAKE_CURRENT_LIST_DIR}/syntax_check_args.cmake")
ctnn_require_inputs(check_doc_blocks CXX MARKDOWN CONTEXT_DIR WORK_DIR)

list(APPEND args -fsyntax-only)
list(JOIN args " " shown)

file(REMOVE_RECURSE "${WORK_DIR}")
ctnn_doc_cpp_blocks("${MARKDOWN}" "${WORK_DIR}/blocks" blocks)

set(compiled 0)
set(skipped 0)
set(failed "")
foreach(entry IN LISTS blocks)
  string(REPLACE "|" ";" fields "${entry}")
  list(GET fields 0 file)
  list(GET fields 1 line)
  list(GET fields 2 marker)
  list(GET fields 3 context)
  set(where "${MARKDOWN}:${line}")
  math(EXPR first "${line} + 1") # the code starts after the fence
  file(READ "${file}" code)

  if(marker STREQUAL "fragment")
    math(EXPR skipped "${skipped} + 1")
    message(STATUS "${where}: fragment, not compiled")
    continue()
  elseif(marker STREQUAL "context")
    set(context_file "${CONTEXT_DIR}/${context}.hpp")
    if(NOT EXISTS "${context_file}")
      message(FATAL_ERROR "${where}: no context ${context_file}")
    endif()
    file(READ "${context_file}" context_text)
    # #line directives: errors point at the Markdown file and the context.
    string(FIND "${context_text}" "// ctnn: block\n" at)
    if(at EQUAL -1)
      set(source "#line 1 \"${context_file}\"\n${context_text}\n#line ${first} \"${MARKDOWN}\"\n${code}")
    else()
      string(SUBSTRING "${context_text}" 0 ${at} head)
      math(EXPR tail_at "${at} + 15")
      string(SUBSTRING "${context_text}" ${tail_at} -1 tail)
      string(REGEX MATCHALL "\n" newlines "${head}")
      list(LENGTH newlines tail_line)
      math(EXPR tail_line "${tail_line} + 2")
      set(source "#line 1 \"${context_file}\"\n${head}#line ${first} \"${MARKDOWN}\"\n${code}#line ${tail_line} \"${context_file}\"\n${tail}")
    endif()
  elseif(code MATCHES "#include" AND code MATCHES "int main\\(")
    set(source "#line ${first} \"${MARKDOWN}\"\n${code}")
  else()
    message(NOTICE "${where}: this ```cpp block is not a whole program (an #include and an int main()): "
      "make it one, or put <!-- ctnn: context NAME --> (a prelude in ${CONTEXT_DIR}) or "
      "<!-- ctnn: fragment --> on the line before it")
    list(APPEND failed "${line}")
    continue()
  endif()

  set(source_file "${file}.check.cpp")
  file(WRITE "${source_file}" "${source}")
  execute_process(COMMAND "${CXX}" ${args} "${source_file}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(rc EQUAL 0)
    math(EXPR compiled "${compiled} + 1")
    message(STATUS "${where}: compiles")
  else()
    message(NOTICE "${where}: does not compile:\n${CXX} ${shown} ${source_file}\n${output}")
    list(APPEND failed "${line}")
  endif()
endforeach()

list(LENGTH blocks total)
list(LENGTH failed n_failed)
message(STATUS "${MARKDOWN}: ${total} C++ blocks: ${compiled} compiled, ${n_failed} failed, ${skipped} fragments not compiled")
if(n_failed GREATER 0)
  list(JOIN failed ", " failed)
  message(FATAL_ERROR "${MARKDOWN}: blocks at lines ${failed} do not compile")
endif()
if(compiled EQUAL 0)
  message(FATAL_ERROR "${MARKDOWN}: no C++ block compiled: nothing was checked")
endif()
