/// @file loss.hpp
/// Losses. Each gives one value per sample (shape<>); the model averages over
/// the batch (or sums, with reduce::batch_sum) and sums the network's loss
/// roots. Options after the two arguments choose the reductions
/// (ctnn/ops/loss_options.hpp). Two families:
///  - against a class label: softmax_cross_entropy (fused, stable),
///    negative_log_likelihood, multiclass_hinge, squared_hinge;
///  - against a target tensor of the prediction's shape: squared_error (½‖y−t‖²),
///    l1_loss, binary_cross_entropy (on probabilities), sigmoid_cross_entropy
///    (on logits, stable; with one logit per attribute, the multi-label
///    logistic loss), hinge (targets ±1; the attribute hinge loss),
///    kl_divergence (log-probabilities against probabilities).
/// The Gaussian KL term of a VAE is gaussian_kl (ctnn/ops/gaussian_kl.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/core/diagnostics.hpp"
#include "ctnn/kernels/gemm.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/kernels/step_team.hpp"
#include "ctnn/ops/io.hpp"
#include "ctnn/ops/loss_options.hpp"
#include "ctnn/ops/node.hpp"

namespace ctnn {

namespace loss_rule {

// Each rule computes one sample's loss from scores s[n] and class y, and its
// gradient ds (scaled by the upstream gradient g). `scratch` holds n values
// kept from forward (softmax probabilities). `sums_classes`: the value is a
// sum over the classes, so a sample mean (÷ n) means something.
struct softmax_cross_entropy {
  static constexpr fixed_string kind = "softmax_cross_entropy";
  static constexpr bool keeps_scratch = true;
  static constexpr bool sums_classes = false;
  // exp a vector at a time, a last partial vector masked: std::exp one score
  // at a time took 2.4 µs for the MLP step's 64 × 10 scores, on one thread
  // while the rest of the team waited, and this takes 1.0 µs. The sum is
  // taken in lanes, then across them.
  template <class T>
  static T loss(const T* s, std::size_t n, std::size_t y, T* p) {
    using V = kernels::vec<T>;
    const T m = *std::max_element(s, s + n);
    V sums(T(0));
    kernels::over_lanes<T>(n, [&](std::size_t i, auto io) {
      const V e = io.keep(xsimd::exp(io.get(s + i) - V(m)));
      io.put(p + i, e);
      sums += e;
    });
    const T sum = xsimd::hadd(sums);
    kernels::over_lanes<T>(n, [&](std::size_t i, auto io) { io.put(p + i, io.get(p + i) / V(sum)); });
    return m + std::log(sum) - s[y];  // log-sum-exp − s_y, finite for any logits
  }
  template <class T>
  static T grad(const T*, std::size_t i, std::size_t y, const T* p, const T*, std::size_t) {
    return p[i] - (i == y ? T(1) : T(0));
  }
};

struct negative_log_likelihood {
  static constexpr fixed_string kind = "negative_log_likelihood";
  static constexpr bool keeps_scratch = false;
  static constexpr bool sums_classes = false;
  template <class T>
  static T loss(const T* logp, std::size_t, std::size_t y, T*) { return -logp[y]; }
  template <class T>
  static T grad(const T*, std::size_t i, std::size_t y, const T*, const T*, std::size_t) {
    return i == y ? T(-1) : T(0);
  }
};

/// Σ_{j≠y} max(0, s_j − s_y + 1), raised to Power (1: SVM hinge, 2: squared).
template <int Power>
struct margin {
  static constexpr auto kind = [] {
    if constexpr (Power == 1) return fixed_string("multiclass_hinge");
    else return fixed_string("squared_hinge");
  }();
  static constexpr bool keeps_scratch = false;
  static constexpr bool sums_classes = true;
  template <class T>
  static T loss(const T* s, std::size_t n, std::size_t y, T*) {
    T l = 0;
    for (std::size_t j = 0; j < n; ++j)
      if (j != y) {
        const T m = std::max(T(0), s[j] - s[y] + T(1));
        l += Power == 1 ? m : m * m;
      }
    return l;
  }
  template <class T>
  static T grad(const T* s, std::size_t i, std::size_t y, const T*, const T*, std::size_t n) {
    auto dm = [&](std::size_t j) {
      const T m = s[j] - s[y] + T(1);
      return m > 0 ? (Power == 1 ? T(1) : T(2) * m) : T(0);
    };
    if (i != y) return dm(i);
    T total = 0;
    for (std::size_t j = 0; j < n; ++j)
      if (j != y) total += dm(j);
    return -total;
  }
};

}  // namespace loss_rule

namespace detail {
// The batch loops of the losses, shared by the static ops and the runtime
// twin (ctnn/runtime/loss.hpp); the static ops pass their sizes and
// options as constants. `r` scales each sample's value and the gradient
// flowing into it (÷ n for a sample mean); the batch reduction is the
// model's.

/// out[b] = Rule::loss of sample b's n scores against its label; for a
/// sequence of `steps` labels, the sum (or with steps_mean the mean) of the
/// steps' losses, each step's n scores one row of the sample's [steps, n].
template <class Rule, class T>
inline void label_loss_forward(std::size_t batch, std::size_t n, const T* s, const T* labels, T* scratch, T* out,
                               const loss_reduction& r = {}, std::size_t steps = 1) {
  for (std::size_t b = 0; b < batch; ++b) {
    T sum = 0;
    for (std::size_t t = 0; t < steps; ++t) {
      const std::size_t row = b * steps + t;
      sum += reduce_sample(Rule::loss(s + row * n, n, std::size_t(labels[row]),
                                      Rule::keeps_scratch ? scratch + row * n : nullptr),
                           n, r);
    }
    out[b] = r.steps_mean ? sum / T(steps) : sum;
  }
}
/// ds (= or +=) dout[b] · d loss / d scores, sample by sample (row by row
/// for a sequence).
template <class Rule, class T>
inline void label_loss_backward(std::size_t batch, std::size_t n, const T* s, const T* labels, const T* scratch,
                                const T* dout, T* ds, bool accumulate, const loss_reduction& r = {},
                                std::size_t steps = 1) {
  for (std::size_t b = 0; b < batch; ++b)
    for (std::size_t t = 0; t < steps; ++t) {
      const std::size_t row = b * steps + t;
      const T* sb = s + row * n;
      const T* p = Rule::keeps_scratch ? scratch + row * n : nullptr;
      const std::size_t y = std::size_t(labels[row]);
      const T d = reduce_sample(r.steps_mean ? dout[b] / T(steps) : dout[b], n, r);
      T* dsb = ds + row * n;
      for (std::size_t i = 0; i < n; ++i) {
        const T g = d * Rule::grad(sb, i, y, p, labels, n);
        dsb[i] = accumulate ? dsb[i] + g : g;
      }
    }
}
/// out[b] = Σ_i Rule::loss(prediction, target) over sample b's n elements.
template <class Rule, class T>
inline void target_loss_forward(std::size_t batch, std::size_t n, const T* pred, const T* target, T* out,
                                const loss_reduction& r = {}) {
  for (std::size_t b = 0; b < batch; ++b) {
    T l = 0;
    for (std::size_t i = 0; i < n; ++i) l += Rule::loss(pred[b * n + i], target[b * n + i]);
    out[b] = reduce_sample(l, n, r);
  }
}
/// dpred (= or +=) g and dtarget (= or +=) −g, g = dout · Rule::grad; a null
/// pointer is a gradient not wanted (−g holds for the symmetric rules only).
template <class Rule, class T>
inline void target_loss_backward(std::size_t batch, std::size_t n, const T* pred, const T* target, const T* dout,
                                 T* dpred, bool accumulate_pred, T* dtarget, bool accumulate_target,
                                 const loss_reduction& r = {}) {
  for (std::size_t b = 0; b < batch; ++b) {
    const T d = reduce_sample(dout[b], n, r);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t k = b * n + i;
      const T g = d * Rule::grad(pred[k], target[k]);
      if (dpred) dpred[k] = accumulate_pred ? dpred[k] + g : g;
      if (dtarget) dtarget[k] = accumulate_target ? dtarget[k] - g : -g;
    }
  }
}
}  // namespace detail

