/// @file recurrent.hpp
/// The recurrent cells (tanh RNN, LSTM, GRU) over a batch of sequences, one
/// direction at a time, in PyTorch's conventions: weights W_ih [G·H, D] and
/// W_hh [G·H, H], two biases b_ih and b_hh [G·H], gates in the order
/// i, f, g, o (LSTM) and r, z, n (GRU, with the reset gate applied to the
/// hidden product: n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))).
///
/// Forward keeps what backward through time reads, in a per-direction work
/// area the caller provides (`sequence_layout`):
///   gates [B·T, G·H]  first the input products x·W_ihᵀ, then the gates after
///                     their nonlinearity (LSTM: i, f, g, o; GRU: r, z, n)
///   h     [B, T+1, H] the hidden states, with the initial state in the row
///                     before the first step (row 0 forward, row T reversed)
///   c     [B, T+1, H] the LSTM's cell states, laid out as h
///   hn    [B·T, H]    the GRU's W_hn h + b_hn, which the reset gate scaled
///   q     [B, G·H]    the hidden product of the current step
/// so that the products over the whole sequence (x·W_ihᵀ forward; the weight
/// gradients and dx backward) are each one matrix product over B·T rows, and
/// only h·W_hhᵀ (forward) and dgates·W_hh (backward) run step by step.
///
/// Batches of at most three sequences (batch-1 inference) take every product
/// row by row, one time step at a time, through `row_products`: the same calls
/// a streaming cell makes, so that a sequence run through the network and the
/// same samples fed one step at a time give the same bits.
///
/// Sizes are `fixed<N>` (the static op) or run-time integers (a twin).
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "ctnn/kernels/gemm.hpp"
#include "ctnn/kernels/math.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/ops/activation_functions.hpp"

