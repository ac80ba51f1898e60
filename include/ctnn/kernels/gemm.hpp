/// @file gemm.hpp
/// Matrix products in the three forms training needs, with each size either
/// a compile-time constant (`fixed<784>{}`) or a run-time integer:
///
///   gemm_nn<Acc>(m, n, k, A, B, C, ep)   C[m,n] (=|+=) ep(A[m,k] · B[k,n])
///   gemm_nt<Acc>(m, n, k, A, B, C)       C[m,n] (=|+=) A[m,k] · B[n,k]ᵀ
///   gemm_tn<Acc>(m, n, k, A, B, C)       C[m,n] (=|+=) A[k,m]ᵀ · B[k,n]
///   column_sums<Acc>(k, n, A, out)       out[n] (=|+=) Σ_k A[k,n]
///
/// All matrices row-major and contiguous. The static graph also calls them
/// with the sizes as template arguments: gemm_nn<M, N, K, Acc>(A, B, C, ep).
///
/// How. C is computed in MR×(NV·L) register tiles (AVX-512: 8 rows × 2
/// vectors = 16 accumulators; AVX2: 6 × 2, or 4 × 3 for Aᵀ·B). The tiles of
/// one panel of NV·L columns share a copy of B's panel in a contiguous,
/// zero-padded stack buffer (≤ 64 KiB, at most KC rows of k; deeper products
/// run in k blocks whose partial sums wait in C): for A·B and Aᵀ·B the first
/// row tile reads B in place and writes that copy as it goes, for A·Bᵀ the
/// panel of Bᵀ is built by 8×8 (4×4) register transposes. The last rows of
/// C take smaller exact tiles when M is static and a zero-padded copy of A's
/// rows when it is not; a last partial panel is zero-padded and stored with
/// masks (through the epilogue one scalar at a time). Products of at most
/// three rows (batch-1 inference) stream B directly, one row with 8 vectors
/// of independent accumulators; A·Bᵀ with at most two rows is done as dot
/// products, L rows of B at a time folded into one vector. Large products
/// of more than three rows (never batch-1 inference) split over the OpenMP
/// team: over row blocks, or over column panels when there are too few rows
/// (and for A·Bᵀ, so that Bᵀ is built once).
///
/// Static sizes choose the path at compile time and instantiate only the
/// tails the shape has; dynamic sizes instantiate every variant once per
/// (form, accumulate, epilogue, scalar type). Nothing allocates.
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "ctnn/kernels/gemm_detail.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/kernels/step_team.hpp"
#include "ctnn/kernels/team_slice.hpp"

// GCC 12 reports its own AVX-512 intrinsics (which build "undefined" vectors
// by self-initialization) as maybe-uninitialized wherever they are inlined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace ctnn::kernels {

