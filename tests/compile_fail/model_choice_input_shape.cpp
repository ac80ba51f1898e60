// A model_choice whose second network reads 9 values where the first reads 8.
#include "model_choice_networks.hpp"

int main() {
#ifdef CTNN_SHOULD_FAIL
  using handle = ctnn::model_choice<ctnn::batch<2>, float, ctnn::choice<"small", picks::small>,
                                    ctnn::choice<"wide", picks::wide_input>>;
#else
  using handle = ctnn::model_choice<ctnn::batch<2>, float, ctnn::choice<"small", picks::small>,
                                    ctnn::choice<"renamed", picks::renamed>>;
#endif
  handle h("small");
  return int(h.index());
}
