// Builds and runs README.md's network against an installed ctnn. The
// README's C++ block is compiled as written after the data it feeds, its
// main() made void readme_main() by cmake/check_install.cmake; then the same network trains a few steps on a pattern it can
// learn. The usage requirements (C++20, zlib, OpenMP) must reach this file
// through ctnn::ctnn alone.
#include <ctnn/ctnn.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

#include <omp.h>
#include <zlib.h>

static_assert(__cplusplus >= 202002L, "ctnn::ctnn must require C++20");

// What the README's main() feeds by name: 64 images and their labels, one image.
std::vector<float> images(64 * 784, 0.25f), image(784, 0.25f);
std::vector<int> labels(64, 3);

#include CTNN_README_BLOCK

int main() {
  readme_main();  // the README's step and predict_one, as written

  // Class c lights up pixels [78c, 78c + 78): a step at a time, the loss falls.
  for (std::size_t s = 0; s < 64; ++s) {
    labels[s] = int(s % 10);
    for (std::size_t p = 0; p < 784; ++p) images[s * 784 + p] = p / 78 == s % 10 ? 1.0f : 0.0f;
  }
  ctnn::trainer<mlp::network, ctnn::batch<64>> trainer({.lr = 0.03f, .momentum = 0.9f});
  const float first = trainer.step(ctnn::feed<"image">(images), ctnn::feed<"class">(labels));
  float last = first;
  for (int i = 0; i < 20; ++i) last = trainer.step(ctnn::feed<"image">(images), ctnn::feed<"class">(labels));
  const std::vector<float> seven(images.begin() + 7 * 784, images.begin() + 8 * 784);
  const std::span<const float> scores = trainer.predict_one(ctnn::feed<"image">(seven));
  std::size_t best = 0;
  for (std::size_t c = 0; c < scores.size(); ++c)
    if (scores[c] > scores[best]) best = c;
  std::printf("loss %g -> %g, predicted class %zu of %zu\n", double(first), double(last), best, scores.size());
  const bool trained = std::isfinite(first) && std::isfinite(last) && last < first && scores.size() == 10 && best == 7;

  // Touch both libraries so a missing link dependency fails here.
  const bool linked = zlibVersion() != nullptr && omp_get_max_threads() >= 1;
  return trained && linked ? 0 : 1;
}
