#include "engine/store/store_maintenance.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engine/store/image_store.h"

namespace kiln {
namespace fs = std::filesystem;
using nlohmann::json;

CheckReport CheckStore(const ImageStore& store) {
  const BlobStore& blobs = store.blobs();
  CheckReport report;
  auto problem = [&](std::string text) { report.problems.push_back(std::move(text)); };

  if (!fs::exists(store.OciDir() / "oci-layout") ||
      json::parse(ReadWholeFile(store.OciDir() / "oci-layout"), nullptr, false) !=
          json::parse(kOciLayout)) {
    problem("oci/oci-layout is missing or not {\"imageLayoutVersion\":\"1.0.0\"}");
  }
  for (const auto& entry : fs::directory_iterator(blobs.dir())) {
    const std::string name = entry.path().filename().string();
    const std::optional<Digest> digest = Digest::FromSha256Hex(name);
    if (!digest) {
      problem("blobs/sha256/" + name + ": not a sha256 digest name");
      continue;
    }
    Digest actual;
    try {
      actual = Digest::OfFile(entry.path());
    } catch (const std::exception& e) {
      problem("blob " + digest->String() + ": " + e.what());
      continue;
    }
    if (actual != *digest) {
      problem("blob " + digest->String() + " is corrupt: its content hashes to " + actual.String());
    }
  }

  auto check_manifest = [&](const std::string& what, const Digest& digest,
                            const std::string& expected_config) {
    if (!blobs.Has(digest)) {
      return problem(what + ": manifest " + digest.String() + " is missing");
    }
    Manifest manifest;
    try {
      manifest =
          ParseJsonAs<Manifest>(ReadWholeFile(blobs.Path(digest)), "manifest " + digest.String());
    } catch (const std::exception& e) {
      return problem(what + ": " + e.what());
    }
    const Digest& config_digest = manifest.config.digest;
    if (!expected_config.empty() && config_digest != expected_config) {
      problem(what + ": manifest " + digest.String() + " names config " + config_digest.String());
    }
    if (!blobs.Has(config_digest)) {
      problem(what + ": config " + config_digest.String() + " is missing");
    } else {
      try {
        ImageConfig config =
            ParseJsonAs<ImageConfig>(ReadWholeFile(blobs.Path(config_digest)), "config");
        if (config.rootfs.diff_ids.size() != manifest.layers.size()) {
          problem(what + ": config lists " + std::to_string(config.rootfs.diff_ids.size()) +
                  " diff_ids for " + std::to_string(manifest.layers.size()) + " layers");
        }
      } catch (const std::exception& e) {
        problem(what + ": " + e.what());
      }
    }
    for (const Descriptor& layer : manifest.layers) {
      if (!blobs.Has(layer.digest)) {
        problem(what + ": layer " + layer.digest.String() + " is missing");
      }
    }
  };

  for (const auto& entry : fs::directory_iterator(store.root() / "images")) {
    const std::string name = entry.path().filename().string();
    std::optional<ImageRecord> record;
    try {
      record = ParseJsonAs<ImageRecord>(ReadWholeFile(entry.path()), "record");
    } catch (const std::exception& e) {
      problem("images/" + name + ": " + e.what());
      continue;
    }
    const Digest id = Digest::Parse(record->id);  // checked by ParseJsonAs
    if (!id.IsSha256() || name != std::string(id.Hex()) + ".json") {
      problem("images/" + name + ": record id " + record->id + " does not match its file name");
      continue;
    }
    check_manifest("image " + record->id, Digest::Parse(record->manifest_digest), record->id);
  }

  ImageIndex index;
  try {
    index = store.ReadIndex();
  } catch (const std::exception& e) {
    problem(std::string("oci/index.json: ") + e.what());
  }
  for (const Descriptor& d : index.manifests) {
    const std::string what = "tag " + RefName(d);
    if (!TagOf(d)) problem(what + ": not a valid reference");
    if (!blobs.Has(d.digest)) {
      problem(what + ": manifest " + d.digest.String() + " is missing");
      continue;
    }
    if (static_cast<int64_t>(fs::file_size(blobs.Path(d.digest))) != d.size) {
      problem(what + ": descriptor size " + std::to_string(d.size) + " differs from the blob's");
    }
    check_manifest(what, d.digest, "");
  }

  for (const auto& entry : fs::directory_iterator(store.TmpDir())) {
    report.leftovers.push_back(entry.path().string());
  }
  return report;
}

GcReport GarbageCollectBlobs(ImageStore& store, std::chrono::seconds grace) {
  const BlobStore& blobs = store.blobs();
  StoreLock lock = store.Lock();
  std::set<std::string> live;         // blobs
  std::set<std::string> live_layers;  // diff_ids of live images
  std::vector<std::string> pending;
  for (const ImageRecord& record : store.ListImages()) {
    live.insert(record.id);
    pending.push_back(record.manifest_digest);
  }
  for (const Descriptor& d : store.ReadIndex().manifests) pending.push_back(d.digest.String());
  // The blob `digest` names as JSON; discarded when it is no blob of the store or no JSON. The
  // walk reads documents of other tools as they are, so their digests are checked here.
  auto read_json = [&](const std::string& digest) {
    const std::optional<Digest> parsed = Digest::TryParse(digest);
    if (!parsed || !blobs.Has(*parsed)) return json(json::value_t::discarded);
    return json::parse(ReadWholeFile(blobs.Path(*parsed)), nullptr, /*allow_exceptions=*/false);
  };
  // Manifests (and nested indexes) keep their config and layers alive.
  while (!pending.empty()) {
    std::string digest = std::move(pending.back());
    pending.pop_back();
    if (!live.insert(digest).second) continue;
    json doc = read_json(digest);
    if (!doc.is_object()) continue;
    if (doc.contains("config") && doc["config"].is_object()) {
      const std::string config = doc["config"].value("digest", "");
      live.insert(config);
      // Unpacked layer directories may be keyed by diff_id; keep those too.
      {
        json c = read_json(config);
        if (c.is_object() && c.contains("rootfs") && c["rootfs"].is_object() &&
            c["rootfs"].contains("diff_ids") && c["rootfs"]["diff_ids"].is_array()) {
          for (const json& id : c["rootfs"]["diff_ids"]) {
            if (id.is_string()) live_layers.insert(id.get<std::string>());
          }
        }
      }
    }
    for (const char* list : {"layers", "manifests"}) {
      if (!doc.contains(list) || !doc[list].is_array()) continue;
      for (const json& d : doc[list]) {
        std::string child = d.value("digest", "");
        if (std::string_view(list) == "layers") {
          live.insert(child);
        } else {
          pending.push_back(child);
        }
      }
    }
  }

  GcReport report;
  const auto cutoff = fs::file_time_type::clock::now() - grace;
  for (const auto& entry : fs::directory_iterator(blobs.dir())) {
    const auto digest = Digest::FromSha256Hex(entry.path().filename().string());
    if (!digest || live.count(digest->String())) continue;
    if (grace.count() > 0 && entry.last_write_time() > cutoff) continue;
    report.bytes_freed += entry.file_size();
    fs::remove(entry.path());
    report.removed_blobs.push_back(digest->String());
  }
  for (const auto& entry : fs::directory_iterator(store.root() / "layers")) {
    const auto digest = Digest::FromSha256Hex(entry.path().filename().string());
    if (!digest || live.count(digest->String()) || live_layers.count(digest->String())) continue;
    if (store.RemoveUnpackedLayer(*digest)) report.removed_layers.push_back(digest->String());
  }
  std::sort(report.removed_blobs.begin(), report.removed_blobs.end());
  std::sort(report.removed_layers.begin(), report.removed_layers.end());
  if (!report.removed_blobs.empty()) SyncDirectory(blobs.dir());
  return report;
}

}  // namespace kiln
