#include "generators/ninja_writer.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <unordered_set>

namespace kiln {

std::vector<std::string> StoreImagesRead(const Step& step) {
  std::vector<std::string> refs;
  if (step.kind == StepKind::kFrom && step.base_stage < 0 && step.base_image != "scratch")
    refs.push_back(step.base_image);
  if (!step.from_image.empty()) refs.push_back(step.from_image);
  for (const RunMount& m : step.mounts)
    if (!m.from_image.empty()) refs.push_back(m.from_image);
  return refs;
}

namespace {

/// Stable hex identity of a sequence of fields (length-prefixed so fields cannot run together).
class KeyBuilder {
 public:
  KeyBuilder& Add(const std::string& field) {
    text_ += std::to_string(field.size());
    text_ += ':';
    text_ += field;
    return *this;
  }
  std::string Hex() const {
    const XXH128_hash_t h = XXH3_128bits(text_.data(), text_.size());
    char out[33];
    std::snprintf(out, sizeof out, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                  static_cast<unsigned long long>(h.low64));
    return out;
  }

 private:
  std::string text_;
};

/// Escapes a value for a ninja variable or path ($, space and colon are special).
std::string NinjaEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '$' || c == ' ' || c == ':') out += '$';
    if (c == '\n') {
      out += ' ';
      continue;
    }
    out += c;
  }
  return out;
}

/// Quotes an argument for the POSIX shell ninja runs commands through.
std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

bool ReadsContextMount(const RunMount& m) {
  return m.type == "bind" && m.from_stage < 0 && m.from_image.empty();
}

bool ReadsStoreImage(const Step& step) {
  return !StoreImagesRead(step).empty();
}

/// True when the step downloads a URL without a pinned checksum: it must look every time.
bool DownloadsUnpinned(const Step& step) {
  if (step.kind != StepKind::kAdd || !step.checksum.empty()) return false;
  for (const std::string& s : step.sources)
    if (IsUrlSource(s)) return true;
  return false;
}

/// The implicit dependencies that make a step look again at what ninja cannot see: `always`, or
/// the stamps of the store images it reads.
std::vector<std::string> RecheckInputs(const Step& step, const NinjaOptions& options) {
  if (DownloadsUnpinned(step) || (ReadsStoreImage(step) && options.tag_index.empty()))
    return {"always"};
  std::set<std::string> watched;
  for (const std::string& ref : StoreImagesRead(step)) {
    const auto stamp = options.image_stamps.find(ref);
    watched.insert(stamp == options.image_stamps.end() ? options.tag_index : stamp->second);
  }
  return {watched.begin(), watched.end()};
}

/// Collects, when asked, what the written statements name (see NinjaGraphFiles).
class GraphFileCollector {
 public:
  explicit GraphFileCollector(NinjaGraphFiles* files) : files_(files) {}

  /// One path as written before escaping (ninja reads a newline in it as a space).
  void Add(std::string path) {
    if (!files_) return;
    if (path == "always") {
      files_->uses_always = true;
      return;
    }
    std::replace(path.begin(), path.end(), '\n', ' ');
    if (seen_.insert(path).second) files_->paths.push_back(std::move(path));
  }
  void AddAll(const std::vector<std::string>& paths) {
    for (const std::string& path : paths) Add(path);
  }

 private:
  NinjaGraphFiles* files_;
  std::unordered_set<std::string> seen_;
};

/// The stages whose results a step reads, beyond its own parent.
std::vector<int> StagesRead(const Step& step) {
  std::vector<int> stages;
  if (step.base_stage >= 0) stages.push_back(step.base_stage);
  if (step.from_stage >= 0) stages.push_back(step.from_stage);
  for (const RunMount& m : step.mounts)
    if (m.from_stage >= 0) stages.push_back(m.from_stage);
  return stages;
}

int LastStepOf(const StepGraph& graph, int stage) {
  return graph.stages.at(stage).steps.back();
}

