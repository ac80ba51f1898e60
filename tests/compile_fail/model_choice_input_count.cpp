// A model_choice with a network of two inputs: the handle feeds one.
#include "model_choice_networks.hpp"

int main() {
#ifdef CTNN_SHOULD_FAIL
  using handle = ctnn::model_choice<ctnn::batch<2>, float, ctnn::choice<"small", picks::small>,
                                    ctnn::choice<"pair", picks::two_inputs>>;
#else
  using handle = ctnn::model_choice<ctnn::batch<2>, float, ctnn::choice<"small", picks::small>,
                                    ctnn::choice<"renamed", picks::renamed>>;
#endif
  handle h("small");
  return int(h.index());
}
