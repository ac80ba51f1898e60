/// @file im2col.hpp
/// im2col and col2im: a convolution becomes one GEMM by copying, for every
/// filter tap (c, ky, kx), the input pixels it meets at each output position
/// into one row of a [C·F·F, Ho·Wo] matrix (zeros where the tap falls in the
/// padding); col2im adds such a matrix back into the image (the data
/// gradient). Each size is a compile-time constant (`fixed<N>`, or the
/// template-argument form `im2col<C, H, W, F, S, P, D, Ho, Wo>(x, col)` of
/// the static graph), so the row bounds are constants, or a run-time integer
/// (the runtime-graph twin), with the same code serving both.
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include "ctnn/kernels/simd.hpp"

namespace ctnn::kernels {

namespace detail::im2col {
/// The output positions o in [0, n_out) whose input o·S + off lies in [0, n_in).
struct span {
  std::size_t lo, hi;
};
constexpr span valid(std::ptrdiff_t off, std::size_t n_in, std::size_t n_out, std::size_t s) {
  const std::ptrdiff_t S = std::ptrdiff_t(s);
  const std::ptrdiff_t lo = off >= 0 ? 0 : (-off + S - 1) / S;
  const std::ptrdiff_t last = std::ptrdiff_t(n_in) - 1 - off;  // o·S ≤ last
  const std::ptrdiff_t hi = last < 0 ? 0 : std::min<std::ptrdiff_t>(std::ptrdiff_t(n_out), last / S + 1);
  return {std::size_t(std::min(lo, hi)), std::size_t(hi)};
}
/// Calls f(std::true_type) when the stride is 1 (rows are contiguous on both
/// sides), f(std::false_type) otherwise: at compile time for a static
/// stride, once per call (not per row) for a run-time one.
template <extent SS, class F>
inline void with_unit_stride(SS s, F&& f) {
  if constexpr (is_static_extent_v<SS>) f(std::bool_constant<extent_value(SS{}) == 1>{});
  else if (s == 1) f(std::true_type{});
  else f(std::false_type{});
}
}  // namespace detail::im2col

/// col[(c·F + ky)·F + kx][oy·Wo + ox] = x[c][oy·S − P + ky·D][ox·S − P + kx·D] (0 outside).
template <extent SC, extent SH, extent SW, extent SF, extent SS, extent SP, extent SD, extent SHo, extent SWo,
          class T>
inline void im2col(SC sc, SH sh, SW sw, SF sf, SS ss, SP sp, SD sd, SHo sho, SWo swo, const T* x, T* col) {
  using detail::im2col::valid;
  const std::size_t C = extent_value(sc), H = extent_value(sh), W = extent_value(sw), F = extent_value(sf),
                    S = extent_value(ss), P = extent_value(sp), D = extent_value(sd), Ho = extent_value(sho),
                    Wo = extent_value(swo);
  detail::im2col::with_unit_stride(ss, [&](auto unit) {
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t ky = 0; ky < F; ++ky) {
        const std::ptrdiff_t offy = std::ptrdiff_t(ky * D) - std::ptrdiff_t(P);
        const auto ys = valid(offy, H, Ho, S);
        for (std::size_t kx = 0; kx < F; ++kx) {
          const std::ptrdiff_t offx = std::ptrdiff_t(kx * D) - std::ptrdiff_t(P);
          const auto xs = valid(offx, W, Wo, S);
          T* row = col + ((c * F + ky) * F + kx) * (Ho * Wo);
          std::fill(row, row + ys.lo * Wo, T(0));
          for (std::size_t oy = ys.lo; oy < ys.hi; ++oy) {
            T* r = row + oy * Wo;
            const T* xr = x + (c * H + std::size_t(std::ptrdiff_t(oy * S) + offy)) * W;
            std::fill(r, r + xs.lo, T(0));
            if constexpr (decltype(unit)::value) {
              // Rows are short (LeNet's are 8 and 24 values): vector copies
              // inline, not a call to memmove per row.
              map(xs.hi - xs.lo, r + xs.lo, [](auto v) { return v; }, xr + std::ptrdiff_t(xs.lo) + offx);
            } else {
              for (std::size_t ox = xs.lo; ox < xs.hi; ++ox) r[ox] = xr[std::ptrdiff_t(ox * S) + offx];
            }
            std::fill(r + xs.hi, r + Wo, T(0));
          }
          std::fill(row + ys.hi * Wo, row + Ho * Wo, T(0));
        }
      }
  });
}

/// im2col's matrix transposed, written a row at a time:
/// row[oy·Wo + ox][(c·F + ky)·F + kx] = x[c][oy·S − P + ky·D][ox·S − P + kx·D]
/// (0 outside). The weight gradient dY·colᵀ becomes dY·row, a product that
/// reads both operands in place instead of transposing col for it.
template <extent SC, extent SH, extent SW, extent SF, extent SS, extent SP, extent SD, extent SHo, extent SWo,
          class T>