namespace detail::gemm {

/// What is known at compile time about the sizes (0: dynamic).
template <class SM, class SN, class SK>
struct static_info {
  static constexpr bool ms = is_static_extent_v<SM>, ns = is_static_extent_v<SN>, ks = is_static_extent_v<SK>;
  static constexpr std::size_t M = [] {
    if constexpr (ms) return std::size_t(SM::value); else return std::size_t(0);
  }();
  static constexpr std::size_t N = [] {
    if constexpr (ns) return std::size_t(SN::value); else return std::size_t(0);
  }();
  static constexpr std::size_t K = [] {
    if constexpr (ks) return std::size_t(SK::value); else return std::size_t(0);
  }();
};

/// Row tiles of one packed panel (NVp vectors wide) for rows [r0, r1).
/// A(i, k) is a0[i·lda + k], or a0[k·lda + i] when ATrans.
template <std::size_t NVp, unsigned F, bool Accumulate, class Info, class T, class Ep>
inline void panel_rows(std::size_t r0, std::size_t r1, std::size_t kc, const T* a0, std::size_t lda, const T* bp,
                       T* C, std::size_t ldc, std::size_t col, std::size_t n_valid, const Ep& ep, tile_mode mode,
                       T* abuf) {
  constexpr bool ATrans = F & a_trans;
  constexpr std::size_t MR = config<T, ATrans>::MR, NB = config<T, ATrans>::NB;
  auto a_at = [&](std::size_t i) { return ATrans ? a0 + i : a0 + i * lda; };
  std::size_t i = r0;
  if constexpr (Info::ms && Info::M % MR != 0) {
    // A static M with a short tail: the last rows in tiles of MR − 1 rows
    // instead (50 = 4·6 + 4·5 rather than 8·6 + 2), when there are enough of
    // them. MR − 1 rows keep enough accumulators to hide the FMA latency; a
    // 2-row tile has a third of them and runs at its latency.
    constexpr std::size_t tail = Info::M % MR, short_tiles = MR - tail;
    if (const std::size_t rem = r1 - r0; rem % MR == tail && rem / MR >= MR - 1 - tail) {
      for (const std::size_t end = r1 - short_tiles * (MR - 1); i < end; i += MR)
        tile<MR, NVp, F, Accumulate>(kc, a_at(i), lda, bp, NB, C + i * ldc, ldc, col, n_valid, MR, ep, mode);
      for (; i < r1; i += MR - 1)
        tile<MR - 1, NVp, F, Accumulate>(kc, a_at(i), lda, bp, NB, C + i * ldc, ldc, col, n_valid, MR - 1, ep, mode);
      return;
    }
  }
  for (; i + MR <= r1; i += MR)
    tile<MR, NVp, F, Accumulate>(kc, a_at(i), lda, bp, NB, C + i * ldc, ldc, col, n_valid, MR, ep, mode);
  if constexpr (Info::ms) {
    // A static M knows its tail (only the last block of rows is short):
    // exact smaller tiles, 4 + 2 + 1 rows as needed.
    constexpr std::size_t tail = Info::M % MR, t4 = tail >= 4 ? 4 : 0, t2 = (tail - t4) >= 2 ? 2 : 0;
    constexpr std::size_t t1 = tail - t4 - t2;
    if constexpr (t4 != 0)
      if (i + 4 <= r1) {
        tile<4, NVp, F, Accumulate>(kc, a_at(i), lda, bp, NB, C + i * ldc, ldc, col, n_valid, 4, ep, mode);
        i += 4;
      }
    if constexpr (t2 != 0)
      if (i + 2 <= r1) {
        tile<2, NVp, F, Accumulate>(kc, a_at(i), lda, bp, NB, C + i * ldc, ldc, col, n_valid, 2, ep, mode);
        i += 2;
      }
    if constexpr (t1 != 0)
      if (i < r1) tile<1, NVp, F, Accumulate>(kc, a_at(i), lda, bp, NB, C + i * ldc, ldc, col, n_valid, 1, ep, mode);
  } else if (i < r1) {
    // Dynamic M: one more MR tile, on a zero-padded copy of the last rows.
    const std::size_t ld = pad_rows<MR, ATrans>(abuf, a_at(i), lda, r1 - i, kc);
    tile<MR, NVp, F, Accumulate>(kc, abuf, ld, bp, NB, C + i * ldc, ldc, col, n_valid, r1 - i, ep, mode);
  }
}

/// Rows [r0, r1) × columns [c0, c1) through packed B panels.
template <bool ATrans, bool BTrans, bool Accumulate, class Info, class T, class Ep>
inline void packed(std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1, std::size_t k, const T* A,
                   std::size_t lda, const T* B, std::size_t ldb, T* C, std::size_t ldc, const Ep& ep) {
  using cfg = config<T, ATrans>;
  constexpr std::size_t L = cfg::L, NV = cfg::NV, NB = cfg::NB, MR = cfg::MR, KC = cfg::KC;
  constexpr bool one_k_block = Info::ks && Info::K <= KC;
  // Which panels C has: full ones (N ≥ NB) and a partial last one (NB ∤ N),
  // of tail_nv vectors when N is static (dynamic: NV, zero-padded).
  constexpr bool full_panels = !Info::ns || Info::N >= NB;
  constexpr bool col_tail = !Info::ns || Info::N % NB != 0;
  constexpr std::size_t tail_nv = Info::ns ? (Info::N % NB + L - 1) / L : NV;
  // Tiles able to take k blocks serve both the deep and the shallow layers
  // (fewer instantiations; the mode test is outside the k loop).
  constexpr unsigned F = (ATrans ? a_trans : 0u) | unsigned(k_blocks);

  alignas(64) T bp[KC * NB];
  alignas(64) T abuf[MR * KC];  // the short last block of rows of A, padded
  const std::size_t blocks = one_k_block ? 1 : std::max<std::size_t>(1, (k + KC - 1) / KC);
  const std::size_t kc = blocks == 1 ? k : (k + blocks - 1) / blocks;
  for (std::size_t j0 = c0; j0 < c1; j0 += NB) {
    const std::size_t nb = std::min(NB, c1 - j0);
    for (std::size_t b = 0; b < blocks; ++b) {
      const std::size_t k0 = b * kc, kn = std::min(kc, k - k0);
      const tile_mode mode = one_k_block ? single_block : block_mode(b, blocks);
      const T* a0 = ATrans ? A + k0 * lda : A + k0;
      T* c = C + j0;
      if constexpr (BTrans) {
        const bt_packer<NB, T> pack{bp, B + j0 * ldb + k0, ldb, kn, nb};
        pack.run(0, pack.blocks());
      }
      if (!col_tail || (full_panels && nb == NB)) {
        std::size_t i0 = r0;
        if constexpr (!BTrans) {
          // The first row tile reads B in place and packs it as it goes.
          const std::size_t rows = std::min(MR, r1 - r0);
          const T* a = ATrans ? a0 + r0 : a0 + r0 * lda;
          std::size_t ld = lda;
          if constexpr (!Info::ms || Info::M % MR != 0)  // only the last block of rows is short
            if (rows < MR) {
              ld = pad_rows<MR, ATrans>(abuf, a, lda, rows, kn);
              a = abuf;
            }
          tile<MR, NV, F | pack_rows, Accumulate>(kn, a, ld, B + k0 * ldb + j0, ldb, c + r0 * ldc, ldc, j0, NB, rows,
                                                  ep, mode, bp);
          i0 += rows;
        }
        panel_rows<NV, F, Accumulate, Info>(i0, r1, kn, a0, lda, bp, c, ldc, j0, NB, ep, mode, abuf);
      } else if constexpr (col_tail) {
        if constexpr (!BTrans) pack_b<NB>(bp, B + k0 * ldb + j0, ldb, kn, nb);
        panel_rows<tail_nv, F | partial, Accumulate, Info>(r0, r1, kn, a0, lda, bp, c, ldc, j0, nb, ep, mode, abuf);
      }
    }
  }
}

/// Row tiles of R rows streaming B directly (no packing: each element of B
/// is used by one tile only), over columns [c0, c1).
template <std::size_t R, bool ATrans, bool Accumulate, class Info, class T, class Ep>
inline void stream_rows(std::size_t k, const T* a, std::size_t lda, std::size_t c0, std::size_t c1, const T* B,
                        std::size_t ldb, T* C, std::size_t ldc, const Ep& ep) {
  constexpr std::size_t L = lanes<T>, NVu = config<T, ATrans>::nv_unpacked(R);
  constexpr std::size_t NVw = config<T, ATrans>::nv_unpacked_wide(R);
  constexpr unsigned F = (ATrans ? a_trans : 0u) | unsigned(split_k);
  // With a static N, no code for strips wider than C or for a tail it lacks.
  constexpr bool wide = NVw > NVu && (!Info::ns || Info::N >= NVw * L);
  constexpr bool strips = !Info::ns || Info::N % (wide ? NVw * L : Info::N + 1) >= NVu * L;
  constexpr bool singles = NVu > 1 && (!Info::ns || Info::N >= L);
  constexpr bool masked_tail = !Info::ns || Info::N % L != 0;
  if constexpr (Info::ks) k = Info::K;  // a constant depth: the k loop unrolls
  // One row and a static N of at most 16 vectors (the layers of a small
  // embedded net): one tile over all of C's columns, so A's row is read once
  // and the k loop is split until 8 accumulators hide the FMA latency. A
  // single column (a regression output) is a dot product.
  if constexpr (R == 1 && !ATrans && Info::ns && Info::N == 1) {
    if (c0 == 0 && c1 == 1) {
      T s = dot(k, a, B);
      if constexpr (Accumulate) s += C[0];
      C[0] = ep(s, 0);
      (void)ldb, (void)ldc;
      return;
    }
  }
  constexpr std::size_t NVs = (Info::N + L - 1) / L;
  if constexpr (R == 1 && Info::ns && Info::N > 1 && NVs <= NVw && Info::N < NVw * L) {
    if (c0 == 0 && c1 == Info::N) {
      constexpr unsigned Fs = F | (Info::N % L != 0 ? mask_last : 0u);
      tile<1, NVs, Fs, Accumulate>(k, a, lda, B, ldb, C, ldc, 0, Info::N, 1, ep, single_block);
      return;
    }
  }
  std::size_t j = c0;
  if constexpr (wide)
    for (; j + NVw * L <= c1; j += NVw * L)
      tile<R, NVw, F, Accumulate>(k, a, lda, B + j, ldb, C + j, ldc, j, NVw * L, R, ep, single_block);
  if constexpr (strips)
    for (; j + NVu * L <= c1; j += NVu * L)
      tile<R, NVu, F, Accumulate>(k, a, lda, B + j, ldb, C + j, ldc, j, NVu * L, R, ep, single_block);
  if constexpr (singles)
    for (; j + L <= c1; j += L) tile<R, 1, F, Accumulate>(k, a, lda, B + j, ldb, C + j, ldc, j, L, R, ep, single_block);
  if constexpr (masked_tail)
    if (j < c1)
      tile<R, 1, F | mask_last, Accumulate>(k, a, lda, B + j, ldb, C + j, ldc, j, c1 - j, R, ep, single_block);
}

/// Products with at most this many rows stream B (two rows at a time, then
/// one); more rows go through packed panels (padded to MR rows).
inline constexpr std::size_t stream_rows_max = 3;

template <bool ATrans, bool Accumulate, class Info, class T, class Ep>
inline void streamed(std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1, std::size_t k, const T* A,
                     std::size_t lda, const T* B, std::size_t ldb, T* C, std::size_t ldc, const Ep& ep) {
  auto a_at = [&](std::size_t i) { return ATrans ? A + i : A + i * lda; };
  std::size_t i = r0;
  if constexpr (!Info::ms || Info::M >= 2)
    for (; i + 2 <= r1; i += 2) stream_rows<2, ATrans, Accumulate, Info>(k, a_at(i), lda, c0, c1, B, ldb, C + i * ldc, ldc, ep);
  if constexpr (!Info::ms || Info::M % 2 == 1)
    if (i < r1) stream_rows<1, ATrans, Accumulate, Info>(k, a_at(i), lda, c0, c1, B, ldb, C + i * ldc, ldc, ep);
}

/// A·Bᵀ is done with dot products (no transposed panel) for so few rows.
inline constexpr bool nt_use_dots(std::size_t rows) { return rows <= 2; }

/// Rows [r0, r1) × columns [c0, c1) of C, one thread. With a static M the
/// path is chosen at compile time (a layer instantiates one path only).
template <bool ATrans, bool BTrans, bool Accumulate, class Info, class T, class Ep>
CTNN_KERNEL_NOINLINE void block_of_rows(std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1, std::size_t k,
                                const T* A, std::size_t lda, const T* B, std::size_t ldb, T* C, std::size_t ldc,
                                const Ep& ep) {
  constexpr std::size_t KC = config<T, ATrans>::KC;
  const std::size_t rows = r1 - r0;
  if constexpr (BTrans) {
    static_assert(std::is_same_v<Ep, no_epilogue>);
    constexpr bool dots_only = Info::ms && nt_use_dots(Info::M), never_dots = Info::ms && !dots_only;
    if constexpr (!never_dots) {
      if (dots_only || nt_use_dots(rows)) {
        for (std::size_t i = r0; i < r1; ++i)
          dot_row<Accumulate>(c1 - c0, k, A + i * lda, B + c0 * ldb, ldb, C + i * ldc + c0);
        return;
      }
    }
    if constexpr (!dots_only) packed<ATrans, BTrans, Accumulate, Info>(r0, r1, c0, c1, k, A, lda, B, ldb, C, ldc, ep);
  } else {
    // C = C_old + ep(A·B) cannot keep partial sums in C between k blocks:
    // such a product (never made by ctnn's ops) streams B whatever its depth.
    constexpr bool multi_block_ok = !(Accumulate && !std::is_same_v<Ep, no_epilogue>);
    constexpr bool stream_only = Info::ms && Info::M <= stream_rows_max;
    constexpr bool never_stream = Info::ms && !stream_only && (multi_block_ok || (Info::ks && Info::K <= KC));
    if constexpr (!never_stream) {
      if (stream_only || rows <= stream_rows_max || (!multi_block_ok && k > KC)) {
        streamed<ATrans, Accumulate, Info>(r0, r1, c0, c1, k, A, lda, B, ldb, C, ldc, ep);
        return;
      }
    }
    if constexpr (!stream_only) packed<ATrans, BTrans, Accumulate, Info>(r0, r1, c0, c1, k, A, lda, B, ldb, C, ldc, ep);
  }
}

/// block_of_rows; an epilogue that sums what it sees (finite_watch) is
/// copied, so that each thread sums into its own, and finished.
template <bool ATrans, bool BTrans, bool Accumulate, class Info, class T, class Ep>
inline void block(std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1, std::size_t k, const T* A,
                  std::size_t lda, const T* B, std::size_t ldb, T* C, std::size_t ldc, const Ep& ep) {
  if constexpr (requires { ep.finish(); }) {
    const Ep own = ep;
    block_of_rows<ATrans, BTrans, Accumulate, Info>(r0, r1, c0, c1, k, A, lda, B, ldb, C, ldc, own);
    own.finish();
  } else {
    block_of_rows<ATrans, BTrans, Accumulate, Info>(r0, r1, c0, c1, k, A, lda, B, ldb, C, ldc, ep);
  }
}

/// Products smaller than this (m·n·k) stay on the calling thread.
inline constexpr double parallel_threshold = 2.0e5;

template <bool ATrans, bool BTrans, bool Accumulate, class SM, class SN, class SK, class T, class Ep>
inline void gemm(SM sm, SN sn, SK sk, const T* A, std::size_t lda, const T* B, std::size_t ldb, T* C, std::size_t ldc,
                 const Ep& ep) {
  using Info = static_info<SM, SN, SK>;
  const std::size_t m = extent_value(sm), n = extent_value(sn), k = extent_value(sk);
  if (m == 0 || n == 0) return;
#if defined(_OPENMP)
  // Batch-1 (and up to 3 rows) products stay on the calling thread whatever
  // their size: waking a team costs more than it saves at that latency, and a
  // latency-bound caller must not depend on a second core being free.
  constexpr bool may_split =
      !(Info::ms && Info::ns && Info::ks) ||
      (double(Info::M) * double(Info::N) * double(Info::K) > parallel_threshold && Info::M > stream_rows_max);
  if constexpr (may_split) {
    using cfg = config<T, ATrans>;
    step_team* const team = active_team();
    const std::size_t threads = team ? team->size() : std::size_t(omp_get_max_threads());
    if (threads > 1 && m > stream_rows_max && double(m) * double(n) * double(k) > parallel_threshold &&
        (team || !in_parallel_region())) {
      const std::size_t row_blocks = (m + cfg::MR - 1) / cfg::MR;
      const std::size_t col_panels = (n + cfg::NB - 1) / cfg::NB;
      // Rows share B panels: each thread then reads and packs all of B. A·B
      // (a dense layer's forward) splits over columns whenever there is a
      // panel per thread, so each thread reads only its part of the weight:
      // over rows, each read all of it, half just updated by the other core
      // (MLP step on two threads, cores on different dies: 301 µs against 338). A·Bᵀ
      // transposes B's panels and needs two per thread to pay. Aᵀ·B (the
      // weight gradient) keeps its row blocks: contiguous halves of the
      // gradient, the slices the optimizer's update then gives each thread.
      const bool enough_cols = col_panels >= threads;
      const bool by_cols = (!ATrans && !BTrans && enough_cols) || (BTrans && col_panels >= 2 * threads) ||
                           (row_blocks < threads && enough_cols);
      if (by_cols || row_blocks >= threads) {
        const auto part = [&](std::size_t t, std::size_t nt) {
          if (by_cols) {
            const std::size_t p0 = col_panels * t / nt, p1 = col_panels * (t + 1) / nt;
            if (p0 < p1)
              block<ATrans, BTrans, Accumulate, Info>(0, m, p0 * cfg::NB, std::min(n, p1 * cfg::NB), k, A, lda, B, ldb,
                                                      C, ldc, ep);
          } else {
            const std::size_t b0 = row_blocks * t / nt, b1 = row_blocks * (t + 1) / nt;
            if (b0 < b1)
              block<ATrans, BTrans, Accumulate, Info>(b0 * cfg::MR, std::min(m, b1 * cfg::MR), 0, n, k, A, lda, B, ldb,
                                                      C, ldc, ep);
          }
        };
        if (team) {
          team->split(part);
        } else {
#pragma omp parallel
          part(std::size_t(omp_get_thread_num()), std::size_t(omp_get_num_threads()));
        }
        return;
      }
    }
  }
  // Inside a step's team, a product that does not split runs on one thread.
  if (step_team* const team = active_team()) {
    team->serial([&] { block<ATrans, BTrans, Accumulate, Info>(0, m, 0, n, k, A, lda, B, ldb, C, ldc, ep); });
    return;
  }
#endif
  block<ATrans, BTrans, Accumulate, Info>(0, m, 0, n, k, A, lda, B, ldb, C, ldc, ep);
}

}  // namespace detail::gemm

