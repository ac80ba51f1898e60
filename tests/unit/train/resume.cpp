// Trainer checkpoints: a run saved after k steps, loaded into a new trainer
// and trained N − k more ends with the bits of an uninterrupted N-step run,
// for every per-step optimizer, with dropout, batch norm, a schedule and
// parameter averaging; without the optimizer state, the update count or the
// dropout position it does not. Model checkpoints and trainer checkpoints
// load into each other's targets; a damaged or mismatched file throws and
// changes nothing.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/train/trainer_checkpoint.hpp>

#include "../../support/temp_dir.hpp"
#include "../../support/thrown.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace resume {
inline constexpr auto x = ctnn::input<"x", ctnn::shape<12>>;
inline constexpr auto y = ctnn::label<"y", 3>;
// A plain MLP.
inline constexpr auto mlp_logits = ctnn::dense<"fc2", 3>(ctnn::relu(ctnn::dense<"fc1", 16>(x)));
using mlp = decltype(ctnn::network(ctnn::softmax_cross_entropy(mlp_logits, y), ctnn::outputs(mlp_logits)));
// Batch norm (running statistics) and dropout (masks that follow the step count).
inline constexpr auto noisy_logits = ctnn::dense<"head", 3>(
    ctnn::dropout<0.3>(ctnn::relu(ctnn::batch_norm<"bn1">(ctnn::dense<"fc1", 16, ctnn::no_bias>(x)))));
using noisy = decltype(ctnn::network(ctnn::softmax_cross_entropy(noisy_logits, y), ctnn::outputs(noisy_logits)));
constexpr std::size_t B = 8;
constexpr std::size_t total_steps = 9, saved_after = 4;

// Every step sees another batch.
std::vector<float> inputs(std::size_t step) {
  std::vector<float> v(B * 12);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.37f * float(i) + 0.9f * float(step)) + 0.1f * float(i % 5);
  return v;
}
std::vector<int> labels(std::size_t step) {
  std::vector<int> v(B);
  for (std::size_t b = 0; b < B; ++b) v[b] = int((b * 7 + step) % 3);
  return v;
}

template <class Optimizer>
Optimizer optimizer() {
  if constexpr (std::is_same_v<Optimizer, ctnn::optim::adam>) return {.lr = 1e-2, .weight_decay = 1e-3};
  else if constexpr (std::is_same_v<Optimizer, ctnn::optim::rmsprop>) return {.lr = 1e-2};
  else if constexpr (std::is_same_v<Optimizer, ctnn::optim::adagrad>) return {.lr = 5e-2};
  else return {.lr = 5e-2, .momentum = 0.9};  // sgd, nesterov
}

template <class Net, class Optimizer>
using trainer = ctnn::trainer<Net, ctnn::batch<B>, Optimizer>;

// With averaging on, so that the average is part of what must resume.
template <class Net, class Optimizer>
trainer<Net, Optimizer> make_trainer(std::uint64_t seed) {
  return trainer<Net, Optimizer>(optimizer<Optimizer>(), seed, {.ema_decay = 0.8});
}

// Step k, at the rate a schedule gives for it.
template <class Trainer>
void step(Trainer& t, std::size_t k) {
  const ctnn::schedule::cosine schedule{.lr0 = t.optimizer().lr, .total_steps = 2 * total_steps, .warmup_steps = 2};
  const double lr = t.optimizer().lr;
  t.optimizer().lr = schedule.lr_at(k);
  t.step(ctnn::feed<"x">(inputs(k)), ctnn::feed<"y">(labels(k)));
  t.optimizer().lr = lr;
}
// The next step, where the trainer says it is.
template <class Trainer>
void step(Trainer& t) {
  step(t, t.steps());
}

// Everything that decides the next steps, as bytes.
template <class Trainer>
std::vector<float> snapshot(Trainer& t) {
  std::vector<float> v(t.model().parameters().begin(), t.model().parameters().end());
  v.insert(v.end(), t.model().state().begin(), t.model().state().end());
  v.insert(v.end(), t.optimizer_state().begin(), t.optimizer_state().end());
  v.insert(v.end(), t.averaged_parameters().begin(), t.averaged_parameters().end());
  return v;
}
std::vector<float> parameters(auto& t) { return {t.model().parameters().begin(), t.model().parameters().end()}; }

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

