/// @file convolution.hpp
/// The convolution's im2col algorithm, written once for the static conv2d
/// (every size a `fixed<N>`) and the runtime-graph twin (every size a
/// std::size_t): the forward splits the batch over the team with one im2col
/// matrix per thread, which stays in cache; the weight gradient multiplies
/// dY by im2row (im2col transposed, rebuilt from the input) and sums the
/// batch as two fixed halves, so its bits do not depend on the thread count;
/// the data gradient is Wᵀ·dY through col2im, one column matrix per thread.
#pragma once

#include <cstddef>
#include <type_traits>

#include "ctnn/kernels/gemm.hpp"
#include "ctnn/kernels/im2col.hpp"
#include "ctnn/kernels/parallel_samples.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/kernels/winograd.hpp"

namespace ctnn::kernels::conv {

/// a·b and a/b of two sizes: static when both are.
template <extent A, extent B>
constexpr auto times(A a, B b) {
  if constexpr (is_static_extent_v<A> && is_static_extent_v<B>) return fixed<extent_value(A{}) * extent_value(B{})>{};
  else return extent_value(a) * extent_value(b);
}
template <extent A, extent B>
constexpr auto over(A a, B b) {
  if constexpr (is_static_extent_v<A> && is_static_extent_v<B>) return fixed<extent_value(A{}) / extent_value(B{})>{};
  else return extent_value(a) / extent_value(b);
}

/// A convolution's sizes: input [c, h, w], `out` channels, f×f filters with
/// stride, padding and dilation, `groups`, output planes ho × wo.
template <extent SC, extent SH, extent SW, extent SO, extent SF, extent SS, extent SP, extent SD, extent SG,
          extent SHo, extent SWo>
struct geometry {
  SC c;
  SH h;
  SW w;
  SO out;
  SF f;
  SS stride;
  SP padding;
  SD dilation;
  SG groups;
  SHo ho;
  SWo wo;

  static constexpr bool all_static = (is_static_extent_v<SC> && is_static_extent_v<SH> && is_static_extent_v<SW> &&
                                      is_static_extent_v<SO> && is_static_extent_v<SF> && is_static_extent_v<SS> &&
                                      is_static_extent_v<SP> && is_static_extent_v<SD> && is_static_extent_v<SG> &&
                                      is_static_extent_v<SHo> && is_static_extent_v<SWo>);

