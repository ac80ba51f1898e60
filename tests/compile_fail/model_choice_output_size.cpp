// A model_choice whose second network gives 5 scores where the first gives 4.
#include "model_choice_networks.hpp"

int main() {
#ifdef CTNN_SHOULD_FAIL
  using handle = ctnn::model_choice<ctnn::batch<2>, float, ctnn::choice<"small", picks::small>,
                                    ctnn::choice<"five", picks::five_scores>>;
#else
  using handle = ctnn::model_choice<ctnn::batch<2>, float, ctnn::choice<"small", picks::small>,
                                    ctnn::choice<"renamed", picks::renamed>>;
#endif
  handle h("small");
  return int(h.index());
}
