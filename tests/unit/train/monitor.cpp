// The update/weight ratio monitor: ‖Δw‖/‖w‖ per tensor equals a hand
// computation, tied tensors once, and the verdict thresholds.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>

using Catch::Detail::Approx;

namespace mon_net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<4>>;
inline constexpr auto h = ctnn::tanh(ctnn::dense<"tied", 4>(ctnn::tanh(ctnn::dense<"tied", 4>(x))));
inline constexpr auto logits = ctnn::dense<"out", 3>(h);
using net = decltype(ctnn::network(ctnn::softmax_cross_entropy(logits, ctnn::label<"y", 3>), ctnn::outputs(logits)));
constexpr std::size_t B = 4;
using trainer = ctnn::trainer<net, ctnn::batch<B>>;
}  // namespace mon_net

TEST_CASE("the update/weight ratio of each tensor, by hand", "[monitor]") {
  mon_net::trainer t({.lr = 0.1f, .momentum = 0.0f}, 7);
  ctnn::update_monitor mon(t.model());
  std::vector<float> x(mon_net::B * 4);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(float(i));
  const std::vector<int> y{0, 1, 2, 1};

  for (int step = 0; step < 2; ++step) {
    const std::vector<float> before(t.model().parameters().begin(), t.model().parameters().end());
    const float loss = mon.step(t, ctnn::feed<"x">(x), ctnn::feed<"y">(y));
    CHECK(std::isfinite(loss));
    const auto& r = mon.report();
    REQUIRE(r.size() == 4);  // out.bias, out.weight, tied.bias, tied.weight: tied once
    CHECK(r[0].name == "out.bias");
    CHECK(r[3].name == "tied.weight");
    for (const auto& e : r) {
      INFO(e.name << ", step " << step);
      const auto w = t.model().param_span(e.name);
      const std::size_t off = std::size_t(w.data() - t.model().parameters().data());
      double ww = 0, dd = 0;
      for (std::size_t k = 0; k < w.size(); ++k) {
        const double a = before[off + k], d = double(w[k]) - a;
        ww += a * a;
        dd += d * d;
      }
      CHECK(e.size == w.size());
      CHECK(e.weight_norm == Approx(std::sqrt(ww)).epsilon(1e-12));
      CHECK(e.update_norm == Approx(std::sqrt(dd)).epsilon(1e-12));
      if (ww > 0) {
        CHECK(e.ratio == Approx(std::sqrt(dd) / std::sqrt(ww)).epsilon(1e-12));
        CHECK(e.verdict == ctnn::judge_update_ratio(e.ratio));
      } else {  // the biases start at zero: no ratio on the first step
        CHECK(step == 0);
        CHECK(std::isnan(e.ratio));
        CHECK(e.verdict == ctnn::update_verdict::undefined);
      }
    }
  }
  const std::string table = mon.table();
  CHECK(table.find("tied.weight") != std::string::npos);
  CHECK(table.find("ratio") != std::string::npos);
}

TEST_CASE("the verdict: about 1e-3 is healthy", "[monitor]") {
  CHECK(ctnn::judge_update_ratio(1e-3) == ctnn::update_verdict::healthy);
  CHECK(ctnn::judge_update_ratio(2e-4) == ctnn::update_verdict::healthy);
  CHECK(ctnn::judge_update_ratio(5e-3) == ctnn::update_verdict::healthy);
  CHECK(ctnn::judge_update_ratio(5e-5) == ctnn::update_verdict::too_small);
  CHECK(ctnn::judge_update_ratio(0.0) == ctnn::update_verdict::too_small);
  CHECK(ctnn::judge_update_ratio(0.05) == ctnn::update_verdict::too_large);
  CHECK(ctnn::judge_update_ratio(std::nan("")) == ctnn::update_verdict::undefined);
  CHECK(ctnn::to_string(ctnn::update_verdict::too_large).find("lower the learning rate") != std::string::npos);
}

TEST_CASE("the monitor insists on a snapshot and on its own model", "[monitor]") {
  mon_net::trainer t, other;
  ctnn::update_monitor mon(t.model());
  CHECK_THROWS_AS(mon.measure(), std::logic_error);
  std::vector<float> x(mon_net::B * 4, 0.5f);
  std::vector<int> y(mon_net::B, 1);
  CHECK_THROWS_AS(mon.step(other, ctnn::feed<"x">(x), ctnn::feed<"y">(y)), std::logic_error);
}
