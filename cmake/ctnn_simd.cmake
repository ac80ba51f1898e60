# Chooses the x86-64 instruction set for the INTERFACE target ctnn::simd.
#
# The flags live on their own target rather than on ctnn::ctnn so that a
# consumer decides whether to build for the detected CPU (fast, not portable)
# or for baseline x86-64 (portable).
#
# CTNN_SIMD=auto probes the configuring machine once; the result is cached in
# CTNN_SIMD_DETECTED (delete it from the cache to probe again).

set(CTNN_SIMD "auto" CACHE STRING "Instruction set: auto|avx512|avx2|sse4|generic")
set_property(CACHE CTNN_SIMD PROPERTY STRINGS auto avx512 avx2 sse4 generic)
if(NOT CTNN_SIMD MATCHES "^(auto|avx512|avx2|sse4|generic)$")
  message(FATAL_ERROR "ctnn: CTNN_SIMD must be auto|avx512|avx2|sse4|generic, got '${CTNN_SIMD}'")
endif()

function(_ctnn_detect_simd out_var)
  if(DEFINED CACHE{CTNN_SIMD_DETECTED})
    set(${out_var} "${CTNN_SIMD_DETECTED}" PARENT_SCOPE)
    return()
  endif()
  # Built without -m flags: __builtin_cpu_supports asks the running CPU, not
  # the compiler target. On non-x86 it fails to compile and we fall back.
  set(probe [=[
#include <cstdio>
int main() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    std::puts("avx512");
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    std::puts("avx2");
  else if (__builtin_cpu_supports("sse4.2"))
    std::puts("sse4");
  else
    std::puts("generic");
  return 0;
}
]=])
  set(result generic)
  if(CMAKE_CROSSCOMPILING)
    message(STATUS "ctnn: cross-compiling, SIMD probe skipped")
  else()
    try_run(run_rc compile_ok
      SOURCE_FROM_CONTENT ctnn_simd_probe.cpp "${probe}"
      RUN_OUTPUT_VARIABLE run_out)
    if(compile_ok AND run_rc EQUAL 0)
      string(STRIP "${run_out}" result)
    else()
      message(STATUS "ctnn: SIMD probe failed, assuming generic")
    endif()
  endif()
  set(CTNN_SIMD_DETECTED "${result}" CACHE INTERNAL "Instruction set found by the SIMD probe")
  set(${out_var} "${result}" PARENT_SCOPE)
endfunction()

if(CTNN_SIMD STREQUAL "auto")
  _ctnn_detect_simd(CTNN_SIMD_SELECTED)
else()
  set(CTNN_SIMD_SELECTED "${CTNN_SIMD}")
endif()

# x86-64 micro-architecture levels: v4 = AVX-512 F/BW/DQ/VL/CD,
# v3 = AVX2/FMA/BMI2, v2 = SSE4.2/POPCNT.
set(_ctnn_simd_flags_avx512 -march=x86-64-v4)
set(_ctnn_simd_flags_avx2 -march=x86-64-v3)
set(_ctnn_simd_flags_sse4 -march=x86-64-v2)
set(_ctnn_simd_flags_generic "")
set(CTNN_SIMD_FLAGS ${_ctnn_simd_flags_${CTNN_SIMD_SELECTED}})

add_library(ctnn_simd INTERFACE)
add_library(ctnn::simd ALIAS ctnn_simd)
target_compile_options(ctnn_simd INTERFACE ${CTNN_SIMD_FLAGS})
target_compile_definitions(ctnn_simd INTERFACE "CTNN_SIMD_NAME=\"${CTNN_SIMD_SELECTED}\"")

message(STATUS "ctnn: SIMD instruction set: ${CTNN_SIMD_SELECTED} (CTNN_SIMD=${CTNN_SIMD}, flags: ${CTNN_SIMD_FLAGS})")
