// OCI image-spec types (descriptor, manifest, index, image config) with nlohmann JSON conversion.
// Serialization is deterministic: keys sorted (nlohmann's default object), empty optional fields
// left out as Docker does, so equal values give equal bytes and equal digests.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/base/digest.h"

namespace kiln {

inline constexpr std::string_view kMediaTypeImageIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kMediaTypeImageManifest =
    "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kMediaTypeImageConfig =
    "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kMediaTypeLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kMediaTypeLayerGzip =
    "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kMediaTypeLayerZstd =
    "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kAnnotationRefName = "org.opencontainers.image.ref.name";

struct Platform {
  std::string architecture;
  std::string os;
  std::string variant;  // omitted when empty
  bool operator==(const Platform&) const = default;
};

/// An OCI content descriptor. `size` is in bytes. The digest is parsed when the descriptor is
/// read, so a malformed one makes its document unreadable.
struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::map<std::string, std::string> annotations;  // omitted when empty
  std::optional<Platform> platform;
  bool operator==(const Descriptor&) const = default;
};

/// An OCI image manifest (also reads Docker schema 2 manifests, which have the same shape).
struct Manifest {
  int schema_version = 2;
  std::string media_type = std::string(kMediaTypeImageManifest);
  Descriptor config;
  std::vector<Descriptor> layers;
  std::map<std::string, std::string> annotations;
  bool operator==(const Manifest&) const = default;
};

/// An OCI image index (the layout's index.json).
struct ImageIndex {
  int schema_version = 2;
  std::string media_type = std::string(kMediaTypeImageIndex);
  std::vector<Descriptor> manifests;  // always written, [] when empty
  std::map<std::string, std::string> annotations;
  bool operator==(const ImageIndex&) const = default;
};

/// Docker's HEALTHCHECK settings; durations in nanoseconds as Docker stores them.
struct HealthConfig {
  std::vector<std::string> test;
  int64_t interval = 0;
  int64_t timeout = 0;
  int64_t start_period = 0;
  int64_t start_interval = 0;
  int retries = 0;
  bool operator==(const HealthConfig&) const = default;
};

/// The "config" object of an image config (Docker's capitalized keys). Empty members are left out
/// of the JSON; `extra` keeps keys this struct does not know, verbatim.
struct ContainerConfig {
  std::string user;
  std::set<std::string> exposed_ports;  // "80/tcp"
  std::vector<std::string> env;         // "K=V"
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::set<std::string> volumes;
  std::string working_dir;
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  std::optional<HealthConfig> healthcheck;
  std::vector<std::string> shell;
  std::vector<std::string> on_build;
  bool args_escaped = false;
  nlohmann::json extra = nlohmann::json::object();
  bool operator==(const ContainerConfig&) const = default;
};

struct RootFs {
  std::string type = "layers";
  std::vector<std::string> diff_ids;  // always written, [] when empty
  bool operator==(const RootFs&) const = default;
};

struct HistoryEntry {
  std::string created;
  std::string created_by;
  std::string author;
  std::string comment;
  bool empty_layer = false;
  bool operator==(const HistoryEntry&) const = default;
};

/// An OCI image config. `created` is RFC 3339 UTC (see Rfc3339 in engine/image_config.h); set it
/// explicitly for reproducible digests. `config` is always written (as {} when empty), like
/// Docker; `extra` keeps unknown top-level keys verbatim.
struct ImageConfig {
  std::string created;
  std::string author;
  std::string architecture;
  std::string os;
  std::string variant;
  std::string os_version;
  std::vector<std::string> os_features;
  ContainerConfig config;
  RootFs rootfs;
  std::vector<HistoryEntry> history;
  nlohmann::json extra = nlohmann::json::object();
  bool operator==(const ImageConfig&) const = default;

  /// An empty config for this host: architecture from uname (amd64, arm64, ...), os "linux".
  static ImageConfig ForHost();
};

void to_json(nlohmann::json& j, const Platform& v);
void from_json(const nlohmann::json& j, Platform& v);
void to_json(nlohmann::json& j, const Descriptor& v);
void from_json(const nlohmann::json& j, Descriptor& v);
void to_json(nlohmann::json& j, const Manifest& v);
void from_json(const nlohmann::json& j, Manifest& v);
void to_json(nlohmann::json& j, const ImageIndex& v);
void from_json(const nlohmann::json& j, ImageIndex& v);
void to_json(nlohmann::json& j, const HealthConfig& v);
void from_json(const nlohmann::json& j, HealthConfig& v);
void to_json(nlohmann::json& j, const ContainerConfig& v);
void from_json(const nlohmann::json& j, ContainerConfig& v);
void to_json(nlohmann::json& j, const RootFs& v);
void from_json(const nlohmann::json& j, RootFs& v);
void to_json(nlohmann::json& j, const HistoryEntry& v);
void from_json(const nlohmann::json& j, HistoryEntry& v);
void to_json(nlohmann::json& j, const ImageConfig& v);
void from_json(const nlohmann::json& j, ImageConfig& v);

/// The canonical bytes of a JSON value: compact, keys sorted. Equal values give equal bytes.
std::string CanonicalJson(const nlohmann::json& value);

/// Parses `text` as JSON into T; throws std::runtime_error "<what>: <reason>" when it is not valid
/// JSON or not shaped like T (a malformed digest included). JSON nulls read as absent fields.
template <typename T>
T ParseJsonAs(std::string_view text, std::string_view what) {
  try {
    return nlohmann::json::parse(text).get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string(what) + ": " + e.what());
  } catch (const DigestError& e) {
    throw std::runtime_error(std::string(what) + ": " + e.what());
  }
}

}  // namespace kiln
