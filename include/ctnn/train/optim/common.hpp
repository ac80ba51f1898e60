/// @file common.hpp
/// What every per-step optimizer shares: the layout of its state buffers, the
/// `optimizer` concept the trainer checks, and the fused pass that runs one
/// update body over vectors of the flat buffers and then over the scalar tail.
///
/// An optimizer is a small aggregate of hyperparameters with
///   static constexpr std::size_t state_buffers;   // 0, 1 or 2
///   template <std::size_t N, class T> void update(T* w, const T* g, T* state);
/// `w` (parameters) and `g` (gradients) hold N values; `state` holds
/// `state_buffers` buffers of N values, buffer k starting at
/// `state + k * state_stride<T>(N)`, zero before the first update. All three
/// are 64-byte aligned (aligned_buffer, or the model's flat buffers). Scalar
/// state (Adam's step count) lives in the optimizer object itself.
///
/// For trainer checkpoints (ctnn/train/trainer_checkpoint.hpp) an optimizer
/// may name its buffers, `static constexpr std::array<std::string_view,
/// state_buffers> state_names` (otherwise "state0", "state1"), and its only
/// scalar state must be an update count `t` (saved and restored when present).
///
/// The hyperparameters are double and become T where the update uses them,
/// T(lr): exact for a double model, and for a float one the float the value
/// rounds to (float(0.1) == 0.1f, so `.lr = 0.1f` and `.lr = 0.1` train alike).
/// Scalars derived from them (Adam's bias corrections) are computed in double.
#pragma once

#if defined(_OPENMP)
#include <omp.h>
#endif

#include <cmath>
#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

#include "ctnn/kernels/simd.hpp"
#include "ctnn/kernels/step_team.hpp"
#include "ctnn/kernels/team_slice.hpp"