/// One edge per context (and ignore rules) digests every input set read from it, so images
/// sharing a context share one scan. In build.ninja it runs on every build: a chmod or chown
/// changes only a file's ctime, which ninja does not see, and the per-file hash cache keeps the
/// rescan cheap. Each digest is rewritten only when it changed (restat), so unchanged inputs
/// rerun nothing. The driver's file leaves the edges without `always`: `kiln build` hashes
/// before it runs ninja, in its own process.
void WriteHashEdges(std::ostream& out, const std::vector<NinjaImage>& images, bool for_driver,
                    GraphFileCollector& files) {
  for (const HashEdge& edge : HashEdges(images)) {
    files.AddAll(edge.outputs);
    if (!for_driver) files.Add("always");
    std::string selections;
    for (const HashSelection& s : edge.selections)
      selections.append(" --select ").append(s.graph_file).append(":").append(s.steps);
    out << "build";
    for (const std::string& o : edge.outputs) out << " " << o;
    out << ": hash" << (for_driver ? "" : " | always") << "\n  select = " << NinjaEscape(selections)
        << "\n  what = " << NinjaEscape(edge.context) << "\n\n";
  }
}

}  // namespace

std::vector<HashEdge> HashEdges(const std::vector<NinjaImage>& images) {
  std::vector<HashEdge> edges;
  std::map<std::string, size_t> by_group;  // context and ignore rules -> index in edges
  std::set<std::string> written;
  for (size_t index = 0; index < images.size(); ++index) {
    const NinjaImage& image = images[index];
    const StepGraph& graph = *image.graph;
    KeyBuilder group;
    group.Add(graph.context);
    for (const std::string& p : graph.ignore_patterns) group.Add(p);
    std::string steps;
    for (const Step& step : graph.steps) {
      const std::string key = InputSetKey(graph, step);
      if (key.empty() || !written.insert(InputDigestPath(key)).second) continue;
      auto [it, added] = by_group.emplace(group.Hex(), edges.size());
      if (added) edges.push_back({graph.context, {}, {}});
      edges[it->second].outputs.push_back(InputDigestPath(key));
      steps.append(steps.empty() ? "" : ",").append(std::to_string(step.id));
    }
    if (!steps.empty())
      edges[by_group.at(group.Hex())].selections.push_back({index, image.graph_file, steps});
  }
  return edges;
}

std::string StepResultPath(const std::string& edge_key) {
  return "steps/" + edge_key + ".result";
}
std::string StepRecordPath(const std::string& edge_key) {
  return "steps/" + edge_key + ".json";
}
std::string InputDigestPath(const std::string& input_key) {
  return "inputs/" + input_key + ".digest";
}

std::string InputSetKey(const StepGraph& graph, const Step& step) {
  KeyBuilder key;
  key.Add(graph.context);
  for (const std::string& p : graph.ignore_patterns) key.Add(p);
  bool reads_context = false;
  if ((step.kind == StepKind::kCopy || step.kind == StepKind::kAdd) && step.from_stage < 0 &&
      step.from_image.empty()) {
    for (const std::string& s : step.sources) {
      if (IsUrlSource(s) || IsHeredocSource(s)) continue;
      key.Add("src").Add(s);
      reads_context = true;
    }
    for (const std::string& e : step.excludes) key.Add("exclude").Add(e);
  }
  for (const RunMount& m : step.mounts) {
    if (!ReadsContextMount(m)) continue;
    auto source = m.options.find("source");
    key.Add("mount").Add(source == m.options.end() ? "." : source->second);
    reads_context = true;
  }
  return reads_context ? key.Hex() : "";
}

std::vector<std::string> StepEdgeKeys(const StepGraph& graph) {
  std::vector<std::string> keys(graph.steps.size());
  // Stages only read earlier stages and steps only follow earlier steps, so one pass in stage
  // order sees every key it needs.
  for (const Stage& stage : graph.stages) {
    for (int id : stage.steps) {
      const Step& step = graph.steps[id];
      KeyBuilder key;
      key.Add(step.parent >= 0 ? keys[step.parent] : "").Add(StepKindName(step.kind));
      key.Add(StepKeyText(step)).Add(step.base_image).Add(step.from_image);
      key.Add(InputSetKey(graph, step));
      for (int s : StagesRead(step)) key.Add(keys[LastStepOf(graph, s)]);
      keys[id] = key.Hex();
    }
  }
  return keys;
}

