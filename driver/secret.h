// The secrets of a build (`--secret`): files a RUN step may mount, never part of an image or a
// cache key.
#pragma once

#include <filesystem>
#include <string>
#include <utility>

namespace kiln::driver {

/// Resolves a secret given as Docker writes it: `id=ID,src=PATH` (or `source=PATH`; `type=file`
/// is accepted) or `id=ID,env=VARIABLE`. Returns the id and the absolute file the build mounts:
/// the source file, or for a variable a file in the private build directory `dir` holding its
/// value (rewritten only when the value changes). Throws RequestError when the id or the source
/// is missing, the variable is not set or the file does not exist.
std::pair<std::string, std::string> ResolveSecret(const std::string& spec,
                                                  const std::filesystem::path& dir);

}  // namespace kiln::driver