/// C[m,n] (= or +=) ep(A[m,k] · B[k,n]). `ep(x, col)` is applied to each
/// stored value (a vector starting at column col, or one scalar); with
/// Accumulate, C = C_old + ep(A·B).
template <bool Accumulate = false, extent SM, extent SN, extent SK, class T, class Epilogue = no_epilogue>
inline void gemm_nn(SM m, SN n, SK k, const T* A, const T* B, T* C, Epilogue ep = {}) {
  detail::gemm::gemm<false, false, Accumulate>(m, n, k, A, extent_value(k), B, extent_value(n), C, extent_value(n), ep);
}

/// C[m,n] (= or +=) A[m,k] · B[n,k]ᵀ: the input gradient of a dense layer.
template <bool Accumulate = false, extent SM, extent SN, extent SK, class T>
inline void gemm_nt(SM m, SN n, SK k, const T* A, const T* B, T* C) {
  detail::gemm::gemm<false, true, Accumulate>(m, n, k, A, extent_value(k), B, extent_value(k), C, extent_value(n),
                                              no_epilogue{});
}

/// C[m,n] (= or +=) A[k,m]ᵀ · B[k,n]: the weight gradient of a dense layer
/// (k is the batch).
template <bool Accumulate = false, extent SM, extent SN, extent SK, class T, class Epilogue = no_epilogue>
inline void gemm_tn(SM m, SN n, SK k, const T* A, const T* B, T* C, Epilogue ep = {}) {
  detail::gemm::gemm<true, false, Accumulate>(m, n, k, A, extent_value(m), B, extent_value(n), C, extent_value(n), ep);
}

