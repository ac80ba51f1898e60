// Exporting a network with an op that has no ONNX translation (here the
// perceptron's step fused into a dense layer): describe_onnx names the
// op's kind and its layer.
#include <ctnn/ctnn.hpp>
#include <ctnn/io/onnx_export.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<8>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto h = ctnn::step(ctnn::dense<"fc1", 8>(x));
#else
inline constexpr auto h = ctnn::relu(ctnn::dense<"fc1", 8>(x));
#endif
inline constexpr auto y = ctnn::dense<"fc2", 4>(h);
using network = decltype(ctnn::network(ctnn::softmax_cross_entropy(y, ctnn::label<"c", 4>), ctnn::outputs(y)));
}  // namespace net

int main() {
  const ctnn::io::graph_description g = ctnn::describe_onnx<net::network>("net", "net.npz");
  return g.nodes.size() == 3 ? 0 : 1;
}
