#include "cli/input_hashing.h"

#include <cstdio>
#include <set>

#include "cli/build_request.h"
#include "cli/context_matcher.h"
#include "cli/flags.h"
#include "engine/file_hash_cache.h"

namespace kiln::cli {
namespace {

/// Escapes a path for a Makefile-style depfile as ninja reads it.
std::string DepfileEscape(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == ' ' || c == '#' || c == '\\') out += '\\';
    if (c == '$') out += '$';
    out += c;
  }
  return out;
}

/// Every file the digest depends on, and every directory whose listing it depends on (adding,
/// removing or renaming an entry changes the directory's mtime).
std::string DepfileText(const std::string& out, const std::filesystem::path& context,
                        const std::vector<ContextEntry>& entries) {
  std::set<std::string> dirs = {""};
  std::string text = DepfileEscape(out) + ":";
  for (const ContextEntry& e : entries) {
    for (size_t slash = e.path.find('/'); slash != std::string::npos;
         slash = e.path.find('/', slash + 1))
      dirs.insert(e.path.substr(0, slash));
    if (e.type == EntryType::kDirectory)
      dirs.insert(e.path);
    else
      text += " \\\n  " + DepfileEscape((context / e.path).string());
  }
  for (const std::string& d : dirs)
    text += " \\\n  " + DepfileEscape((d.empty() ? context : context / d).string());
  return text + "\n";
}

}  // namespace

ContextSources ContextSourcesOf(const Step& step) {
  ContextSources result;
  if ((step.kind == StepKind::kCopy || step.kind == StepKind::kAdd) && step.from_stage < 0 &&
      step.from_image.empty()) {
    for (const std::string& s : step.sources)
      if (!IsUrlSource(s) && !IsHeredocSource(s)) result.sources.push_back(s);
    result.excludes = step.excludes;
  }
  for (const RunMount& m : step.mounts) {
    if (m.type != "bind" || m.from_stage >= 0 || !m.from_image.empty()) continue;
    auto source = m.options.find("source");
    result.sources.push_back(source == m.options.end() ? "." : source->second);
  }
  return result;
}

std::vector<ContextEntry> SelectStepInputs(const StepGraph& graph, const Step& step,
                                           const std::filesystem::path& build_dir) {
  const PathMatcher matcher = MakePathMatcher(graph.ignore_patterns);
  FileHashCache cache = FileHashCache::Load(build_dir / "hash-cache");
  const std::vector<ContextEntry> entries = ScanContext(graph.context, matcher, &cache);
  cache.Save();
  const ContextSources sources = ContextSourcesOf(step);
  return SelectEntries(entries, sources.sources, sources.excludes, matcher, step.instruction);
}

std::string InputListText(const std::vector<ContextEntry>& entries) {
  std::string text;
  for (const ContextEntry& e : entries) {
    char mode[16];
    std::snprintf(mode, sizeof mode, "%c%04o", EntryTypeCode(e.type), e.mode);
    text += (e.content_hash.empty() ? e.link_target : e.content_hash) + " " + mode + " " +
            std::to_string(e.uid) + ":" + std::to_string(e.gid) + " " + e.path + "\n";
  }
  return text;
}

int RunHashEdge(const std::vector<std::string>& args) {
  std::string graph_file, out;
  int step_id = -1;
  FlagSet flags;
  flags.String("graph", 0, &graph_file);
  flags.Int("step", 0, &step_id);
  flags.String("out", 0, &out);
  flags.Parse(args);
  const StepGraph graph = StepGraphFromJson(nlohmann::json::parse(ReadWholeFile(graph_file)));
  const Step& step = graph.steps.at(step_id);
  const std::vector<ContextEntry> inputs = SelectStepInputs(graph, step, ".");
  WriteIfChanged(out + ".d", DepfileText(out, graph.context, inputs));
  WriteIfChanged(out + ".list", InputListText(inputs));
  WriteIfChanged(out, InputsDigest(inputs) + "\n");
  return 0;
}

}  // namespace kiln::cli
