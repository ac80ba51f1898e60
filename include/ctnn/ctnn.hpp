/// @file ctnn.hpp
/// Everything: the DSL (ops), the network type, the model and the trainer.
#pragma once

#include "ctnn/core/fixed_string.hpp"
#include "ctnn/core/real.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/graph/network.hpp"
#include "ctnn/graph/summary.hpp"
#include "ctnn/ops/activation.hpp"
#include "ctnn/ops/dense.hpp"
#include "ctnn/ops/elementwise.hpp"
#include "ctnn/ops/io.hpp"
#include "ctnn/ops/loss.hpp"
#include "ctnn/ops/matmul.hpp"
#include "ctnn/ops/variable.hpp"
#include "ctnn/train/model.hpp"
#include "ctnn/train/trainer.hpp"
