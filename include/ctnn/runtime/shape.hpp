/// @file shape.hpp
/// Per-sample shapes known only at run time, as a runtime framework's tensors
/// carry them. The batch dimension is not part of a shape: the model owns it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ctnn::runtime {

/// `{784}`, `{1, 28, 28}`; `{}` is one value per sample.
using dims = std::vector<std::size_t>;

inline std::size_t size_of(const dims& d) {
  std::size_t n = 1;
  for (std::size_t x : d) n *= x;
  return n;
}

/// "[1, 28, 28]", the spelling of the static side's shape<...>::str().
inline std::string to_string(const dims& d) {
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

}  // namespace ctnn::runtime
