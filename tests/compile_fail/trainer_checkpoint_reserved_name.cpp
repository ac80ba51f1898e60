// A tensor whose name begins with "optimizer/" would collide with a trainer
// checkpoint's own arrays ("optimizer/<tensor>/<buffer>").
#include <ctnn/ctnn.hpp>

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
#ifdef CTNN_SHOULD_FAIL
inline constexpr auto logits = ctnn::dense<"optimizer/head", 3>(x);
#else
inline constexpr auto logits = ctnn::dense<"head", 3>(x);
#endif
using network =
    decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"y", 3>), ctnn::outputs(logits)));
}  // namespace net

int main() {
  ctnn::trainer<net::network, ctnn::batch<2>> t;
  ctnn::save_trainer_checkpoint("run.npz", t);
}