namespace ctnn::kernels::recurrent {

/// The three cells: how many gate blocks of H each has, and what forward
/// keeps besides the gates and h.
struct tanh_cell {
  static constexpr std::size_t gates = 1;
  static constexpr bool has_cell_state = false, keeps_hidden_n = false;
};
struct lstm_cell {
  static constexpr std::size_t gates = 4;
  static constexpr bool has_cell_state = true, keeps_hidden_n = false;
};
struct gru_cell {
  static constexpr std::size_t gates = 3;
  static constexpr bool has_cell_state = false, keeps_hidden_n = true;
};

template <class C>
inline constexpr bool is_cell_v =
    std::is_same_v<C, tanh_cell> || std::is_same_v<C, lstm_cell> || std::is_same_v<C, gru_cell>;

/// Rounded to whole cache lines of float, so each area starts aligned.
constexpr std::size_t round16(std::size_t n) { return (n + 15) / 16 * 16; }

/// Where one direction's areas lie in its work block, in elements, for a
/// batch of b sequences of t steps (per-sample sizes times b, so a layout
/// for b = 1 times the batch is the block's size).
template <class Cell>
struct sequence_layout {
  std::size_t gates = 0, h = 0, c = 0, hn = 0, q = 0, size = 0;
  constexpr sequence_layout(std::size_t b, std::size_t t, std::size_t hidden) {
    const std::size_t gh = Cell::gates * hidden;
    std::size_t at = 0;
    gates = at, at += b * round16(t * gh);
    h = at, at += b * round16((t + 1) * hidden);
    if (Cell::has_cell_state) c = at, at += b * round16((t + 1) * hidden);
    if (Cell::keeps_hidden_n) hn = at, at += b * round16(t * hidden);
    q = at, at += b * round16(gh);
    size = at;
  }
};

/// Backward's temporary area: the gate gradients of the input side [B·T, G·H]
/// and (GRU, whose hidden side differs) of the hidden side, and per sample
/// the gradient flowing to the previous step's h and c.
template <class Cell>
struct backward_layout {
  std::size_t dgates = 0, dgates_hidden = 0, dh_next = 0, dc_next = 0, size = 0;
  constexpr backward_layout(std::size_t b, std::size_t t, std::size_t hidden) {
    const std::size_t gh = Cell::gates * hidden;
    std::size_t at = 0;
    dgates = at, at += b * round16(t * gh);
    dgates_hidden = dgates;
    if (Cell::keeps_hidden_n) dgates_hidden = at, at += b * round16(t * gh);
    dh_next = at, at += b * round16(hidden);
    dc_next = at, at += b * round16(hidden);
    size = at;
  }
};

/// G·H, a fixed<> when H is one.
template <class Cell, extent SH>
constexpr auto gate_width(SH hidden) {
  if constexpr (is_static_extent_v<SH>) return fixed<Cell::gates * SH::value>{};
  else return Cell::gates * extent_value(hidden);
}

/// How far apart one sample's rows are from the next sample's, per area.
struct sample_strides {
  std::size_t gates, h, hn, row;
  constexpr sample_strides(std::size_t t, std::size_t hidden, std::size_t gh)
      : gates(round16(t * gh)), h(round16((t + 1) * hidden)), hn(round16(t * hidden)), row(round16(hidden)) {}
};

namespace detail {
template <class V>
inline V sigmoid(V x) {
  if constexpr (std::is_same_v<V, vec<float>>) return kernels::sigmoid(x);  // no contractible a·b + c inside
  else return act::sigmoid::apply(x);
}
template <class V>
inline V tanh(V x) { return act::tanh::apply(x); }
}  // namespace detail

namespace detail {
/// The tanh RNN's and the LSTM's step from their gates' pre-activations,
/// pre(o, io) for the block of gate rows at offset o: writes the gates after
/// their nonlinearity (over `gates`), h, and c (LSTM).
template <class Cell, extent SH, class T, class Pre>
inline void summed_cell(SH hidden, Pre&& pre, T* gates, const T* c_prev, T* h, T* c) {
  const std::size_t H = extent_value(hidden);
  if constexpr (std::is_same_v<Cell, tanh_cell>) {
    over_lanes<T>(hidden, [&](std::size_t j, auto io) { io.put(h + j, tanh(pre(j, io))); });
  } else {
    over_lanes<T>(hidden, [&](std::size_t j, auto io) {
      using V = vec<T>;
      const V i = sigmoid(pre(j, io)), f = sigmoid(pre(H + j, io)), g = tanh(pre(2 * H + j, io)),
              o = sigmoid(pre(3 * H + j, io));
      // Explicit FMAs: left to the compiler, a·b + c·d contracts differently
      // in different inlining contexts, and the streaming step must give
      // the bits of the sequence forward.
      const V cn = kernels::fma(f, io.get(c_prev + j), i * g);
      io.put(gates + j, i), io.put(gates + H + j, f), io.put(gates + 2 * H + j, g), io.put(gates + 3 * H + j, o);
      io.put(c + j, cn);
      io.put(h + j, o * tanh(cn));
    });
  }
}
}  // namespace detail

/// One cell step of one sample: p = x·W_ihᵀ and q = h_prev·W_hhᵀ (raw
/// products, G·H each), the biases, the previous state; writes the gates
/// after their nonlinearity (over p), h, and c (LSTM) or W_hn h + b_hn (GRU).
template <class Cell, extent SH, class T>
inline void cell_forward(SH hidden, T* p, const T* q, const T* b_ih, const T* b_hh, const T* h_prev,
                         const T* c_prev, T* h, T* c, T* hn) {
  const std::size_t H = extent_value(hidden);
  if constexpr (!std::is_same_v<Cell, gru_cell>) {
    detail::summed_cell<Cell>(
        hidden,
        [&](std::size_t o, auto io) {
          return (io.get(p + o) + io.get(b_ih + o)) + (io.get(q + o) + io.get(b_hh + o));
        },
        p, c_prev, h, c);
  } else {
    over_lanes<T>(hidden, [&](std::size_t j, auto io) {
      using V = vec<T>;
      auto sum = [&](std::size_t k) {
        const std::size_t o = k * H + j;
        return (io.get(p + o) + io.get(b_ih + o)) + (io.get(q + o) + io.get(b_hh + o));
      };
      const V r = detail::sigmoid(sum(0)), z = detail::sigmoid(sum(1));
      const V hidden_n = io.get(q + 2 * H + j) + io.get(b_hh + 2 * H + j);
      const V n = detail::tanh(kernels::fma(r, hidden_n, io.get(p + 2 * H + j) + io.get(b_ih + 2 * H + j)));
      io.put(p + j, r), io.put(p + H + j, z), io.put(p + 2 * H + j, n);
      io.put(hn + j, hidden_n);
      io.put(h + j, kernels::fma(z, io.get(h_prev + j), (V(T(1)) - z) * n));
    });
  }
  (void)h_prev, (void)hn;
}

/// One cell step backward for one sample. dh: the whole gradient reaching h
/// at this step. dc (LSTM): in, the gradient reaching c from the next step;
/// out, the gradient for c_prev. Writes the gate pre-activation gradients of
/// the input side (dg) and of the hidden side (dgh, GRU only: its n block
/// is scaled by r), and for the GRU the direct part dh·z of the gradient
/// for h_prev into dh_prev.
template <class Cell, extent SH, class T>
inline void cell_backward(SH hidden, const T* gates, const T* h, const T* h_prev, const T* c, const T* c_prev,
                          const T* hn, const T* dh, T* dc, T* dg, T* dgh, T* dh_prev) {
  const std::size_t H = extent_value(hidden);
  if constexpr (std::is_same_v<Cell, tanh_cell>) {
    over_lanes<T>(hidden, [&](std::size_t j, auto io) {
      using V = vec<T>;
      const V y = io.get(h + j);
      io.put(dg + j, io.get(dh + j) * (V(T(1)) - y * y));
    });
  } else if constexpr (std::is_same_v<Cell, lstm_cell>) {
    over_lanes<T>(hidden, [&](std::size_t j, auto io) {
      using V = vec<T>;
      const V i = io.get(gates + j), f = io.get(gates + H + j), g = io.get(gates + 2 * H + j),
              o = io.get(gates + 3 * H + j);
      const V tc = detail::tanh(io.get(c + j));
      const V d = io.get(dh + j);
      const V dcell = d * o * (V(T(1)) - tc * tc) + io.get(dc + j);
      io.put(dg + j, dcell * g * i * (V(T(1)) - i));
      io.put(dg + H + j, dcell * io.get(c_prev + j) * f * (V(T(1)) - f));
      io.put(dg + 2 * H + j, dcell * i * (V(T(1)) - g * g));
      io.put(dg + 3 * H + j, d * tc * o * (V(T(1)) - o));
      io.put(dc + j, dcell * f);
    });
  } else {
    over_lanes<T>(hidden, [&](std::size_t j, auto io) {
      using V = vec<T>;
      const V r = io.get(gates + j), z = io.get(gates + H + j), n = io.get(gates + 2 * H + j);
      const V d = io.get(dh + j);
      const V dn = d * (V(T(1)) - z) * (V(T(1)) - n * n);
      const V dz = d * (io.get(h_prev + j) - n) * z * (V(T(1)) - z);
      const V dr = dn * io.get(hn + j) * r * (V(T(1)) - r);
      io.put(dg + j, dr), io.put(dg + H + j, dz), io.put(dg + 2 * H + j, dn);
      io.put(dgh + j, dr), io.put(dgh + H + j, dz), io.put(dgh + 2 * H + j, dn * r);
      io.put(dh_prev + j, d * z);
    });
  }
  (void)h, (void)h_prev, (void)c, (void)c_prev, (void)hn, (void)dc, (void)dgh, (void)dh_prev;
}

/// One sample's products for one step, the way every batch-1 path computes
/// them: p = x·W_ihᵀ (when x is given) and q = h_prev·W_hhᵀ.
template <extent SGH, extent SD, extent SH, class T>
inline void row_products(SGH gh, SD d, SH hidden, const T* x, const T* w_ih, const T* h_prev, const T* w_hh, T* p,
                         T* q) {
  if (x) gemm_nt(fixed<1>{}, gh, d, x, w_ih, p);
  gemm_nt(fixed<1>{}, gh, hidden, h_prev, w_hh, q);
}

// --- one-sample steps from packed weights ------------------------------------------
// One sample's products are matrix-vector products: a dot product per gate
// row costs a horizontal sum per row, which for the small hidden sizes of
// real-time use (8 to 64) costs more than the multiplications. A copy of
// the weights transposed, Wᵀ [K, G·H], turns them into one broadcast and
// G·H/lanes vector FMAs per input element, with no horizontal sums. A layer
// small enough that the copy fits in 128 KB runs its one-sample steps from
// it: the streaming object keeps one, the batch-1 sequence forward packs one
// on its stack, and both call packed_weights::step, so they agree bit for
// bit.

/// A layer's weights packed for one-sample steps: W_ihᵀ and W_hhᵀ stacked,
/// [D + H, G·H], cut into blocks of 8 vectors of outputs, each block's rows
/// contiguous, so that a step reads the copy from start to end. The tanh RNN
/// and the LSTM, whose gates take the sum of both products, have one more
/// row first: b_ih + b_hh, where each output's FMA chain starts, so a step
/// adds no bias and keeps no separate products; the GRU, whose n gate scales
/// the hidden product alone, keeps them apart and adds its biases in the
/// cell.
template <class Cell, class T, std::size_t D, std::size_t H>
struct packed_weights {
  static constexpr bool summed = !std::is_same_v<Cell, gru_cell>;
  static constexpr std::size_t L = lanes<T>, gh = Cell::gates * H, vectors = (gh + L - 1) / L, block = 8,
                               blocks = (vectors + block - 1) / block, bias_rows = summed ? 1 : 0,
                               rows = bias_rows + D + H;
  /// Output vectors in block b, and where the block starts.
  static constexpr std::size_t block_vectors(std::size_t b) { return std::min(block, vectors - b * block); }
  static constexpr std::size_t block_offset(std::size_t b) { return b * rows * block * L; }
  static constexpr std::size_t floats = block_offset(blocks - 1) + rows * block_vectors(blocks - 1) * L;
  /// Small enough to pack: 128 KB, streamed from L2 once per step.
  static constexpr bool used = floats * sizeof(T) <= 128 * 1024;

