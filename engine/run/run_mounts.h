// RUN --mount: turning the Dockerfile's mount specs into container mounts — persistent cache
// directories with BuildKit's sharing modes, bind mounts (writes discarded), tmpfs, and secrets
// that never touch the root file system.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/run/container_runtime.h"
#include "frontend/step_graph.h"

namespace kiln {

class RunMountError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Where mount contents come from; the caller knows the build, this file only the mounts.
struct RunMountSources {
  /// The store root: cache mounts persist in <store_root>/cache-mounts/<id>.
  std::filesystem::path store_root;
  /// Per-run scratch space (secret copies, rw bind overlays); the caller removes it after
  /// PreparedRunMounts is gone.
  std::filesystem::path scratch;
  /// The host directory or file a bind mount exposes: the `source` path (option "source",
  /// default "/") inside the context, another stage's root or an image (mount.from_stage,
  /// mount.from_image), resolved by the caller. Required when a bind mount is present.
  std::function<std::filesystem::path(const RunMount&)> bind_source;
  /// Secret id -> host file holding the secret.
  std::map<std::string, std::filesystem::path> secrets;
};

/// The mounts of one RUN, valid while this object lives: it holds the cache locks, the overlays
/// behind writable binds and the tmpfs with the secrets, and releases them when destroyed.
class PreparedRunMounts {
 public:
  ~PreparedRunMounts();
  PreparedRunMounts(const PreparedRunMounts&) = delete;
  PreparedRunMounts& operator=(const PreparedRunMounts&) = delete;

  /// For RunSpec::mounts.
  const std::vector<MountSpec>& mounts() const { return mounts_; }
  /// "K=V" entries for secrets mounted as environment variables (secret `env=`).
  const std::vector<std::string>& env() const { return env_; }

 private:
  friend std::unique_ptr<PreparedRunMounts> PrepareRunMounts(const std::vector<RunMount>&,
                                                             const RunMountSources&);
  PreparedRunMounts() = default;
  struct Resources;
  std::vector<MountSpec> mounts_;
  std::vector<std::string> env_;
  std::unique_ptr<Resources> resources_;
};

/// Prepares `mounts` (RUN --mount, validated by the frontend):
/// - cache: <store_root>/cache-mounts/<id> (id defaults to the target), created with `uid`,
///   `gid`, `mode` (default 0755); sharing=shared (default; concurrent users share it),
///   private (a busy cache gives this run another persistent instance), locked (waits for an
///   exclusive flock); `readonly`/`ro` mounts it read-only.
/// - bind: read-only unless `rw`/`readwrite` (or readonly=false); writes then go to an overlay
///   (or copy) in scratch and are discarded, as in BuildKit.
/// - tmpfs: options `size` (bytes or with k/m/g suffix).
/// - secret: the file from `sources.secrets[id]` (id defaults to the target's basename) at
///   `target` (default /run/secrets/<id>), read-only, with `mode` (0400), `uid`, `gid` applied
///   on a copy held in a private tmpfs; `env=NAME` exposes it as a variable instead (or too,
///   with a target). A missing secret is an error only when `required=true`.
/// Blocks while a locked cache is busy. Throws RunMountError.
std::unique_ptr<PreparedRunMounts> PrepareRunMounts(const std::vector<RunMount>& mounts,
                                                    const RunMountSources& sources);

/// The directory name under cache-mounts/ for a cache id: readable, and unique per id.
std::string CacheMountDirName(const std::string& id);

}  // namespace kiln
