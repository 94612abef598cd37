#include "driver/build_directory.h"

#include <unistd.h>

#include <fstream>
#include <map>
#include <system_error>

#include <nlohmann/json.hpp>

#include "driver/ninja_fingerprint.h"
#include "engine/store/image_store.h"
#include "engine/store/reference.h"
#include "frontend/file_system.h"
#include "generators/ninja_writer.h"

namespace kiln::driver {
namespace {

/// Files whose change must regenerate build.ninja. Directories are included so that an ignore
/// file created later (which changes the directory's mtime) is noticed.
std::vector<std::string> RegenerateInputs(const std::filesystem::path& dir,
                                          const BuildRequest& request, const ImageStore& store) {
  std::vector<std::string> inputs = {(dir / kRequestFile).string(), store.DeletionStamp().string()};
  for (const ImageRequest& image : request.images) {
    const std::filesystem::path dockerfile(image.dockerfile);
    inputs.push_back(image.dockerfile);
    inputs.push_back(dockerfile.parent_path().string());
    inputs.push_back(image.context);
    for (const std::filesystem::path& ignore :
         {std::filesystem::path(image.context) / ".dockerignore",
          std::filesystem::path(image.dockerfile + ".dockerignore")}) {
      if (std::filesystem::exists(ignore)) inputs.push_back(ignore.string());
    }
  }
  return inputs;
}

/// The image id a step record or an iid file names; "" when it names none or cannot be read.
std::string ImageIdIn(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (file.extension() == ".iid") return text.substr(0, text.find('\n'));
  const nlohmann::json record = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return record.is_object() ? record.value("image_id", "") : "";
}

/// Removes `paths` when the image `file` names is gone from the store, so ninja runs the edge
/// that makes it again instead of handing the next step an image that no longer exists.
void ForgetIfImageGone(const ImageStore& store, const std::filesystem::path& file,
                       const std::vector<std::filesystem::path>& paths) {
  const std::string id = ImageIdIn(file);
  if (id.empty() || store.GetImage(id)) return;
  for (const std::filesystem::path& p : paths) std::filesystem::remove(p);
}

/// The tag stamp of every store image a step of `graphs` names by tag, brought up to date.
/// Image ids and digest references name content that never moves; they are left to the tag
/// index, as are references that do not parse (their steps fail with a clear message).
std::map<std::string, std::string> TagStamps(const std::vector<StepGraph>& graphs,
                                             ImageStore& store) {
  std::map<std::string, std::string> stamps;
  for (const StepGraph& graph : graphs) {
    for (const Step& step : graph.steps) {
      for (const std::string& ref : StoreImagesRead(step)) {
        if (stamps.count(ref) || LooksLikeImageId(ref)) continue;
        try {
          const Reference parsed = ParseReference(ref);
          if (parsed.digest.empty()) stamps[ref] = store.SyncTagStamp(parsed).string();
        } catch (const ReferenceError&) {
        }
      }
    }
  }
  return stamps;
}

}  // namespace

void ForgetResultsOfDeletedImages(const std::filesystem::path& dir, const ImageStore& store) {
  const std::filesystem::path checked = dir / "deletions.checked";
  std::error_code ec;
  const auto deleted_at = std::filesystem::last_write_time(store.DeletionStamp(), ec);
  if (ec) return;
  const auto checked_at = std::filesystem::last_write_time(checked, ec);
  if (!ec && checked_at > deleted_at) return;
  // The mark is written first: a deletion during the scan is newer than it and is seen next time.
  WriteIfChanged(checked, "");
  std::filesystem::last_write_time(checked, std::filesystem::file_time_type::clock::now());
  for (const std::string sub : {"steps", "images"}) {
    if (!std::filesystem::is_directory(dir / sub)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir / sub)) {
      const std::filesystem::path& p = entry.path();
      if (p.extension() == ".iid") {
        ForgetIfImageGone(store, p, {p});
      } else if (p.extension() == ".json") {
        ForgetIfImageGone(store, p, {p, std::filesystem::path(p).replace_extension(".result")});
      }
    }
  }
}

std::string KilnProgramPath() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot find the kiln program: " + ec.message());
  return self.string();
}

std::vector<StepGraph> GenerateBuildDirectory(const std::filesystem::path& dir,
                                              const BuildRequest& request,
                                              const ImageResolver* resolver,
                                              std::vector<HashEdge>* hashing) {
  std::vector<StepGraph> graphs;
  for (const ImageRequest& image : request.images) {
    LowerOptions options;
    options.dockerfile = image.dockerfile;
    options.context = image.context;
    options.build_args = image.build_args;
    options.target = image.target;
    if (!image.platform.empty()) options.platform = image.platform;
    options.resolver = resolver;
    graphs.push_back(LoadStepGraph(DiskFileSystem(), options));
  }

  std::filesystem::create_directories(dir);
  ImageStore store(request.store_root);
  ForgetResultsOfDeletedImages(dir, store);
  WriteIfChanged(dir / kRequestFile, BuildRequestToJson(request).dump(2) + "\n");
  std::vector<NinjaImage> images;
  for (size_t i = 0; i < graphs.size(); ++i) {
    WriteIfChanged(dir / GraphFile(i), StepGraphJsonText(graphs[i]));
    images.push_back(
        {request.images[i].name, GraphFile(i), &graphs[i], IidFile(request.images[i].name)});
  }
  NinjaOptions options;
  options.kiln = KilnProgramPath();
  options.build_dir = std::filesystem::absolute(dir).string();
  options.regenerate_inputs = RegenerateInputs(dir, request, store);
  options.image_inputs = {kRequestFile};
  options.run_jobs = request.run_jobs;
  options.tag_index = (store.OciDir() / "index.json").string();
  options.image_stamps = TagStamps(graphs, store);
  WriteIfChanged(dir / kNinjaFile, WriteNinjaFile(images, options));
  options.for_driver = true;
  NinjaGraphFiles driver_files;
  const std::string driver_text = WriteNinjaFile(images, options, &driver_files);
  RecordNinjaGraphFiles(dir, kDriverNinjaFile, driver_files);
  WriteIfChanged(dir / kDriverNinjaFile, driver_text);
  if (hashing) *hashing = HashEdges(images);
  return graphs;
}

}  // namespace kiln::driver
