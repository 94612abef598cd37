// Knowing, without starting ninja, that ninja would find nothing to do: the state of every file
// its graph names, recorded after a successful run and compared before the next one.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "generators/ninja_writer.h"

namespace kiln::driver {

/// Keeps beside `ninja_file` in the build directory `dir` what its graph names, as
/// WriteNinjaFile reported it while writing the file, so that the fingerprint need not read the
/// ninja file again; rewritten only when it changed. Call it whenever the ninja file is written.
void RecordNinjaGraphFiles(const std::filesystem::path& dir, const std::string& ninja_file,
                           const NinjaGraphFiles& files);

/// The fingerprint of a build directory for `ninja -f ninja_file [targets]`: every file its
/// graph names as RecordNinjaGraphFiles kept them (relative paths taken in `dir`), the ninja file
/// and that record, each with its inode, size and modification time, or that it is missing;
/// nullopt when the graph always has work or nothing was recorded.
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
