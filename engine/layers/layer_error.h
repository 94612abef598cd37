// The error thrown while writing or applying a layer tar.
#pragma once

#include <stdexcept>
#include <string>

namespace kiln {

/// A layer could not be written or applied. The message names the offending tar entry (or file)
/// and the reason, e.g. `layer entry "../evil": path escapes the destination`.
class LayerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Builds the conventional message `layer entry "<name>": <reason>`.
inline LayerError EntryError(const std::string& name, const std::string& reason) {
  return LayerError("layer entry \"" + name + "\": " + reason);
}

}  // namespace kiln