std::string WriteNinjaFile(const std::vector<NinjaImage>& images, const NinjaOptions& options,
                           NinjaGraphFiles* graph_files) {
  if (graph_files) *graph_files = {};
  GraphFileCollector files(graph_files);
  std::ostringstream out;
  const std::string kiln = NinjaEscape(ShellQuote(options.kiln));
  out << "# Generated by kiln: one edge per step, keyed on content. Do not edit; it is rewritten\n"
         "# when the Dockerfile, its ignore file or the build options change.\n"
         "ninja_required_version = 1.10\n\n"
      << "kiln = " << kiln << "\n\n"
      << "pool run_steps\n  depth = " << (options.run_jobs > 0 ? options.run_jobs : 1) << "\n\n"
      << "rule regenerate\n  command = $kiln internal regenerate .\n"
         "  description = Regenerating build.ninja\n  generator = 1\n  restat = 1\n\n"
      << "rule hash\n  command = $kiln internal hash$select\n"
         "  description = Hashing the context $what\n  restat = 1\n\n"
      << "rule step\n  command = $kiln internal step --graph $graph --step $step --out $out"
         "$step_args\n  description = $what\n  restat = 1\n\n"
      << "rule run_step\n  command = $kiln internal step --graph $graph --step $step --out $out"
         "$step_args\n  description = $what\n  restat = 1\n  pool = run_steps\n\n"
      << "rule image\n  command = $kiln internal image --graph $graph --image $name --step-record "
         "$record --out $out\n  description = Writing image $name\n  restat = 1\n\n";

  if (!options.for_driver) {
    out << "build build.ninja: regenerate |";
    files.Add("build.ninja");
    files.AddAll(options.regenerate_inputs);
    for (const std::string& input : options.regenerate_inputs) out << " " << NinjaEscape(input);
    out << "\n\n";
  }
  out << "build always: phony\n\n";

  WriteHashEdges(out, images, options.for_driver, files);
  std::set<std::string> written;  // edges already emitted, by output path
  std::vector<std::string> defaults;
  for (const NinjaImage& image : images) {
    const StepGraph& graph = *image.graph;
    const std::vector<std::string> keys = StepEdgeKeys(graph);
    size_t number = 0;
    size_t total = 0;
    for (const Stage& stage : graph.stages) total += stage.steps.size();
    for (const Stage& stage : graph.stages) {
      for (int id : stage.steps) {
        ++number;
        const Step& step = graph.steps[id];
        const std::string result = StepResultPath(keys[id]);
        if (!written.insert(result).second) continue;

        const std::string input_key = InputSetKey(graph, step);
        std::vector<std::string> inputs;
        if (!input_key.empty()) inputs.push_back(InputDigestPath(input_key));
        std::string step_args;
        if (step.parent >= 0) {
          inputs.push_back(StepResultPath(keys[step.parent]));
          step_args.append(" --parent ").append(StepRecordPath(keys[step.parent]));
        }
        for (int s : StagesRead(step)) {
          const std::string& dep = keys[LastStepOf(graph, s)];
          inputs.push_back(StepResultPath(dep));
          step_args.append(" --stage ")
              .append(std::to_string(s))
              .append("=")
              .append(StepRecordPath(dep));
        }
        if (!input_key.empty()) step_args += " --inputs " + InputDigestPath(input_key);
        const std::vector<std::string> recheck = RecheckInputs(step, options);
        files.Add(result);
        files.AddAll(inputs);
        files.AddAll(recheck);
        out << "build " << result << ": " << (step.kind == StepKind::kRun ? "run_step" : "step");
        for (const std::string& input : inputs) out << " " << input;
        if (!recheck.empty()) out << " |";
        for (const std::string& path : recheck) out << " " << NinjaEscape(path);
        out << "\n  graph = " << NinjaEscape(image.graph_file) << "\n  step = " << id
            << "\n  what = [" << number << "/" << total << "] " << NinjaEscape(step.text)
            << "\n  step_args = " << NinjaEscape(step_args) << "\n\n";
      }
    }
    const std::string last = keys[LastStepOf(graph, graph.target_stage)];
    files.AddAll({image.iid_file, StepResultPath(last)});
    files.AddAll(options.image_inputs);
    files.AddAll({image.name, image.iid_file});
    out << "build " << NinjaEscape(image.iid_file) << ": image " << StepResultPath(last);
    if (!options.image_inputs.empty()) out << " |";
    for (const std::string& input : options.image_inputs) out << " " << NinjaEscape(input);
    out << "\n  graph = " << NinjaEscape(image.graph_file)
        << "\n  name = " << NinjaEscape(image.name) << "\n  record = " << StepRecordPath(last)
        << "\n\n";
    out << "build " << NinjaEscape(image.name) << ": phony " << NinjaEscape(image.iid_file)
        << "\n\n";
    defaults.push_back(image.name);
  }
  out << "default";
  for (const std::string& d : defaults) out << " " << NinjaEscape(d);
  out << "\n";
  return out.str();
}

}  // namespace kiln