/// Thread t's columns [begin, end) of an A·B product of n columns split over
/// its column panels on a team of nt: elementwise work on that output (an
/// activation's derivative), split the same way, reads what the same thread
/// wrote.
template <class T>
constexpr team_slice_range product_columns(std::size_t n, std::size_t t, std::size_t nt) {
  constexpr std::size_t nb = detail::gemm::config<T, false>::NB;
  const std::size_t panels = (n + nb - 1) / nb;
  return {std::min(n, panels * t / nt * nb), std::min(n, panels * (t + 1) / nt * nb)};
}

/// f(c0, c1) over the columns [0, n): each thread of a step's team its
/// product_columns, or all of them here.
template <class T, class F>
inline void on_product_columns(std::size_t n, F&& f) {
  if (step_team* const team = active_team()) {
    team->split([&](std::size_t t, std::size_t nt) {
      const auto [c0, c1] = product_columns<T>(n, t, nt);
      if (c0 < c1) f(c0, c1);
    });
  } else {
    f(std::size_t(0), n);
  }
}

/// A dense layer's forward sums its depth as two fixed halves
/// (gemm_nn_depth_halves) when its weight holds at least this many values
/// (128 KiB of float: a weight worth keeping on one core), the depth is at
/// least this deep, and the product over the batch has at least this much
/// work (m·n·k). The MLP's fc2 (256 × 128, 2.1·10⁶ over a batch of 64)
/// qualifies: on two dies its step took 271.5-274.0 µs against 275.0-276.0
/// with fc2's forward split by columns (medians of 40 alternations).
inline constexpr std::size_t depth_halves_min_weight = std::size_t(1) << 15;
inline constexpr std::size_t depth_halves_min_k = 256;
inline constexpr double depth_halves_min_work = 2.0e6;