template <class Net, class Optimizer>
void check_resume_is_exact() {
  ctnn_test::temp_dir dir("ctnn_resume_");
  const fs::path file = dir.path / "run.npz";

  auto whole = make_trainer<Net, Optimizer>(1);
  for (std::size_t k = 0; k < total_steps; ++k) step(whole);
  const std::vector<float> expected = parameters(whole);

  auto first = make_trainer<Net, Optimizer>(1);
  for (std::size_t k = 0; k < saved_after; ++k) step(first);
  ctnn::save_trainer_checkpoint(file, first);

  // Resumes in a trainer that has lived a different life (another seed, a
  // step of its own); returns its parameters and its whole state at the end.
  const auto resumed = [&](auto&& after_load) {
    auto second = make_trainer<Net, Optimizer>(99);
    step(second);
    ctnn::load_trainer_checkpoint(file, second);
    CHECK(same_bits(snapshot(second), snapshot(first)));
    CHECK(second.steps() == saved_after);
    CHECK(second.model().noise_seed() == first.model().noise_seed());
    after_load(second);
    for (std::size_t k = saved_after; k < total_steps; ++k) step(second, k);
    return std::pair(parameters(second), snapshot(second));
  };

  const auto [resumed_parameters, resumed_state] = resumed([](auto&) {});
  REQUIRE(same_bits(resumed_parameters, expected));
  CHECK(same_bits(resumed_state, snapshot(whole)));  // running statistics, optimizer state, average too

  // Without the optimizer's buffers (the model's tensors alone, the schedule,
  // the update count and the dropout position set by hand) it is not exact.
  auto parameters_only = make_trainer<Net, Optimizer>(99);
  ctnn::load_checkpoint(file, parameters_only.model());
  parameters_only.model().set_noise_seed(first.model().noise_seed());
  if constexpr (std::is_same_v<Optimizer, ctnn::optim::adam>) parameters_only.optimizer().t = saved_after;
  for (std::size_t k = saved_after; k < total_steps; ++k) step(parameters_only, k);
  CHECK_FALSE(same_bits(parameters(parameters_only), expected));
  if constexpr (std::is_same_v<Optimizer, ctnn::optim::adam>) {
    // Adam's bias corrections of a first step.
    CHECK_FALSE(same_bits(resumed([](auto& t) { t.optimizer().t = 0; }).first, expected));
  }
  if constexpr (std::is_same_v<Net, noisy>) {
    // The dropout masks of the first steps.
    CHECK_FALSE(same_bits(resumed([](auto& t) { t.model().set_noise_seed(0); }).first, expected));
  }
}

}  // namespace resume

TEMPLATE_TEST_CASE("resuming from a trainer checkpoint continues bit for bit", "[checkpoint][resume]",
                   ctnn::optim::sgd, ctnn::optim::nesterov, ctnn::optim::rmsprop, ctnn::optim::adagrad,
                   ctnn::optim::adam) {
  SECTION("MLP") { resume::check_resume_is_exact<resume::mlp, TestType>(); }
  SECTION("batch norm and dropout") { resume::check_resume_is_exact<resume::noisy, TestType>(); }
}

