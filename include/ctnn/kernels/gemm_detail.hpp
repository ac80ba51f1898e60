/// @file gemm_detail.hpp
/// The pieces the GEMM drivers in gemm.hpp are built from: the per-ISA
/// blocking constants, register-blocked tiles (micro-kernels), packing of B
/// panels (plain and transposing), and dot rows for A·Bᵀ with few rows. A
/// tile is templated on its shape and on flags for what it may meet (a
/// partial last vector, k blocks, masked or packing loads), so that a layer
/// whose sizes are static instantiates only the variants it needs.
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include "ctnn/kernels/simd.hpp"

// GCC 12 reports its own AVX-512 intrinsics (which build "undefined" vectors
// by self-initialization) as maybe-uninitialized wherever they are inlined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace ctnn::kernels {

/// Applied to each output element when it is stored: lets a dense layer add
/// its bias and apply its activation without a second pass over C. Called
/// as ep(vector, first_column) for full vectors and ep(scalar, column) for
/// the columns of a partial one.
struct no_epilogue {
  template <class V>
  V operator()(V x, std::size_t /*col*/) const {
    return x;
  }
};

namespace detail::gemm {

// Packing, dot rows and the per-thread driver are real functions (one copy
// each, not one per call site and OpenMP region). The tiles are inlined into
// their driver: with the sizes in view the compiler drops every case a layer
// cannot meet (measured: smaller code than shared out-of-line tiles, and 6 to
// 30% faster for shallow products such as K = 10 or 64).
#if defined(__clang__)
#define CTNN_KERNEL_NOINLINE __attribute__((noinline))
#elif defined(__GNUC__)
#define CTNN_KERNEL_NOINLINE __attribute__((noipa))  // no inlining, and no per-call-site clones
#else
#define CTNN_KERNEL_NOINLINE
#endif

/// Blocking for the instruction set the build targets, per layout of A
/// (ATrans: A stored K×M, as in the weight gradient Aᵀ·B).
template <class T, bool ATrans = false>
struct config {
  static constexpr std::size_t L = lanes<T>;
  /// AVX-512 has 32 vector registers, AVX2 and SSE 16.
  static constexpr bool wide_regs = sizeof(vec<T>) == 64;
  /// Packed micro-kernel: MR rows × NV vectors of accumulators. AVX-512:
  /// 8 × 2 (16 accumulators, 2 loads and 8 broadcasts per 16 FMAs). AVX2:
  /// 6 × 2, or 4 × 3 when A's rows are adjacent elements (measured: the
  /// broadcasts of 4 adjacent floats beat those of 6).
  static constexpr std::size_t MR = wide_regs ? 8 : ATrans ? 4 : 6;
  static constexpr std::size_t NV = wide_regs ? 2 : ATrans ? 3 : 2;
  /// Width of a packed B panel.
  static constexpr std::size_t NB = NV * L;
  /// Depth of a packed panel: the panel buffer (on the stack) is KC × NB
  /// elements, 64 KiB (AVX-512: 512 k-rows of 32 floats). Deeper products
  /// run in k blocks. (The depth hardly matters: 128 to 1024 measured alike.)
  static constexpr std::size_t panel_bytes = 64 * 1024;
  static constexpr std::size_t KC = panel_bytes / (NB * sizeof(T));
  /// Streaming-B kernels (one or two rows): 8 or 4 vectors, 8 independent
  /// accumulators either way; one row of AVX-512 first takes strips of 16
  /// vectors (a 1 KiB row of B per step: one sequential stream through B,
  /// measured 8-10% faster than two passes of 8 vectors).
  static constexpr std::size_t nv_unpacked(std::size_t R) { return R == 1 ? 8 : 4; }
  static constexpr std::size_t nv_unpacked_wide(std::size_t R) { return R == 1 && wide_regs ? 16 : nv_unpacked(R); }
};

// ---- micro-kernels ------------------------------------------------------------------

/// c[r][v] += Σ_{k<kc} A(r, k) · B[k][v·L .. v·L + L) for r < MR, v < NV.
/// A(r, k) is a[r·lda + k], or a[k·lda + r] when ATrans (A stored K×M).
/// B rows are ldb apart; with MaskLast the last vector holds only last_n
/// columns (masked loads: never reads past the matrix). KS > 1 splits the k
/// loop over independent accumulator sets, for kernels too small to hide the
/// FMA latency on their own.
///
/// With Pack, the B rows read are also written to `pack`, NV·L apart: the
/// first row tile of a panel packs it for the others at no cost.
template <std::size_t MR, std::size_t NV, std::size_t KS, bool ATrans, bool MaskLast, bool Pack, class T>
inline void compute(vec<T> (&c)[MR][NV], std::size_t kc, const T* a, std::size_t lda, const T* b, std::size_t ldb,
                    std::size_t last_n, T* pack) {
  constexpr std::size_t L = lanes<T>;
  using V = vec<T>;
  vec<T> x[KS][MR][NV];
  for (std::size_t s = 0; s < KS; ++s)
    for (std::size_t r = 0; r < MR; ++r)
      for (std::size_t v = 0; v < NV; ++v) x[s][r][v] = s == 0 ? c[r][v] : V(T(0));
  const std::size_t k_main = kc / KS * KS;
  std::size_t k = 0;
  if constexpr (Pack) {
    static_assert(KS == 1 && !MaskLast);
    for (; k < kc; ++k) {
      const T* bk = b + k * ldb;
      V bv[NV];
      for (std::size_t v = 0; v < NV; ++v) {
        bv[v] = V::load_unaligned(bk + v * L);
        bv[v].store_aligned(pack + k * (NV * L) + v * L);
      }
      for (std::size_t r = 0; r < MR; ++r) {
        const V av(ATrans ? a[k * lda + r] : a[r * lda + k]);
        for (std::size_t v = 0; v < NV; ++v) x[0][r][v] = kernels::fma(av, bv[v], x[0][r][v]);
      }
    }
  }
  for (; k < k_main; k += KS) {
    for (std::size_t s = 0; s < KS; ++s) {
      const T* bk = b + (k + s) * ldb;
      V bv[NV];
      for (std::size_t v = 0; v < NV; ++v) {
        if constexpr (MaskLast) bv[v] = v + 1 == NV ? load_partial(bk + v * L, last_n) : V::load_unaligned(bk + v * L);
        else bv[v] = V::load_unaligned(bk + v * L);
      }
      for (std::size_t r = 0; r < MR; ++r) {
        const V av(ATrans ? a[(k + s) * lda + r] : a[r * lda + k + s]);
        for (std::size_t v = 0; v < NV; ++v) x[s][r][v] = kernels::fma(av, bv[v], x[s][r][v]);
      }
    }
  }
  if constexpr (KS > 1) {
    for (; k < kc; ++k) {
      const T* bk = b + k * ldb;
      V bv[NV];
      for (std::size_t v = 0; v < NV; ++v) {
        if constexpr (MaskLast) bv[v] = v + 1 == NV ? load_partial(bk + v * L, last_n) : V::load_unaligned(bk + v * L);
        else bv[v] = V::load_unaligned(bk + v * L);
      }
      for (std::size_t r = 0; r < MR; ++r) {
        const V av(ATrans ? a[k * lda + r] : a[r * lda + k]);
        for (std::size_t v = 0; v < NV; ++v) x[0][r][v] = kernels::fma(av, bv[v], x[0][r][v]);
      }
    }
  }
  for (std::size_t r = 0; r < MR; ++r)
    for (std::size_t v = 0; v < NV; ++v) {
      V t = x[0][r][v];
      for (std::size_t s = 1; s < KS; ++s) t += x[s][r][v];
      c[r][v] = t;
    }
}

/// How a tile is started and finished. One k block: start from zero, finish
/// with the epilogue (and += C when accumulating). Several k blocks (K larger
/// than a packed panel): the partial sums live in C between blocks.
struct tile_mode {
  bool from_c;    // start from the partial sums in C (not the first block)
  bool add_old;   // first block: add C's previous value when accumulating
  bool apply_ep;  // last block: apply the epilogue
};
inline constexpr tile_mode single_block{false, true, true};
inline constexpr tile_mode block_mode(std::size_t b, std::size_t blocks) { return {b > 0, b == 0, b + 1 == blocks}; }

// A tile holds the first n_valid ≤ NV·L columns (n_valid / L full vectors,
// then maybe one partial vector) and m_valid ≤ MR rows of C (fewer for the
// last rows of C, computed from zero-padded rows of A).

template <std::size_t MR, std::size_t NV, class T>
inline void load_tile(vec<T> (&c)[MR][NV], const T* C, std::size_t ldc, std::size_t n_valid, std::size_t m_valid) {
  constexpr std::size_t L = lanes<T>;
  const std::size_t full = n_valid / L, rest = n_valid % L;
  for (std::size_t r = 0; r < MR; ++r)
    for (std::size_t v = 0; v < NV; ++v) {
      const T* src = C + r * ldc + v * L;
      c[r][v] = r >= m_valid ? vec<T>(T(0))
                : v < full   ? vec<T>::load_unaligned(src)
                : v == full && rest != 0 ? load_partial(src, rest)
                                         : vec<T>(T(0));
    }
}

/// Stores the first m_valid rows and n_valid columns of the tile to C (row
/// r at C + r·ldc; `col` is the column of C[.][0] for the epilogue).
template <bool Accumulate, std::size_t MR, std::size_t NV, class T, class Ep>
inline void store_tile(vec<T> (&c)[MR][NV], T* C, std::size_t ldc, std::size_t col, std::size_t n_valid,
                       std::size_t m_valid, const Ep& ep, tile_mode mode) {
  constexpr std::size_t L = lanes<T>;
  constexpr bool has_ep = !std::is_same_v<Ep, no_epilogue>;
  const bool add_old = Accumulate && mode.add_old, apply_ep = has_ep && mode.apply_ep;
  const std::size_t rows = std::min(MR, m_valid), full = n_valid / L, rest = n_valid % L;
  for (std::size_t r = 0; r < MR; ++r)
    for (std::size_t v = 0; v < NV; ++v) {
      if (r >= rows) continue;
      T* dst = C + r * ldc + v * L;
      if (v < full) {
        vec<T> y = c[r][v];
        if (has_ep && apply_ep) y = ep(y, col + v * L);
        if (add_old) y += vec<T>::load_unaligned(dst);
        y.store_unaligned(dst);
      } else if (v == full && rest != 0 && !apply_ep) {
        vec<T> y = c[r][v];
        if (add_old) y += load_partial(dst, rest);
        store_partial(dst, y, rest);
      } else if (v == full && rest != 0) {
        // The epilogue reads per-column data (a bias) with full-width loads:
        // a partial vector goes through it one scalar at a time.
        alignas(64) T t[L];
        c[r][v].store_aligned(t);
        for (std::size_t q = 0; q < rest; ++q) {
          T y = t[q];
          if constexpr (has_ep) y = ep(y, col + v * L + q);
          dst[q] = add_old ? dst[q] + y : y;
        }
      }
    }
}

/// What a tile may have to do beyond the plain case (bit flags, so that
/// each layer instantiates only the variants its sizes can need).
enum tile_flags : unsigned {
  a_trans = 1,    // A stored K×M (A(i, k) = a[k·lda + i])
  mask_last = 2,  // B read in place with its last vector masked (a column tail)
  pack_rows = 4,  // also copy the B rows read into the packed panel
  partial = 8,    // the last vector may hold fewer than L columns
  k_blocks = 16,  // one of several k blocks: may start from or stop at partial sums in C
  split_k = 32,   // a streaming tile with too few accumulators: split k over several sets
};

/// One MR×(NV·L) tile of C over kc steps of k (m_valid rows of it stored).
template <std::size_t MR, std::size_t NV, unsigned F, bool Accumulate, class T, class Ep>
inline void tile(std::size_t kc, const T* a, std::size_t lda, const T* b, std::size_t ldb, T* C, std::size_t ldc,
                 std::size_t col, std::size_t n_valid, std::size_t m_valid, const Ep& ep, tile_mode mode,
                 T* pack = nullptr) {
  // (Packed tiles never split k: every packed tile shape adds each element's
  // products in the same order, so a static M's exact tail tiles and a
  // dynamic M's padded tile give the same bits.)
  // 8 accumulators: 2 FMA pipes × 4 cycles of latency (one 512-bit pipe on
  // Zen 4 needs only 4, but an AVX2 build on the same core needs 8).
  constexpr std::size_t KS = !(F & split_k) || MR * NV >= 8 ? 1 : MR * NV >= 4 ? 2 : MR * NV >= 2 ? 4 : 8;
  constexpr bool may_be_partial = (F & (partial | mask_last)) != 0;
  if constexpr (!may_be_partial) n_valid = NV * lanes<T>;
  if constexpr (!(F & k_blocks)) mode = single_block;
  vec<T> c[MR][NV];
  if (mode.from_c) load_tile<MR, NV>(c, C, ldc, n_valid, m_valid);
  else
    for (std::size_t r = 0; r < MR; ++r)
      for (std::size_t v = 0; v < NV; ++v) c[r][v] = vec<T>(T(0));
  compute<MR, NV, KS, bool(F & a_trans), bool(F & mask_last), bool(F & pack_rows)>(
      c, kc, a, lda, b, ldb, n_valid - (NV - 1) * lanes<T>, pack);
  if constexpr (requires { ep.finish(); }) {
    // An epilogue that sums what it sees (kernels::finite_watch) does so in
    // a register of its own copy, handed on once per tile: one sum in
    // memory for every store made each a chain of loads and stores.
    Ep tile_ep = ep;
    store_tile<Accumulate, MR, NV>(c, C, ldc, col, n_valid, m_valid, tile_ep, mode);
    tile_ep.finish();
  } else {
    store_tile<Accumulate, MR, NV>(c, C, ldc, col, n_valid, m_valid, ep, mode);
  }
}

/// Copies rows < `rows` (< MR) of an A block of kc columns, zero-padded to
/// MR rows, into `out` (MR·kc elements), in A's layout: row-major with
/// rows kc apart, or (ATrans) k-major with k rows MR apart. Returns the
/// leading dimension of the copy.
template <std::size_t MR, bool ATrans, class T>
inline std::size_t pad_rows(T* out, const T* a, std::size_t lda, std::size_t rows, std::size_t kc) {
  if constexpr (ATrans) {
    for (std::size_t k = 0; k < kc; ++k)
      for (std::size_t r = 0; r < MR; ++r) out[k * MR + r] = r < rows ? a[k * lda + r] : T(0);
    return MR;
  } else {
    for (std::size_t r = 0; r < MR; ++r)
      for (std::size_t k = 0; k < kc; ++k) out[r * kc + k] = r < rows ? a[r * lda + k] : T(0);
    return kc;
  }
}

// ---- transposes ---------------------------------------------------------------------

/// An L×L transpose through memory, for builds without AVX (the packing of
/// Bᵀ below uses register transposes when AVX is there).
template <class T>
inline void transpose(vec<T> (&r)[lanes<T>]) {
  constexpr std::size_t L = lanes<T>;
  alignas(64) T m[L][L];
  for (std::size_t i = 0; i < L; ++i) r[i].store_aligned(m[i]);
  for (std::size_t i = 0; i < L; ++i)
    for (std::size_t j = i + 1; j < L; ++j) std::swap(m[i][j], m[j][i]);
  for (std::size_t i = 0; i < L; ++i) r[i] = vec<T>::load_aligned(m[i]);
}

// ---- packing --------------------------------------------------------------------------

/// bp[k][0, NB) = B[k][j0 + (0, nb)] for k < kc, zero-padded to NB columns.
/// B row-major with rows ldb apart (b points at B[k0][j0]).
template <std::size_t NB, class T>
CTNN_KERNEL_NOINLINE void pack_b(T* bp, const T* b, std::size_t ldb, std::size_t kc, std::size_t nb) {
  constexpr std::size_t L = lanes<T>;
  using V = vec<T>;
  if (nb == NB) {
    for (std::size_t k = 0; k < kc; ++k)
      for (std::size_t j = 0; j < NB; j += L) V::load_unaligned(b + k * ldb + j).store_aligned(bp + k * NB + j);
    return;
  }
  for (std::size_t k = 0; k < kc; ++k)
    for (std::size_t j = 0; j < NB; j += L) {
      const V v = j + L <= nb ? V::load_unaligned(b + k * ldb + j) : j < nb ? load_partial(b + k * ldb + j, nb - j) : V(T(0));
      v.store_aligned(bp + k * NB + j);
    }
}

#if defined(__AVX__)
/// 8×8 float and 4×4 double transposes in 256-bit registers. The packing of
/// Bᵀ uses these even under AVX-512: on Zen 4 a 512-bit shuffle costs two
/// 256-bit ones, and the 256-bit transposes need fewer shuffles per element.
inline void transpose_256(__m256 (&r)[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 2; ++i) {
    u[4 * i + 0] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
    r[c + 4] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
  }
}
inline void transpose_256(__m256d (&r)[4]) {
  const __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
  const __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
  r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
  r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
  r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
  r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}
template <class T>
struct ymm_of;
template <>
struct ymm_of<float> {
  using type = __m256;
  static __m256 load(const float* p) { return _mm256_loadu_ps(p); }
  static __m256 load_partial(const float* p, std::size_t n) {
    return _mm256_maskload_ps(p, _mm256_castps_si256(_mm256_cmp_ps(
                                     _mm256_set1_ps(float(n)), _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7), _CMP_GT_OQ)));
  }
  static __m256 zero() { return _mm256_setzero_ps(); }
  static void store(float* p, __m256 v) { _mm256_store_ps(p, v); }
};
template <>
struct ymm_of<double> {
  using type = __m256d;
  static __m256d load(const double* p) { return _mm256_loadu_pd(p); }
  static __m256d load_partial(const double* p, std::size_t n) {
    return _mm256_maskload_pd(p, _mm256_castpd_si256(_mm256_cmp_pd(_mm256_set1_pd(double(n)),
                                                                   _mm256_setr_pd(0, 1, 2, 3), _CMP_GT_OQ)));
  }
  static __m256d zero() { return _mm256_setzero_pd(); }
  static void store(double* p, __m256d v) { _mm256_store_pd(p, v); }
};
#endif

