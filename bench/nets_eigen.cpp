/// @file nets_eigen.cpp
/// The benchmark networks written by hand with Eigen's fixed-size matrices:
/// what an engineer writes when embedding a known network without a
/// framework. Batch-1 layers are matrix-vector products on column-major
/// weights [out, in]; the training step is written out layer by layer
/// (forward, softmax cross-entropy, backward, SGD with momentum) in
/// row-major batch matrices.

// The MLP's fixed-size weights exceed Eigen's 128 KiB guard for objects on
// the stack; they live on the heap here (make_unique), so lift the guard.
#define EIGEN_STACK_ALLOCATION_LIMIT 0
#include <Eigen/Core>

#include <memory>

#include "common.hpp"

namespace {

namespace sh = ctnn_bench::shapes;

template <int Rows, int Cols, int Options = Eigen::ColMajor>
using mat = Eigen::Matrix<float, Rows, Cols, Options>;
template <int N>
using col = Eigen::Matrix<float, N, 1>;
template <int N>
using row = Eigen::Matrix<float, 1, N>;

template <class M>
void fill(M& m, std::uint64_t seed, float scale) {
  const auto v = ctnn_bench::uniform(std::size_t(m.size()), seed, -scale, scale);
  std::copy(v.begin(), v.end(), m.data());
}

// --- tiny MLP 16-64-64-1, tanh --------------------------------------------------

/// `Lazy`: coefficient-based products, which Eigen unrolls and vectorizes at
/// these fixed sizes, instead of its general matrix-vector kernel. Both are
/// measured; a careful engineer keeps the faster.
template <bool Lazy>
struct eigen_tiny {
  mat<64, 16> w1;
  col<64> b1;
  mat<64, 64> w2;
  col<64> b2;
  row<64> w3;
  float b3 = 0.0f;

  eigen_tiny() {
    fill(w1, 11, 0.25f), fill(b1, 12, 0.1f), fill(w2, 13, 0.125f), fill(b2, 14, 0.1f), fill(w3, 15, 0.125f);
  }

  float predict(const col<16>& x) const {
    col<64> h1, h2;
    if constexpr (Lazy) {
      h1 = (w1.lazyProduct(x) + b1).array().tanh();
      h2 = (w2.lazyProduct(h1) + b2).array().tanh();
    } else {
      h1.noalias() = w1 * x;
      h1 = (h1 + b1).array().tanh();
      h2.noalias() = w2 * h1;
      h2 = (h2 + b2).array().tanh();
    }
    return w3.dot(h2) + b3;
  }
};

template <bool Lazy>
void tiny_infer1(benchmark::State& state) {
  ctnn_bench::set_threads(1);
  Eigen::setNbThreads(1);
  const eigen_tiny<Lazy> net;
  col<16> x;
  fill(x, 3, 1.0f);
  for (auto _ : state) {
    benchmark::DoNotOptimize(x.data());
    benchmark::DoNotOptimize(net.predict(x));
  }
  ctnn_bench::count_flops(state, sh::tiny_flops);
}

// --- MLP 784-256-128-10, ReLU ----------------------------------------------------

struct eigen_mlp {
  mat<256, 784> w1;
  col<256> b1;
  mat<128, 256> w2;
  col<128> b2;
  mat<10, 128> w3;
  col<10> b3;

  eigen_mlp() {
    fill(w1, 21, 0.05f), fill(b1, 22, 0.1f), fill(w2, 23, 0.08f), fill(b2, 24, 0.1f), fill(w3, 25, 0.1f);
    fill(b3, 26, 0.1f);
  }