/// A loss of scores against a class label with Classes classes (Steps > 0:
/// a label per step, scores [Steps, Classes]), reduced as R says.
template <class Rule, std::size_t Classes, loss_reduction R = loss_reduction{}, std::size_t Steps = 0>
struct label_loss_op {
  static constexpr auto name = no_name;
  static constexpr loss_reduction reduction = R;
  template <class Scores, class Label>
  struct spec : spec_defaults {
    static constexpr std::string_view kind = Rule::kind.view();
    using out_shape = shape<>;
    static constexpr node_role role = node_role::loss;
    static constexpr bool batch_sum = R.batch == batch_reduction::sum;
    static constexpr std::size_t n = Classes;
    static constexpr std::size_t steps = Steps == 0 ? 1 : Steps;
    static constexpr std::size_t scratch_size = Rule::keeps_scratch ? steps * n : 0;
    static constexpr double flops = 4.0 * steps * n;
    // Sample by sample: on a step's team each thread takes its samples,
    // those whose scores it computed.
    template <std::size_t B>
    static constexpr team_use team_use_at = team_use::joins;

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      kernels::on_samples(B, kernels::sample_block<T>, [&](std::size_t b0, std::size_t b1) {
        const std::size_t row = b0 * steps;
        detail::label_loss_forward<Rule>(b1 - b0, n, a.in[0] + row * n, a.in[1] + row,
                                         a.scratch + (Rule::keeps_scratch ? row * n : 0), a.out + b0, R, steps);
      });
    }
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      if constexpr (grad_mode::wants_input(Mode, 0))
        kernels::on_samples(B, kernels::sample_block<T>, [&](std::size_t b0, std::size_t b1) {
          const std::size_t row = b0 * steps;
          detail::label_loss_backward<Rule>(b1 - b0, n, a.in[0] + row * n, a.in[1] + row,
                                            a.scratch + (Rule::keeps_scratch ? row * n : 0), a.dout + b0,
                                            a.din[0] + row * n, grad_mode::adds_to_input(Mode, 0), R, steps);
        });
    }
  };
};

