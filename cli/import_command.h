// `kiln import`: a root file system tarball becomes a one-layer image, as `docker import` does.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln::cli {

/// `kiln import [-c INSTRUCTION]... [-m MESSAGE] FILE|- [REPOSITORY[:TAG]]`: unpacks the tarball
/// (plain, gzip, bzip2, xz, zstd; `-` reads stdin) refusing entries that escape the root, stores
/// it as kiln's deterministic uncompressed layer, commits an image whose config carries the `-c`
/// changes and the `-m` comment ("Imported from -" by default, as Docker), tags it when a reference
/// is given and prints its id. URLs are refused (kiln imports local files only). On any error:
/// `Error: ...` on stderr, exit 1 (2 for usage), and the store is left unchanged.
int RunImportCommand(const std::vector<std::string>& args);

/// The image config `docker import`/`docker commit --change` give: an empty config for this host
/// with `changes` (Dockerfile instructions, one per string) applied in order. Only CMD,
/// ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME and WORKDIR are
/// allowed; others throw std::invalid_argument "<keyword> is not a valid change command"
/// (keyword lower-cased, as Docker says it). Malformed instructions throw DockerfileError.
nlohmann::json ConfigWithChanges(const std::vector<std::string>& changes);

}  // namespace kiln::cli