namespace ctnn::optim {

/// Elements from the start of one state buffer to the next: N rounded up to a
/// multiple of 64 bytes, so that every buffer starts aligned. For a model's
/// parameter buffer (already a multiple of 16 elements) this is N.
template <class T>
constexpr std::size_t state_stride(std::size_t n) {
  constexpr std::size_t a = 64 / sizeof(T);
  return (n + a - 1) / a * a;
}

/// The number of T an optimizer's state takes for N parameters.
template <class Optimizer, class T>
constexpr std::size_t state_size(std::size_t n) {
  return Optimizer::state_buffers * state_stride<T>(n);
}

/// What a trainer checkpoint calls state buffer k of O.
template <class O>
std::string state_name(std::size_t k) {
  if constexpr (requires { O::state_names[0]; }) return std::string(O::state_names[k]);
  else return "state" + std::to_string(k);
}

/// An optimizer that counts its updates in a member `t` (Adam: the bias
/// corrections depend on it).
template <class O>
concept counts_updates = requires(O& o) {
  { o.t } -> std::convertible_to<std::size_t>;
};

/// A per-step optimizer, as the trainer uses it.
template <class O, class T = float>
concept optimizer = requires(O& o, T* w, const T* g, T* s) {
  { O::state_buffers } -> std::convertible_to<std::size_t>;
  requires O::state_buffers <= 2;
  o.template update<1>(w, g, s);
};

/// Whether O's update may run on a step's team, inside the region of the
/// forward and backward (kernels/step_team.hpp), where every thread of the
/// team calls it on the same object: it declares `static constexpr bool
/// update_shares_team = true` because its update is one parallel_fused_pass
/// and whatever else it changes, only thread 0 writes (kernels::leads_team),
/// after the pass (Adam's step count). A custom optimizer's update may do
/// anything, so the default is false.
template <class O>
inline constexpr bool update_shares_team = [] {
  if constexpr (requires { O::update_shares_team; }) return bool(O::update_shares_team);
  else return false;
}();

namespace detail {

/// `X` is either kernels::vec<T> or T itself (the tail).
template <class X, class T>
inline X load(const T* p) {
  if constexpr (std::is_same_v<X, T>) return *p;
  else return X::load_aligned(p);
}
template <class X, class T>
inline void store(T* p, const X& x) {
  if constexpr (std::is_same_v<X, T>) *p = x;
  else x.store_aligned(p);
}

/// a·b + c: fused on vectors; on the scalar tail the plain expression
/// (std::fma is a library call without hardware FMA).
template <class X>
inline X fma(const X& a, const X& b, const X& c) {
  if constexpr (std::is_floating_point_v<X>) return a * b + c;
  else return kernels::fma(a, b, c);
}
template <class X>
inline X sqrt(const X& x) {
  if constexpr (std::is_floating_point_v<X>) {
    return std::sqrt(x);
#if defined(__AVX512F__)
  } else if constexpr (sizeof(X) == 64) {
    // GCC 12's _mm512_sqrt_p[sd] (what xsimd calls) merges into a
    // self-initialized _mm512_undefined_p[sd]() and warns -Wmaybe-uninitialized
    // (GCC bug 105593); the zero-masking form with a full mask is the same
    // vsqrtp[sd] and does not.
    if constexpr (std::is_same_v<typename X::value_type, float>) return X(_mm512_maskz_sqrt_ps(__mmask16(0xFFFF), x));
    else return X(_mm512_maskz_sqrt_pd(__mmask8(0xFF), x));
#endif
  } else {
    return xsimd::sqrt(x);
  }
}

/// One fused pass over [0, N): `body.template operator()<X>(i)` with
/// X = vec<T> at i = 0, L, 2L, ... while a whole vector fits, then with X = T
/// for each element of the tail. Write the body once as
/// `[&]<class X>(std::size_t i) { ... }` with load<X>, store, fma and sqrt
/// above, which take vectors and scalars alike.
template <std::size_t N, class T, class Body>
inline void fused_pass(Body body) {
  constexpr std::size_t L = kernels::lanes<T>;
  constexpr std::size_t NV = N / L * L;  // a constant bound: no tail loop when L divides N
  for (std::size_t i = 0; i < NV; i += L) body.template operator()<kernels::vec<T>>(i);
  for (std::size_t i = NV; i < N; ++i) body.template operator()<T>(i);
}

/// Buffers at least this long are updated by the whole OpenMP team.
inline constexpr std::size_t parallel_pass_min = kernels::team_pass_min;

/// fused_pass for an elementwise body (element i reads and writes only
/// index i: no reductions), split over the OpenMP team for large N: the
/// sweep is memory-bound and each core brings its own cache bandwidth.
template <std::size_t N, class T, class Body>
inline void parallel_fused_pass(Body body) {
  constexpr std::size_t L = kernels::lanes<T>;
  constexpr std::size_t vectors = N / L;
  if (kernels::step_team* const team = kernels::active_team()) {  // the parts all_finite_on_team checked
    if (const kernels::parameter_layout* layout = team->layout_of(N)) {
      team->split([&](std::size_t t, std::size_t nt) {
        layout->for_parts(t, nt, L, [&](std::size_t b, std::size_t e) {
          std::size_t i = b;
          for (; i + L <= e; i += L) body.template operator()<kernels::vec<T>>(i);
          for (; i < e; ++i) body.template operator()<T>(i);
        });
      });
      return;
    }
    team->split([&](std::size_t t, std::size_t nt) {
      const auto [begin, end] = kernels::team_slice(vectors, t, nt);
      for (std::size_t i = begin * L; i < end * L; i += L) body.template operator()<kernels::vec<T>>(i);
      if (t + 1 == nt)
        for (std::size_t i = vectors * L; i < N; ++i) body.template operator()<T>(i);
    });
    return;
  }
#if defined(_OPENMP)
  if constexpr (N >= parallel_pass_min) {
    if (omp_get_max_threads() > 1 && !kernels::in_parallel_region()) {
#pragma omp parallel
      {
        const std::size_t t = std::size_t(omp_get_thread_num()), nt = std::size_t(omp_get_num_threads());
        const auto [begin, end] = kernels::team_slice(vectors, t, nt);
        for (std::size_t i = begin * L; i < end * L; i += L) body.template operator()<kernels::vec<T>>(i);
      }
      for (std::size_t i = vectors * L; i < N; ++i) body.template operator()<T>(i);
      return;
    }
  }
#endif
  fused_pass<N, T>(body);
}

}  // namespace detail
}  // namespace ctnn::optim