TEST_CASE("a trainer checkpoint holds the model's arrays and the optimizer's, by name", "[checkpoint][resume]") {
  ctnn_test::temp_dir dir("ctnn_resume_");
  const fs::path file = dir.path / "adam.npz";
  auto t = resume::make_trainer<resume::noisy, ctnn::optim::adam>(1);
  for (int k = 0; k < 3; ++k) resume::step(t);
  ctnn::save_trainer_checkpoint(file, t);
  std::vector<std::string> names;
  for (const auto& a : ctnn::read_checkpoint(file)) names.push_back(a.name);
  CHECK(names == std::vector<std::string>{
                     "bn1.beta", "bn1.gamma", "fc1.weight", "head.bias", "head.weight",            //
                     "bn1.running_mean", "bn1.running_var",                                        //
                     "optimizer/bn1.beta/m", "optimizer/bn1.gamma/m", "optimizer/fc1.weight/m",    //
                     "optimizer/head.bias/m", "optimizer/head.weight/m",                           //
                     "optimizer/bn1.beta/v", "optimizer/bn1.gamma/v", "optimizer/fc1.weight/v",    //
                     "optimizer/head.bias/v", "optimizer/head.weight/v",                           //
                     "optimizer/t", "trainer/steps", "trainer/noise_seed",                         //
                     "trainer/average/bn1.beta", "trainer/average/bn1.gamma", "trainer/average/fc1.weight",
                     "trainer/average/head.bias", "trainer/average/head.weight"});
  const auto arrays = ctnn::read_checkpoint(file);
  const auto find = [&](const std::string& name) {
    return *std::find_if(arrays.begin(), arrays.end(), [&](const auto& a) { return a.name == name; });
  };
  CHECK(find("optimizer/fc1.weight/v").shape == std::vector<std::size_t>{12, 16});
  CHECK(find("optimizer/fc1.weight/v").dtype == "<f4");
  const auto steps = find("trainer/steps");
  CHECK(steps.dtype == "<u8");
  CHECK(steps.shape.empty());
  std::uint64_t n = 0;
  std::memcpy(&n, steps.bytes.data(), sizeof n);
  CHECK(n == 3u);
  std::memcpy(&n, find("optimizer/t").bytes.data(), sizeof n);
  CHECK(n == 3u);
  // The second moments are the trainer's, value for value.
  const auto v = find("optimizer/head.bias/v");
  std::vector<float> saved(3);
  std::memcpy(saved.data(), v.bytes.data(), v.bytes.size());
  const std::size_t offset = std::size_t(t.model().param_span("head.bias").data() - t.model().parameters().data());
  const float* second_moments = t.optimizer_state().data() + ctnn::optim::state_stride<float>(resume::noisy::param_buffer_size);
  CHECK(std::memcmp(saved.data(), second_moments + offset, 3 * sizeof(float)) == 0);
  CHECK(saved[0] > 0.0f);
}

TEST_CASE("a trainer checkpoint keeps the caller's own arrays, which loading ignores", "[checkpoint][resume]") {
  ctnn_test::temp_dir dir("ctnn_resume_");
  const fs::path file = dir.path / "run.npz";
  auto t = resume::make_trainer<resume::mlp, ctnn::optim::sgd>(1);
  for (int k = 0; k < 2; ++k) resume::step(t);
  const std::vector<float> curve{0.5f, 0.25f};
  ctnn::io::npy_array mine{"run/losses", ctnn::io::npy_dtype<float>(), {2}, std::vector<char>(sizeof(float) * 2)};
  std::memcpy(mine.bytes.data(), curve.data(), sizeof(float) * 2);
  ctnn::save_trainer_checkpoint(file, t, {mine});
  const auto arrays = ctnn::io::read_npz(file);
  const auto kept = std::find_if(arrays.begin(), arrays.end(), [](const auto& a) { return a.name == "run/losses"; });
  REQUIRE(kept != arrays.end());
  CHECK(kept->bytes == mine.bytes);
  auto u = resume::make_trainer<resume::mlp, ctnn::optim::sgd>(2);
  ctnn::load_trainer_checkpoint(file, u);
  CHECK(u.steps() == 2u);
  CHECK(std::equal(u.model().parameters().begin(), u.model().parameters().end(), t.model().parameters().begin()));
  // A name of the trainer's own is refused, and nothing is written.
  const fs::path refused = dir.path / "refused.npz";
  mine.name = "trainer/steps";
  CHECK_THAT(ctnn_test::thrown<std::invalid_argument>([&] { ctnn::save_trainer_checkpoint(refused, t, {mine}); }),
             Contains("the extra array 'trainer/steps' would take the name of the trainer's own"));
  mine.name = "fc1.weight";
  CHECK_THAT(ctnn_test::thrown<std::invalid_argument>([&] { ctnn::save_trainer_checkpoint(refused, t, {mine}); }),
             Contains("the extra array 'fc1.weight'"));
  CHECK(!fs::exists(refused));
}

