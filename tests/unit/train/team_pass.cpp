// A training step as one OpenMP region (model::one_region_pass): the same
// bits as on one thread, on any team size, with the update inside the
// region or after it, and a rejected step changes nothing.
#include <catch2/catch.hpp>

#include <omp.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <ctnn/ctnn.hpp>

namespace {

inline constexpr auto x = ctnn::input<"x", ctnn::shape<256>>;
inline constexpr auto y = ctnn::label<"y", 10>;
inline constexpr auto scores =
    ctnn::dense<"fc3", 10>(ctnn::tanh(ctnn::dense<"fc2", 64>(ctnn::relu(ctnn::dense<"fc1", 128>(x)))));
using net = decltype(ctnn::network(ctnn::softmax_cross_entropy(scores, y)));

inline constexpr auto image = ctnn::input<"x", ctnn::shape<1, 8, 8>>;
using conv_net = decltype(ctnn::network(
    ctnn::softmax_cross_entropy(ctnn::dense<"fc", 10>(ctnn::flatten(ctnn::conv2d<"conv", 4, 3>(image))), y)));

static_assert(ctnn::model<net, 32>::one_region_pass, "dense layers over 32 rows share the team");
static_assert(!ctnn::model<net, 2>::one_region_pass, "two rows: every layer runs on one thread");
static_assert(!ctnn::model<conv_net, 32>::one_region_pass, "a convolution opens its own region");

// The team sweeps fc1's and fc2's weights by the rows their gradients split
// into; fc3's (10 columns, too small to split) and the biases on thread 0.
constexpr const ctnn::kernels::parameter_layout& layout = ctnn::model<net, 32>::team_parameter_layout;
static_assert(layout.floats == net::param_buffer_size && layout.stretches.size() == 6);
static_assert([] {
  std::size_t split_rows = 0, end = 0;
  for (const auto& s : layout.stretches) {
    if (s.begin != end) return false;  // in order, the whole buffer
    end = s.end;
    split_rows += s.rows;
    if (s.rows == 256 && s.row_length != 128) return false;
    if (s.rows == 128 && s.row_length != 64) return false;
  }
  return split_rows == 256 + 128 && end == layout.floats;
}());

struct batch {
  std::vector<float> x = std::vector<float>(32 * 256);
  std::vector<float> y = std::vector<float>(32);
  explicit batch(unsigned seed) {
    std::mt19937 g(seed);
    for (float& v : x) v = std::uniform_real_distribution<float>(-1.0f, 1.0f)(g);
    for (float& v : y) v = float(g() % 10);
  }
};

struct trained {
  std::vector<float> params, state;
  float loss = 0;
  std::size_t updates = 0;  // the optimizer's own count (Adam's t), if it keeps one
};

template <class Optimizer>
trained train(int threads, const Optimizer& opt, const ctnn::training_options& options = {}) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  ctnn::trainer<net, ctnn::batch<32>, Optimizer> t(opt, 5, options);
  trained r;
  for (unsigned s = 0; s < 4; ++s) {
    const batch b(s);
    r.loss = t.step(ctnn::feed<"x">(b.x), ctnn::feed<"y">(b.y));
  }
  omp_set_num_threads(saved);
  if constexpr (ctnn::optim::counts_updates<Optimizer>) r.updates = t.optimizer().t;
  const auto p = t.model().parameters();
  const auto st = t.optimizer_state();
  r.params.assign(p.begin(), p.end());
  r.state.assign(st.begin(), st.end());
  return r;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("one-region step: the same bits on 1, 2 and 3 threads", "[train][threads]") {
  SECTION("SGD with momentum: the update inside the region") {
    const ctnn::optim::sgd opt{.lr = 0.05, .momentum = 0.9};
    const trained one = train(1, opt), two = train(2, opt), three = train(3, opt);
    CHECK(std::isfinite(one.loss));
    CHECK(same_bits(one.params, two.params));
    CHECK(same_bits(one.state, two.state));
    CHECK(same_bits(one.params, three.params));
    CHECK(std::memcmp(&one.loss, &two.loss, sizeof(float)) == 0);
  }
  SECTION("Adam: the update inside the region, its step count once per step") {
    static_assert(ctnn::optim::update_shares_team<ctnn::optim::adam>);
    const ctnn::optim::adam opt{.lr = 1e-3};
    const trained one = train(1, opt), two = train(2, opt), three = train(3, opt);
    CHECK(same_bits(one.params, two.params));
    CHECK(same_bits(one.state, two.state));
    CHECK(same_bits(one.params, three.params));
    CHECK(one.updates == 4);
    CHECK(two.updates == 4);
    CHECK(three.updates == 4);
  }
  SECTION("an option on the gradients: the update after the region") {
    const ctnn::optim::sgd opt{.lr = 0.05, .momentum = 0.9};
    const ctnn::training_options clip{.clip_norm = 0.5};
    const trained one = train(1, opt, clip), two = train(2, opt, clip);
    CHECK(same_bits(one.params, two.params));
    CHECK(!same_bits(one.params, train(1, opt).params));  // the option did act
  }
}

TEST_CASE("one-region step: a NaN in the batch is rejected on a team, nothing changed", "[train][threads][non_finite]") {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(2);
  ctnn::trainer<net, ctnn::batch<32>> t({.lr = 0.05, .momentum = 0.9}, 5);
  batch b(1);
  t.step(ctnn::feed<"x">(b.x), ctnn::feed<"y">(b.y));
  const std::vector<float> before(t.model().parameters().begin(), t.model().parameters().end());
  const std::vector<float> state(t.optimizer_state().begin(), t.optimizer_state().end());
  b.x[5 * 256 + 17] = std::nanf("");
  CHECK_THROWS_AS(t.step(ctnn::feed<"x">(b.x), ctnn::feed<"y">(b.y)), ctnn::non_finite_error);
  omp_set_num_threads(saved);
  CHECK(same_bits(before, {t.model().parameters().begin(), t.model().parameters().end()}));
  CHECK(same_bits(state, {t.optimizer_state().begin(), t.optimizer_state().end()}));
  CHECK(t.steps() == 1);
}