/// A team splits the rows of Aᵀ·B (a weight's gradient) in blocks of this
/// many, when the product is large enough to split at all.
template <class T>
inline constexpr std::size_t gradient_row_block = detail::gemm::config<T, true>::MR;
/// Whether a product of m·n·k multiply-adds splits over a team.
constexpr bool splits_on_team(double m_n_k) { return m_n_k > detail::gemm::parallel_threshold; }

/// Where gemm_nn_depth_halves splits a depth of k: the boundary of the two
/// row halves that the weight gradient Aᵀ·G (k rows) takes on two threads,
/// so that one thread sums a half of the depth in the forward and writes
/// the gradient of the same weight rows in the backward.
template <class T>
constexpr std::size_t depth_half(std::size_t k) {
  constexpr std::size_t mr = gradient_row_block<T>;
  return (k + mr - 1) / mr / 2 * mr;
}

/// C[M,N] = ep(A[M,K]·B[K,N]) summed as two fixed halves of the depth,
/// A[:, :K0]·B[:K0] into C and A[:, K0:]·B[K0:] into `partial` (M·N values),
/// then added and the epilogue applied, on two threads when a team is
/// available and on one after the other otherwise: the bits do not depend
/// on the team size. On two threads each reads only its half of B's rows, a
/// dense layer's weight, and the other core never holds those lines: the
/// update that writes them later then needs nothing back from it (a column
/// split leaves every weight line in both caches, and on cores on two dies
/// the update waits for each to be taken back).
template <std::size_t M, std::size_t N, std::size_t K, class T, class Ep>
inline void gemm_nn_depth_halves(const T* A, const T* B, T* C, T* partial, const Ep& ep) {
  constexpr std::size_t K0 = depth_half<T>(K), L = lanes<T>;
  static_assert(K0 > 0 && K0 < K, "gemm_nn_depth_halves: the depth is too shallow to halve");
  using V = vec<T>;
  const auto half = [&](std::size_t h) {
    if (h == 0)
      detail::gemm::gemm<false, false, false>(fixed<M>{}, fixed<N>{}, fixed<K0>{}, A, K, B, N, C, N, no_epilogue{});
    else
      detail::gemm::gemm<false, false, false>(fixed<M>{}, fixed<N>{}, fixed<K - K0>{}, A + K0, K, B + K0 * N, N,
                                              partial, N, no_epilogue{});
  };
  // C = ep(C + partial) over the columns [c0, c1): whole vectors, then the tail.
  const auto add_halves = [&](std::size_t c0, std::size_t c1) {
    for (std::size_t r = 0; r < M; ++r) {
      T* c = C + r * N;
      const T* p = partial + r * N;
      const std::size_t vector_end = c0 + (c1 - c0) / L * L;
      for (std::size_t j = c0; j < vector_end; j += L)
        ep(V::load_unaligned(c + j) + V::load_unaligned(p + j), j).store_unaligned(c + j);
      for (std::size_t j = vector_end; j < c1; ++j) c[j] = ep(T(c[j] + p[j]), j);
    }
  };
  constexpr std::size_t split = product_columns<T>(N, 1, 2).begin;  // as the column split of A·B
  if (step_team* const team = active_team()) {  // a team of at least two
    team->split([&](std::size_t t, std::size_t) {
      if (t < 2) half(t);
    });
    team->split([&](std::size_t t, std::size_t) {
      if (t == 0) add_halves(0, split);
      else if (t == 1) add_halves(split, N);
    });
    return;
  }
#if defined(_OPENMP)
  if (omp_get_max_threads() > 1 && !in_parallel_region()) {
#pragma omp parallel num_threads(2)
    {
      if (omp_get_num_threads() == 1) {  // the runtime may give fewer threads than asked for
        half(0);
        half(1);
        add_halves(0, N);
      } else {
        const std::size_t t = std::size_t(omp_get_thread_num());
        half(t);
#pragma omp barrier
        if (t == 0) add_halves(0, split);
        else add_halves(split, N);
      }
    }
    return;
  }
#endif
  half(0);
  half(1);
  add_halves(0, N);
}