  static void pack(const T* w_ih, const T* w_hh, const T* b_ih, const T* b_hh, T* out) {
    for (std::size_t b = 0; b < blocks; ++b) {
      const std::size_t width = block_vectors(b) * L;
      T* o = out + block_offset(b);
      for (std::size_t k = 0; k < rows; ++k)
        for (std::size_t c = 0; c < width; ++c) {
          const std::size_t j = b * block * L + c;  // the output (gate row) of this column
          T v = T(0);
          if (j < gh) {
            if (k < bias_rows) v = b_ih[j] + b_hh[j];
            else if (k < bias_rows + D) v = w_ih[j * D + (k - bias_rows)];
            else v = w_hh[j * H + (k - bias_rows - D)];
          }
          o[k * width + c] = v;
        }
    }
  }

  /// One cell step of one sample from the packed copy (64-byte aligned):
  /// x (or null: no input side), the previous state, and for the GRU the
  /// biases; writes the gates after their nonlinearity into `gates` [G·H],
  /// h, c (LSTM) and hn (GRU), using q [G·H] for the GRU's hidden product.
  static void step(const T* x, const T* packed, const T* h_prev, const T* c_prev, const T* b_ih, const T* b_hh,
                   T* gates, T* q, T* h, T* c, T* hn) {
    if constexpr (summed) {
      each_block<true, 0, D + H>(x, h_prev, packed, gates);
      detail::summed_cell<Cell>(fixed<H>{}, [&](std::size_t o, auto io) { return io.get(gates + o); }, gates, c_prev,
                                h, c);
      (void)b_ih, (void)b_hh, (void)q, (void)hn;
    } else {
      if (x) each_block<false, 0, D>(x, nullptr, packed, gates);
      each_block<false, D, H>(nullptr, h_prev, packed, q);
      cell_forward<Cell>(fixed<H>{}, gates, q, b_ih, b_hh, h_prev, c_prev, h, c, hn);
    }
  }

