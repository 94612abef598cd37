#include "driver/edges.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "driver/build_directory.h"
#include "driver/build_request.h"
#include "driver/context_matcher.h"
#include "driver/input_hashing.h"
#include "driver/progress_events.h"
#include "driver/store_resolver.h"
#include "engine/base/atomic_file.h"
#include "engine/step_executor.h"
#include "engine/store/image_config.h"
#include "engine/store/image_store.h"
#include "engine/store/reference.h"
#include "frontend/dockerfile_error.h"

namespace kiln::driver {
namespace fs = std::filesystem;
namespace {

bool EnvFlag(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::string(v) != "0";
}

StepGraph LoadGraph(const std::string& file) {
  return StepGraphFromJson(nlohmann::json::parse(ReadWholeFile(file)));
}

StepRecord LoadRecord(const std::string& file) {
  return StepRecordFromJson(nlohmann::json::parse(ReadWholeFile(file)));
}

BuildRequest LoadRequest() {
  return BuildRequestFromJson(nlohmann::json::parse(ReadWholeFile(kRequestFile)));
}

/// The lines of an input list (`DIGEST TYPE+MODE UID:GID PATH`) keyed by their path, in order.
std::vector<std::pair<std::string_view, std::string_view>> ListLinesByPath(std::string_view text) {
  std::vector<std::pair<std::string_view, std::string_view>> lines;
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    size_t pos = 0;
    for (int field = 0; field < 3 && pos != std::string_view::npos; ++field)
      pos = line.find(' ', pos + 1);
    if (pos != std::string_view::npos) lines.emplace_back(line.substr(pos + 1), line);
  }
  return lines;
}

/// Lines of `after` not in `before`, and of `before` not in `after`, as "path" names.
std::vector<std::string> ChangedPaths(std::string_view before, std::string_view after) {
  const auto old_lines = ListLinesByPath(before), new_lines = ListLinesByPath(after);
  std::unordered_map<std::string_view, std::string_view> old_by_path(old_lines.begin(),
                                                                     old_lines.end());
  std::unordered_set<std::string_view> new_paths;
  new_paths.reserve(new_lines.size());
  std::vector<std::string> changed;
  for (const auto& [path, line] : new_lines) {
    new_paths.insert(path);
    auto it = old_by_path.find(path);
    if (it == old_by_path.end())
      changed.push_back(std::string(path) + " (added)");
    else if (it->second != line)
      changed.push_back(std::string(path) + " (changed)");
  }
  for (const auto& [path, line] : old_lines)
    if (!new_paths.count(path)) changed.push_back(std::string(path) + " (removed)");
  return changed;
}

/// Why the step ran, comparing its key with the one it had the last time it ran here.
std::string Explain(const StepRecord& now, const std::optional<StepRecord>& before,
                    const std::string& list_before, const std::string& list_now,
                    const StepGraph& graph) {
  if (!before) return "no earlier result for this step";
  std::vector<std::string> reasons;
  std::set<std::string> names;
  for (const auto& [k, v] : now.key_parts) names.insert(k);
  for (const auto& [k, v] : before->key_parts) names.insert(k);
  for (const std::string& name : names) {
    auto a = before->key_parts.find(name), b = now.key_parts.find(name);
    if (a != before->key_parts.end() && b != now.key_parts.end() && a->second == b->second)
      continue;
    if (name == "inputs") {
      std::string files;
      for (const std::string& p : ChangedPaths(list_before, list_now))
        files += (files.empty() ? "" : ", ") + p;
      reasons.push_back("context files changed: " + (files.empty() ? std::string("?") : files));
    } else if (name == "parent") {
      reasons.push_back("the previous step's result changed");
    } else if (name.rfind("stage ", 0) == 0) {
      const int stage = std::stoi(name.substr(6));
      const std::string& stage_name = graph.stages.at(stage).name;
      reasons.push_back("stage " + (stage_name.empty() ? std::to_string(stage) : stage_name) +
                        " changed");
    } else if (name.rfind("arg ", 0) == 0) {
      reasons.push_back("build arg " + name.substr(4) + " changed" +
                        (b == now.key_parts.end() ? "" : " to \"" + b->second + "\""));
    } else if (name == "instruction") {
      reasons.push_back("the instruction changed");
    } else {
      reasons.push_back(name + " changed");
    }
  }
  if (reasons.empty()) return now.cached ? "reused from the step cache" : "--no-cache";
  std::string text;
  for (const std::string& r : reasons) text += (text.empty() ? "" : "; ") + r;
  return text;
}

/// steps/KEY.result -> steps/KEY.json
std::string StepRecordPathFor(const std::string& result) {
  return fs::path(result).replace_extension(".json").string();
}

std::string ReadOr(const std::string& path, const std::string& fallback) {
  std::optional<std::string> content = DiskFileSystem().ReadFile(path);
  return content ? *content : fallback;
}

/// Makes `kept` a copy of the input list of `inputs` (empty when the step has none): a hard
/// link, as input lists are only ever replaced whole, never rewritten in place.
void KeepInputList(const std::string& inputs, const std::string& kept) {
  if (inputs.empty()) {
    WriteIfChanged(kept, "");
    return;
  }
  const std::string temp = kept + ".tmp." + std::to_string(getpid());
  std::error_code error;
  fs::remove(temp, error);
  fs::create_hard_link(inputs + ".list", temp, error);
  if (error) {
    ReplaceFile(kept, ReadOr(inputs + ".list", ""));
    return;
  }
  fs::rename(temp, kept);
}

}  // namespace