/// out[c0, c1) (= or +=) the column sums of A[k,n] over those columns (c0 a
/// multiple of the lanes, c1 too or n): a bias gradient over the batch.
/// Each column is summed the same way whatever range it is in (the first
/// n rounded down to 4 vectors in one chain of adds over the rows, the rest
/// in two), so a team that splits the columns gets the bits of one thread.
template <bool Accumulate = false, extent SK, extent SN, class T>
inline void column_sums(SK sk, SN sn, const T* A, T* out, std::size_t c0, std::size_t c1) {
  constexpr std::size_t L = lanes<T>, W = 4;
  using V = vec<T>;
  const std::size_t k = extent_value(sk), n = extent_value(sn);
  const std::size_t chained_end = std::min(c1, n / (W * L) * (W * L));
  const auto chain = [&]<std::size_t Vs>(std::size_t j) {  // Vs vectors, one chain each: no add latency between them
    V s[Vs];
    for (std::size_t w = 0; w < Vs; ++w) s[w] = V(T(0));
    for (std::size_t r = 0; r < k; ++r)
      for (std::size_t w = 0; w < Vs; ++w) s[w] += V::load_unaligned(A + r * n + j + w * L);
    for (std::size_t w = 0; w < Vs; ++w) {
      if constexpr (Accumulate) s[w] += V::load_unaligned(out + j + w * L);
      s[w].store_unaligned(out + j + w * L);
    }
  };
  std::size_t j = c0;
  for (; j + W * L <= chained_end; j += W * L) chain.template operator()<W>(j);
  for (; j < chained_end; j += L) chain.template operator()<1>(j);
  for (; j < c1; j += L) {
    const std::size_t nn = std::min(L, c1 - j);
    V s[2] = {V(T(0)), V(T(0))};
    std::size_t r = 0;
    if (nn == L) {
      for (; r + 2 <= k; r += 2) {
        s[0] += V::load_unaligned(A + r * n + j);
        s[1] += V::load_unaligned(A + (r + 1) * n + j);
      }
      for (; r < k; ++r) s[0] += V::load_unaligned(A + r * n + j);
    } else {
      for (; r + 2 <= k; r += 2) {
        s[0] += load_partial(A + r * n + j, nn);
        s[1] += load_partial(A + (r + 1) * n + j, nn);
      }
      for (; r < k; ++r) s[0] += load_partial(A + r * n + j, nn);
    }
    V t = s[0] + s[1];
    if (nn == L) {
      if constexpr (Accumulate) t += V::load_unaligned(out + j);
      t.store_unaligned(out + j);
    } else {
      if constexpr (Accumulate) t += load_partial(out + j, nn);
      store_partial(out + j, t, nn);
    }
  }
}

