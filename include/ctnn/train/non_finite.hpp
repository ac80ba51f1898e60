/// @file non_finite.hpp
/// What the trainer reports when a step meets a NaN or an infinity: where it
/// first appeared (an input, a parameter, a node's output, a gradient), so
/// that the message names the op instead of saying only "the loss is NaN".
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ctnn {

/// The first place a non-finite value appears in one forward and backward
/// pass, in the order the pass computes them.
struct non_finite_origin {
  enum class place {
    none,             // every value and gradient was finite
    input,            // an input or label leaf as given
    parameter,        // a parameter or running statistic before the step
    output,           // the output of a node in the forward pass
    input_gradient,   // a gradient a node's backward sent to one of its inputs
    param_gradient,   // a parameter gradient a node's backward wrote
  };
  place where = place::none;
  std::size_t node = 0;        // the node that produced it (or the leaf / owner)
  std::string_view kind;       // that node's kind: "dense+relu", "input", ...
  std::string_view name;       // that node's name ("" for unnamed ops)
  std::string_view tensor;     // the parameter's name, or the input's name for an input gradient
  std::size_t sample = 0;      // for batched values: the sample of the first non-finite element
  std::size_t element = 0;     // its index within the sample (or within the parameter)
  double value = 0;            // NaN, inf or -inf

  bool found() const { return where != place::none; }

  /// One sentence: "the output of node 3 'fc1' (dense+relu) (sample 2, element 7 is nan)".
  std::string to_string() const {
    // Appended piece by piece: g++ 12 warns (-Wrestrict, a false positive)
    // about "'" + std::string(s) once the concatenation is inlined.
    const auto quoted = [](std::string_view s) {
      std::string q(1, '\'');
      q.append(s);
      q.push_back('\'');
      return q;
    };
    const std::string node_text = "node " + std::to_string(node) + (name.empty() ? "" : " " + quoted(name)) +
                                  " (" + std::string(kind) + ")";
    const std::string what = std::isnan(value) ? "nan" : value > 0 ? "inf" : "-inf";
    const std::string at_sample = " (sample " + std::to_string(sample) + ", element " + std::to_string(element) +
                                  " is " + what + ")";
    switch (where) {
      case place::none: return "no non-finite value";
      case place::input: return "the input " + quoted(name) + " as given" + at_sample;
      case place::parameter:
        return "the parameter " + quoted(tensor) + " before the step (element " + std::to_string(element) +
               " is " + what + ")";
      case place::output: return "the output of " + node_text + at_sample;
      case place::input_gradient:
        return "the gradient that " + node_text + " sends back to " + quoted(tensor) + at_sample;
      case place::param_gradient:
        return "the gradient of " + quoted(tensor) + " from " + node_text + " (element " +
               std::to_string(element) + " is " + what + ")";
    }
    return {};
  }
};

/// A training step rejected because its loss or a gradient was not finite.
/// The parameters, the optimizer's state and the running statistics are as
/// they were before the step.
struct non_finite_error : std::runtime_error {
  non_finite_origin origin;
  non_finite_error(const std::string& message, const non_finite_origin& o) : std::runtime_error(message), origin(o) {}
};

}  // namespace ctnn
