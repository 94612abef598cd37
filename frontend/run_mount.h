// RUN --mount: one mount's `type=...,target=...` value checked and normalized the way BuildKit
// does (keys allowed per type, values validated, defaults filled in).
#pragma once

#include <stdexcept>
#include <string_view>

#include "frontend/instructions.h"
#include "frontend/step_graph.h"

namespace kiln {

/// A --mount value that is not valid; what() is the message, in BuildKit's words.
class MountError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The mount `spec` describes (a comma-separated list of key[=value] fields, CSV-quoted where
/// needed). Values go through `words`; with `literal` (words taken as written, ONBUILD
/// triggers) a value still holding a variable is not checked. `ssh_index` numbers the default
/// targets of ssh mounts. Filled in as BuildKit does: type bind; a cache's id (its target) and
/// sharing (shared); a secret's id (from its target) and target (/run/secrets/ID unless env=
/// is given); an ssh mount's id and target; options["readonly"] ("true" for bind, secret and
/// ssh unless asked otherwise). `from_image` holds the raw from= value and `target` may still
/// be relative (lowering decides both). Throws MountError.
RunMount ParseRunMount(std::string_view spec, const WordExpander& words, bool literal,
                       int ssh_index);

}  // namespace kiln
