#include "cli/container_inspect.h"

namespace kiln::cli {
namespace {

/// Bytes of the image's layers as unpacked (Docker's image Size).
uint64_t ImageSize(const ImageStore& store, const std::string& image_id) {
  uint64_t total = 0;
  try {
    for (const Descriptor& layer : store.ReadManifest(image_id).layers) {
      total += static_cast<uint64_t>(layer.size);
    }
  } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): image removed: size 0
  }
  return total;
}

nlohmann::json NullIfEmpty(const std::vector<std::string>& values) {
  return values.empty() ? nlohmann::json(nullptr) : nlohmann::json(values);
}

}  // namespace

nlohmann::json ContainerJson(const ImageStore& store, const ContainerRecord& record, bool size) {
  const ContainerState& s = record.state;
  const bool running = s.status == "running";
  nlohmann::json json = {
      {"Id", record.id},
      {"Created", record.created},
      {"Path", record.path},
      {"Args", record.args},
      {"State",
       {{"Status", s.status},
        {"Running", running},
        {"Paused", false},
        {"Restarting", false},
        {"OOMKilled", false},
        {"Dead", false},
        {"Pid", running ? s.pid : 0},
        {"ExitCode", s.exit_code},
        {"Error", s.error},
        {"StartedAt", s.started_at},
        {"FinishedAt", s.finished_at}}},
      {"Image", record.image_id},
      {"LogPath", ContainerLogPath(store, record.id).string()},
      {"Name", "/" + record.name},
      {"RestartCount", 0},
      {"Driver", "overlay"},
      {"Platform", "linux"},
      {"Mounts", record.mounts},
      {"Config",
       {{"Hostname", record.hostname},
        {"Domainname", ""},
        {"User", record.user},
        {"AttachStdin", false},
        {"AttachStdout", !record.auto_remove},
        {"AttachStderr", !record.auto_remove},
        {"Tty", false},
        {"OpenStdin", false},
        {"StdinOnce", false},
        {"Env", record.env},
        {"Cmd", NullIfEmpty(record.cmd)},
        {"Image", record.image_name},
        {"Volumes", nullptr},
        {"WorkingDir", record.working_dir},
        {"Entrypoint", NullIfEmpty(record.entrypoint)},
        {"OnBuild", nullptr},
        {"Labels", record.labels}}},
      {"HostConfig",
       {{"NetworkMode", record.network},
        {"AutoRemove", record.auto_remove},
        {"RestartPolicy", {{"Name", "no"}, {"MaximumRetryCount", 0}}}}},
  };
  if (size) {
    const uint64_t size_rw = ContainerSizeRw(store, record.id);
    json["SizeRw"] = size_rw;
    json["SizeRootFs"] = size_rw + ImageSize(store, record.image_id);
  }
  return json;
}

std::optional<nlohmann::json> InspectContainerJson(const std::string& name_or_id, bool size) {
  ImageStore store(ImageStore::DefaultRoot());
  std::optional<ContainerRecord> record = FindContainer(store, name_or_id);
  if (!record) return std::nullopt;
  return ContainerJson(store, *record, size);
}

}  // namespace kiln::cli