/// `loss(scores, label, options...)`: options from ctnn/ops/loss_options.hpp.
template <class Rule>
struct label_loss_fn {
  template <graph_value X, graph_value L, class... Options>
  constexpr auto operator()(const X& scores, const L& lbl, const Options&...) const {
    using label_node = resolve_t<L>;
    static_assert(is_label_v<label_node>,
                  "CTNN_LOSS_LABEL_MISMATCH: this loss's second argument must be a ctnn::label<name, classes>");
    using label_op = typename label_node::op;
    using scores_shape = typename resolve_t<X>::out_shape;
    constexpr std::size_t steps = label_op::steps;
    if constexpr (steps == 0) {
      static_assert(diagnostic::check<
                    diagnostic::loss_label_mismatch<Rule::kind, scores_shape, label_op::name, label_op::classes>>);
    } else {
      // A sequence label: [steps, classes] scores, the steps checked first.
      constexpr bool steps_agree = scores_shape::rank == 2 && scores_shape::dims[0] == steps;
      static_assert(diagnostic::check<
                    diagnostic::sequence_lengths_differ<Rule::kind, scores_shape, label_op::name, steps>>);
      static_assert(diagnostic::check_unless<
                    !steps_agree, diagnostic::loss_label_mismatch<Rule::kind, shape<(steps_agree ? scores_shape::dims[1] : 1)>,
                                                                  label_op::name, label_op::classes>>);
    }
    constexpr auto over = Rule::sums_classes ? detail::sample_sum_over::classes : detail::sample_sum_over::nothing;
    constexpr loss_reduction r = detail::loss_options<Rule::kind, over, false, (steps > 0), Options...>::value;
    return make_node<label_loss_op<Rule, label_op::classes, r, steps>>(scores, lbl);
  }
};

/// Softmax and cross-entropy fused: stable for any logits, gradient p − onehot(y).
inline constexpr label_loss_fn<loss_rule::softmax_cross_entropy> softmax_cross_entropy{};
/// −log p_y for log-probabilities (e.g. the output of a log-softmax).
inline constexpr label_loss_fn<loss_rule::negative_log_likelihood> negative_log_likelihood{};
/// The multiclass SVM loss Σ_{j≠y} max(0, s_j − s_y + 1).
inline constexpr label_loss_fn<loss_rule::margin<1>> multiclass_hinge{};
/// Σ_{j≠y} max(0, s_j − s_y + 1)².
inline constexpr label_loss_fn<loss_rule::margin<2>> squared_hinge{};

namespace loss_rule {

// Elementwise losses against a target t: value and d/dy, per element.
struct squared_error {
  static constexpr fixed_string kind = "squared_error";
  template <class T> static T loss(T y, T t) { return T(0.5) * (y - t) * (y - t); }
  template <class T> static T grad(T y, T t) { return y - t; }
};
struct l1 {
  static constexpr fixed_string kind = "l1_loss";
  template <class T> static T loss(T y, T t) { return std::abs(y - t); }
  template <class T> static T grad(T y, T t) { return y > t ? T(1) : (y < t ? T(-1) : T(0)); }
};
/// −(t log y + (1−t) log(1−y)) on probabilities y, clamped away from 0 and 1.
struct binary_cross_entropy {
  static constexpr fixed_string kind = "binary_cross_entropy";
  template <class T> static T clamp(T y) {
    constexpr T eps = sizeof(T) == 4 ? T(1e-7) : T(1e-12);
    return std::clamp(y, eps, T(1) - eps);
  }
  template <class T> static T loss(T y, T t) {
    y = clamp(y);
    return -(t * std::log(y) + (T(1) - t) * std::log(T(1) - y));
  }
  template <class T> static T grad(T y, T t) {
    y = clamp(y);
    return -t / y + (T(1) - t) / (T(1) - y);
  }
};
/// The logistic loss on a logit x: max(x,0) − t·x + log(1 + e^−|x|).
struct sigmoid_cross_entropy {
  static constexpr fixed_string kind = "sigmoid_cross_entropy";
  template <class T> static T loss(T x, T t) {
    return std::max(x, T(0)) - t * x + std::log1p(std::exp(-std::abs(x)));
  }
  template <class T> static T grad(T x, T t) {
    const T e = std::exp(-std::abs(x));  // sigmoid without overflow
    const T s = x >= 0 ? T(1) / (T(1) + e) : e / (T(1) + e);
    return s - t;
  }
};
/// t·(log t − x): the KL divergence KL(t ‖ q) of a distribution t from q,
/// given as log-probabilities x = log q (a log_softmax), as PyTorch's kl_div;
/// t log t is 0 at t = 0.
struct kl_divergence {
  static constexpr fixed_string kind = "kl_divergence";
  template <class T> static T loss(T x, T t) { return t > 0 ? t * (std::log(t) - x) : T(0); }
  template <class T> static T grad(T, T t) { return -t; }
};
/// max(0, 1 − t·y) with t in {−1, +1}.
struct hinge {
  static constexpr fixed_string kind = "hinge";
  template <class T> static T loss(T y, T t) { return std::max(T(0), T(1) - t * y); }
  template <class T> static T grad(T y, T t) { return T(1) - t * y > 0 ? -t : T(0); }
};

}  // namespace loss_rule

