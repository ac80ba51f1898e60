/// @file graph_description.hpp
/// A network written out as ONNX operators: its inputs and outputs (per-sample
/// shapes), its nodes (operator, name, input and output tensors, attributes)
/// and its initializers (a checkpoint tensor by name, with the axis order
/// ONNX wants, or a literal value), as plain data and as the JSON that
/// tools/onnx_export.py turns into an .onnx file. ctnn/io/onnx_export.hpp
/// builds one from a network type.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace ctnn::io {

/// An ONNX attribute: an integer, a float, or a list of integers.
struct onnx_attribute {
  enum class type { integer, real, integers };
  std::string name;
  type kind = type::integer;
  std::int64_t integer = 0;
  double real = 0;
  std::vector<std::int64_t> integers;
};

inline onnx_attribute int_attribute(std::string name, std::int64_t v) {
  return {std::move(name), onnx_attribute::type::integer, v, 0, {}};
}
inline onnx_attribute float_attribute(std::string name, double v) {
  return {std::move(name), onnx_attribute::type::real, 0, v, {}};
}
inline onnx_attribute ints_attribute(std::string name, std::vector<std::int64_t> v) {
  return {std::move(name), onnx_attribute::type::integers, 0, 0, std::move(v)};
}

struct onnx_node {
  std::string op_type;  // "Gemm", "Conv", ...
  std::string name;
  std::vector<std::string> inputs, outputs;
  std::vector<onnx_attribute> attributes;
};

/// An initializer: the checkpoint tensor `array` with its axes reordered by
/// `permutation` (none: as it is), or, when `array` is empty, `values`.
/// `shape` is the initializer's shape in ONNX.
struct onnx_initializer {
  std::string name;
  std::string array;
  std::vector<std::size_t> permutation;
  std::vector<std::size_t> shape;
  std::vector<double> values;
};

/// A graph input or output: a float tensor of [batch, shape...].
struct onnx_value {
  std::string name;
  std::vector<std::size_t> shape;  // per sample
};

struct graph_description {
  std::string name;
  std::int64_t opset = 13;
  std::string parameters;  // the .npz file of the checkpoint tensors, beside the JSON
  std::vector<onnx_value> inputs, outputs;
  std::vector<onnx_node> nodes;
  std::vector<onnx_initializer> initializers;
};

namespace detail::json {
inline void string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {  // control characters as \u00XX; other bytes pass (names are UTF-8)
      const char* hex = "0123456789abcdef";
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  out += '"';
}
/// The shortest text that reads back as the same double.
inline void number(std::string& out, double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}
template <class Int>
void integer(std::string& out, Int v) {
  out += std::to_string(v);
}
template <class T, class Write>
void list(std::string& out, const std::vector<T>& items, Write write) {
  out += '[';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    write(out, items[i]);
  }
  out += ']';
}
inline void strings(std::string& out, const std::vector<std::string>& s) {
  list(out, s, [](std::string& o, const std::string& v) { string(o, v); });
}
template <class Int>
void integers(std::string& out, const std::vector<Int>& v) {
  list(out, v, [](std::string& o, Int x) { integer(o, x); });
}
inline void value(std::string& out, const onnx_value& v) {
  out += "{\"name\": ";
  string(out, v.name);
  out += ", \"shape\": ";
  integers(out, v.shape);
  out += '}';
}
}  // namespace detail::json

/// The description as JSON (one node, initializer, input or output per
/// line), the format tools/onnx_export.py reads; docs/onnx.md describes it.
inline std::string to_json(const graph_description& g) {
  namespace j = detail::json;
  std::string o = "{\n  \"format\": \"ctnn-onnx-export\",\n  \"version\": 1,\n  \"name\": ";
  j::string(o, g.name);
  o += ",\n  \"opset\": ";
  j::integer(o, g.opset);
  o += ",\n  \"parameters\": ";
  j::string(o, g.parameters);
  const auto lines = [&o](const char* key, const auto& items, auto write) {
    o += ",\n  \"";
    o += key;
    o += "\": [";
    for (std::size_t i = 0; i < items.size(); ++i) {
      o += i ? ",\n    " : "\n    ";
      write(items[i]);
    }
    o += items.empty() ? "]" : "\n  ]";
  };
  lines("inputs", g.inputs, [&o](const onnx_value& v) { j::value(o, v); });
  lines("outputs", g.outputs, [&o](const onnx_value& v) { j::value(o, v); });
  lines("initializers", g.initializers, [&o](const onnx_initializer& t) {
    o += "{\"name\": ";
    j::string(o, t.name);
    if (!t.array.empty()) {
      o += ", \"array\": ";
      j::string(o, t.array);
      o += ", \"permutation\": ";
      j::integers(o, t.permutation);
    } else {
      o += ", \"values\": ";
      j::list(o, t.values, [](std::string& s, double v) { j::number(s, v); });
    }
    o += ", \"shape\": ";
    j::integers(o, t.shape);
    o += '}';
  });
  lines("nodes", g.nodes, [&o](const onnx_node& n) {
    o += "{\"op_type\": ";
    j::string(o, n.op_type);
    o += ", \"name\": ";
    j::string(o, n.name);
    o += ", \"inputs\": ";
    j::strings(o, n.inputs);
    o += ", \"outputs\": ";
    j::strings(o, n.outputs);
    o += ", \"attributes\": [";
    for (std::size_t i = 0; i < n.attributes.size(); ++i) {
      const onnx_attribute& a = n.attributes[i];
      o += i ? ", {\"name\": " : "{\"name\": ";
      j::string(o, a.name);
      switch (a.kind) {
        case onnx_attribute::type::integer:
          o += ", \"type\": \"int\", \"value\": ";
          j::integer(o, a.integer);
          break;
        case onnx_attribute::type::real:
          o += ", \"type\": \"float\", \"value\": ";
          j::number(o, a.real);
          break;
        case onnx_attribute::type::integers:
          o += ", \"type\": \"ints\", \"value\": ";
          j::integers(o, a.integers);
          break;
      }
      o += '}';
    }
    o += "]}";
  });
  o += "\n}\n";
  return o;
}

}  // namespace ctnn::io
