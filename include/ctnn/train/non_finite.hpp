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
  /// Built by appending: g++ 12 warns (-Wrestrict, a false positive) about
  /// "literal" + std::string once such concatenations are inlined.
  std::string to_string() const {
    std::string s;
    const auto quoted = [&s](std::string_view t) {
      s.push_back('\'');
      s.append(t);
      s.push_back('\'');
    };
    const auto node_text = [&] {
      s.append("node ").append(std::to_string(node));
      if (!name.empty()) {
        s.push_back(' ');
        quoted(name);
      }
      s.append(" (").append(kind).append(")");
    };
    const std::string_view what = std::isnan(value) ? "nan" : value > 0 ? "inf" : "-inf";
    const auto at_sample = [&] {
      s.append(" (sample ").append(std::to_string(sample)).append(", element ").append(std::to_string(element));
      s.append(" is ").append(what).append(")");
    };
    const auto at_element = [&] {
      s.append(" (element ").append(std::to_string(element)).append(" is ").append(what).append(")");
    };
    switch (where) {
      case place::none: s.append("no non-finite value"); break;
      case place::input:
        s.append("the input ");
        quoted(name);
        s.append(" as given");
        at_sample();
        break;
      case place::parameter:
        s.append("the parameter ");
        quoted(tensor);
        s.append(" before the step");
        at_element();
        break;
      case place::output:
        s.append("the output of ");
        node_text();
        at_sample();
        break;
      case place::input_gradient:
        s.append("the gradient that ");
        node_text();
        s.append(" sends back to ");
        quoted(tensor);
        at_sample();
        break;
      case place::param_gradient:
        s.append("the gradient of ");
        quoted(tensor);
        s.append(" from ");
        node_text();
        at_element();
        break;
    }
    return s;
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
