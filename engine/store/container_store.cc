#include "engine/store/container_store.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "engine/base/atomic_file.h"

namespace kiln {
namespace fs = std::filesystem;
namespace {

std::string RandomHex(size_t bytes) {
  std::random_device random;
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (size_t i = 0; i < bytes; ++i) {
    const unsigned byte = random() & 0xff;
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 0xf];
  }
  return hex;
}

bool IsHexId(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return std::isxdigit(c) && !std::isupper(c); });
}

std::optional<ContainerRecord> LoadRecord(const ImageStore& store, const std::string& id) {
  const fs::path dir = ContainerDir(store, id);
  std::error_code ec;
  if (!fs::exists(dir / "config.json", ec)) return std::nullopt;
  try {
    ContainerRecord record = nlohmann::json::parse(ReadWholeFile(dir / "config.json"));
    record.state = ReadContainerState(store, id);
    return record;
  } catch (const std::exception&) {
    return std::nullopt;  // being removed, or half-created by a crashed run
  }
}

bool SupervisorAlive(const ContainerState& state) {
  if (state.supervisor_pid <= 0) return false;
  auto start = ProcessStartTime(state.supervisor_pid);
  return start && *start == state.supervisor_start;
}

/// A container recorded as running whose process is gone: its supervisor writes the exit code
/// right after the runtime returns, so give a live one a moment; without one the container died
/// unobserved.
void Reconcile(const ImageStore& store, ContainerRecord& record) {
  if (record.state.status != "running" || IsRunning(record)) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (SupervisorAlive(record.state) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    record.state = ReadContainerState(store, record.id);
    if (record.state.status != "running") return;
  }
  if (record.state.status != "running") return;
  record.state.status = "exited";
  if (record.state.exit_code == 0) record.state.exit_code = 137;
  record.state.error = "container process ended without its supervisor recording it";
  record.state.pid = 0;
  record.state.finished_at = record.state.started_at;
  try {
    WriteContainerState(store, record.id, record.state);
  } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): shown anyway, saved next time
  }
}

uint64_t TreeSize(const fs::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it =
           fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      total += static_cast<uint64_t>(st.st_size);
    }
  }
  return total;
}

}  // namespace

void to_json(nlohmann::json& j, const ContainerState& v) {
  j = {{"Status", v.status},
       {"Pid", v.pid},
       {"PidStart", v.pid_start},
       {"SupervisorPid", v.supervisor_pid},
       {"SupervisorStart", v.supervisor_start},
       {"ExitCode", v.exit_code},
       {"Error", v.error},
       {"StartedAt", v.started_at},
       {"FinishedAt", v.finished_at}};
}

void from_json(const nlohmann::json& j, ContainerState& v) {
  v.status = j.value("Status", "created");
  v.pid = j.value("Pid", 0);
  v.pid_start = j.value("PidStart", uint64_t{0});
  v.supervisor_pid = j.value("SupervisorPid", 0);
  v.supervisor_start = j.value("SupervisorStart", uint64_t{0});
  v.exit_code = j.value("ExitCode", 0);
  v.error = j.value("Error", "");
  v.started_at = j.value("StartedAt", kZeroTime);
  v.finished_at = j.value("FinishedAt", kZeroTime);
}

void to_json(nlohmann::json& j, const ContainerRecord& v) {
  j = {{"Id", v.id},
       {"Name", v.name},
       {"Image", v.image_id},
       {"ImageName", v.image_name},
       {"Created", v.created},
       {"Path", v.path},
       {"Args", v.args},
       {"Entrypoint", v.entrypoint},
       {"Cmd", v.cmd},
       {"Env", v.env},
       {"WorkingDir", v.working_dir},
       {"User", v.user},
       {"Hostname", v.hostname},
       {"Labels", v.labels},
       {"NetworkMode", v.network},
       {"AutoRemove", v.auto_remove},
       {"Mounts", v.mounts}};
}

void from_json(const nlohmann::json& j, ContainerRecord& v) {
  v.id = j.at("Id").get<std::string>();
  v.name = j.at("Name").get<std::string>();
  v.image_id = j.value("Image", "");
  v.image_name = j.value("ImageName", "");
  v.created = j.value("Created", "");
  v.path = j.value("Path", "");
  v.args = j.value("Args", std::vector<std::string>{});
  v.entrypoint = j.value("Entrypoint", std::vector<std::string>{});
  v.cmd = j.value("Cmd", std::vector<std::string>{});
  v.env = j.value("Env", std::vector<std::string>{});
  v.working_dir = j.value("WorkingDir", "");
  v.user = j.value("User", "");
  v.hostname = j.value("Hostname", "");
  v.labels = j.value("Labels", std::map<std::string, std::string>{});
  v.network = j.value("NetworkMode", "default");
  v.auto_remove = j.value("AutoRemove", false);
  v.mounts = j.value("Mounts", nlohmann::json::array());
}

fs::path ContainersDir(const ImageStore& store) {
  return store.root() / "containers";
}

fs::path ContainerDir(const ImageStore& store, const std::string& id) {
  return ContainersDir(store) / id;
}

fs::path ContainerLogPath(const ImageStore& store, const std::string& id) {
  return ContainerDir(store, id) / "log";
}

fs::path ContainerWorkRoot(const ImageStore& store, const std::string& id) {
  return ContainerDir(store, id) / "rw";
}

