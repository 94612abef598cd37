#include "engine/store/oci_types.h"

#include <algorithm>

#include "engine/store/image_config.h"

namespace kiln {
namespace {

using nlohmann::json;

/// Reads `key` into `out` when present and not null (Docker writes null for unset lists).
template <typename T>
void Read(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it != j.end() && !it->is_null()) it->get_to(out);
}

template <typename T>
void WriteUnlessEmpty(json& j, const char* key, const T& value) {
  if (!value.empty()) j[key] = value;
}

void WriteUnlessZero(json& j, const char* key, int64_t value) {
  if (value != 0) j[key] = value;
}

/// Docker writes sets (ExposedPorts, Volumes) as objects with empty-object values.
void WriteKeySet(json& j, const char* key, const std::set<std::string>& keys) {
  if (keys.empty()) return;
  json& out = j[key] = json::object();
  for (const std::string& k : keys) out[k] = json::object();
}

void ReadKeySet(const json& j, const char* key, std::set<std::string>& keys) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  for (const auto& [k, unused] : it->items()) keys.insert(k);
}

/// The keys of `j` not in `known`, kept so that a round trip loses nothing.
json Unknown(const json& j, std::initializer_list<const char*> known) {
  json extra = json::object();
  for (const auto& [k, v] : j.items()) {
    if (std::none_of(known.begin(), known.end(), [&](const char* n) { return k == n; })) {
      extra[k] = v;
    }
  }
  return extra;
}

}  // namespace

void to_json(json& j, const Platform& v) {
  j = {{"architecture", v.architecture}, {"os", v.os}};
  WriteUnlessEmpty(j, "variant", v.variant);
}

void from_json(const json& j, Platform& v) {
  Read(j, "architecture", v.architecture);
  Read(j, "os", v.os);
  Read(j, "variant", v.variant);
}

void to_json(json& j, const Descriptor& v) {
  j = {{"mediaType", v.media_type}, {"digest", v.digest}, {"size", v.size}};
  WriteUnlessEmpty(j, "annotations", v.annotations);
  if (v.platform) j["platform"] = *v.platform;
}

void from_json(const json& j, Descriptor& v) {
  Read(j, "mediaType", v.media_type);
  Read(j, "digest", v.digest);
  Read(j, "size", v.size);
  Read(j, "annotations", v.annotations);
  if (auto it = j.find("platform"); it != j.end() && !it->is_null())
    v.platform = it->get<Platform>();
}

void to_json(json& j, const Manifest& v) {
  j = {{"schemaVersion", v.schema_version},
       {"mediaType", v.media_type},
       {"config", v.config},
       {"layers", v.layers}};
  WriteUnlessEmpty(j, "annotations", v.annotations);
}

void from_json(const json& j, Manifest& v) {
  Read(j, "schemaVersion", v.schema_version);
  Read(j, "mediaType", v.media_type);
  Read(j, "config", v.config);
  Read(j, "layers", v.layers);
  Read(j, "annotations", v.annotations);
}

void to_json(json& j, const ImageIndex& v) {
  j = {{"schemaVersion", v.schema_version},
       {"mediaType", v.media_type},
       {"manifests", json::array()}};
  for (const Descriptor& d : v.manifests) j["manifests"].push_back(d);
  WriteUnlessEmpty(j, "annotations", v.annotations);
}

void from_json(const json& j, ImageIndex& v) {
  Read(j, "schemaVersion", v.schema_version);
  Read(j, "mediaType", v.media_type);
  Read(j, "manifests", v.manifests);
  Read(j, "annotations", v.annotations);
}

void to_json(json& j, const HealthConfig& v) {
  j = json::object();
  WriteUnlessEmpty(j, "Test", v.test);
  WriteUnlessZero(j, "Interval", v.interval);
  WriteUnlessZero(j, "Timeout", v.timeout);
  WriteUnlessZero(j, "StartPeriod", v.start_period);
  WriteUnlessZero(j, "StartInterval", v.start_interval);
  WriteUnlessZero(j, "Retries", v.retries);
}

void from_json(const json& j, HealthConfig& v) {
  Read(j, "Test", v.test);
  Read(j, "Interval", v.interval);
  Read(j, "Timeout", v.timeout);
  Read(j, "StartPeriod", v.start_period);
  Read(j, "StartInterval", v.start_interval);
  Read(j, "Retries", v.retries);
}

