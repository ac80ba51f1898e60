// The MLP variants of ctnn_train: dropout and batch norm change the network's
// type, so each combination is compiled in. run_mlp_variant<false> (plain,
// train_mlp.cpp) and run_mlp_variant<true> (batch norm, train_mlp_bn.cpp)
// each instantiate five networks, one per drop probability.
#pragma once

#include <models/mlp.hpp>

#include "train_run.hpp"

namespace train_app {

template <bool BatchNorm>
int run_mlp_variant(const options& o, const ctnn::io::dataset& train, const ctnn::io::dataset& test) {
  namespace mlp = ctnn::models::mlp;
  if (o.dropout == 0.1f) return run<typename mlp::variant<BatchNorm, 0.1>::network>(o, train, test);
  if (o.dropout == 0.2f) return run<typename mlp::variant<BatchNorm, 0.2>::network>(o, train, test);
  if (o.dropout == 0.3f) return run<typename mlp::variant<BatchNorm, 0.3>::network>(o, train, test);
  if (o.dropout == 0.5f) return run<typename mlp::variant<BatchNorm, 0.5>::network>(o, train, test);
  if constexpr (BatchNorm) return run<mlp::mlp_bn>(o, train, test);
  else return run<mlp::network>(o, train, test);
}

}  // namespace train_app
