/// @file xtensor.hpp
/// `ctnn::as_xtensor(view)`: a tensor_view (what `model::param<"name">()` and
/// `model::grad<"name">()` return) as an xtensor expression over the same
/// memory, for code that wants xtensor's algebra:
///
///     ctnn::as_xtensor(m.param<"w">()) = xt::xtensor<double, 2>{{2}, {-3}};
///     double total = xt::sum(ctnn::as_xtensor(m.grad<"w">()))();
///
/// The result is `xt::adapt` (xtensor 0.24) of the view's pointer with its
/// static rank and shape, row-major and without ownership: it writes through
/// to the model when the view is writable and must not outlive the model.
/// This header includes <xtensor/xadapt.hpp> and is deliberately not part of
/// <ctnn/ctnn.hpp>, which stays free of xtensor.
#pragma once

#include <cstddef>

#include <xtensor/xadapt.hpp>

#include "ctnn/core/tensor_view.hpp"

namespace ctnn {

/// An xtensor adaptor (fixed rank, row-major, no ownership) over `v`'s elements.
template <class T, std::size_t Rank>
auto as_xtensor(tensor_view<T, Rank> v) {
  return xt::adapt<xt::layout_type::row_major>(v.data(), v.size(), xt::no_ownership(), v.shape());
}

}  // namespace ctnn
