// ResNet-18 (dsl/models/resnet.hpp): torchvision's parameter count, and
// forward and backward steps on a 64×64 input (tests/unit/train/resnet_steps.hpp).
#include "resnet_steps.hpp"

using ctnn::models::resnet::resnet18;

TEST_CASE("ResNet-18: parameter count, and SGD steps at batch 2 on 64x64", "[resnet]") {
  STATIC_REQUIRE(resnet18<64>::param_count == resnet18<224>::param_count);
  resnet_steps::check<resnet18<resnet_steps::side>>();
}
