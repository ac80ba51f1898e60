/// @file nets_torch.cpp
/// The benchmark networks in LibTorch, in its best configuration for each
/// task: inference under c10::InferenceMode, either through nn::Sequential
/// (how a model is usually written) or as functional calls into preallocated
/// outputs (addmm_out, tanh_/relu_: no allocation per call); training through
/// nn::Sequential, autograd and torch::optim::SGD with momentum. Intra-op
/// threads are set per benchmark; OpenBLAS must then run single-threaded
/// (OPENBLAS_NUM_THREADS=1, set by the bench script), or the two thread
/// pools oversubscribe the cores.

#include <torch/torch.h>

#include "common.hpp"

namespace {

namespace sh = ctnn_bench::shapes;

torch::Tensor tensor_of(const std::vector<float>& v, std::vector<std::int64_t> shape) {
  return torch::from_blob(const_cast<float*>(v.data()), shape, torch::kFloat32).clone();
}

torch::nn::Sequential tiny_net() {
  return torch::nn::Sequential(torch::nn::Linear(16, 64), torch::nn::Tanh(), torch::nn::Linear(64, 64),
                               torch::nn::Tanh(), torch::nn::Linear(64, 1));
}
torch::nn::Sequential mlp_net() {
  return torch::nn::Sequential(torch::nn::Linear(784, 256), torch::nn::ReLU(), torch::nn::Linear(256, 128),
                               torch::nn::ReLU(), torch::nn::Linear(128, 10));
}

torch::nn::Sequential lenet_net() {
  return torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 20, 5)), torch::nn::MaxPool2d(2),
                               torch::nn::Conv2d(torch::nn::Conv2dOptions(20, 50, 5)), torch::nn::MaxPool2d(2),
                               torch::nn::Flatten(), torch::nn::Linear(800, 500), torch::nn::ReLU(),
                               torch::nn::Linear(500, 10));
}

/// Batch-1 forward through the module.
template <torch::nn::Sequential (*Make)(), std::size_t In, bool Image = false>
void module_infer1(benchmark::State& state, double flops) {
  torch::set_num_threads(1);
  torch::manual_seed(1);
  auto net = Make();
  net->eval();
  c10::InferenceMode guard;
  const auto x = Image ? tensor_of(ctnn_bench::uniform(In, 3, 0.0f, 1.0f), {1, 1, 28, 28})
                       : tensor_of(ctnn_bench::uniform(In, 3, 0.0f, 1.0f), {1, std::int64_t(In)});
  for (auto _ : state) {
    auto y = net->forward(x);
    benchmark::DoNotOptimize(y.data_ptr<float>());
  }
  ctnn_bench::count_flops(state, flops);
}

/// Batch-1 forward as functional calls into preallocated outputs, weights
/// transposed once to [in, out] so addmm needs no transpose per call.
template <torch::nn::Sequential (*Make)(), std::size_t In, bool Tanh>
void functional_infer1(benchmark::State& state, double flops) {
  torch::set_num_threads(1);
  torch::manual_seed(1);
  auto net = Make();
  c10::InferenceMode guard;
  std::vector<torch::Tensor> w, b, out;
  for (auto& m : net->modules(/*include_self=*/false))
    if (auto* lin = m->as<torch::nn::Linear>()) {
      w.push_back(lin->weight.detach().t().contiguous());
      b.push_back(lin->bias.detach().clone());
      out.push_back(torch::empty({1, lin->weight.size(0)}));
    }
  const auto x = tensor_of(ctnn_bench::uniform(In, 3, 0.0f, 1.0f), {1, std::int64_t(In)});
  for (auto _ : state) {
    const torch::Tensor* h = &x;
    for (std::size_t l = 0; l < w.size(); ++l) {
      at::addmm_out(out[l], b[l], *h, w[l]);
      if (l + 1 < w.size()) {
        if constexpr (Tanh) out[l].tanh_();
        else out[l].relu_();
      }
      h = &out[l];
    }
    benchmark::DoNotOptimize(out.back().data_ptr<float>());
  }
  ctnn_bench::count_flops(state, flops);
}

template <torch::nn::Sequential (*Make)(), bool Image>
void train_step(benchmark::State& state, double flops_per_sample) {
  const int threads = int(state.range(0));
  ctnn_bench::set_threads(threads);
  torch::set_num_threads(threads);
  torch::manual_seed(1);
  auto net = Make();
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(sh::train_lr).momentum(0.9));
  const std::int64_t B = std::int64_t(sh::train_batch);
  const auto pixels = ctnn_bench::uniform(sh::train_batch * (Image ? sh::lenet_in : sh::mlp_in), 4, 0.0f, 1.0f);
  const auto x = Image ? tensor_of(pixels, {B, 1, 28, 28}) : tensor_of(pixels, {B, std::int64_t(sh::mlp_in)});
  const auto ys = ctnn_bench::classes(sh::train_batch, 5, 10);
  const auto y = torch::from_blob(const_cast<std::int64_t*>(ys.data()), {B}, torch::kInt64).clone();
  for (auto _ : state) {
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
    loss.backward();
    opt.step();
    benchmark::DoNotOptimize(loss.item<float>());
  }
  ctnn_bench::count_flops(state, flops_per_sample * sh::train_batch);
}

const int registered = [] {
  benchmark::RegisterBenchmark("tiny_mlp_infer1/libtorch", module_infer1<tiny_net, sh::tiny_in>, sh::tiny_flops);
  benchmark::RegisterBenchmark("tiny_mlp_infer1/libtorch_functional", functional_infer1<tiny_net, sh::tiny_in, true>,
                               sh::tiny_flops);
  benchmark::RegisterBenchmark("mlp_infer1/libtorch", module_infer1<mlp_net, sh::mlp_in>, sh::mlp_flops);
  benchmark::RegisterBenchmark("mlp_infer1/libtorch_functional", functional_infer1<mlp_net, sh::mlp_in, false>,
                               sh::mlp_flops);
  benchmark::RegisterBenchmark("mlp_step_b64/libtorch", train_step<mlp_net, false>, sh::mlp_train_flops_per_sample)
      ->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime();
  benchmark::RegisterBenchmark("lenet_infer1/libtorch", module_infer1<lenet_net, sh::lenet_in, true>, sh::lenet_flops);
  benchmark::RegisterBenchmark("lenet_step_b64/libtorch", train_step<lenet_net, true>, sh::lenet_train_flops_per_sample)
      ->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime();
  return 0;
}();

}  // namespace
