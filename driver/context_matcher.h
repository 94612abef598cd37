// The engine's injected PathMatcher, made from the frontend's .dockerignore rules.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/context/path_filter.h"

namespace kiln::driver {

/// A matcher applying `ignore_patterns` (cleaned .dockerignore lines) with Docker's rules and
/// matching COPY sources and --exclude patterns like Go's filepath.Match plus `**`.
PathMatcher MakePathMatcher(const std::vector<std::string>& ignore_patterns);

}  // namespace kiln::driver