/// A loss summed (or averaged, as R says) over the elements of a prediction
/// and a same-shaped target.
template <class Rule, loss_reduction R = loss_reduction{}>
struct target_loss_op {
  static constexpr auto name = no_name;
  static constexpr loss_reduction reduction = R;
  template <class Pred, class Target>
  struct spec : spec_defaults {
    static_assert(diagnostic::check<diagnostic::loss_target_mismatch<Rule::kind, Pred, Target>>);
    static constexpr std::string_view kind = Rule::kind.view();
    using out_shape = shape<>;
    static constexpr node_role role = node_role::loss;
    static constexpr bool batch_sum = R.batch == batch_reduction::sum;
    static constexpr std::size_t n = Pred::size;
    static constexpr double flops = 3.0 * n;
    template <std::size_t B>
    static constexpr team_use team_use_at = team_use::serial;

    template <std::size_t B, class T>
    static void forward(const forward_args<T>& a) {
      detail::target_loss_forward<Rule>(B, n, a.in[0], a.in[1], a.out, R);
    }
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const backward_args<T>& a) {
      // d/dt by a central difference of the rule would be wrong at the
      // kinks; the supported trainable-target losses are symmetric.
      static_assert(!grad_mode::wants_input(Mode, 1) || std::is_same_v<Rule, loss_rule::squared_error> ||
                        std::is_same_v<Rule, loss_rule::l1>,
                    "ctnn: only squared_error and l1_loss take a target that needs a gradient");
      detail::target_loss_backward<Rule>(B, n, a.in[0], a.in[1], a.dout,
                                         grad_mode::wants_input(Mode, 0) ? a.din[0] : nullptr,
                                         grad_mode::adds_to_input(Mode, 0),
                                         grad_mode::wants_input(Mode, 1) ? a.din[1] : nullptr,
                                         grad_mode::adds_to_input(Mode, 1), R);
    }
  };
};

/// `loss(prediction, target, options...)`: options from ctnn/ops/loss_options.hpp.
template <class Rule>
struct target_loss_fn {
  template <graph_value X, graph_value Y, class... Options>
  constexpr auto operator()(const X& prediction, const Y& target, const Options&...) const {
    if constexpr (is_label_v<resolve_t<Y>>) {
      static_assert(diagnostic::check<diagnostic::loss_target_is_a_label<Rule::kind, resolve_t<Y>::op::name>>);
      return prediction;  // no node: its shape check would only repeat the error
    } else {
      constexpr bool squared = std::is_same_v<Rule, loss_rule::squared_error>;
      constexpr loss_reduction r =
          detail::loss_options<Rule::kind, detail::sample_sum_over::elements, squared, false, Options...>::value;
      return make_node<target_loss_op<Rule, r>>(prediction, target);
    }
  }
};

inline constexpr target_loss_fn<loss_rule::squared_error> squared_error{};
inline constexpr target_loss_fn<loss_rule::l1> l1_loss{};
inline constexpr target_loss_fn<loss_rule::binary_cross_entropy> binary_cross_entropy{};
inline constexpr target_loss_fn<loss_rule::sigmoid_cross_entropy> sigmoid_cross_entropy{};
inline constexpr target_loss_fn<loss_rule::hinge> hinge{};
/// Σ t (log t − x): KL(t ‖ q) for log-probabilities x = log q and
/// probabilities t (`kl_divergence(log_softmax(s), t)`).
inline constexpr target_loss_fn<loss_rule::kl_divergence> kl_divergence{};

}  // namespace ctnn
