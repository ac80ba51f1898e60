// The message of the exception of type E that f() throws, or a note that it
// threw nothing (any other exception escapes and fails the test):
//   CHECK_THAT(ctnn_test::thrown<std::invalid_argument>([&] { f(); }), Catch::Matchers::Contains("..."));
#pragma once

#include <string>

namespace ctnn_test {

template <class E, class F>
std::string thrown(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "(nothing was thrown)";
}

}  // namespace ctnn_test
