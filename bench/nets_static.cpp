/// @file nets_static.cpp
/// The benchmark networks as ctnn types: batch-1 inference and the training
/// step at batch 64, through the trainer a user would write.

#include <ctnn/ctnn.hpp>

#include "common.hpp"
#include "models/lenet.hpp"
#include "models/mlp.hpp"
#include "models/tiny_mlp.hpp"

namespace {

namespace sh = ctnn_bench::shapes;

void tiny_infer1(benchmark::State& state) {
  ctnn_bench::set_threads(1);
  ctnn::trainer<ctnn::models::tiny_mlp::network, ctnn::batch<1>> t({}, 1);
  const auto x = ctnn_bench::uniform(sh::tiny_in, 3);
  for (auto _ : state) {
    auto y = t.predict_one(ctnn::feed<"features">(x));
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  ctnn_bench::count_flops(state, sh::tiny_flops);
}

void mlp_infer1(benchmark::State& state) {
  ctnn_bench::set_threads(1);
  ctnn::trainer<ctnn::models::mlp::network, ctnn::batch<sh::train_batch>> t({}, 1);
  const auto x = ctnn_bench::uniform(sh::mlp_in, 3, 0.0f, 1.0f);
  for (auto _ : state) {
    auto y = t.predict_one(ctnn::feed<"image">(x));
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  ctnn_bench::count_flops(state, sh::mlp_flops);
}

void mlp_step(benchmark::State& state) {
  const int threads = int(state.range(0));
  ctnn_bench::set_threads(threads);
  ctnn::trainer<ctnn::models::mlp::network, ctnn::batch<sh::train_batch>> t({.lr = sh::train_lr, .momentum = 0.9f}, 1);
  const auto x = ctnn_bench::uniform(sh::train_batch * sh::mlp_in, 4, 0.0f, 1.0f);
  const auto y = ctnn_bench::classes(sh::train_batch, 5, sh::mlp_out);
  for (auto _ : state) benchmark::DoNotOptimize(t.step(ctnn::feed<"image">(x), ctnn::feed<"class">(y)));
  ctnn_bench::count_flops(state, sh::mlp_train_flops_per_sample * sh::train_batch);
}

/// A training run of one Fashion-MNIST epoch's worth of MLP steps (937 of 64)
/// from a fresh thread policy, as ctnn_train makes it: adaptive
/// (ctnn::adaptive_threads over 1 and 2 threads, its probing steps included)
/// or a fixed single thread. scripts/bench.sh runs it once on the idle
/// machine and once with another process holding a core: the adaptive run
/// then has to stay close to the one-thread run's time.
void mlp_train_run(benchmark::State& state, bool adaptive) {
  constexpr std::size_t steps = 937;
  ctnn::trainer<ctnn::models::mlp::network, ctnn::batch<sh::train_batch>> t({.lr = sh::train_lr, .momentum = 0.9f}, 1);
  const auto x = ctnn_bench::uniform(sh::train_batch * sh::mlp_in, 4, 0.0f, 1.0f);
  const auto y = ctnn_bench::classes(sh::train_batch, 5, sh::mlp_out);
  for (auto _ : state) {
    ctnn::adaptive_threads threads = adaptive ? ctnn::adaptive_threads(2) : ctnn::adaptive_threads::fixed(1);
    for (std::size_t s = 0; s < steps; ++s)
      benchmark::DoNotOptimize(threads.run([&] { return t.step(ctnn::feed<"image">(x), ctnn::feed<"class">(y)); }));
    state.counters["threads_chosen"] = threads.threads();
  }
  ctnn_bench::count_flops(state, sh::mlp_train_flops_per_sample * sh::train_batch * steps);
}

void lenet_infer1(benchmark::State& state) {
  ctnn_bench::set_threads(1);
  ctnn::trainer<ctnn::models::lenet::network, ctnn::batch<sh::train_batch>> t({}, 1);
  const auto x = ctnn_bench::uniform(sh::lenet_in, 3, 0.0f, 1.0f);
  for (auto _ : state) {
    auto y = t.predict_one(ctnn::feed<"image">(x));
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  ctnn_bench::count_flops(state, sh::lenet_flops);
}

void lenet_step(benchmark::State& state) {
  ctnn_bench::set_threads(int(state.range(0)));
  ctnn::trainer<ctnn::models::lenet::network, ctnn::batch<sh::train_batch>> t({.lr = sh::train_lr, .momentum = 0.9f}, 1);
  const auto x = ctnn_bench::uniform(sh::train_batch * sh::lenet_in, 4, 0.0f, 1.0f);
  const auto y = ctnn_bench::classes(sh::train_batch, 5, sh::lenet_out);
  for (auto _ : state) benchmark::DoNotOptimize(t.step(ctnn::feed<"image">(x), ctnn::feed<"class">(y)));
  ctnn_bench::count_flops(state, sh::lenet_train_flops_per_sample * sh::train_batch);
}

const int registered = [] {
  benchmark::RegisterBenchmark("lenet_infer1/static", lenet_infer1);
  benchmark::RegisterBenchmark("lenet_step_b64/static", lenet_step)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime();
  benchmark::RegisterBenchmark("tiny_mlp_infer1/static", tiny_infer1);
  benchmark::RegisterBenchmark("mlp_infer1/static", mlp_infer1);
  benchmark::RegisterBenchmark("mlp_step_b64/static", mlp_step)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime();
  benchmark::RegisterBenchmark("mlp_train_run/static/adaptive", mlp_train_run, true)->UseRealTime()->Iterations(1);
  benchmark::RegisterBenchmark("mlp_train_run/static/one_thread", mlp_train_run, false)->UseRealTime()->Iterations(1);
  return 0;
}();

}  // namespace
