// README.md's network: the data its main() feeds by name (the block follows).
#include <vector>

std::vector<float> images(64 * 784), image(784);  // 64 images, one image
std::vector<int> labels(64);                      // 64 labels
