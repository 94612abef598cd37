// Knowing, without starting ninja, that ninja would find nothing to do: the state of every file
// its graph names, recorded after a successful run and compared before the next one.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kiln::driver {

/// The paths a ninja file's build statements name (outputs, inputs, implicit and order-only
/// ones), unescaped, in order of appearance; nullopt when a statement depends on the phony
/// `always`, as ninja then always has work. Reads only what kiln's generator writes: `build`
/// lines with `$ `, `$:` and `$$` escapes, no variables in paths, no `include` or `subninja`.
std::optional<std::vector<std::string>> NinjaGraphPaths(const std::string& ninja_text);

/// The fingerprint of a build directory for `ninja -f ninja_file [targets]`: the ninja file
/// and every file its graph names (relative paths taken in `dir`), each with its inode, size
/// and modification time, or that it is missing; nullopt when the graph always has work.
std::optional<std::string> NinjaFingerprint(const std::filesystem::path& dir,
                                            const std::string& ninja_file,
                                            const std::vector<std::string>& targets);

/// True when the fingerprint recorded after the last successful run equals the current one:
/// nothing ninja looks at has changed since it last finished with nothing left to do.
bool NinjaIsUpToDate(const std::filesystem::path& dir, const std::string& ninja_file,
                     const std::vector<std::string>& targets);

/// Records the current fingerprint after a successful run (removes it when there is none).
void RecordNinjaFingerprint(const std::filesystem::path& dir, const std::string& ninja_file,
                            const std::vector<std::string>& targets);

/// Forgets the recorded fingerprint, so the next build runs ninja whatever it finds.
void ForgetNinjaFingerprint(const std::filesystem::path& dir);

}  // namespace kiln::driver