TEST_CASE("a trainer checkpoint loads into a model; a model checkpoint into a trainer on request",
          "[checkpoint][resume]") {
  ctnn_test::temp_dir dir("ctnn_resume_");
  using adam = ctnn::optim::adam;
  auto source = resume::make_trainer<resume::noisy, adam>(1);
  for (int k = 0; k < 3; ++k) resume::step(source);
  const fs::path trainer_file = dir.path / "trainer.npz", model_file = dir.path / "model.npz";
  ctnn::save_trainer_checkpoint(trainer_file, source);
  ctnn::save_checkpoint(model_file, source.model());

  SECTION("trainer checkpoint into a model: the extra arrays are ignored") {
    ctnn::model<resume::noisy, resume::B> m(7);
    CHECK(ctnn::load_checkpoint(trainer_file, m).size() == 7u);
    CHECK(resume::same_bits({m.parameters().begin(), m.parameters().end()}, resume::parameters(source)));
    CHECK(resume::same_bits({m.state().begin(), m.state().end()},
                            {source.model().state().begin(), source.model().state().end()}));
    ctnn::model<resume::noisy, resume::B> shared(7);
    CHECK(ctnn::load_shared_parameters(trainer_file, shared).size() == 7u);
  }
  SECTION("model checkpoint into a trainer: refused by default") {
    auto t = resume::make_trainer<resume::noisy, adam>(5);
    resume::step(t);
    const auto before = resume::snapshot(t);
    CHECK_THAT(ctnn_test::thrown<ctnn::io::data_error>([&] { ctnn::load_trainer_checkpoint(model_file, t); }),
               Contains("ctnn::load_trainer_checkpoint: '" + model_file.string() + "': holds a model but no trainer state") &&
                   Contains("model_only_checkpoint::reset_optimizer"));
    CHECK(resume::same_bits(resume::snapshot(t), before));
    CHECK(t.steps() == 1u);
  }
  SECTION("model checkpoint into a trainer: a fresh start from its tensors") {
    auto t = resume::make_trainer<resume::noisy, adam>(5);
    resume::step(t);
    resume::step(t);
    ctnn::load_trainer_checkpoint(model_file, t, ctnn::model_only_checkpoint::reset_optimizer);
    CHECK(resume::same_bits(resume::parameters(t), resume::parameters(source)));
    CHECK(t.steps() == 0u);
    CHECK(t.optimizer().t == 0u);
    CHECK(t.model().noise_seed() == 0u);
    for (float s : t.optimizer_state()) REQUIRE(s == 0.0f);
    CHECK(resume::same_bits({t.averaged_parameters().begin(), t.averaged_parameters().end()}, resume::parameters(source)));
    // As a new trainer given the same tensors.
    auto fresh = resume::make_trainer<resume::noisy, adam>(6);
    ctnn::load_checkpoint(model_file, fresh.model());
    fresh.reset_average();
    for (int k = 0; k < 3; ++k) {
      resume::step(t);
      resume::step(fresh);
    }
    CHECK(resume::same_bits(resume::snapshot(t), resume::snapshot(fresh)));
  }
  SECTION("a trainer checkpoint loads whatever the option") {
    auto t = resume::make_trainer<resume::noisy, adam>(5);
    ctnn::load_trainer_checkpoint(trainer_file, t, ctnn::model_only_checkpoint::reset_optimizer);
    CHECK(resume::same_bits(resume::snapshot(t), resume::snapshot(source)));
    CHECK(t.steps() == 3u);
    CHECK(t.optimizer().t == 3u);
  }
  SECTION("averaging switched on after the save: restarted at the loaded parameters") {
    ctnn::trainer<resume::noisy, ctnn::batch<resume::B>, adam> plain(resume::optimizer<adam>(), 1);
    for (int k = 0; k < 3; ++k) resume::step(plain);
    const fs::path no_average = dir.path / "no_average.npz";
    ctnn::save_trainer_checkpoint(no_average, plain);
    auto t = resume::make_trainer<resume::noisy, adam>(5);
    ctnn::load_trainer_checkpoint(no_average, t);
    CHECK(resume::same_bits({t.averaged_parameters().begin(), t.averaged_parameters().end()}, resume::parameters(plain)));
  }
}

