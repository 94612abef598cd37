// Containers of the store: what `kiln run` created, kept as
//   <root>/containers/<id>/config.json   the container's record (ContainerRecord, Docker's names)
//   <root>/containers/<id>/state.json    its state (ContainerState), written by the supervisor
//   <root>/containers/<id>/log           the process's combined stdout/stderr
//   <root>/containers/<id>/rw/           the runtime's scratch: bundle, overlay upper dir
//   (fs/upper)
// Every file is written atomically; reading needs no lock, creating takes the store lock (so names
// stay unique).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/store/image_store.h"

namespace kiln {

/// A container operation failed: name conflict, ambiguous prefix, unreadable record.
class ContainerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Go's zero time as Docker prints it for StartedAt/FinishedAt never set.
inline constexpr const char* kZeroTime = "0001-01-01T00:00:00Z";

/// The state of a container (Docker's State object plus what kiln needs to tell its own
/// processes from reused pids).
struct ContainerState {
  std::string status = "created";  ///< created | running | exited
  int pid = 0;                     ///< the container's init process (host pid), 0 when none
  uint64_t pid_start = 0;          ///< its start time (/proc/<pid>/stat field 22)
  int supervisor_pid = 0;          ///< the process running the runtime
  uint64_t supervisor_start = 0;
  int exit_code = 0;
  std::string error;
  std::string started_at = kZeroTime;
  std::string finished_at = kZeroTime;
  bool operator==(const ContainerState&) const = default;
};
void to_json(nlohmann::json& j, const ContainerState& v);
void from_json(const nlohmann::json& j, ContainerState& v);

/// A container as `kiln run` created it. `path`/`args` are the command actually run
/// (entrypoint + cmd); `entrypoint`/`cmd` are the Config values Docker shows.
struct ContainerRecord {
  std::string id;          ///< 64 hex
  std::string name;        ///< without the leading '/'
  std::string image_id;    ///< "sha256:<hex>"
  std::string image_name;  ///< as given to `kiln run`
  std::string created;     ///< RFC 3339
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;
  std::string working_dir;
  std::string user;
  std::string hostname;
  std::map<std::string, std::string> labels;
  std::string network = "default";
  bool auto_remove = false;
  nlohmann::json mounts = nlohmann::json::array();
  ContainerState state;  ///< as last read (ListContainers/FindContainer reconcile it)
};
void to_json(nlohmann::json& j, const ContainerRecord& v);  ///< without `state`
void from_json(const nlohmann::json& j, ContainerRecord& v);

/// <root>/containers.
std::filesystem::path ContainersDir(const ImageStore& store);
/// <root>/containers/<id>.
std::filesystem::path ContainerDir(const ImageStore& store, const std::string& id);
/// The container's log file.
std::filesystem::path ContainerLogPath(const ImageStore& store, const std::string& id);
/// The runtime's scratch directory (RunSpec::work_root) of the container.
std::filesystem::path ContainerWorkRoot(const ImageStore& store, const std::string& id);

/// Docker's random name: "adjective_surname".
std::string RandomContainerName();

/// Stores a new container: assigns a random 64-hex id, and a random unused name when
/// `record.name` is empty, the short id as hostname when none; writes config.json, a "created"
/// state.json and an empty log. ContainerError with Docker's message when the name is taken:
/// Conflict. The container name "/x" is already in use by container "<id>". You have to remove
/// (or rename) that container to be able to reuse that name.
ContainerRecord CreateContainer(ImageStore& store, ContainerRecord record);

/// Replaces the container's state.json.
void WriteContainerState(const ImageStore& store, const std::string& id,
                         const ContainerState& state);
/// Reads state.json as written (no reconciliation).
ContainerState ReadContainerState(const ImageStore& store, const std::string& id);

/// True when the container's process is alive and is the one kiln started (same pid and start
/// time, not a zombie).
bool IsRunning(const ContainerRecord& record);

/// Every container, newest first, with reconciled state: a container recorded as running whose
/// process died is shown as exited with the code its supervisor wrote (waiting briefly for a
/// live supervisor to write it).
std::vector<ContainerRecord> ListContainers(const ImageStore& store);

/// Docker's lookup: full id, name (with or without '/'), then a unique id prefix. nullopt when
/// nothing matches; ContainerError "multiple containers found with provided prefix: <p>" when
/// ambiguous.
std::optional<ContainerRecord> FindContainer(const ImageStore& store, std::string_view query);

/// Removes the container's directory (unmounting a root left mounted by a killed supervisor).
/// The caller makes sure it is not running.
void DeleteContainer(const ImageStore& store, const std::string& id);

/// Bytes in the container's writable layer (the overlay upper directory); 0 when none.
uint64_t ContainerSizeRw(const ImageStore& store, const std::string& id);

/// The start time of process `pid` (/proc/<pid>/stat field 22), nullopt when it does not exist
/// or is a zombie.
std::optional<uint64_t> ProcessStartTime(int pid);

}  // namespace kiln