 private:
  // Rows [Row0, Row0 + K) of the stacked input [x; h] (after the bias row).
  template <bool Bias, std::size_t Row0, std::size_t K, std::size_t B = 0>
  static void each_block(const T* x, const T* h, const T* packed, T* out) {
    if constexpr (B < blocks) {
      constexpr std::size_t width = block_vectors(B) * L;
      gemv_block<Bias, B * block, Row0, K>(x, h, packed + block_offset(B), width, out,
                                           std::make_index_sequence<block_vectors(B)>{});
      each_block<Bias, Row0, K, B + 1>(x, h, packed, out);
    }
  }
  // out[j] for the outputs of vectors First.. (j < G·H) = (bias[j] +)
  // Σ_k in[k]·w[k·width + j] over rows Row0 ≤ k < Row0 + K of [x; h], each
  // vector of outputs its own register (the index sequence unrolls them).
  // With few vectors the k loop is split over S chains (k ≡ s mod S), so
  // that 8 FMAs are in flight and a step waits K/S FMA latencies, not K.
  template <bool Bias, std::size_t First, std::size_t Row0, std::size_t K, std::size_t... V>
  static void gemv_block(const T* x, const T* h, const T* w, std::size_t width, T* out, std::index_sequence<V...>) {
    constexpr std::size_t n = sizeof...(V);
    constexpr std::size_t S = std::max<std::size_t>(1, std::min<std::size_t>({4, (8 + n - 1) / n, K}));
    vec<T> acc[S][n];
    for (std::size_t s = 0; s < S; ++s) ((acc[s][V] = vec<T>(T(0))), ...);
    if constexpr (Bias) ((acc[0][V] = vec<T>::load_aligned(w + V * L)), ...);
    // The x rows, then the h rows, each from chain 0.
    const auto rows = [&]<std::size_t Count>(const T* in, const T* w0) {
      const auto chain = [&](std::size_t s, std::size_t k) {
        const vec<T> v(in[k]);
        ((acc[s][V] = kernels::fma(v, vec<T>::load_aligned(w0 + k * width + V * L), acc[s][V])), ...);
      };
      constexpr std::size_t whole = Count / S * S;
      for (std::size_t k = 0; k < whole; k += S)
        for (std::size_t s = 0; s < S; ++s) chain(s, k + s);
      for (std::size_t s = 0; s < Count - whole; ++s) chain(s, whole + s);
    };
    constexpr std::size_t x_rows = Row0 < D ? std::min(D - Row0, K) : 0;
    const T* w0 = w + (bias_rows + Row0) * width;
    if constexpr (x_rows > 0) rows.template operator()<x_rows>(x + Row0, w0);
    if constexpr (K > x_rows) rows.template operator()<K - x_rows>(h + (Row0 + x_rows - D), w0 + x_rows * width);
    if constexpr (S == 2) ((acc[0][V] = acc[0][V] + acc[1][V]), ...);
    if constexpr (S == 3) ((acc[0][V] = (acc[0][V] + acc[1][V]) + acc[2][V]), ...);
    if constexpr (S == 4) ((acc[0][V] = (acc[0][V] + acc[1][V]) + (acc[2][V] + acc[3][V])), ...);
    (
        [&] {
          constexpr std::size_t j = (First + V) * L;
          if constexpr (j + L <= gh) acc[0][V].store_unaligned(out + j);
          else store_partial(out + j, acc[0][V], gh - j);
        }(),
        ...);
  }
};

/// The rows of h (and c) that hold step t's state and the state before it.
template <bool Reverse>
constexpr std::size_t state_row(std::size_t t) { return Reverse ? t : t + 1; }
template <bool Reverse>
constexpr std::size_t previous_row(std::size_t t) { return Reverse ? t + 1 : t; }

/// Forward over a batch of sequences x [B, T, D] (rows D apart, samples
/// T·D apart) in one direction. h0, c0: each sample's initial state, H
/// values `state_stride` apart between samples, or null for zeros.
template <class Cell, bool Reverse, extent SB, extent ST, extent SD, extent SH, class T>
void sequence_forward(SB batch, ST steps, SD d, SH hidden, const T* x, const T* w_ih, const T* w_hh, const T* b_ih,
                      const T* b_hh, const T* h0, const T* c0, std::size_t state_stride, T* work) {
  const std::size_t B = extent_value(batch), Tn = extent_value(steps), H = extent_value(hidden);
  const auto gh = gate_width<Cell>(hidden);
  const std::size_t GH = extent_value(gh);
  const sample_strides stride(Tn, H, GH);
  const std::size_t gate_stride = stride.gates, h_stride = stride.h, hn_stride = stride.hn, q_stride = round16(GH);
  const sequence_layout<Cell> lay(B, Tn, H);
  T* gates = work + lay.gates;
  T* hs = work + lay.h;
  T* cs = work + lay.c;
  T* hns = work + lay.hn;
  T* qs = work + lay.q;
  for (std::size_t b = 0; b < B; ++b) {
    T* h_init = hs + b * h_stride + (Reverse ? Tn : 0) * H;
    if (h0) std::copy_n(h0 + b * state_stride, H, h_init);
    else std::fill_n(h_init, H, T(0));
    if constexpr (Cell::has_cell_state) {
      T* c_init = cs + b * h_stride + (Reverse ? Tn : 0) * H;
      if (c0) std::copy_n(c0 + b * state_stride, H, c_init);
      else std::fill_n(c_init, H, T(0));
    }
  }
  constexpr bool by_rows = is_static_extent_v<SB> && extent_value(SB{}) <= kernels::detail::gemm::stream_rows_max;
  // The input products of every step at once (rows of x are contiguous over
  // the batch; the gate rows of one sample are round16(T·G·H) apart).
  if constexpr (!by_rows) {
    if (gate_stride == Tn * GH) gemm_nt(B * Tn, gh, d, x, w_ih, gates);
    else
      for (std::size_t b = 0; b < B; ++b) gemm_nt(steps, gh, d, x + b * Tn * extent_value(d), w_ih, gates + b * gate_stride);
  }
  // One sample at a time from packed weights when the layer is small (the
  // streaming object's products), else by dot products.
  using packing = decltype([] {
    if constexpr (by_rows && is_static_extent_v<SD> && is_static_extent_v<SH>)
      return packed_weights<Cell, T, extent_value(SD{}), extent_value(SH{})>{};
    else return packed_weights<Cell, T, 1, 1>{};
  }());
  constexpr bool packed_steps = by_rows && is_static_extent_v<SD> && is_static_extent_v<SH> && packing::used;
  alignas(64) T packed[packed_steps ? packing::floats : 1];
  if constexpr (packed_steps) packing::pack(w_ih, w_hh, b_ih, b_hh, packed);
  for (std::size_t s = 0; s < Tn; ++s) {
    const std::size_t t = Reverse ? Tn - 1 - s : s;
    if constexpr (by_rows) {
      for (std::size_t b = 0; b < B; ++b) {
        const T* xt = x + (b * Tn + t) * extent_value(d);
        const T* h_prev = hs + b * h_stride + previous_row<Reverse>(t) * H;
        if constexpr (packed_steps) {
          T* hb = hs + b * h_stride;
          T* cb = cs + b * h_stride;
          packing::step(xt, packed, h_prev, cb + previous_row<Reverse>(t) * H, b_ih, b_hh,
                        gates + b * gate_stride + t * GH, qs + b * q_stride, hb + state_row<Reverse>(t) * H,
                        cb + state_row<Reverse>(t) * H, hns + b * hn_stride + t * H);
        } else {
          row_products(gh, d, hidden, xt, w_ih, h_prev, w_hh, gates + b * gate_stride + t * GH, qs + b * q_stride);
        }
      }
    } else {
      kernels::detail::gemm::gemm<false, true, false>(batch, gh, hidden, hs + previous_row<Reverse>(t) * H, h_stride, w_hh,
                                             H, qs, q_stride, no_epilogue{});
    }
    if constexpr (packed_steps) continue;  // the step ran the cell
    for (std::size_t b = 0; b < B; ++b) {
      T* hb = hs + b * h_stride;
      T* cb = cs + b * h_stride;
      cell_forward<Cell>(hidden, gates + b * gate_stride + t * GH, qs + b * q_stride, b_ih, b_hh,
                         hb + previous_row<Reverse>(t) * H, cb + previous_row<Reverse>(t) * H,
                         hb + state_row<Reverse>(t) * H, cb + state_row<Reverse>(t) * H,
                         hns + b * hn_stride + t * H);
    }
  }
}

/// Where the gradient of the layer's output is, for one direction: sample
/// b's step t at dy + b·sample_stride + t·step_stride, or, when only the
/// final state was output, at dy + b·sample_stride for the last step run.
template <class T>
struct output_gradient {
  const T* dy = nullptr;
  std::size_t sample_stride = 0, step_stride = 0;
  bool final_state_only = false;
};

/// Which gradients backward adds to rather than overwrites (bits of its
/// `Acc` argument).
namespace accumulate {
inline constexpr unsigned dx = 1, dw_ih = 2, dw_hh = 4, db_ih = 8, db_hh = 16;
}

/// Backward through time for one direction, after sequence_forward left its
/// work area. Gradients: dx [B, T, D], the parameters', and dh0 and dc0 with
/// the initial states' stride; a null one is not wanted. Acc's bits
/// (`accumulate::`) and acc_h0, acc_c0 choose += over = per buffer.
template <class Cell, bool Reverse, unsigned Acc, extent SB, extent ST, extent SD, extent SH, class T>
void sequence_backward(SB batch, ST steps, SD d, SH hidden, const T* x, const T* w_ih, const T* w_hh,
                       const T* work, const output_gradient<T>& dy, std::size_t state_stride, T* temp, T* dx,
                       T* dw_ih, T* dw_hh, T* db_ih, T* db_hh, T* dh0, T* dc0, bool acc_h0, bool acc_c0) {
  constexpr bool AccX = Acc & accumulate::dx, AccWih = Acc & accumulate::dw_ih, AccWhh = Acc & accumulate::dw_hh,
                 AccBih = Acc & accumulate::db_ih, AccBhh = Acc & accumulate::db_hh;
  const std::size_t B = extent_value(batch), Tn = extent_value(steps), H = extent_value(hidden),
                    D = extent_value(d);
  const auto gh = gate_width<Cell>(hidden);
  const std::size_t GH = extent_value(gh);
  const sample_strides stride(Tn, H, GH);
  const std::size_t gate_stride = stride.gates, h_stride = stride.h, hn_stride = stride.hn, row_stride = stride.row;
  const sequence_layout<Cell> lay(B, Tn, H);
  const backward_layout<Cell> tmp(B, Tn, H);
  const T* gates = work + lay.gates;
  const T* hs = work + lay.h;
  const T* cs = work + lay.c;
  const T* hns = work + lay.hn;
  T* dg = temp + tmp.dgates;
  T* dgh = temp + tmp.dgates_hidden;
  T* dh_next = temp + tmp.dh_next;
  T* dc_next = temp + tmp.dc_next;
  std::fill_n(dh_next, B * row_stride, T(0));
  if constexpr (Cell::has_cell_state) std::fill_n(dc_next, B * row_stride, T(0));
  // dh of the current step, built in place of dh_next: the output's gradient
  // plus what the later step sent back.
  for (std::size_t s = Tn; s-- > 0;) {
    const std::size_t t = Reverse ? Tn - 1 - s : s;
    const bool final_step = s + 1 == Tn;
    for (std::size_t b = 0; b < B; ++b) {
      T* dh = dh_next + b * row_stride;
      if (dy.dy && (!dy.final_state_only || final_step)) {
        const T* src = dy.dy + b * dy.sample_stride + (dy.final_state_only ? 0 : t * dy.step_stride);
        map_add(hidden, dh, [](auto v) { return v; }, src);
      }
      const T* hb = hs + b * h_stride;
      const T* cb = cs + b * h_stride;
      // The GRU's direct part dh·z goes to dh_next after dh is consumed:
      // write it to dc_next (unused by the GRU) first.
      cell_backward<Cell>(hidden, gates + b * gate_stride + t * GH, hb + state_row<Reverse>(t) * H,
                          hb + previous_row<Reverse>(t) * H, cb + state_row<Reverse>(t) * H,
                          cb + previous_row<Reverse>(t) * H, hns + b * hn_stride + t * H, dh,
                          dc_next + b * row_stride, dg + b * gate_stride + t * GH, dgh + b * gate_stride + t * GH,
                          dc_next + b * row_stride);
    }
    // dh for the step before: dgh_t · W_hh, plus the GRU's direct part dh·z
    // that cell_backward left in dc_next.
    if constexpr (Cell::keeps_hidden_n)
      for (std::size_t b = 0; b < B; ++b) std::copy_n(dc_next + b * row_stride, H, dh_next + b * row_stride);
    constexpr bool add_direct = Cell::keeps_hidden_n;
    if (B <= kernels::detail::gemm::stream_rows_max) {
      for (std::size_t b = 0; b < B; ++b)
        gemm_nn<add_direct>(fixed<1>{}, hidden, gh, dgh + b * gate_stride + t * GH, w_hh, dh_next + b * row_stride);
    } else {
      kernels::detail::gemm::gemm<false, false, add_direct>(batch, hidden, gh, dgh + t * GH, gate_stride, w_hh, H, dh_next,
                                                   row_stride, no_epilogue{});
    }
  }
  // dh_next (and dc_next) now hold the initial states' gradients.
  for (std::size_t b = 0; b < B; ++b) {
    const auto copy = [](auto v) { return v; };
    if (dh0) {
      if (acc_h0) map_add(hidden, dh0 + b * state_stride, copy, dh_next + b * row_stride);
      else map(hidden, dh0 + b * state_stride, copy, dh_next + b * row_stride);
    }
    if constexpr (Cell::has_cell_state)
      if (dc0) {
        if (acc_c0) map_add(hidden, dc0 + b * state_stride, copy, dc_next + b * row_stride);
        else map(hidden, dc0 + b * state_stride, copy, dc_next + b * row_stride);
      }
  }
  // The products over the whole sequence. Rows of dg are per sample
  // round16(T·G·H) apart; when that is T·G·H, one product spans the batch.
  const bool contiguous = gate_stride == Tn * GH;
  if (dw_ih) {
    if (contiguous) gemm_tn<AccWih>(gh, d, B * Tn, dg, x, dw_ih);
    else
      for (std::size_t b = 0; b < B; ++b)
        if (b == 0) gemm_tn<AccWih>(gh, d, steps, dg, x, dw_ih);
        else gemm_tn<true>(gh, d, steps, dg + b * gate_stride, x + b * Tn * D, dw_ih);
  }
  if (dw_hh)
    for (std::size_t b = 0; b < B; ++b) {
      const T* prev = hs + b * h_stride + previous_row<Reverse>(0) * H;
      if (b == 0) gemm_tn<AccWhh>(gh, hidden, steps, dgh, prev, dw_hh);
      else gemm_tn<true>(gh, hidden, steps, dgh + b * gate_stride, prev, dw_hh);
    }
  for (std::size_t b = 0; b < B; ++b) {
    if (db_ih) {
      if (b == 0) column_sums<AccBih>(steps, gh, dg, db_ih);
      else column_sums<true>(steps, gh, dg + b * gate_stride, db_ih);
    }
    if (db_hh) {
      if (b == 0) column_sums<AccBhh>(steps, gh, dgh, db_hh);
      else column_sums<true>(steps, gh, dgh + b * gate_stride, db_hh);
    }
  }
  if (dx) {
    if (contiguous) gemm_nn<AccX>(B * Tn, d, gh, dg, w_ih, dx);
    else
      for (std::size_t b = 0; b < B; ++b) gemm_nn<AccX>(steps, d, gh, dg + b * gate_stride, w_ih, dx + b * Tn * D);
  }
}

}  // namespace ctnn::kernels::recurrent
