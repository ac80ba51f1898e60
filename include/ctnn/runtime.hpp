/// @file runtime.hpp
/// The runtime-graph twin: the same networks run the way a runtime-graph
/// framework runs them (heap tensors, a node list sorted at run time, one
/// virtual call per op, no fusion) through the same kernels with run-time
/// sizes. Not part of ctnn/ctnn.hpp: static users do not compile it.
#pragma once

#include "ctnn/runtime/activation.hpp"
#include "ctnn/runtime/concat.hpp"
#include "ctnn/runtime/conv2d.hpp"
#include "ctnn/runtime/dense.hpp"
#include "ctnn/runtime/elementwise.hpp"
#include "ctnn/runtime/embedding.hpp"
#include "ctnn/runtime/flatten.hpp"
#include "ctnn/runtime/from_static.hpp"
#include "ctnn/runtime/graph.hpp"
#include "ctnn/runtime/io.hpp"
#include "ctnn/runtime/loss.hpp"
#include "ctnn/runtime/model.hpp"
#include "ctnn/runtime/op.hpp"
#include "ctnn/runtime/plan.hpp"
#include "ctnn/runtime/pool.hpp"
#include "ctnn/runtime/recurrent.hpp"
#include "ctnn/runtime/shape.hpp"
#include "ctnn/runtime/trainer.hpp"
#include "ctnn/runtime/window.hpp"