void to_json(json& j, const ContainerConfig& v) {
  j = v.extra.is_object() ? v.extra : json::object();
  WriteUnlessEmpty(j, "User", v.user);
  WriteKeySet(j, "ExposedPorts", v.exposed_ports);
  WriteUnlessEmpty(j, "Env", v.env);
  WriteUnlessEmpty(j, "Entrypoint", v.entrypoint);
  WriteUnlessEmpty(j, "Cmd", v.cmd);
  WriteKeySet(j, "Volumes", v.volumes);
  WriteUnlessEmpty(j, "WorkingDir", v.working_dir);
  WriteUnlessEmpty(j, "Labels", v.labels);
  WriteUnlessEmpty(j, "StopSignal", v.stop_signal);
  if (v.healthcheck && *v.healthcheck != HealthConfig{}) j["Healthcheck"] = *v.healthcheck;
  WriteUnlessEmpty(j, "Shell", v.shell);
  WriteUnlessEmpty(j, "OnBuild", v.on_build);
  if (v.args_escaped) j["ArgsEscaped"] = true;
}

void from_json(const json& j, ContainerConfig& v) {
  v.extra = Unknown(j, {"User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir",
                        "Labels", "StopSignal", "Healthcheck", "Shell", "OnBuild", "ArgsEscaped"});
  Read(j, "User", v.user);
  ReadKeySet(j, "ExposedPorts", v.exposed_ports);
  Read(j, "Env", v.env);
  Read(j, "Entrypoint", v.entrypoint);
  Read(j, "Cmd", v.cmd);
  ReadKeySet(j, "Volumes", v.volumes);
  Read(j, "WorkingDir", v.working_dir);
  Read(j, "Labels", v.labels);
  Read(j, "StopSignal", v.stop_signal);
  if (auto it = j.find("Healthcheck"); it != j.end() && !it->is_null()) {
    v.healthcheck = it->get<HealthConfig>();
  }
  Read(j, "Shell", v.shell);
  Read(j, "OnBuild", v.on_build);
  Read(j, "ArgsEscaped", v.args_escaped);
}

void to_json(json& j, const RootFs& v) {
  j = {{"type", v.type}, {"diff_ids", json::array()}};
  for (const std::string& d : v.diff_ids) j["diff_ids"].push_back(d);
}

void from_json(const json& j, RootFs& v) {
  Read(j, "type", v.type);
  Read(j, "diff_ids", v.diff_ids);
}

void to_json(json& j, const HistoryEntry& v) {
  j = json::object();
  WriteUnlessEmpty(j, "created", v.created);
  WriteUnlessEmpty(j, "created_by", v.created_by);
  WriteUnlessEmpty(j, "author", v.author);
  WriteUnlessEmpty(j, "comment", v.comment);
  if (v.empty_layer) j["empty_layer"] = true;
}

void from_json(const json& j, HistoryEntry& v) {
  Read(j, "created", v.created);
  Read(j, "created_by", v.created_by);
  Read(j, "author", v.author);
  Read(j, "comment", v.comment);
  Read(j, "empty_layer", v.empty_layer);
}

void to_json(json& j, const ImageConfig& v) {
  j = v.extra.is_object() ? v.extra : json::object();
  WriteUnlessEmpty(j, "created", v.created);
  WriteUnlessEmpty(j, "author", v.author);
  j["architecture"] = v.architecture;
  j["os"] = v.os;
  WriteUnlessEmpty(j, "variant", v.variant);
  WriteUnlessEmpty(j, "os.version", v.os_version);
  WriteUnlessEmpty(j, "os.features", v.os_features);
  j["config"] = v.config;
  j["rootfs"] = v.rootfs;
  WriteUnlessEmpty(j, "history", v.history);
}

void from_json(const json& j, ImageConfig& v) {
  v.extra = Unknown(j, {"created", "author", "architecture", "os", "variant", "os.version",
                        "os.features", "config", "rootfs", "history"});
  Read(j, "created", v.created);
  Read(j, "author", v.author);
  Read(j, "architecture", v.architecture);
  Read(j, "os", v.os);
  Read(j, "variant", v.variant);
  Read(j, "os.version", v.os_version);
  Read(j, "os.features", v.os_features);
  Read(j, "config", v.config);
  Read(j, "rootfs", v.rootfs);
  Read(j, "history", v.history);
}

ImageConfig ImageConfig::ForHost() {
  ImageConfig config;
  config.architecture = HostArchitecture();
  config.os = "linux";
  return config;
}

std::string CanonicalJson(const json& value) {
  return value.dump();
}

}  // namespace kiln