/// A panel of Bᵀ, bp[k][jj] = B[j0 + jj][k0 + k], for B stored N×K
/// row-major (b points at B[j0][k0], rows ldb apart), zero-padded to NB
/// columns; built from U×U register transposes.
template <std::size_t NB, class T>
struct bt_packer {
#if defined(__AVX__)
  static constexpr std::size_t U = 32 / sizeof(T);
#else
  static constexpr std::size_t U = lanes<T>;
#endif
  T* bp = nullptr;
  const T* b = nullptr;
  std::size_t ldb = 0, kc = 0, nb = 0;

  std::size_t blocks() const { return NB / U * ((kc + U - 1) / U); }
  /// Transposes blocks [from, to) of the panel.
  CTNN_KERNEL_NOINLINE void run(std::size_t from, std::size_t to) const {
    const std::size_t kblocks = (kc + U - 1) / U;
    for (std::size_t x = from; x < to; ++x) {
      const std::size_t jj = x / kblocks * U, kk = x % kblocks * U;
      const std::size_t rows = jj < nb ? std::min(U, nb - jj) : 0, kn = std::min(U, kc - kk);
#if defined(__AVX__)
      using Y = ymm_of<T>;
      typename Y::type r[U];
      for (std::size_t q = 0; q < U; ++q) {
        const T* src = b + (jj + q) * ldb + kk;
        r[q] = q >= rows ? Y::zero() : kn == U ? Y::load(src) : Y::load_partial(src, kn);
      }
      transpose_256(r);
      for (std::size_t u = 0; u < kn; ++u) Y::store(bp + (kk + u) * NB + jj, r[u]);
#else
      using V = vec<T>;
      V r[U];
      for (std::size_t q = 0; q < U; ++q) {
        const T* src = b + (jj + q) * ldb + kk;
        r[q] = q >= rows ? V(T(0)) : kn == U ? V::load_unaligned(src) : load_partial(src, kn);
      }
      transpose<T>(r);
      for (std::size_t u = 0; u < kn; ++u) r[u].store_aligned(bp + (kk + u) * NB + jj);
#endif
    }
  }
};


