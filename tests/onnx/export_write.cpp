// Trains the networks of export_networks.hpp that have a loss for a few
// steps on random data (so that weights and batch norm's running statistics
// are not their initial values), exports each with ctnn::export_onnx (DIR/NAME.json and
// DIR/NAME.npz) and writes DIR/NAME_reference.npz: a batch of inputs and
// each output's predict() of it, and predict_one() of its first sample,
// which onnx_export.cpp compares with the network imported back from ONNX.
//
//   onnx_export_write DIR
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/io/onnx_export.hpp>

#include "export_networks.hpp"

namespace {

constexpr std::size_t B = export_batch;

template <class T>
ctnn::io::npy_array array(std::string name, std::vector<std::size_t> shape, std::span<const T> v) {
  ctnn::io::npy_array a{std::move(name), ctnn::io::npy_dtype<T>(), std::move(shape), {}};
  a.bytes.resize(v.size_bytes());
  std::memcpy(a.bytes.data(), v.data(), v.size_bytes());
  return a;
}

// Exports m as DIR/NAME.json and .npz, and writes the reference outputs of
// a fresh batch of inputs.
template <class Net, class Model>
void export_with_reference(const std::filesystem::path& dir, const std::string& name, Model& m,
                           std::vector<float>& x, std::mt19937& rng) {
  constexpr std::size_t features = Net::infos[Net::leaf_ids.first[0]].out.size();
  ctnn::export_onnx(dir / (name + ".json"), m);
  std::normal_distribution<float> pixel(0.5f, 1.0f);
  for (float& v : x) v = pixel(rng);
  std::vector<ctnn::io::npy_array> reference{array<float>("input", {B, features}, x)};
  const std::vector<float> first(x.begin(), x.begin() + features);
  [&]<std::size_t... K>(std::index_sequence<K...>) {
    ((reference.push_back(array<float>("output_" + std::to_string(K), {B, Net::infos[Net::output_ids[K]].out.size()},
                                       m.template predict<K>(ctnn::feed<"image">(x)))),
      reference.push_back(array<float>("output_" + std::to_string(K) + "_one",
                                       {1, Net::infos[Net::output_ids[K]].out.size()},
                                       m.template predict_one<K>(ctnn::feed<"image">(first))))),
     ...);
  }(std::make_index_sequence<Net::output_count>{});
  ctnn::io::write_npz(dir / (name + "_reference.npz"), reference);
}

// Net trained six steps when it has a loss (Classes > 0; else its initial
// parameters), exported with its reference outputs.
template <class Net, std::size_t Classes>
void write(const std::filesystem::path& dir, const std::string& name, std::uint32_t seed) {
  constexpr std::size_t features = Net::infos[Net::leaf_ids.first[0]].out.size();
  std::mt19937 rng(seed);
  std::vector<float> x(B * features);
  if constexpr (Classes > 0) {
    ctnn::trainer<Net, ctnn::batch<B>> t({.lr = 0.02f, .momentum = 0.9f}, seed);
    std::normal_distribution<float> pixel(0.5f, 1.0f);
    std::uniform_int_distribution<int> label(0, int(Classes) - 1);
    std::array<std::uint8_t, B> y{};
    for (int step = 0; step < 6; ++step) {
      for (float& v : x) v = pixel(rng);
      for (auto& v : y) v = std::uint8_t(label(rng));
      t.step(ctnn::feed<"image">(x), ctnn::feed<"class">(y));
    }
    export_with_reference<Net>(dir, name, t.model(), x, rng);
  } else {
    ctnn::model<Net, B, float> m(seed);
    export_with_reference<Net>(dir, name, m, x, rng);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: onnx_export_write DIR\n");
    return 1;
  }
  try {
    const std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);
    write<export_mlp::network, export_mlp::classes>(dir, "export_mlp", 7);
    write<export_lenet::network, export_lenet::classes>(dir, "export_lenet", 11);
    write<export_sequence::network, export_sequence::classes>(dir, "export_sequence", 13);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "onnx_export_write: %s\n", e.what());
    return 1;
  }
  return 0;
}
