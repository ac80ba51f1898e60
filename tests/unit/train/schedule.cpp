// Learning-rate schedules: exact values at chosen steps.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>

#include <ctnn/ctnn.hpp>

using Catch::Detail::Approx;

namespace sched = ctnn::schedule;

TEST_CASE("step decay: lr0 · factor^floor(step / every)", "[schedule]") {
  const sched::step_decay s{.lr0 = 0.1, .factor = 0.5, .every = 10};
  CHECK(s.lr_at(0) == 0.1);
  CHECK(s.lr_at(9) == 0.1);
  CHECK(s.lr_at(10) == 0.05);
  CHECK(s.lr_at(29) == 0.025);
  CHECK(s.lr_at(30) == 0.0125);
  CHECK(sched::step_decay{.lr0 = 0.1, .factor = 0.5, .every = 0}.lr_at(1000) == 0.1);
}

TEST_CASE("exponential decay: lr0 · e^(−k·step)", "[schedule]") {
  const sched::exponential_decay s{.lr0 = 0.1, .k = 0.01};
  CHECK(s.lr_at(0) == 0.1);
  CHECK(s.lr_at(50) == Approx(0.06065306597126335).epsilon(1e-15));    // 0.1·e^−0.5
  CHECK(s.lr_at(100) == Approx(0.036787944117144235).epsilon(1e-15));  // 0.1·e^−1
}

TEST_CASE("1/t decay: lr0 / (1 + k·step)", "[schedule]") {
  const sched::inverse_time_decay s{.lr0 = 0.5, .k = 0.5};
  CHECK(s.lr_at(0) == 0.5);
  CHECK(s.lr_at(1) == 0.5 / 1.5);
  CHECK(s.lr_at(2) == 0.25);
  CHECK(s.lr_at(6) == 0.125);
}

TEST_CASE("linear warm-up: lr0 · (step + 1) / warmup_steps, then lr0", "[schedule]") {
  const sched::linear_warmup s{.lr0 = 0.5, .warmup_steps = 4};
  CHECK(s.lr_at(0) == 0.125);
  CHECK(s.lr_at(1) == 0.25);
  CHECK(s.lr_at(2) == 0.375);
  CHECK(s.lr_at(3) == 0.5);
  CHECK(s.lr_at(4) == 0.5);
  CHECK(s.lr_at(1000) == 0.5);
  CHECK(sched::linear_warmup{.lr0 = 0.5, .warmup_steps = 0}.lr_at(0) == 0.5);
}

TEST_CASE("cosine: warm-up, then half a cosine from lr0 to lr_min", "[schedule]") {
  // 10 warm-up steps, then 100 steps of annealing: p = (step − 10) / 100.
  const sched::cosine s{.lr0 = 1.0, .lr_min = 0.1, .total_steps = 110, .warmup_steps = 10};
  CHECK(s.lr_at(0) == 0.1);  // 1·1/10
  CHECK(s.lr_at(4) == 0.5);
  CHECK(s.lr_at(9) == 1.0);
  CHECK(s.lr_at(10) == 1.0);                                         // p = 0
  CHECK(s.lr_at(35) == Approx(0.8681980515339464).epsilon(1e-15));   // p = 1/4: 0.1 + 0.45·(1 + √½)
  CHECK(s.lr_at(60) == Approx(0.55).epsilon(1e-15));                 // p = 1/2
  CHECK(s.lr_at(85) == Approx(0.23180194846605365).epsilon(1e-15));  // p = 3/4: 0.1 + 0.45·(1 − √½)
  CHECK(s.lr_at(110) == 0.1);                                        // p = 1
  CHECK(s.lr_at(1000) == 0.1);

  const sched::cosine plain{.lr0 = 0.2, .total_steps = 100};
  CHECK(plain.lr_at(0) == 0.2);
  CHECK(plain.lr_at(50) == Approx(0.1).epsilon(1e-15));
  CHECK(plain.lr_at(100) == 0.0);
}

namespace sched_net {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<2>>;
using net = decltype(ctnn::network(ctnn::squared_error(ctnn::dense<"w", 1, ctnn::no_bias>(x), ctnn::input<"t", ctnn::shape<1>>)));
}  // namespace sched_net

TEST_CASE("a schedule drives the trainer's optimizer", "[schedule]") {
  ctnn::trainer<sched_net::net, ctnn::batch<2>, ctnn::optim::adam> t;
  const sched::step_decay s{.lr0 = 0.5, .factor = 0.5, .every = 2};
  const float x[4] = {1, 0, 0, 1}, y[2] = {1, -1};
  for (std::size_t k = 0; k < 5; ++k) {
    t.optimizer().lr = s.lr_at(k);
    t.step(ctnn::feed<"x">(x), ctnn::feed<"t">(y));
  }
  CHECK(t.optimizer().lr == 0.125f);
  CHECK(t.optimizer().t == 5);
}