/// out[n] (= or +=) the column sums of A[k,n]: a bias gradient over the batch.
template <bool Accumulate = false, extent SK, extent SN, class T>
inline void column_sums(SK sk, SN sn, const T* A, T* out) {
  column_sums<Accumulate>(sk, sn, A, out, 0, extent_value(sn));
}

// --- the compile-time-size spellings used by the static graph ---------------------

template <std::size_t M, std::size_t N, std::size_t K, bool Accumulate = false, class T, class Epilogue = no_epilogue>
inline void gemm_nn(const T* A, const T* B, T* C, Epilogue ep = {}) {
  gemm_nn<Accumulate>(fixed<M>{}, fixed<N>{}, fixed<K>{}, A, B, C, ep);
}
template <std::size_t M, std::size_t N, std::size_t K, bool Accumulate = false, class T>
inline void gemm_nt(const T* A, const T* B, T* C) {
  gemm_nt<Accumulate>(fixed<M>{}, fixed<N>{}, fixed<K>{}, A, B, C);
}
template <std::size_t M, std::size_t N, std::size_t K, bool Accumulate = false, class T, class Epilogue = no_epilogue>
inline void gemm_tn(const T* A, const T* B, T* C, Epilogue ep = {}) {
  gemm_tn<Accumulate>(fixed<M>{}, fixed<N>{}, fixed<K>{}, A, B, C, ep);
}
/// A batch's samples split over a step's team in blocks of this many
/// (sample_share): the row tile of a packed A·B or A·Bᵀ.
template <class T>
inline constexpr std::size_t sample_block = detail::gemm::config<T, false>::MR;

