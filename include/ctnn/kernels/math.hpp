/// @file math.hpp
/// Elementwise functions on float vectors, faster than xsimd 8.1's general
/// versions where a layer's epilogue spends its time: tanh, and the
/// logistic function from it.
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "ctnn/kernels/simd.hpp"

namespace ctnn::kernels {

namespace detail {

/// tanh|x| on 32 intervals of |x|, one polynomial of degree 5 each in
/// t = |x| − (the interval's start): interval 0 is [0, 1/8) (odd: t, t³, t⁵
/// only, so tiny |x| keep full relative precision), intervals 1 to 28 split
/// each binade from 1/8 to 16 in four, whose starts are |x| with all but two
/// mantissa bits cleared (so t is exact), and 29 to 31 hold 1. Coefficient
/// k of interval i is tanh_poly[k][i]. Fitted in double (weighted least
/// squares on the relative error), each coefficient rounded to float in
/// turn and the higher ones refitted; 1.65 ulp at worst in float.
alignas(64) inline constexpr float tanh_poly[6][32] = {
      {
        0x0p+0f, 0x1.fd5992p-4f, 0x1.3d6bc8p-3f, 0x1.7b8ffap-3f,
        0x1.b8fd04p-3f, 0x1.f597eap-3f, 0x1.35f98ap-2f, 0x1.6ef53ep-2f,
        0x1.a5729ep-2f, 0x1.d9353ep-2f, 0x1.1bf47ep-1f, 0x1.45323ep-1f,
        0x1.68665p-1f, 0x1.85efacp-1f, 0x1.b2523cp-1f, 0x1.cf6f98p-1f,
        0x1.e1fbfap-1f, 0x1.ed9506p-1f, 0x1.f92582p-1f, 0x1.fd77d2p-1f,
        0x1.ff112cp-1f, 0x1.ffa818p-1f, 0x1.fff41ap-1f, 0x1.fffe64p-1f,
        0x1.ffffc8p-1f, 0x1.fffff8p-1f, 0x1p+0f, 0x1p+0f,
        0x1p+0f, 0x1p+0f, 0x1p+0f, 0x1p+0f,
      },
      {
        0x1p+0f, 0x1.f81562p-1f, 0x1.f3b32cp-1f, 0x1.ee6942p-1f,
        0x1.e842d8p-1f, 0x1.e149c2p-1f, 0x1.d1157ep-1f, 0x1.be3facp-1f,
        0x1.a9464ap-1f, 0x1.92a91ap-1f, 0x1.62853p-1f, 0x1.3173e8p-1f,
        0x1.02508p-1f, 0x1.ae0d7p-2f, 0x1.1f24f8p-2f, 0x1.7215c8p-3f,
        0x1.d22b62p-4f, 0x1.21620ap-4f, 0x1.b3afe6p-6f, 0x1.433f4ep-7f,
        0x1.dd44b6p-9f, 0x1.5f3432p-10f, 0x1.7be02ep-13f, 0x1.98d7a4p-16f,
        0x1.cdf9bep-19f, 0x1.379f6p-21f, -0x1.1bc428p-25f, -0x1.4ca192p-31f,
        -0x1.85ea5ap-37f, 0x0p+0f, 0x0p+0f, 0x0p+0f,
      },
      {
        0x0p+0f, -0x1.f6d41cp-4f, -0x1.353924p-3f, -0x1.6cbc64p-3f,
        -0x1.a4b0ep-3f, -0x1.d7b136p-3f, -0x1.1998b2p-2f, -0x1.3fca8ep-2f,
        -0x1.5e74dcp-2f, -0x1.7416c4p-2f, -0x1.8961b8p-2f, -0x1.841702p-2f,
        -0x1.6bd1bep-2f, -0x1.47839ap-2f, -0x1.e72962p-3f, -0x1.4ef1a2p-3f,
        -0x1.b6bd1p-4f, -0x1.16e86p-4f, -0x1.adbaecp-6f, -0x1.411852p-7f,
        -0x1.dcbb3ap-9f, -0x1.5c027ap-10f, -0x1.75ebeep-13f, -0x1.870b06p-16f,
        -0x1.09cc5ep-18f, -0x1.ad65ep-21f, 0x1.ce2e4ap-24f, 0x1.0ee26cp-29f,
        0x1.3d88cap-35f, 0x0p+0f, 0x0p+0f, 0x0p+0f,
      },
      {
        -0x1.5553e4p-2f, -0x1.274978p-2f, -0x1.4a67dap-2f, -0x1.69d0bap-2f,
        -0x1.12c9dap-2f, -0x1.03aa9ap-2f, -0x1.bfc50cp-3f, -0x1.70e80cp-3f,
        -0x1.f33684p-4f, -0x1.86df4p-4f, -0x1.f08598p-7f, 0x1.619baep-5f,
        0x1.5b428p-4f, 0x1.a8e072p-4f, 0x1.bc4882p-4f, 0x1.6735e6p-4f,
        0x1.00cca4p-4f, 0x1.57ccb6p-5f, 0x1.155164p-6f, 0x1.a16808p-8f,
        0x1.3cb84cp-9f, 0x1.b85f38p-11f, 0x1.ceb8dep-14f, 0x1.b5c6dcp-17f,
        0x1.e453e6p-19f, 0x1.6524f4p-21f, -0x1.11e098p-23f, -0x1.410a1p-29f,
        -0x1.785398p-35f, 0x0p+0f, 0x0p+0f, 0x0p+0f,
      },
      {
        0x0p+0f, -0x1.6f069cp-1f, 0x1.8a5a8p-1f, 0x1.197ab2p+1f,
        -0x1.5c803cp-5f, 0x1.5e9c3cp-4f, 0x1.2679aep-3f, 0x1.8bd446p-3f,
        -0x1.e8b708p-5f, 0x1.67b29ap-3f, 0x1.de0c2ep-4f, 0x1.6b762ap-4f,
        0x1.2addf4p-5f, 0x1.9e694p-6f, -0x1.dab714p-7f, -0x1.99c99ap-6f,
        -0x1.744e88p-6f, -0x1.1c95dap-6f, -0x1.f2a4cap-8f, -0x1.73d1d4p-9f,
        -0x1.2f1eep-10f, -0x1.636eccp-12f, -0x1.63ffdcp-15f, -0x1.02edbap-18f,
        -0x1.3d691ap-19f, -0x1.352ebep-22f, 0x1.1560a6p-24f, 0x1.452468p-30f,
        0x1.7d22e2p-36f, 0x0p+0f, 0x0p+0f, 0x0p+0f,
      },
      {
        0x1.0eb284p-3f, 0x1.2f3398p+3f, -0x1.f33218p+2f, -0x1.858986p+4f,
        0x1.07a294p+1f, 0x1.871eecp-2f, 0x1.f1fa7ap-4f, -0x1.173478p-3f,
        0x1.54642ep+0f, -0x1.1ba4e4p-4f, 0x1.64d848p-9f, -0x1.0025b8p-5f,
        0x1.fb2aa6p-7f, -0x1.1948cap-5f, -0x1.5768f6p-7f, -0x1.2ffbd2p-15f,
        0x1.9c1d76p-9f, 0x1.050732p-8f, 0x1.0116cp-9f, 0x1.6b9818p-11f,
        0x1.59794ep-12f, 0x1.17dc1cp-14f, 0x1.049fbap-17f, 0x1.886cacp-22f,
        0x1.82486ep-21f, 0x1.a291f6p-25f, -0x1.95b87ap-27f, -0x1.db9604p-33f,
        -0x1.16be96p-38f, 0x0p+0f, 0x0p+0f, 0x0p+0f,
      },
};

#if defined(__AVX512F__)

/// What the AVX-512 tanh reads besides x: each coefficient's two tables
/// (intervals 0-15 and 16-31) and the interval's offset.
struct tanh_constants {
  __m512 low[6], high[6];
  __m512i offset;
};

/// The constants as operands in memory: one tanh alone, where each is used
/// once and a load folded into its instruction costs nothing more.
inline tanh_constants tanh_constants_from_memory() {
  tanh_constants c;
  for (int k = 0; k < 6; ++k) {
    c.low[k] = _mm512_load_ps(tanh_poly[k]);
    c.high[k] = _mm512_load_ps(tanh_poly[k] + 16);
  }
  c.offset = _mm512_set1_epi32(495 << 21);
  return c;
}

/// The constants loaded once into registers, for several tanh in a row:
/// the empty asm makes each a register value, so the compiler cannot fold
/// the loads back into every use (GCC 12 folded six tables and the offset
/// of each tanh in a fused dense layer). A layer's weights keep the load
/// ports busy, each FMA reading one, and loads per vector queue behind them.
inline tanh_constants tanh_constants_in_registers() {
  tanh_constants c = tanh_constants_from_memory();
  for (int k = 0; k < 6; ++k) asm("" : "+v"(c.low[k]), "+v"(c.high[k]));
  asm("" : "+v"(c.offset));
  return c;
}

inline __m512 tanh(const tanh_constants& c, __m512 x) {
  const __m512 sign = _mm512_set1_ps(-0.0f);
  // vminps returns its second operand when either is NaN: NaN stays NaN.
  const __m512 ax = _mm512_min_ps(_mm512_set1_ps(15.5f), _mm512_andnot_ps(sign, x));
  const __m512i bits = _mm512_castps_si512(ax);
  // The interval: exponent and two mantissa bits less 495 (496 is 1/8),
  // interval 0 below 1/8. The 16-bit saturating subtract clamps at 0 in
  // one step: 495 << 21 has no bits in the low half.
  const __m512i i = _mm512_srli_epi32(_mm512_subs_epu16(bits, c.offset), 21);
  // Its start: |x| with the bits below those cleared, or 0 below 1/8. Taken
  // from |x| directly, not from the interval, so that t is ready when the
  // coefficients are (a compare into a mask register took 8 cycles here).
  const __m512i below_eighth = _mm512_srai_epi32(_mm512_sub_epi32(bits, _mm512_set1_epi32(0x3E000000)), 31);
  const __m512 start =
      _mm512_castsi512_ps(_mm512_andnot_si512(below_eighth, _mm512_and_si512(bits, _mm512_set1_epi32(-(1 << 21)))));
  const __m512 t = _mm512_sub_ps(ax, start);
  const auto a = [&](int k) { return _mm512_permutex2var_ps(c.low[k], i, c.high[k]); };
  const __m512 t2 = _mm512_mul_ps(t, t);
  const __m512 p01 = _mm512_fmadd_ps(t, a(1), a(0));
  const __m512 p23 = _mm512_fmadd_ps(t, a(3), a(2));
  const __m512 p45 = _mm512_fmadd_ps(t, a(5), a(4));
  const __m512 p = _mm512_fmadd_ps(t2, _mm512_fmadd_ps(t2, p45, p23), p01);
  return _mm512_or_ps(p, _mm512_and_ps(sign, x));
}

#endif

}  // namespace detail

/// tanh on a float vector, within 3 ulp of the exact value (tested over all
/// magnitudes), branch-free. With AVX-512: the interval of |x| from its
/// exponent and two mantissa bits, its six coefficients picked from two
/// registers each (vpermt2ps), and the degree-5 polynomial in Estrin's form:
/// a chain of dependent calls takes 9.9 ns per call where the form below
/// takes 16.4, which a recurrent cell's serial steps wait for.
/// |x| is capped at 15.5 (tanh is 1 in float from 9.01); NaN stays NaN.
///
/// Elsewhere: tanh|x| = E / (E + 2) with E = expm1(2|x|),
/// the sign restored at the end. expm1 reduces 2|x| = n·ln2 + r with
/// |r| ≤ ln2/2 (ln2 split in two so that n·ln2_hi is exact), evaluates
/// expm1(r) by its Taylor series to r⁷ (truncation below 2e-8 relative),
/// and scales: expm1(n·ln2 + r) = 2ⁿ·expm1(r) + (2ⁿ − 1). Unlike
/// 1 − 2/(e²ˣ + 1) this keeps full relative precision near 0. |x| is capped
/// at 9, where tanh is 1 in float; NaN stays NaN. (xsimd's tanh evaluates
/// two branches and a full exp: about twice the work.)
inline vec<float> tanh(vec<float> x) {
  using V = vec<float>;
#if defined(__AVX512F__)
  if constexpr (sizeof(V) == 64) return V(detail::tanh(detail::tanh_constants_from_memory(), x));
#endif
  using I = xsimd::batch<std::int32_t, typename V::arch_type>;
  const V ax = xsimd::min(V(9.0f), xsimd::abs(x));  // min(9, NaN) is NaN
  const V y = ax + ax;
  const V n = xsimd::nearbyint(ax * V(2.88539008177792682f));  // from ax, beside y: a step off the chain
  V r = kernels::fma(n, V(-0.693359375f), y);  // ln2_hi: 9 significant bits
  r = kernels::fma(n, V(2.12194440054690583e-4f), r);  // ln2 − ln2_hi
  // p = ½ + r/6 + r²/24 + r³/120 + r⁴/720 + r⁵/5040 in Estrin's form: three
  // FMAs deep instead of five, for the recurrent cells' serial tanh chains.
  const V r2 = r * r, r4 = r2 * r2;
  const V p01 = kernels::fma(r, V(1.0f / 6.0f), V(0.5f));
  const V p23 = kernels::fma(r, V(1.0f / 120.0f), V(1.0f / 24.0f));
  const V p45 = kernels::fma(r, V(1.0f / 5040.0f), V(1.0f / 720.0f));
  const V p = kernels::fma(r4, p45, kernels::fma(r2, p23, p01));
  const V em1 = kernels::fma(r2, p, r);  // expm1(r)
  const I ni = xsimd::batch_cast<std::int32_t>(n);  // n is a whole number in [0, 26]
  const V two_n = xsimd::bitwise_cast<V>((ni + I(127)) << 23);
  const V e = kernels::fma(two_n, em1, two_n - V(1.0f));
  const V t = e / (e + V(2.0f));
  return t | (x & V(-0.0f));
}

/// tanh of each of N float vectors, the same bits as tanh on each: with
/// AVX-512 the constants are loaded once for all of them.
template <std::size_t N>
inline void tanh_each(vec<float> (&v)[N]) {
#if defined(__AVX512F__)
  if constexpr (sizeof(vec<float>) == 64 && N > 1) {
    const detail::tanh_constants c = detail::tanh_constants_in_registers();
    for (std::size_t k = 0; k < N; ++k) v[k] = vec<float>(detail::tanh(c, v[k]));
    return;
  }
#endif
  for (std::size_t k = 0; k < N; ++k) v[k] = tanh(v[k]);
}

/// The logistic function on a float vector as ½ + ½·tanh(x/2), within
/// 2e-8 of the exact value. Every multiply-add is an explicit FMA, so the
/// result does not depend on how the compiler contracts a·b + c where it is
/// inlined (the recurrent cells need the same bits in every context).
inline vec<float> sigmoid(vec<float> x) {
  using V = vec<float>;
  return kernels::fma(V(0.5f), tanh(V(0.5f) * x), V(0.5f));
}

}  // namespace ctnn::kernels
