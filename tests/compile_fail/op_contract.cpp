// An op that does not declare a member of the op contract (ctnn/core/op.hpp):
// here its spec has a backward but no forward. make_node names the member.
#include <ctnn/ctnn.hpp>

namespace user {
struct doubled_op {
  static constexpr auto name = ctnn::fixed_string("doubled");
  template <class In>
  struct spec : ctnn::spec_defaults {
    static constexpr std::string_view kind = "doubled";
    using out_shape = In;
#ifndef CTNN_SHOULD_FAIL
    template <std::size_t B, class T>
    static void forward(const ctnn::forward_args<T>& a) {
      for (std::size_t i = 0; i < B * In::size; ++i) a.out[i] = 2 * a.in[0][i];
    }
#endif
    template <std::size_t B, unsigned Mode, class T>
    static void backward(const ctnn::backward_args<T>& a) {
      if constexpr (ctnn::grad_mode::wants_input(Mode, 0))
        for (std::size_t i = 0; i < B * In::size; ++i)
          a.din[0][i] = (ctnn::grad_mode::adds_to_input(Mode, 0) ? a.din[0][i] : 0) + 2 * a.dout[i];
    }
  };
};
}  // namespace user

namespace net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<10>>;
inline constexpr auto y = ctnn::make_node<user::doubled_op>(ctnn::dense<"fc", 10>(x));
using network = decltype(ctnn::network(ctnn::softmax_cross_entropy(y, ctnn::label<"class", 10>), ctnn::outputs(y)));
static_assert(network::param_count == 10 * 10 + 10);
}  // namespace net

int main() {
  ctnn::trainer<net::network, ctnn::batch<2>> t;
  const float x[20]{};
  const int c[2]{};
  t.step(ctnn::feed<"x">(x), ctnn::feed<"class">(c));
}