int RunStepEdge(const StepEdgeRequest& edge) {
  const std::string& graph_file = edge.graph_file;
  const std::string& out = edge.out;
  const std::string& inputs = edge.inputs;
  const int step_id = edge.step;
  const BuildRequest request = LoadRequest();
  const StepGraph graph = LoadGraph(graph_file);
  const Step& step = graph.steps.at(step_id);
  const std::string event_id = out;
  const auto started = std::chrono::steady_clock::now();

  StepInputs in;
  in.graph = &graph;
  in.step = step_id;
  if (!edge.parent.empty()) in.parent = LoadRecord(edge.parent);
  for (const std::string& s : edge.stages) {
    const size_t eq = s.find('=');
    in.stages[std::stoi(s.substr(0, eq))] = LoadRecord(s.substr(eq + 1));
  }
  if (!inputs.empty()) {
    in.inputs_digest = ReadWholeFile(inputs);
    while (!in.inputs_digest.empty() && in.inputs_digest.back() == '\n')
      in.inputs_digest.pop_back();
  }

  StepSettings settings;
  settings.source_date_epoch = request.source_date_epoch;
  settings.no_cache = EnvFlag("KILN_NO_CACHE");
  settings.secrets = request.secrets;
  settings.network = request.network;
  settings.matcher = MakePathMatcher(graph.ignore_patterns);
  if (EventsEnabled()) {
    settings.output = [&](std::string_view chunk) {
      for (size_t i = 0; i < chunk.size(); i += 2048)
        EmitEvent(
            {{"id", event_id}, {"state", "output"}, {"data", std::string(chunk.substr(i, 2048))}});
    };
  }
  EmitEvent({{"id", event_id}, {"state", "started"}, {"text", step.text}, {"line", step.line}});

  ImageStore store(request.store_root);
  StepRecord record;
  try {
    record = ExecuteStep(store, in, settings);
  } catch (const std::exception& e) {
    EmitEvent({{"id", event_id}, {"state", "error"}, {"text", step.text}, {"error", e.what()}});
    // A listening `kiln build` shows the event; plain ninja shows what the edge prints.
    if (!EventsEnabled())
      std::fprintf(stderr, "ERROR: %s:%d: %s: %s\n", graph.dockerfile.c_str(), step.line,
                   step.text.c_str(), e.what());
    return 1;
  }

  // The last record this step had here, for --explain; kept per graph step, not per key.
  const std::string last =
      "last/" + fs::path(graph_file).stem().string() + "-" + std::to_string(step_id);
  std::string reason;
  if (EnvFlag("KILN_EXPLAIN")) {  // comparing the lists of thousands of files is not free
    std::optional<StepRecord> before;
    if (fs::exists(last + ".json")) before = LoadRecord(last + ".json");
    const std::string list_now = inputs.empty() ? "" : ReadOr(inputs + ".list", "");
    reason = Explain(record, before, ReadOr(last + ".list", ""), list_now, graph);
  }
  WriteIfChanged(last + ".json", StepRecordToJson(record).dump() + "\n");
  KeepInputList(inputs, last + ".list");

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EmitEvent({{"id", event_id},
             {"state", record.cached ? "cached" : "done"},
             {"text", step.text},
             {"seconds", seconds},
             {"explain", reason},
             {"kind", StepKindName(step.kind)}});
  WriteIfChanged(StepRecordPathFor(out), StepRecordToJson(record).dump() + "\n");
  WriteIfChanged(out, record.content_key + "\n");
  return 0;
}

int RunImageEdge(const ImageEdgeRequest& edge) {
  const std::string& name = edge.image;
  const std::string& out = edge.out;
  const BuildRequest request = LoadRequest();
  const ImageRequest* image = nullptr;
  for (const ImageRequest& i : request.images)
    if (i.name == name) image = &i;
  if (!image) throw std::runtime_error("no image " + name + " in " + kRequestFile);
  const StepRecord record = LoadRecord(edge.step_record);

  ImageStore store(request.store_root);
  std::string id;
  {
    auto lock = store.Lock();
    id = FinishImage(store, record.image_id, image->labels, request.source_date_epoch);
    for (const std::string& tag : image->tags) store.Tag(id, ParseReference(tag));
  }
  WriteIfChanged(out, id + "\n");
  if (!image->iidfile.empty()) WriteIfChanged(image->iidfile, id);
  EmitEvent({{"id", out}, {"state", "image"}, {"image", id}, {"tags", image->tags}});
  return 0;
}

void RunRegenerateEdge() {
  const BuildRequest request = LoadRequest();
  StoreImageResolver resolver(request.store_root);
  GenerateBuildDirectory(".", request, &resolver);
}

}  // namespace kiln::driver
