// RUN execution: a generated OCI bundle (runtime spec 1.0.2) run by runc or crun over a writable
// overlayfs root, the upper directory holding the changes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln {

/// The OCI runtime could not run the container at all (binary missing, invalid bundle, exec of
/// the command failed); what() carries the runtime's own message.
class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An extra mount inside the container.
struct MountSpec {
  std::string type;                  ///< "bind" (recursive unless options say "bind") or "tmpfs"
  std::filesystem::path source;      ///< bind: the host file or directory; tmpfs: unused
  std::string destination;           ///< absolute path in the container
  std::vector<std::string> options;  ///< e.g. "ro", "size=65536k", "mode=1777"
};

struct RunSpec {
  std::vector<std::string> args;  ///< argv; must not be empty
  std::vector<std::string> env;   ///< "K=V"; a default PATH (and HOME) is added when missing
  std::string cwd = "/";          ///< created (root-owned, 0755) if missing
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;
  /// HOME when `env` sets none, as Docker does: the user's passwd home (ResolvedUser::home).
  std::string home = "/";
  /// Unpacked layers in overlay whiteout form, top-most first; empty = an empty root.
  std::vector<std::filesystem::path> lower_dirs;
  /// "default" or "host": the host's network namespace; "none": a new one with loopback only.
  std::string network = "default";
  std::vector<MountSpec> mounts;
  std::string hostname = "kiln";
  std::string stdin_data;  ///< fed to the process's stdin (heredoc scripts); else /dev/null
  /// "runc" or "crun"; empty: $KILN_RUNTIME, else "runc".
  std::string runtime;
  /// Scratch space for the bundle, upper and work directories; must be set; the caller removes
  /// it (after reading upper_dir).
  std::filesystem::path work_root;
  /// The upper directory outlives the run (a container's, restarted later): unmounting syncs it
  /// to disk. A build step's upper is read once into a layer blob that is synced on its own.
  bool durable_upper = false;
};

struct RunResult {
  int exit_code = 0;        ///< the process's exit status (128+N when killed by signal N)
  std::string output_tail;  ///< the last ~30 lines of combined stdout/stderr
  /// The changes in overlay upper form (whiteouts, opaque dirs), inside work_root. Mount points
  /// kiln created for the run are removed from it.
  std::filesystem::path upper_dir;
  /// False when overlayfs was unavailable: the root was a copy and upper_dir came from a tree
  /// diff (same form, so the layer writer reads it the same way).
  bool overlay = true;
};

using OutputSink = std::function<void(std::string_view)>;

/// Runs spec.args in a fresh container, streaming its combined output to `output` (may be empty)
/// as it comes. A non-zero exit is a result, not an error; runtime failures throw RuntimeError,
/// file system failures OverlayError / std::filesystem::filesystem_error. The container is
/// always deleted and the overlay unmounted before returning.
RunResult RunContainer(const RunSpec& spec, const OutputSink& output);

/// The runtime to use: `requested`, else $KILN_RUNTIME, else "runc".
std::string SelectRuntime(const std::string& requested);

/// The OCI config.json for `spec` with `rootfs` as the root and `mounts` (defaults included,
/// in order) as the mounts. Exposed for tests and `--debug` output.
nlohmann::json OciConfig(const RunSpec& spec, const std::filesystem::path& rootfs,
                         const std::vector<MountSpec>& mounts);

/// The mounts every container gets (proc, dev, devpts, shm, mqueue, sysfs), in mount order.
std::vector<MountSpec> DefaultMounts();

/// Docker's message for a failed RUN:
/// process "/bin/sh -c false" did not complete successfully: exit code: 1
std::string RunFailureMessage(const std::vector<std::string>& args, int exit_code);

/// The message with the output tail boxed above it, as `docker build` prints a failed step:
/// "------\n > TITLE:\nTAIL\n------\nMESSAGE".
std::string RunFailureReport(std::string_view step_title, const std::vector<std::string>& args,
                             int exit_code, std::string_view output_tail);

}  // namespace kiln