/// A vector whose lane i is the sum of the lanes of r[i].
template <class T>
inline vec<T> reduce_rows(const vec<T> (&r)[lanes<T>]) {
#if defined(__AVX512F__)
  if constexpr (sizeof(vec<T>) == 64 && std::is_same_v<T, float>) {
    // (xsimd 8.1's haddp permutes the result lanes for 16 floats.) A fold
    // tree, 512 → 256 → 128 → 64 → 32 bits per row; the rows go in
    // transposed (4×4) order so that the sums come out in lane order.
    auto in = [&](int x) -> __m512 { return r[(x % 4) * 4 + x / 4]; };
    __m512 a[8], b[4], d[2];
    for (int i = 0; i < 8; ++i)
      a[i] = _mm512_add_ps(_mm512_shuffle_f32x4(in(2 * i), in(2 * i + 1), 0x44),
                           _mm512_shuffle_f32x4(in(2 * i), in(2 * i + 1), 0xEE));
    for (int i = 0; i < 4; ++i)
      b[i] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], 0x88),
                           _mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], 0xDD));
    for (int i = 0; i < 2; ++i)
      d[i] = _mm512_add_ps(_mm512_shuffle_ps(b[2 * i], b[2 * i + 1], 0x44), _mm512_shuffle_ps(b[2 * i], b[2 * i + 1], 0xEE));
    return _mm512_add_ps(_mm512_shuffle_ps(d[0], d[1], 0x88), _mm512_shuffle_ps(d[0], d[1], 0xDD));
  }
