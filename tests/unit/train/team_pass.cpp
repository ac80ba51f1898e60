// A training step as one OpenMP region (model::one_region_pass): the same
// bits as on one thread, on any team size, with the update inside the
// region or after it, and a rejected step changes nothing.
#include <catch2/catch.hpp>

#include <omp.h>

#include <algorithm>
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
// fc3 (32 × 64 × 10) and the loss are too small to split by themselves:
// they join the team that fc1 and fc2 open, sample by sample.
using fc3_spec = ctnn::dense_op<"fc3", 10>::spec<ctnn::shape<64>>;
static_assert(fc3_spec::team_use_at<32> == ctnn::team_use::joins);
static_assert(fc3_spec::team_use_at<3> == ctnn::team_use::serial);
static_assert(ctnn::dense_op<"fc1", 128>::spec<ctnn::shape<256>>::team_use_at<32> == ctnn::team_use::shares);
using loss_spec = ctnn::label_loss_op<ctnn::loss_rule::softmax_cross_entropy, 10>::spec<ctnn::shape<10>, ctnn::shape<>>;
static_assert(loss_spec::team_use_at<32> == ctnn::team_use::joins);

// The team sweeps each weight by the rows its gradient splits into (fc3's,
// a product too small to split by itself, joins the team all the same);
// the biases on thread 0.
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
    if (s.rows == 64 && s.row_length != 10) return false;
  }
  return split_rows == 256 + 128 + 64 && end == layout.floats;
}());

template <std::size_t N = 32>
struct batch {
  std::vector<float> x = std::vector<float>(N * 256);
  std::vector<float> y = std::vector<float>(N);
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

// built_with: the team size when the trainer is built (the model keeps a
// copy of its ops' team temp per thread of it), if not `threads`.
template <std::size_t N = 32, class Optimizer>
trained train(int threads, const Optimizer& opt, const ctnn::training_options& options = {}, int built_with = 0) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(built_with > 0 ? built_with : threads);
  ctnn::trainer<net, ctnn::batch<N>, Optimizer> t(opt, 5, options);
  omp_set_num_threads(threads);
  trained r;
  for (unsigned s = 0; s < 4; ++s) {
    const batch<N> b(s);
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
  SECTION("a team larger than when the model was built: the ops' shared temp, the same bits") {
    // Each thread takes a dense layer's whole derivative into its own copy
    // of the team temp (fc1's 128 outputs per sample, the largest); a third
    // thread finds no copy and the layer splits one shared temp by columns.
    static_assert(ctnn::model<net, 32>::team_temp_elems == 128);
    static_assert(ctnn::dense_op<"fc2", 64, true, ctnn::act::tanh>::spec<ctnn::shape<128>>::team_temp_size == 64);
    const ctnn::optim::sgd opt{.lr = 0.05, .momentum = 0.9};
    const trained one = train(1, opt), three_of_two = train(3, opt, {}, 2), two_of_one = train(2, opt, {}, 1);
    CHECK(same_bits(one.params, three_of_two.params));
    CHECK(same_bits(one.params, two_of_one.params));
    CHECK(same_bits(one.state, three_of_two.state));
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
  SECTION("batches that do not fill every thread's blocks of samples") {
    // 8 samples: one block of a packed product's rows on AVX-512, which
    // thread 0 takes alone; 20: blocks of 8, 8 and 4 (of 6 on AVX2).
    const ctnn::optim::sgd opt{.lr = 0.05, .momentum = 0.9};
    const trained one8 = train<8>(1, opt), two8 = train<8>(2, opt), three8 = train<8>(3, opt);
    CHECK(same_bits(one8.params, two8.params));
    CHECK(same_bits(one8.params, three8.params));
    const trained one20 = train<20>(1, opt), two20 = train<20>(2, opt), three20 = train<20>(3, opt);
    CHECK(same_bits(one20.params, two20.params));
    CHECK(same_bits(one20.params, three20.params));
    CHECK(std::memcmp(&one20.loss, &three20.loss, sizeof(float)) == 0);
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
  batch<> b(1);
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

namespace {
inline constexpr auto wide = ctnn::input<"x", ctnn::shape<256>>;
inline constexpr auto wide_scores = ctnn::dense<"fc2", 10>(ctnn::relu(ctnn::dense<"fc1", 128>(wide)));
using summed_net = decltype(ctnn::network(ctnn::softmax_cross_entropy(wide_scores, y, ctnn::reduce::batch_sum)));
}  // namespace

TEST_CASE("one-region step: a weight gradient that overflows alone is rejected, nothing changed",
          "[train][threads][non_finite]") {
  // fc1's unit 0 puts out 3e38 for every sample and fc2 ignores it (a zero
  // weight row): the loss, both biases' gradients and fc1's weight gradient
  // are finite, but fc2's weight gradient sums 32 terms of 3e38 × (p − 1)
  // in that row into −inf. The check before the update skips the weights
  // whose products watched what they stored: only that watch sees it.
  static_assert(ctnn::model<summed_net, 32>::one_region_pass);
  static_assert(ctnn::model<summed_net, 32>::team_parameter_layout.stretches[2].watched, "fc2.weight");
  static_assert(!ctnn::model<summed_net, 32>::team_parameter_layout.stretches[1].watched, "fc1.bias");
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2}) {
    INFO(threads << " threads");
    omp_set_num_threads(threads);
    ctnn::trainer<summed_net, ctnn::batch<32>> t({.lr = 0.05, .momentum = 0.9}, 5);
    t.model().param<"fc1.bias">().data()[0] = 3e38f;
    float* w2 = t.model().param<"fc2.weight">().data();
    std::fill(w2, w2 + 10, 0.0f);
    batch<> b(1);
    std::fill(b.y.begin(), b.y.end(), 3.0f);
    const std::vector<float> before(t.model().parameters().begin(), t.model().parameters().end());
    CHECK_THROWS_AS(t.step(ctnn::feed<"x">(b.x), ctnn::feed<"y">(b.y)), ctnn::non_finite_error);
    CHECK(same_bits(before, {t.model().parameters().begin(), t.model().parameters().end()}));
    CHECK(t.steps() == 0);
    // What the step computed: a finite loss and biases, fc2's weight not.
    CHECK(std::isfinite(t.model().forward(ctnn::feed<"x">(b.x), ctnn::feed<"y">(b.y))));
    t.model().backward();
    const auto g = t.model().grad<"fc2.weight">();
    CHECK(std::isinf(g.data()[3]));
    const auto gb = t.model().grad<"fc2.bias">();
    CHECK(std::all_of(gb.data(), gb.data() + 10, [](float v) { return std::isfinite(v); }));
  }
  omp_set_num_threads(saved);
}
