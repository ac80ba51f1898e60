/// @file fashion_mnist_splits.hpp
/// The two Fashion-MNIST splits as the training apps read them: from a
/// directory, the training set cut to a limit, and a sentence naming the app
/// and the problem instead of a crash when a file is missing or too small.
#pragma once

#include <cstddef>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>

#include <ctnn/io/idx.hpp>

namespace ctnn_apps {

struct fashion_mnist_splits {
  ctnn::io::dataset train, test;
};

/// Both splits from `dir`, the training set cut to its first `limit` images
/// (0: all of them); nullopt, after printing "<app>: <why>" on stderr, when
/// a file cannot be read or fewer than `batch` training images remain.
inline std::optional<fashion_mnist_splits> load_fashion_mnist_splits(const char* app, const std::filesystem::path& dir,
                                                                     std::size_t limit, std::size_t batch) {
  fashion_mnist_splits s;
  try {
    s.train = ctnn::io::load_fashion_mnist(dir, ctnn::io::split::train);
    s.test = ctnn::io::load_fashion_mnist(dir, ctnn::io::split::test);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", app, e.what());
    return std::nullopt;
  }
  if (limit && limit < s.train.count) {
    s.train.count = limit;
    s.train.images.resize(limit * s.train.features);
    s.train.labels.resize(limit);
  }
  if (s.train.count < batch) {
    std::fprintf(stderr, "%s: --data: %zu training images, fewer than one batch of %zu\n", app, s.train.count, batch);
    return std::nullopt;
  }
  return s;
}

}  // namespace ctnn_apps
