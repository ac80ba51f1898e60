# Extraction of the ```cpp blocks of a Markdown file, for the scripts that
# compile the documentation's code (check_doc_blocks.cmake, check_install.cmake).
#
# ctnn_doc_cpp_blocks(<markdown> <out_dir> <out_var>)
# Writes each ```cpp block of <markdown> to <out_dir>/<stem>_<n>.cpp and sets
# <out_var> to a list with one entry per block: "<file>|<line>|<marker>|<arg>",
# where <line> is the line of the opening fence and <marker> and <arg> come
# from an HTML comment on the last non-blank line before the fence:
#   <!-- ctnn: fragment -->        marker "fragment", arg ""
#   <!-- ctnn: context NAME -->    marker "context",  arg "NAME"
# and are "none" and "" without one. The text is handled as one string, never
# as a CMake list, so the code's semicolons and brackets pass through intact.

function(ctnn_doc_cpp_blocks markdown out_dir out_var)
  file(READ "${markdown}" text)
  get_filename_component(stem "${markdown}" NAME_WE)
  file(MAKE_DIRECTORY "${out_dir}")
  set(entries "")
  set(pos 0)
  set(n 0)
  string(LENGTH "${text}" text_length)
  set(more ON) # a variable: a bare TRUE depends on the caller's policies
  while(more)
    string(SUBSTRING "${text}" ${pos} -1 rest)
    string(FIND "${rest}" "```cpp\n" open)
    if(open EQUAL -1)
      break()
    endif()
    math(EXPR fence "${pos} + ${open}")
    # An opening fence starts a line.
    if(fence GREATER 0)
      math(EXPR before "${fence} - 1")
      string(SUBSTRING "${text}" ${before} 1 previous_char)
      if(NOT previous_char STREQUAL "\n")
        math(EXPR pos "${fence} + 7")
        continue()
      endif()
    endif()
    math(EXPR body_start "${fence} + 7")
    string(SUBSTRING "${text}" ${body_start} -1 after)
    string(FIND "${after}" "\n```" close)
    if(close EQUAL -1)
      message(FATAL_ERROR "${markdown}: a ```cpp block is never closed")
    endif()
    math(EXPR close "${close} + 1") # keep the block's last newline
    string(SUBSTRING "${after}" 0 ${close} body)

    string(SUBSTRING "${text}" ${pos} ${open} gap)
    set(marker "none")
    set(arg "")
    if(gap MATCHES "<!-- ctnn: ([a-z]+)( ([A-Za-z0-9_]+))? -->[ \t\r\n]*$")
      set(marker "${CMAKE_MATCH_1}")
      set(arg "${CMAKE_MATCH_3}")
      if(NOT marker MATCHES "^(fragment|context)$")
        message(FATAL_ERROR "${markdown}: unknown marker <!-- ctnn: ${marker} -->")
      endif()
    endif()

    string(SUBSTRING "${text}" 0 ${fence} head)
    string(REGEX MATCHALL "\n" newlines "${head}")
    list(LENGTH newlines line)
    math(EXPR line "${line} + 1")

    math(EXPR n "${n} + 1")
    set(file "${out_dir}/${stem}_${n}.cpp")
    file(WRITE "${file}" "${body}")
    list(APPEND entries "${file}|${line}|${marker}|${arg}")
    math(EXPR pos "${body_start} + ${close} + 3")
    if(pos GREATER_EQUAL text_length)
      break()
    endif()
  endwhile()
  set(${out_var} "${entries}" PARENT_SCOPE)
endfunction()