inline void im2row(SC sc, SH sh, SW sw, SF sf, SS ss, SP sp, SD sd, SHo sho, SWo swo, const T* x, T* row) {
  using detail::im2col::valid;
  const std::size_t C = extent_value(sc), H = extent_value(sh), W = extent_value(sw), F = extent_value(sf),
                    S = extent_value(ss), P = extent_value(sp), D = extent_value(sd), Ho = extent_value(sho),
                    Wo = extent_value(swo);
  for (std::size_t oy = 0; oy < Ho; ++oy)
    for (std::size_t ox = 0; ox < Wo; ++ox) {
      // The taps of this output position that fall inside the image.
      const std::ptrdiff_t y0 = std::ptrdiff_t(oy * S) - std::ptrdiff_t(P),
                           x0 = std::ptrdiff_t(ox * S) - std::ptrdiff_t(P);
      const auto ks = valid(x0, W, F, D);
      const auto kys = valid(y0, H, F, D);
      T* r = row + (oy * Wo + ox) * (C * F * F);
      for (std::size_t c = 0; c < C; ++c)
        for (std::size_t ky = 0; ky < F; ++ky, r += F) {
          if (ky < kys.lo || ky >= kys.hi) {
            std::fill(r, r + F, T(0));
            continue;
          }
          const T* xr = x + (c * H + std::size_t(y0 + std::ptrdiff_t(ky * D))) * W;
          for (std::size_t kx = 0; kx < ks.lo; ++kx) r[kx] = T(0);
          for (std::size_t kx = ks.lo; kx < ks.hi; ++kx) r[kx] = xr[x0 + std::ptrdiff_t(kx * D)];
          for (std::size_t kx = ks.hi; kx < F; ++kx) r[kx] = T(0);
        }
    }
}

/// The adjoint of im2col: dx (= or +=) the sum, over every tap, of the
/// column entries that read each input pixel.
template <bool Accumulate, extent SC, extent SH, extent SW, extent SF, extent SS, extent SP, extent SD, extent SHo,
          extent SWo, class T>
inline void col2im(SC sc, SH sh, SW sw, SF sf, SS ss, SP sp, SD sd, SHo sho, SWo swo, const T* col, T* dx) {
  using detail::im2col::valid;
  const std::size_t C = extent_value(sc), H = extent_value(sh), W = extent_value(sw), F = extent_value(sf),
                    S = extent_value(ss), P = extent_value(sp), D = extent_value(sd), Ho = extent_value(sho),
                    Wo = extent_value(swo);
  if constexpr (!Accumulate) std::fill(dx, dx + C * H * W, T(0));
  detail::im2col::with_unit_stride(ss, [&](auto unit) {
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t ky = 0; ky < F; ++ky) {
        const std::ptrdiff_t offy = std::ptrdiff_t(ky * D) - std::ptrdiff_t(P);
        const auto ys = valid(offy, H, Ho, S);
        for (std::size_t kx = 0; kx < F; ++kx) {
          const std::ptrdiff_t offx = std::ptrdiff_t(kx * D) - std::ptrdiff_t(P);
          const auto xs = valid(offx, W, Wo, S);
          const T* row = col + ((c * F + ky) * F + kx) * (Ho * Wo);
          for (std::size_t oy = ys.lo; oy < ys.hi; ++oy) {
            const T* r = row + oy * Wo;
            T* dr = dx + (c * H + std::size_t(std::ptrdiff_t(oy * S) + offy)) * W;
            if constexpr (decltype(unit)::value) {
              // Contiguous on both sides: one vectorized add.
              T* d = dr + std::ptrdiff_t(xs.lo) + offx;
              map_add(xs.hi - xs.lo, d, [](auto v) { return v; }, r + xs.lo);
            } else {
              for (std::size_t ox = xs.lo; ox < xs.hi; ++ox) dr[std::ptrdiff_t(ox * S) + offx] += r[ox];
            }
          }
        }
      }
  });
}

/// The sum of n values (a bias gradient over one channel's plane).
template <extent SN, class T>
inline T sum(SN sn, const T* p) {
  const std::size_t N = extent_value(sn);
  constexpr std::size_t L = lanes<T>;
  vec<T> s0(T(0)), s1(T(0));
  // Loop bounds computed up front: with N a multiple of L, g++ 12 otherwise
  // warns about the (empty) scalar tail (-Waggressive-loop-optimizations).
  const std::size_t pairs_end = N / (2 * L) * (2 * L), vec_end = N / L * L;
  for (std::size_t i = 0; i < pairs_end; i += 2 * L) {
    s0 += vec<T>::load_unaligned(p + i);
    s1 += vec<T>::load_unaligned(p + i + L);
  }
  if (vec_end > pairs_end) s0 += vec<T>::load_unaligned(p + pairs_end);
  T t = xsimd::hadd(s0 + s1);
  for (std::size_t i = vec_end; i < N; ++i) t += p[i];
  return t;
}

// --- the static graph's spelling: every size a template argument ----------------

template <std::size_t C, std::size_t H, std::size_t W, std::size_t F, std::size_t S, std::size_t P, std::size_t D,
          std::size_t Ho, std::size_t Wo, class T>
inline void im2col(const T* x, T* col) {
  im2col(fixed<C>{}, fixed<H>{}, fixed<W>{}, fixed<F>{}, fixed<S>{}, fixed<P>{}, fixed<D>{}, fixed<Ho>{}, fixed<Wo>{},
         x, col);
}
template <std::size_t C, std::size_t H, std::size_t W, std::size_t F, std::size_t S, std::size_t P, std::size_t D,
          std::size_t Ho, std::size_t Wo, class T>
inline void im2row(const T* x, T* row) {
  im2row(fixed<C>{}, fixed<H>{}, fixed<W>{}, fixed<F>{}, fixed<S>{}, fixed<P>{}, fixed<D>{}, fixed<Ho>{}, fixed<Wo>{},
         x, row);
}
template <bool Accumulate, std::size_t C, std::size_t H, std::size_t W, std::size_t F, std::size_t S, std::size_t P,
          std::size_t D, std::size_t Ho, std::size_t Wo, class T>
inline void col2im(const T* col, T* dx) {
  col2im<Accumulate>(fixed<C>{}, fixed<H>{}, fixed<W>{}, fixed<F>{}, fixed<S>{}, fixed<P>{}, fixed<D>{}, fixed<Ho>{},
                     fixed<Wo>{}, col, dx);
}
template <std::size_t N, class T>
inline T sum(const T* p) {
  return sum(fixed<N>{}, p);
}

}  // namespace ctnn::kernels
