/// @file sgd.hpp
/// Moved to ctnn/train/optim/sgd.hpp; this include keeps old code building.
#pragma once
#include "ctnn/train/optim/sgd.hpp"  // IWYU pragma: export