  void predict(const col<784>& x, col<10>& out) const {
    col<256> h1;
    col<128> h2;
    h1.noalias() = w1 * x;
    h1 = (h1 + b1).cwiseMax(0.0f);
    h2.noalias() = w2 * h1;
    h2 = (h2 + b2).cwiseMax(0.0f);
    out.noalias() = w3 * h2;
    out += b3;
  }
};

void mlp_infer1(benchmark::State& state) {
  ctnn_bench::set_threads(1);
  Eigen::setNbThreads(1);
  const auto net = std::make_unique<eigen_mlp>();
  col<784> x;
  fill(x, 3, 1.0f);
  x = x.cwiseAbs();
  col<10> out;
  for (auto _ : state) {
    net->predict(x, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  ctnn_bench::count_flops(state, sh::mlp_flops);
}

// --- MLP training step at batch 64 ------------------------------------------------

constexpr int B = int(sh::train_batch);
template <int Rows, int Cols>
using rmat = mat<Rows, Cols, Eigen::RowMajor>;

struct eigen_mlp_trainer {
  // Parameters [in, out] row-major, their gradients and velocities.
  rmat<784, 256> w1, gw1, vw1;
  row<256> b1, gb1, vb1;
  rmat<256, 128> w2, gw2, vw2;
  row<128> b2, gb2, vb2;
  rmat<128, 10> w3, gw3, vw3;
  row<10> b3, gb3, vb3;
  // Activations and their gradients.
  rmat<B, 256> h1, dh1;
  rmat<B, 128> h2, dh2;
  rmat<B, 10> z, dz;
  float lr = sh::train_lr, momentum = 0.9f;

  eigen_mlp_trainer() {
    fill(w1, 31, 0.05f), fill(w2, 32, 0.08f), fill(w3, 33, 0.1f);
    b1.setZero(), b2.setZero(), b3.setZero();
    vw1.setZero(), vw2.setZero(), vw3.setZero(), vb1.setZero(), vb2.setZero(), vb3.setZero();
  }

  template <class W, class G, class V>
  void update(W& w, const G& g, V& v) {
    v = momentum * v - lr * g;
    w += v;
  }

  float step(const Eigen::Map<const rmat<B, 784>>& x, const std::int64_t* y) {
    h1.noalias() = x * w1;
    h1 = (h1.rowwise() + b1).cwiseMax(0.0f);
    h2.noalias() = h1 * w2;
    h2 = (h2.rowwise() + b2).cwiseMax(0.0f);
    z.noalias() = h2 * w3;
    z.rowwise() += b3;
    // Softmax cross-entropy, mean over the batch; dz = (softmax − onehot) / B.
    float loss = 0.0f;
    for (int i = 0; i < B; ++i) {
      const float m = z.row(i).maxCoeff();
      dz.row(i) = (z.row(i).array() - m).exp();
      const float s = dz.row(i).sum();
      loss += std::log(s) + m - z(i, int(y[i]));
      dz.row(i) /= s * float(B);
      dz(i, int(y[i])) -= 1.0f / float(B);
    }
    gw3.noalias() = h2.transpose() * dz;
    gb3 = dz.colwise().sum();
    dh2.noalias() = dz * w3.transpose();
    dh2 = dh2.cwiseProduct((h2.array() > 0.0f).cast<float>().matrix());
    gw2.noalias() = h1.transpose() * dh2;
    gb2 = dh2.colwise().sum();
    dh1.noalias() = dh2 * w2.transpose();
    dh1 = dh1.cwiseProduct((h1.array() > 0.0f).cast<float>().matrix());
    gw1.noalias() = x.transpose() * dh1;
    gb1 = dh1.colwise().sum();
    update(w1, gw1, vw1), update(b1, gb1, vb1), update(w2, gw2, vw2), update(b2, gb2, vb2);
    update(w3, gw3, vw3), update(b3, gb3, vb3);
    return loss / float(B);
  }
};

void mlp_step(benchmark::State& state) {
  const int threads = int(state.range(0));
  ctnn_bench::set_threads(threads);
  Eigen::setNbThreads(threads);
  const auto t = std::make_unique<eigen_mlp_trainer>();
  const auto xs = ctnn_bench::uniform(sh::train_batch * sh::mlp_in, 4, 0.0f, 1.0f);
  const auto ys = ctnn_bench::classes(sh::train_batch, 5, sh::mlp_out);
  const Eigen::Map<const rmat<B, 784>> x(xs.data());
  for (auto _ : state) benchmark::DoNotOptimize(t->step(x, ys.data()));
  ctnn_bench::count_flops(state, sh::mlp_train_flops_per_sample * sh::train_batch);
}

const int registered = [] {
  benchmark::RegisterBenchmark("tiny_mlp_infer1/eigen", tiny_infer1<false>);
  benchmark::RegisterBenchmark("tiny_mlp_infer1/eigen_lazy", tiny_infer1<true>);
  benchmark::RegisterBenchmark("mlp_infer1/eigen", mlp_infer1);
  benchmark::RegisterBenchmark("mlp_step_b64/eigen", mlp_step)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime();
  return 0;
}();

}  // namespace
