/// @file ensemble.hpp
/// Model ensembles (seed 003, "Real Ensembles": train multiple independent
/// models, at test time average their results): several trained instances of
/// one network type, their predictions averaged.
///
/// What is averaged (`ensemble_mode`):
///  - `probabilities` (the default): each member's output K is read as the
///    logits of one sample (all its values; a network's outputs are logits,
///    since softmax is fused into the loss), turned into probabilities by a
///    softmax, and the probabilities are averaged. The result is a
///    probability vector per sample.
///  - `outputs`: the raw outputs are averaged (regression, or a network whose
///    output already is a probability).
/// The members are models (ctnn::model) or trainers, held by reference; they
/// must outlive the ensemble. The ensemble allocates its result buffers once,
/// in the constructor; predict() and predict_one() make no allocation.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "ctnn/core/aligned_buffer.hpp"

namespace ctnn {

enum class ensemble_mode { probabilities, outputs };

namespace detail {
template <class M>
struct member_model {
  using type = M;
};
template <class M>
  requires requires { typename M::model_type; }
struct member_model<M> {
  using type = typename M::model_type;
};
}  // namespace detail

/// An ensemble of `Member`s (all ctnn::model<Net, B, T>, or all trainers of
/// one network), averaging output K.
template <class Member, std::size_t K = 0>
class ensemble {
  using model_t = typename detail::member_model<Member>::type;
  using graph = typename model_t::graph_type;

 public:
  using value_type = typename model_t::value_type;
  using T = value_type;
  static constexpr std::size_t batch_size = model_t::batch_size;
  /// Values per sample of output K.
  static constexpr std::size_t output_size = graph::plan.nodes[graph::output_ids[K]].out.size();

  /// From a contiguous range of members: `std::array<model, 5>`, `std::vector<trainer>`, ...
  explicit ensemble(std::span<Member> members, ensemble_mode mode = ensemble_mode::probabilities)
      : mode_(mode), out_(batch_size * output_size), out1_(output_size) {
    members_.reserve(members.size());
    for (Member& m : members) members_.push_back(&m);
    check();
  }
  /// From members held separately: `ensemble<model_t> e({a, b, c});`.
  explicit ensemble(std::initializer_list<std::reference_wrapper<Member>> members,
                    ensemble_mode mode = ensemble_mode::probabilities)
      : mode_(mode), out_(batch_size * output_size), out1_(output_size) {
    members_.reserve(members.size());
    for (Member& m : members) members_.push_back(&m);
    check();
  }

  /// The averaged output K for a batch: batch_size × output_size values, valid
  /// until the next call.
  template <class... F>
  std::span<const T> predict(const F&... feeds) {
    return run<batch_size>(out_.data(), [&](Member& m) { return m.template predict<K>(feeds...); });
  }
  /// The averaged output K for one sample.
  template <class... F>
  std::span<const T> predict_one(const F&... feeds) {
    return run<1>(out1_.data(), [&](Member& m) { return m.template predict_one<K>(feeds...); });
  }

  std::size_t size() const { return members_.size(); }
  ensemble_mode mode() const { return mode_; }

 private:
  void check() const {
    if (members_.empty()) throw std::invalid_argument("ctnn::ensemble: an ensemble needs at least one member");
  }

  template <std::size_t Bn, class Predict>
  std::span<const T> run(T* out, Predict predict) {
    constexpr std::size_t n = output_size;
    std::fill_n(out, Bn * n, T(0));
    for (Member* m : members_) {
      const std::span<const T> y = predict(*m);
      if (mode_ == ensemble_mode::outputs) {
        for (std::size_t k = 0; k < Bn * n; ++k) out[k] += y[k];
        continue;
      }
      for (std::size_t b = 0; b < Bn; ++b) {  // a stable softmax of each sample, added in
        const T* z = y.data() + b * n;
        const T top = *std::max_element(z, z + n);
        T sum = 0;
        for (std::size_t j = 0; j < n; ++j) sum += std::exp(z[j] - top);
        for (std::size_t j = 0; j < n; ++j) out[b * n + j] += std::exp(z[j] - top) / sum;
      }
    }
    const T count = T(members_.size());
    for (std::size_t k = 0; k < Bn * n; ++k) out[k] /= count;
    return {out, Bn * n};
  }

  std::vector<Member*> members_;
  ensemble_mode mode_;
  aligned_buffer<T> out_;   // batch_size × output_size
  aligned_buffer<T> out1_;  // output_size
};

}  // namespace ctnn
