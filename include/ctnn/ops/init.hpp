/// @file init.hpp
/// How a parameter starts out, chosen per parameter in the DSL:
/// `dense<"fc1", 256, init::xavier_uniform>(x)`,
/// `dense<"fc1", 256, init::sparse<15>, bias_init<init::constant<0.5>>>(x)`,
/// `variable<"v", shape<4, 8>, init::gaussian<0.01>>`.
/// The choice is a type (a tag); each tag carries an `initializer`, a plain
/// value the planner copies into the parameter's declaration. The numbers are
/// drawn at run time by ctnn/train/initialize.hpp.
#pragma once

#include <cstddef>
#include <type_traits>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/core/fixed_string.hpp"
#include "ctnn/core/real.hpp"

namespace ctnn {

/// The initialization schemes. Fan-in and fan-out come from the parameter's
/// declaration (a dense weight [in, out]: fan_in = in, fan_out = out).
enum class init_kind {
  zeros,           // 0
  ones,            // 1
  he_normal,       // N(0, 2/fan_in)                        He et al. 2015
  xavier_uniform,  // U(−a, a), a = √(6/(fan_in + fan_out))  Glorot & Bengio 2010
  constant,        // value
  gaussian,        // N(0, value²)
  xavier_normal,   // N(0, 2/(fan_in + fan_out))           Glorot & Bengio 2010
  he_uniform,      // U(−a, a), a = √(6/fan_in)            He et al. 2015
  sparse,          // per unit, `nonzeros` incoming weights N(0, value²), the rest 0  (Martens 2010)
  uniform_fan_in,  // U(−a, a), a = 1/√fan_in                PyTorch's recurrent layers
};

/// An initialization scheme with its numbers, as plain data.
struct initializer {
  init_kind kind = init_kind::zeros;
  double value = 0;           // constant: the value; gaussian, sparse: the standard deviation
  std::size_t nonzeros = 0;   // sparse: nonzero incoming weights per unit
  constexpr initializer() = default;
  constexpr initializer(init_kind k, double v = 0, std::size_t n = 0) : kind(k), value(v), nonzeros(n) {}
  friend constexpr bool operator==(const initializer&, const initializer&) = default;
};

namespace detail {
struct init_tag {};
}  // namespace detail

/// The DSL's spelling of each scheme.
namespace init {
struct zeros : detail::init_tag {
  static constexpr initializer value{init_kind::zeros};
};
struct ones : detail::init_tag {
  static constexpr initializer value{init_kind::ones};
};
/// Every element equal to C: `init::constant<0.1>`.
template <real C>
struct constant : detail::init_tag {
  static constexpr initializer value{init_kind::constant, C.value()};
};
/// A small Gaussian N(0, Std²): `init::gaussian<0.01>` is the seeds'
/// `0.01 * np.random.randn(D, H)`.
template <real Std = 0.01>
struct gaussian : detail::init_tag {
  static_assert(Std.value() > 0, "ctnn::init::gaussian: the standard deviation must be positive");
  static constexpr initializer value{init_kind::gaussian, Std.value()};
};
/// Glorot & Bengio (2010), eq. 16: U(−a, a) with a = √(6/(fan_in + fan_out)).
struct xavier_uniform : detail::init_tag {
  static constexpr initializer value{init_kind::xavier_uniform};
};
/// Glorot & Bengio (2010), the same variance 2/(fan_in + fan_out) from a Gaussian.
struct xavier_normal : detail::init_tag {
  static constexpr initializer value{init_kind::xavier_normal};
};
/// He et al. (2015): N(0, 2/fan_in). The default for weights.
struct he_normal : detail::init_tag {
  static constexpr initializer value{init_kind::he_normal};
};
/// He et al. (2015) variance 2/fan_in from a uniform: U(−a, a), a = √(6/fan_in).
struct he_uniform : detail::init_tag {
  static constexpr initializer value{init_kind::he_uniform};
};
/// U(−a, a) with a = 1/√fan_in: PyTorch's default for every parameter of
/// its recurrent layers (fan-in = the hidden size) and for nn.Linear's bias.
/// The default of ctnn's recurrent layers.
struct uniform_fan_in : detail::init_tag {
  static constexpr initializer value{init_kind::uniform_fan_in};
};
/// Martens (2010), "sparse initialization": each unit (a column of an
/// [in, out] weight) gets exactly K nonzero incoming weights, at rows chosen
/// uniformly without replacement, drawn from N(0, Std²); the rest are 0.
/// Martens uses K = 15 and unit Gaussians.
template <std::size_t K = 15, real Std = 1.0>
struct sparse : detail::init_tag {
  static_assert(K > 0, "ctnn::init::sparse: each unit needs at least one nonzero weight");
  static_assert(Std.value() > 0, "ctnn::init::sparse: the standard deviation must be positive");
  static constexpr initializer value{init_kind::sparse, Std.value(), K};
};
}  // namespace init

/// Whether T is one of the `init::` tags.
template <class T>
inline constexpr bool is_initializer_v = std::is_base_of_v<detail::init_tag, T>;

/// Checks a scheme against the parameter it is given to, where the op is
/// written: `sparse<k>` needs k ≤ Rows (the rows of the parameter viewed as
/// [rows, units]; for a weight [in, out], its fan-in).
template <fixed_string Parameter, class I, std::size_t Rows>
inline constexpr bool init_fits = diagnostic::check<diagnostic::sparse_init_exceeds_fan_in<
    Parameter, (I::value.kind == init_kind::sparse ? I::value.nonzeros : 0), Rows>>;

/// Options of an op that owns a weight and a bias: `weight_init<I>` (or the
/// tag I alone) and `bias_init<I>`.
template <class I>
struct weight_init {
  static_assert(is_initializer_v<I>, "ctnn::weight_init: the argument must be a ctnn::init:: scheme");
  using type = I;
};
template <class I>
struct bias_init {
  static_assert(is_initializer_v<I>, "ctnn::bias_init: the argument must be a ctnn::init:: scheme");
  using type = I;
};

}  // namespace ctnn
