/// @file data.hpp
/// Preprocessing (standardizer, min_max_scaler, pca, the symmetric eigen
/// solvers) and augmentation (flips, padded crops, jitter, augmenter).
#pragma once

#include "ctnn/data/augment.hpp"
#include "ctnn/data/preprocess.hpp"
#include "ctnn/data/symmetric_eigen.hpp"