TEST_CASE("a damaged or mismatched trainer checkpoint throws and leaves the trainer as it was",
          "[checkpoint][resume]") {
  ctnn_test::temp_dir dir("ctnn_resume_");
  using adam = ctnn::optim::adam;
  auto source = resume::make_trainer<resume::noisy, adam>(1);
  for (int k = 0; k < 3; ++k) resume::step(source);
  const fs::path file = dir.path / "trainer.npz", bad = dir.path / "bad.npz";
  ctnn::save_trainer_checkpoint(file, source);
  const std::vector<ctnn::io::npy_array> arrays = ctnn::read_checkpoint(file);
  const auto rewrite = [&](auto&& change) {
    auto copy = arrays;
    change(copy);
    ctnn::io::write_npz(bad, copy);
  };
  const auto named = [](std::vector<ctnn::io::npy_array>& a, const std::string& name) -> ctnn::io::npy_array& {
    return *std::find_if(a.begin(), a.end(), [&](const auto& e) { return e.name == name; });
  };
  const auto erase = [](std::vector<ctnn::io::npy_array>& a, const std::string& name) {
    a.erase(std::find_if(a.begin(), a.end(), [&](const auto& e) { return e.name == name; }));
  };

  // A trainer with state of its own, all different from the file's.
  auto t = resume::make_trainer<resume::noisy, adam>(5);
  resume::step(t);
  const auto before = resume::snapshot(t);
  const std::uint64_t noise_before = t.model().noise_seed();
  const auto error = [&](auto& target) {
    return ctnn_test::thrown<ctnn::io::data_error>([&] { ctnn::load_trainer_checkpoint(bad, target); });
  };
  const std::string where = "ctnn::load_trainer_checkpoint: '" + bad.string() + "': ";

  SECTION("an optimizer buffer missing") {
    rewrite([&](auto& a) { erase(a, "optimizer/fc1.weight/m"); });
    CHECK_THAT(error(t), Contains(where + "no tensor 'optimizer/fc1.weight/m' in the checkpoint"));
  }
  SECTION("an optimizer buffer of another shape") {
    rewrite([&](auto& a) { named(a, "optimizer/fc1.weight/v").shape = {16, 12}; });
    CHECK_THAT(error(t), Contains(where + "optimizer/fc1.weight/v: checkpoint has [16, 12], trainer expects [12, 16]"));
  }
  SECTION("an optimizer buffer of another dtype") {
    rewrite([&](auto& a) {
      auto& v = named(a, "optimizer/head.bias/v");
      v.dtype = "<f8";
      v.bytes.resize(2 * v.bytes.size());
    });
    CHECK_THAT(error(t), Contains(where + "optimizer/head.bias/v: checkpoint has dtype <f8, trainer expects <f4 (float)"));
  }
  SECTION("a counter missing, or stored as a float") {
    rewrite([&](auto& a) { erase(a, "optimizer/t"); });
    CHECK_THAT(error(t), Contains(where + "no array 'optimizer/t' in the checkpoint"));
    rewrite([&](auto& a) {
      auto& s = named(a, "trainer/steps");
      s.dtype = "<f8";
    });
    CHECK_THAT(error(t), Contains(where + "trainer/steps: checkpoint has dtype <f8, trainer expects <u8"));
  }
  SECTION("a model tensor missing, the optimizer's present") {
    rewrite([&](auto& a) { erase(a, "bn1.running_var"); });
    CHECK_THAT(error(t), Contains(where + "no tensor 'bn1.running_var' in the checkpoint"));
  }
  SECTION("part of the average missing") {
    rewrite([&](auto& a) { erase(a, "trainer/average/head.bias"); });
    CHECK_THAT(error(t), Contains(where + "no tensor 'trainer/average/head.bias' in the checkpoint"));
  }
  SECTION("another optimizer's state") {
    fs::copy_file(file, bad);
    auto momentum = resume::make_trainer<resume::noisy, ctnn::optim::sgd>(5);
    resume::step(momentum);
    const auto momentum_before = resume::snapshot(momentum);
    CHECK_THAT(error(momentum), Contains(where + "no tensor 'optimizer/bn1.beta/velocity' in the checkpoint: this "
                                                 "trainer's optimizer keeps velocity for each tensor, the checkpoint "
                                                 "holds m, v for bn1.beta"));
    CHECK(resume::same_bits(resume::snapshot(momentum), momentum_before));
  }
  SECTION("flipped bits") {
    auto bytes = std::vector<char>(fs::file_size(file));
    {
      std::ifstream in(file, std::ios::binary);
      in.read(bytes.data(), std::streamsize(bytes.size()));
    }
    bytes[bytes.size() / 2] = char(bytes[bytes.size() / 2] ^ 0x10);
    std::ofstream(bad, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
    CHECK_THAT(error(t), Contains("'" + bad.string() + "'"));
  }
  CHECK(resume::same_bits(resume::snapshot(t), before));
  CHECK(t.steps() == 1u);
  CHECK(t.optimizer().t == 1u);
  CHECK(t.model().noise_seed() == noise_before);
}
