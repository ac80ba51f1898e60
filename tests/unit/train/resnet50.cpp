// ResNet-50 (dsl/models/resnet.hpp): torchvision's parameter count, and
// forward and backward steps on a 64×64 input (tests/unit/train/resnet_steps.hpp).
#include "resnet_steps.hpp"

using ctnn::models::resnet::resnet50;

TEST_CASE("ResNet-50: parameter count, and SGD steps at batch 2 on 64x64", "[resnet]") {
  STATIC_REQUIRE(resnet50<64>::param_count == resnet50<224>::param_count);
  resnet_steps::check<resnet50<resnet_steps::side>>();
}
