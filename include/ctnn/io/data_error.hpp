/// @file data_error.hpp
/// `ctnn::io::data_error`: what every reader and writer in io/ throws for a
/// file that is missing, unreadable, or does not hold what it should. Its
/// message names the file and what was wrong.
#pragma once

#include <stdexcept>

namespace ctnn::io {

/// Thrown for files that are missing, unreadable or do not hold what they should.
struct data_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace ctnn::io
