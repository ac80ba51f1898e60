/// @file trainer.hpp
/// A runtime model plus SGD with momentum, updated the way a runtime
/// framework's optimizer does it: a loop over the parameter tensors, one
/// vectorized pass each, with the arithmetic of ctnn::optim::sgd.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ctnn/core/aligned_buffer.hpp"
#include "ctnn/kernels/finite.hpp"
#include "ctnn/kernels/simd.hpp"
#include "ctnn/runtime/model.hpp"
#include "ctnn/train/optim/sgd.hpp"

namespace ctnn::runtime {

/// v ← momentum·v − lr·(g + weight_decay·w); w ← w + v over n values, the
/// body of optim::sgd::update with a run-time length. The tensors are padded
/// to whole vectors (with zeros that stay zero), so there is no scalar tail.
inline void sgd_update(const optim::sgd& o, std::size_t n, float* w, const float* g, float* v) {
  const float mu = float(o.momentum), eta = float(o.lr), wd = float(o.weight_decay);
  auto body = [&]<class X>(std::size_t i) {
    const X wi = optim::detail::load<X>(w + i);
    const X vi = X(mu) * optim::detail::load<X>(v + i) - X(eta) * optim::detail::fma(X(wd), wi, optim::detail::load<X>(g + i));
    optim::detail::store(v + i, vi);
    optim::detail::store(w + i, wi + vi);
  };
  constexpr std::size_t L = kernels::lanes<float>;
  const std::size_t nv = n / L * L;
  for (std::size_t i = 0; i < nv; i += L) body.template operator()<kernels::vec<float>>(i);
  for (std::size_t i = nv; i < n; ++i) body.template operator()<float>(i);
}

class trainer {
 public:
  /// Builds the model for `batch` (see runtime::model) and one velocity
  /// tensor per parameter tensor.
  trainer(graph g, std::size_t batch, optim::sgd opt = {}, std::uint64_t seed = 0)
      : model_(std::move(g), batch, seed), optimizer_(opt) {
    for (std::size_t t = 0; t < model_.param_tensors(); ++t) velocity_.emplace_back(model_.param_at(t).size());
  }

  /// Forward, backward and the update, as ctnn::trainer::step: every input
  /// and label by name; returns the batch loss; throws std::runtime_error, leaving the
  /// parameters untouched, if the loss or a gradient is not finite.
  template <class... F>
  float step(const F&... feeds) {
    const float loss = model_.forward_backward(feeds...);
    if (!std::isfinite(loss))
      throw std::runtime_error("ctnn::runtime::trainer::step: the loss is not finite; parameters left unchanged");
    for (std::size_t t = 0; t < velocity_.size(); ++t)
      if (const std::span<const float> g = model_.grad_at(t); !kernels::all_finite(g.data(), g.size()))
        throw std::runtime_error("ctnn::runtime::trainer::step: the gradient of '" +
                                 std::string(model_.param_name(t)) +
                                 "' is not finite (a NaN in the input?); parameters left unchanged");
    for (std::size_t t = 0; t < velocity_.size(); ++t) {
      const std::span<float> w = model_.param_at(t);
      sgd_update(optimizer_, w.size(), w.data(), model_.grad_at(t).data(), velocity_[t].data());
    }
    return loss;
  }

  template <class... F>
  std::span<const float> predict(const F&... feeds) { return model_.predict(feeds...); }
  template <class... F>
  std::span<const float> predict_one(const F&... feeds) { return model_.predict_one(feeds...); }

  runtime::model& model() { return model_; }
  optim::sgd& optimizer() { return optimizer_; }

 private:
  runtime::model model_;
  optim::sgd optimizer_;
  std::vector<aligned_buffer<float>> velocity_;
};

}  // namespace ctnn::runtime