/// Rows [r0, r1) of gemm_nn<M, N, K>, gemm_nt<M, N, K> and gemm_tn<M, N, K>
/// on the calling thread: a thread's share of a product too small to split
/// by itself. Cut at multiples of the form's row tile (sample_block for A·B
/// and A·Bᵀ, gradient_row_block for Aᵀ·B), the rows take the tiles they
/// take in the whole product, whose every element is one chain of
/// multiply-adds in the order of k: the same bits.
template <std::size_t M, std::size_t N, std::size_t K, bool Accumulate = false, class T, class Epilogue = no_epilogue>
inline void gemm_nn_rows(std::size_t r0, std::size_t r1, const T* A, const T* B, T* C, Epilogue ep = {}) {
  using Info = detail::gemm::static_info<fixed<M>, fixed<N>, fixed<K>>;
  detail::gemm::block<false, false, Accumulate, Info>(r0, r1, 0, N, K, A, K, B, N, C, N, ep);
}
template <std::size_t M, std::size_t N, std::size_t K, bool Accumulate = false, class T>
inline void gemm_nt_rows(std::size_t r0, std::size_t r1, const T* A, const T* B, T* C) {
  using Info = detail::gemm::static_info<fixed<M>, fixed<N>, fixed<K>>;
  detail::gemm::block<false, true, Accumulate, Info>(r0, r1, 0, N, K, A, K, B, K, C, N, no_epilogue{});
}
template <std::size_t M, std::size_t N, std::size_t K, bool Accumulate = false, class T, class Epilogue = no_epilogue>
inline void gemm_tn_rows(std::size_t r0, std::size_t r1, const T* A, const T* B, T* C, Epilogue ep = {}) {
  using Info = detail::gemm::static_info<fixed<M>, fixed<N>, fixed<K>>;
  detail::gemm::block<true, false, Accumulate, Info>(r0, r1, 0, N, K, A, M, B, N, C, N, ep);
}

template <std::size_t K, std::size_t N, bool Accumulate = false, class T>
inline void column_sums(const T* A, T* out) {
  column_sums<Accumulate>(fixed<K>{}, fixed<N>{}, A, out);
}

}  // namespace ctnn::kernels

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