  constexpr auto in_group() const { return over(c, groups); }               // input channels per group
  constexpr auto out_group() const { return over(out, groups); }            // output channels per group
  constexpr auto inner() const { return times(in_group(), times(f, f)); }   // the GEMMs' inner size K
  constexpr auto plane() const { return times(h, w); }
  constexpr auto out_plane() const { return times(ho, wo); }
  constexpr auto in_size() const { return times(c, plane()); }              // one sample's input
  constexpr auto out_size() const { return times(out, out_plane()); }       // one sample's output
  constexpr auto col_size() const { return times(inner(), out_plane()); }   // one group's im2col matrix
  /// A 1×1 window moved by 1 without padding: the input is its own im2col matrix.
  constexpr bool direct() const {
    return extent_value(f) == 1 && extent_value(stride) == 1 && extent_value(padding) == 0;
  }
  constexpr double multiply_adds() const {
    return double(extent_value(out)) * double(extent_value(out_plane())) * double(extent_value(inner()));
  }
};

template <extent SC, extent SH, extent SW, extent SO, extent SF, extent SS, extent SP, extent SD, extent SG,
          extent SHo, extent SWo>
constexpr auto make_geometry(SC c, SH h, SW w, SO out, SF f, SS s, SP p, SD d, SG g, SHo ho, SWo wo) {
  return geometry<SC, SH, SW, SO, SF, SS, SP, SD, SG, SHo, SWo>{c, h, w, out, f, s, p, d, g, ho, wo};
}

/// A condition on the sizes: a std::bool_constant when the geometry and the
/// batch are static (the other branch is never instantiated), else a bool.
template <class Geo, extent SB, class Condition>
constexpr auto decide(const Geo& g, SB batch, Condition) {
  if constexpr (Geo::all_static && is_static_extent_v<SB>) return std::bool_constant<Condition{}(Geo{}, SB{})>{};
  else return Condition{}(g, batch);
}
template <class Geo, class Condition>
constexpr auto decide(const Geo& g, Condition) {
  return decide(g, fixed<1>{}, [](const auto& q, auto) { return Condition{}(q); });
}
template <class F>
inline void branch(bool c, F&& f) {
  if (c) f(std::true_type{});
  else f(std::false_type{});
}
template <bool C, class F>
inline void branch(std::bool_constant<C> c, F&& f) {
  f(c);
}

/// A size computed from the geometry: a fixed<N> when the geometry is
/// static (so the products it sizes are specialized), else a std::size_t.
template <class Geo, class Size>
constexpr auto derive(const Geo& g, Size) {
  if constexpr (Geo::all_static) return fixed<Size{}(Geo{})>{};
  else return Size{}(g);
}

// --- Winograd F(2×2, 5×5) (kernels/winograd.hpp) -----------------------------------
//
// For 5×5 windows moved by 1 without padding, dilation or groups, an even
// output and enough channels on both sides to fill its 36 products, at
// batches of 8 or more; otherwise, and for batch-1 inference, im2col and
// GEMM. The samples go through in blocks of about 32 tiles, whose
// transformed inputs and products stay in cache.

template <class Geo>
constexpr bool winograd_shape(const Geo& g) {
  return extent_value(g.f) == 5 && extent_value(g.stride) == 1 && extent_value(g.padding) == 0 &&
         extent_value(g.dilation) == 1 && extent_value(g.groups) == 1 && extent_value(g.ho) % 2 == 0 &&
         extent_value(g.wo) % 2 == 0 && extent_value(g.c) >= 8 && extent_value(g.out) >= 8;
}
/// Tiles per sample rounded up to 16 (at least any vector's padded count).
template <class Geo>
constexpr std::size_t winograd_tiles(const Geo& g) {
  return (extent_value(g.ho) / 2 * (extent_value(g.wo) / 2) + 15) / 16 * 16;
}
/// Samples per block: about 32 tiles.
template <class Geo>
constexpr std::size_t winograd_block(const Geo& g) {
  const std::size_t t = winograd_tiles(g);
  return t == 0 || t >= 32 ? 1 : 32 / t;
}
/// Whether a batch takes Winograd's path (even halves of whole blocks).
template <class Geo, extent SB>
constexpr bool uses_winograd(const Geo& g, SB batch) {
  const std::size_t b = extent_value(batch);
  return winograd_shape(g) && b >= 8 && b % (2 * winograd_block(g)) == 0;
}

/// Scratch per sample: one im2col matrix per group (used one per thread);
/// or for Winograd, a block's transformed inputs and products per thread and
/// an eighth of the transformed filters.
template <class Geo>
constexpr std::size_t scratch_per_sample(const Geo& g) {
  const std::size_t col = g.direct() ? 0 : extent_value(g.groups) * extent_value(g.col_size());
  const std::size_t c = extent_value(g.c), o = extent_value(g.out);
  const std::size_t wino =
      winograd_shape(g) ? winograd::positions * ((c + o) * winograd_tiles(g) + (o * c + 7) / 8) : 0;
  return col > wino ? col : wino;
}
/// Backward room per sample: a column gradient, or a half's weight gradient
/// and im2row rows (see weight_gradient); for Winograd, each half's dM, V
/// and dV of one block and a quarter of the filters' size for each half's dU.
template <class Geo>
constexpr std::size_t room_per_sample(const Geo& g) {
  if (g.direct()) return 0;
  const std::size_t c = extent_value(g.c), o = extent_value(g.out), col = extent_value(g.col_size());
  const std::size_t wino =
      winograd_shape(g) ? winograd::positions * ((2 * c + o) * winograd_tiles(g) + (o * c + 3) / 4) : 0;
  return col > wino ? col : wino;
}

/// Winograd's sizes for scalar type T: samples per block, tiles per sample
/// padded to whole vectors, and a block's columns (static when the
/// geometry is).
template <class T, class Geo>
constexpr auto winograd_block_extent(const Geo& g) {
  return derive(g, [](const auto& q) { return winograd_block(q); });
}
template <class T, class Geo>
constexpr auto winograd_padded_tiles(const Geo& g) {
  return derive(g, [](const auto& q) { return winograd::padded_tiles<T>(extent_value(q.ho), extent_value(q.wo)); });
}

/// y_b = W ∗ x_b by Winograd, a block of samples at a time on the team, then
/// epilogue(y_b). `scratch` holds scratch_per_sample values per sample: the
/// transformed filters U, then per thread a block's V and M.
template <class Geo, extent SB, class T, class Epilogue>
inline void winograd_forward(const Geo& g, SB batch, const T* x, const T* w, T* scratch, T* y,
                             Epilogue&& epilogue) {
  constexpr std::size_t X = winograd::positions;
  const auto block = winograd_block_extent<T>(g);
  const auto tp = winograd_padded_tiles<T>(g);
  const auto n = times(block, tp);
  const auto blocks = over(batch, block);
  const std::size_t C = extent_value(g.c), Out = extent_value(g.out), v_size = X * C * extent_value(n),
                    m_size = X * Out * extent_value(n), u_size = X * Out * C;
  T* u = scratch;
  winograd::transform_filters(Out * C, w, u);
  for_each_sample(blocks, g.multiply_adds() * double(extent_value(block)), [&](std::size_t blk) {
    T* v = scratch + u_size + sample_slot(blocks) * (v_size + m_size);
    T* m = v + v_size;
    for (std::size_t s = 0; s < extent_value(block); ++s)
      winograd::transform_input(g.c, g.h, g.w, g.ho, g.wo,
                                x + (blk * extent_value(block) + s) * extent_value(g.in_size()), v, n,
                                s * extent_value(tp));
    for (std::size_t q = 0; q < X; ++q)
      gemm_nn(g.out, n, g.c, u + q * Out * C, v + q * C * extent_value(n), m + q * Out * extent_value(n));
    for (std::size_t s = 0; s < extent_value(block); ++s) {
      T* ys = y + (blk * extent_value(block) + s) * extent_value(g.out_size());
      winograd::transform_output(g.out, g.ho, g.wo, m, n, s * extent_value(tp), ys);
      epilogue(ys);
    }
  });
}

/// The adjoint of winograd_forward, a block at a time: dM from the output
/// gradient, V again from the input, dU[ξ] += dM[ξ]·V[ξ]ᵀ (the filters'
/// gradient, through Gᵀ·dU·G) and dV[ξ] = U[ξ]ᵀ·dM[ξ] (the input's, through
/// B·dV·Bᵀ). The batch's two halves sum their dU apart, on two threads when
/// there are, in a fixed split: the bits do not depend on the thread count.
/// `u` is the forward's scratch (U first); `room` holds room_per_sample
/// values per sample. Each flag is a bool or a std::bool_constant: with the
/// dw flag, dw (= or, with dw_add, +=) the filters' gradient; with dx, dx
/// (= or +=) the input's.
template <class Geo, extent SB, class T, class DW, class DWAdd, class DX, class DXAdd>
inline void winograd_backward(const Geo& g, SB batch, const T* x, const T* u, const T* gy, T* dw, T* dx, T* room,
                              DW want_dw, DWAdd dw_add, DX want_dx, DXAdd dx_add) {
  constexpr std::size_t X = winograd::positions;
  const auto block = winograd_block_extent<T>(g);
  const auto tp = winograd_padded_tiles<T>(g);
  const auto n = times(block, tp);
  const std::size_t blocks = extent_value(batch) / extent_value(block), nn = extent_value(n),
                    C = extent_value(g.c), Out = extent_value(g.out), v_size = X * C * nn, m_size = X * Out * nn,
                    u_size = X * Out * C;
  both_halves(g.multiply_adds() * double(extent_value(batch)), [&](std::size_t h) {
    T* du = room + h * u_size;
    T* dm = room + 2 * u_size + h * (2 * v_size + m_size);
    T* v = dm + m_size;
    T* dv = v + v_size;
    for (std::size_t blk = h * blocks / 2; blk < (h + 1) * blocks / 2; ++blk) {
      const std::size_t b0 = blk * extent_value(block);
      for (std::size_t s = 0; s < extent_value(block); ++s)
        winograd::output_gradient(g.out, g.ho, g.wo, gy + (b0 + s) * extent_value(g.out_size()), dm, n,
                                  s * extent_value(tp));
      if (want_dw) {
        for (std::size_t s = 0; s < extent_value(block); ++s)
          winograd::transform_input(g.c, g.h, g.w, g.ho, g.wo, x + (b0 + s) * extent_value(g.in_size()), v, n,
                                    s * extent_value(tp));
        const bool first = blk == h * blocks / 2;
        for (std::size_t q = 0; q < X; ++q) {
          if (first) gemm_nt<false>(g.out, g.c, n, dm + q * Out * nn, v + q * C * nn, du + q * Out * C);
          else gemm_nt<true>(g.out, g.c, n, dm + q * Out * nn, v + q * C * nn, du + q * Out * C);
        }
      }
      if (want_dx) {
        for (std::size_t q = 0; q < X; ++q)
          gemm_tn(g.c, n, g.out, u + q * Out * C, dm + q * Out * nn, dv + q * C * nn);
        branch(dx_add, [&](auto add) {
          for (std::size_t s = 0; s < extent_value(block); ++s)
            winograd::input_gradient<decltype(add)::value>(g.c, g.h, g.w, g.ho, g.wo, dv, n, s * extent_value(tp),
                                                           dx + (b0 + s) * extent_value(g.in_size()));
        });
      }
    }
  });
  if (want_dw) {
    T* du = room;
    map(times(fixed<X>{}, times(g.out, g.c)), du, [](auto p, auto q) { return p + q; }, static_cast<const T*>(du),
        static_cast<const T*>(room + u_size));
    branch(dw_add, [&](auto add) { winograd::filter_gradient<decltype(add)::value>(Out * C, du, dw); });
  }
}

/// y_b = W ∗ x_b for every sample b, then epilogue(y_b) while y_b is in
/// cache. `cols` holds scratch_per_sample values per sample of the batch.
template <class Geo, extent SB, class T, class Epilogue>
inline void forward(const Geo& g, SB batch, const T* x, const T* w, T* cols, T* y, Epilogue&& epilogue) {
  const auto og = g.out_group();
  const auto k = g.inner();
  const auto hwo = g.out_plane();
  const auto direct = decide(g, [](const auto& q) { return q.direct(); });
  for_each_sample(batch, g.multiply_adds(), [&](std::size_t b) {
    const T* xb = x + b * extent_value(g.in_size());
    T* yb = y + b * extent_value(g.out_size());
    for (std::size_t gi = 0; gi < extent_value(g.groups); ++gi) {
      const T* col = xb + gi * extent_value(g.in_group()) * extent_value(g.plane());
      branch(direct, [&](auto is_direct) {
        if constexpr (!decltype(is_direct)::value) {
          T* c = cols + (sample_slot(batch) * extent_value(g.groups) + gi) * extent_value(g.col_size());
          im2col(g.in_group(), g.h, g.w, g.f, g.stride, g.padding, g.dilation, g.ho, g.wo, col, c);
          col = c;
        }
      });
      const std::size_t wg = gi * extent_value(og) * extent_value(k), yg = gi * extent_value(og) * extent_value(hwo);
      gemm_nn(og, hwo, k, w + wg, col, yb + yg);
    }
    epilogue(yb);
  });
}

/// The weight gradient of samples [b0, b1) written (Accumulate: added) into
/// dw: dY·colᵀ, with colᵀ rebuilt from the input into `rows` (col_size
/// values) by im2row, which costs less than transposing a kept col inside
/// the product (a direct convolution transposes its input).
template <bool Accumulate, class Geo, class T>
inline void weight_gradient_of(const Geo& g, const T* x, const T* gy, std::size_t b0, std::size_t b1, T* dw, T* rows) {
  const auto og = g.out_group();
  const auto k = g.inner();
  const auto hwo = g.out_plane();
  const auto direct = decide(g, [](const auto& q) { return q.direct(); });
  for (std::size_t b = b0; b < b1; ++b)
    for (std::size_t gi = 0; gi < extent_value(g.groups); ++gi) {
      const T* xg = x + b * extent_value(g.in_size()) + gi * extent_value(g.in_group()) * extent_value(g.plane());
      const T* gyg = gy + b * extent_value(g.out_size()) + gi * extent_value(og) * extent_value(hwo);
      T* dwg = dw + gi * extent_value(og) * extent_value(k);
      const bool first = b == b0 && !Accumulate;
      branch(direct, [&](auto is_direct) {
        if constexpr (decltype(is_direct)::value) {
          if (first) gemm_nt<false>(og, k, hwo, gyg, xg, dwg);
          else gemm_nt<true>(og, k, hwo, gyg, xg, dwg);
        } else {
          im2row(g.in_group(), g.h, g.w, g.f, g.stride, g.padding, g.dilation, g.ho, g.wo, xg, rows);
          if (first) gemm_nn<false>(og, k, hwo, gyg, rows, dwg);
          else gemm_nn<true>(og, k, hwo, gyg, rows, dwg);
        }
      });
    }
}

/// dW (Accumulate: dW +=) = Σ_b dY_b·im2col(x_b)ᵀ. The sum over the batch
/// runs as two halves, on two threads when there are, the second into
/// `room` (room_per_sample values per sample) followed by each half's
/// im2row rows, and is then added: the split is fixed, so the bits are the
/// same whatever the team size.
template <bool Accumulate, class Geo, extent SB, class T>
inline void weight_gradient(const Geo& g, SB batch, const T* x, const T* gy, T* dw, T* room) {
  const auto halves = decide(g, batch, [](const auto& q, auto b) {
    const std::size_t n = extent_value(b), k = extent_value(q.inner()), col = extent_value(q.col_size());
    return n >= 2 && !q.direct() && extent_value(q.out) * k + 2 * col <= n * col;
  });
  const std::size_t n = extent_value(batch);
  branch(halves, [&](auto split) {
    if constexpr (decltype(split)::value) {
      const std::size_t wsize = extent_value(g.out) * extent_value(g.inner());
      T* const rows = room + wsize;
      both_halves(g.multiply_adds() * double(n), [&](std::size_t h) {
        if (h == 0) weight_gradient_of<Accumulate>(g, x, gy, 0, n / 2, dw, rows);
        else weight_gradient_of<false>(g, x, gy, n / 2, n, room, rows + extent_value(g.col_size()));
      });
      map(times(g.out, g.inner()), dw, [](auto u, auto v) { return u + v; }, static_cast<const T*>(dw),
          static_cast<const T*>(room));
    } else {
      weight_gradient_of<Accumulate>(g, x, gy, 0, n, dw, room);
    }
  });
}

/// dx (Accumulate: dx +=) = col2im(Wᵀ·dY) for every sample; `room` holds
/// room_per_sample values per sample, one column gradient per thread.
template <bool Accumulate, class Geo, extent SB, class T>
inline void data_gradient(const Geo& g, SB batch, const T* w, const T* gy, T* dx, T* room) {
  const auto og = g.out_group();
  const auto k = g.inner();
  const auto hwo = g.out_plane();
  const auto direct = decide(g, [](const auto& q) { return q.direct(); });
  for_each_sample(batch, g.multiply_adds(), [&](std::size_t b) {
    for (std::size_t gi = 0; gi < extent_value(g.groups); ++gi) {
      const T* wg = w + gi * extent_value(og) * extent_value(k);
      const T* gyg = gy + b * extent_value(g.out_size()) + gi * extent_value(og) * extent_value(hwo);
      T* dxg = dx + b * extent_value(g.in_size()) + gi * extent_value(g.in_group()) * extent_value(g.plane());
      branch(direct, [&](auto is_direct) {
        if constexpr (decltype(is_direct)::value) {
          gemm_tn<Accumulate>(k, hwo, og, wg, gyg, dxg);
        } else {
          T* dcol = room + sample_slot(batch) * extent_value(g.col_size());  // one per thread: stays in cache
          gemm_tn(k, hwo, og, wg, gyg, dcol);
          col2im<Accumulate>(g.in_group(), g.h, g.w, g.f, g.stride, g.padding, g.dilation, g.ho, g.wo, dcol, dxg);
        }
      });
    }
  });
}

/// db (Accumulate: db +=) = the sum of dY over each channel's planes.
template <bool Accumulate, class Geo, extent SB, class T>
inline void bias_gradient(const Geo& g, SB batch, const T* gy, T* db) {
  for (std::size_t c = 0; c < extent_value(g.out); ++c) {
    T s = 0;
    for (std::size_t b = 0; b < extent_value(batch); ++b)
      s += sum(g.out_plane(), gy + b * extent_value(g.out_size()) + c * extent_value(g.out_plane()));
    db[c] = Accumulate ? db[c] + s : s;
  }
}

}  // namespace ctnn::kernels::conv
