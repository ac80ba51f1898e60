/// @file nets_runtime.cpp
/// The benchmark networks through the runtime-graph twin: the same network
/// types turned into run-time graphs (runtime::from<Net>), run the way a
/// runtime framework runs them, through the same kernels.

#include <ctnn/runtime.hpp>

#include "common.hpp"
#include "models/lenet.hpp"
#include "models/mlp.hpp"
#include "models/tiny_mlp.hpp"

namespace {

namespace sh = ctnn_bench::shapes;

// Input: the name of the network's input.
template <class Net, std::size_t In, ctnn::fixed_string Input = "image">
void infer1(benchmark::State& state, double flops) {
  ctnn_bench::set_threads(1);
  ctnn::runtime::trainer t(ctnn::runtime::from<Net>(), sh::train_batch, {}, 1);
  const auto x = ctnn_bench::uniform(In, 3, 0.0f, 1.0f);
  for (auto _ : state) {
    auto y = t.predict_one(ctnn::feed<Input>(x));
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  ctnn_bench::count_flops(state, flops);
}

template <class Net, std::size_t In, std::size_t Classes>
void step(benchmark::State& state, double flops_per_sample) {
  ctnn_bench::set_threads(int(state.range(0)));
  ctnn::runtime::trainer t(ctnn::runtime::from<Net>(), sh::train_batch, {.lr = sh::train_lr, .momentum = 0.9f}, 1);
  const auto x = ctnn_bench::uniform(sh::train_batch * In, 4, 0.0f, 1.0f);
  const auto y = ctnn_bench::classes(sh::train_batch, 5, int(Classes));
  for (auto _ : state) benchmark::DoNotOptimize(t.step(ctnn::feed<"image">(x), ctnn::feed<"class">(y)));
  ctnn_bench::count_flops(state, flops_per_sample * sh::train_batch);
}

const int registered = [] {
  benchmark::RegisterBenchmark("tiny_mlp_infer1/runtime",
                               infer1<ctnn::models::tiny_mlp::network, sh::tiny_in, "features">,
                               sh::tiny_flops);
  benchmark::RegisterBenchmark("mlp_infer1/runtime", infer1<ctnn::models::mlp::network, sh::mlp_in>, sh::mlp_flops);
  benchmark::RegisterBenchmark("mlp_step_b64/runtime", step<ctnn::models::mlp::network, sh::mlp_in, sh::mlp_out>,
                               sh::mlp_train_flops_per_sample)
      ->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime();
  benchmark::RegisterBenchmark("lenet_infer1/runtime", infer1<ctnn::models::lenet::network, sh::lenet_in>,
                               sh::lenet_flops);
  benchmark::RegisterBenchmark("lenet_step_b64/runtime",
                               step<ctnn::models::lenet::network, sh::lenet_in, sh::lenet_out>,
                               sh::lenet_train_flops_per_sample)
      ->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime();
  return 0;
}();

}  // namespace