std::string RandomContainerName() {
  static constexpr std::array kAdjectives = {
      "admiring", "agitated", "amazing",    "angry",    "awesome",  "blissful",      "bold",
      "boring",   "brave",    "busy",       "charming", "clever",   "compassionate", "competent",
      "cool",     "dazzling", "determined", "eager",    "ecstatic", "elastic",       "elegant",
      "epic",     "festive",  "focused",    "friendly", "gallant",  "gifted",        "happy",
      "hopeful",  "jolly",    "keen",       "loving",   "modest",   "nifty",         "objective",
      "peaceful", "quirky",   "relaxed",    "serene",   "sharp",    "stoic",         "tender",
      "upbeat",   "vibrant",  "wizardly",   "youthful", "zealous"};
  static constexpr std::array kSurnames = {
      "albattani", "allen",    "babbage",  "bardeen",  "bell",   "bohr",    "booth",   "carson",
      "curie",     "darwin",   "dijkstra", "einstein", "euler",  "fermat",  "feynman", "galileo",
      "gauss",     "goldberg", "hopper",   "hypatia",  "kepler", "knuth",   "lamport", "lovelace",
      "mccarthy",  "meitner",  "newton",   "noether",  "pascal", "perlman", "ritchie", "shannon",
      "thompson",  "torvalds", "turing",   "wozniak",  "yalow"};
  std::random_device random;
  return std::string(kAdjectives[random() % kAdjectives.size()]) + "_" +
         kSurnames[random() % kSurnames.size()];
}

ContainerRecord CreateContainer(ImageStore& store, ContainerRecord record) {
  StoreLock lock = store.Lock();
  fs::create_directories(ContainersDir(store));
  std::map<std::string, std::string> names;  // name -> id
  for (const auto& entry : fs::directory_iterator(ContainersDir(store))) {
    if (auto existing = LoadRecord(store, entry.path().filename().string())) {
      names[existing->name] = existing->id;
    }
  }
  if (record.name.empty()) {
    record.name = RandomContainerName();
    for (int i = 0; names.count(record.name) != 0 && i < 100; ++i)
      record.name = RandomContainerName();
    if (names.count(record.name) != 0) record.name += "_" + RandomHex(3);
  } else {
    if (record.name.front() == '/') record.name.erase(0, 1);
    auto taken = names.find(record.name);
    if (taken != names.end()) {
      throw ContainerError("Conflict. The container name \"/" + record.name +
                           "\" is already in use by container \"" + taken->second +
                           "\". You have to remove (or rename) that container to be able to "
                           "reuse that name.");
    }
  }
  do {
    record.id = RandomHex(32);
  } while (fs::exists(ContainerDir(store, record.id)));
  if (record.hostname.empty()) record.hostname = record.id.substr(0, 12);
  const fs::path dir = ContainerDir(store, record.id);
  fs::create_directories(dir);
  record.state = ContainerState{};
  WriteContainerState(store, record.id, record.state);
  std::ofstream(dir / "log").close();
  // config.json last: a directory without it is not a container yet.
  WriteFileAtomic(dir / "config.json", nlohmann::json(record).dump(2));
  return record;
}

void WriteContainerState(const ImageStore& store, const std::string& id,
                         const ContainerState& state) {
  WriteFileAtomic(ContainerDir(store, id) / "state.json", nlohmann::json(state).dump(2));
}

ContainerState ReadContainerState(const ImageStore& store, const std::string& id) {
  return nlohmann::json::parse(ReadWholeFile(ContainerDir(store, id) / "state.json"));
}

std::optional<uint64_t> ProcessStartTime(int pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may hold anything.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  std::vector<std::string> rest;
  while (fields >> field) rest.push_back(field);
  // rest[0] is field 3 (state), so field 22 (starttime) is rest[19].
  if (rest.size() < 20 || rest[0] == "Z" || rest[0] == "X") return std::nullopt;
  return std::stoull(rest[19]);
}

bool IsRunning(const ContainerRecord& record) {
  if (record.state.pid <= 0) return false;
  auto start = ProcessStartTime(record.state.pid);
  return start && *start == record.state.pid_start;
}

std::vector<ContainerRecord> ListContainers(const ImageStore& store) {
  std::vector<ContainerRecord> containers;
  std::error_code ec;
  for (fs::directory_iterator it(ContainersDir(store), ec), end; !ec && it != end;
       it.increment(ec)) {
    if (auto record = LoadRecord(store, it->path().filename().string())) {
      Reconcile(store, *record);
      containers.push_back(std::move(*record));
    }
  }
  std::sort(containers.begin(), containers.end(),
            [](const ContainerRecord& a, const ContainerRecord& b) {
              return a.created != b.created ? a.created > b.created : a.id < b.id;
            });
  return containers;
}

std::optional<ContainerRecord> FindContainer(const ImageStore& store, std::string_view query) {
  if (query.empty()) return std::nullopt;
  std::string name(query);
  if (name.front() == '/') name.erase(0, 1);
  const std::vector<ContainerRecord> all = ListContainers(store);
  for (const auto& c : all)
    if (c.id == query) return c;
  for (const auto& c : all)
    if (c.name == name) return c;
  if (!IsHexId(query)) return std::nullopt;
  std::optional<ContainerRecord> found;
  for (const auto& c : all) {
    if (c.id.rfind(query, 0) != 0) continue;
    if (found) {
      throw ContainerError("multiple containers found with provided prefix: " + std::string(query));
    }
    found = c;
  }
  return found;
}

void DeleteContainer(const ImageStore& store, const std::string& id) {
  const fs::path dir = ContainerDir(store, id);
  // A supervisor killed mid-run leaves the overlay mounted.
  ::umount2((ContainerWorkRoot(store, id) / "fs" / "rootfs").c_str(), MNT_DETACH);
  fs::remove(dir / "config.json");
  fs::remove_all(dir);
}

uint64_t ContainerSizeRw(const ImageStore& store, const std::string& id) {
  return TreeSize(ContainerWorkRoot(store, id) / "fs" / "upper");
}

}  // namespace kiln