#endif
  return xsimd::haddp(r);
}

// ---- the dot-product form of A·Bᵀ, for few rows --------------------------------------

/// Σ a[i]·b[i] over k elements, in 4 vector accumulators.
template <class T>
inline T dot(std::size_t k, const T* a, const T* b) {
  constexpr std::size_t L = lanes<T>;
  using V = vec<T>;
  V acc[4] = {V(T(0)), V(T(0)), V(T(0)), V(T(0))};
  std::size_t i = 0;
  for (; i + 4 * L <= k; i += 4 * L)
    for (std::size_t q = 0; q < 4; ++q)
      acc[q] = kernels::fma(V::load_unaligned(a + i + q * L), V::load_unaligned(b + i + q * L), acc[q]);
  for (; i + L <= k; i += L) acc[0] = kernels::fma(V::load_unaligned(a + i), V::load_unaligned(b + i), acc[0]);
  if (i < k) acc[1] = kernels::fma(load_partial(a + i, k - i), load_partial(b + i, k - i), acc[1]);
  return xsimd::hadd((acc[0] + acc[1]) + (acc[2] + acc[3]));
}

/// C[i][j] (= or +=) Σ_k A[i][k]·B[j][k] for one row i and all j < n: L rows of
/// B at a time, one accumulator each, folded by reduce_rows into a vector of L
/// results. Used when A has too few rows to pay for transposing B.
template <bool Accumulate, class T>
CTNN_KERNEL_NOINLINE void dot_row(std::size_t n, std::size_t k, const T* a, const T* B, std::size_t ldb, T* c) {
  constexpr std::size_t L = lanes<T>;
  using V = vec<T>;
  const std::size_t kv = k / L * L;
  for (std::size_t j = 0; j < n; j += L) {
    const std::size_t rows = std::min(L, n - j);
    // Rows past the end repeat the last one; their sums are not stored.
    const T* bq[L];
    for (std::size_t q = 0; q < L; ++q) bq[q] = B + (j + std::min(q, rows - 1)) * ldb;
    V acc[L];
    for (std::size_t q = 0; q < L; ++q) acc[q] = V(T(0));
    for (std::size_t kk = 0; kk < kv; kk += L) {
      const V av = V::load_unaligned(a + kk);
      for (std::size_t q = 0; q < L; ++q) acc[q] = kernels::fma(av, V::load_unaligned(bq[q] + kk), acc[q]);
    }
    if (kv < k) {
      const V av = load_partial(a + kv, k - kv);
      for (std::size_t q = 0; q < L; ++q) acc[q] = kernels::fma(av, load_partial(bq[q] + kv, k - kv), acc[q]);
    }
    V s = reduce_rows<T>(acc);
    if (rows == L) {
      if constexpr (Accumulate) s += V::load_unaligned(c + j);
      s.store_unaligned(c + j);
    } else {
      if constexpr (Accumulate) s += load_partial(c + j, rows);
      store_partial(c + j, s, rows);
    }
  }
}

}  // namespace detail::gemm
}  // namespace ctnn::kernels

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
