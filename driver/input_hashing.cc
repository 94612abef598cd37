#include "driver/input_hashing.h"

#include <cstdio>
#include <set>
#include <sstream>
#include <stdexcept>

#include "driver/build_request.h"
#include "driver/context_matcher.h"
#include "engine/base/atomic_file.h"
#include "engine/context/file_hash_cache.h"
#include "frontend/file_system.h"
#include "generators/ninja_writer.h"

namespace kiln::driver {
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

std::string InputListText(const std::vector<const ContextEntry*>& entries) {
  std::string text;
  for (const ContextEntry* entry : entries) {
    const ContextEntry& e = *entry;
    char mode[16];
    std::snprintf(mode, sizeof mode, "%c%04o", EntryTypeCode(e.type), e.mode);
    text.append(e.content_hash.empty() ? e.link_target : e.content_hash)
        .append(" ")
        .append(mode)
        .append(" ")
        .append(std::to_string(e.uid))
        .append(":")
        .append(std::to_string(e.gid))
        .append(" ")
        .append(e.path)
        .append("\n");
  }
  return text;
}

namespace {

/// Writes the digest (and list) of each step of `graph` listed in `ids` ("1,4") from the
/// scanned `entries` of its context.
void WriteInputDigests(const std::filesystem::path& dir, const StepGraph& graph,
                       const std::string& ids, const std::vector<ContextEntry>& entries,
                       const PathMatcher& matcher) {
  std::stringstream list(ids);
  for (std::string id; std::getline(list, id, ',');) {
    const Step& step = graph.steps.at(std::stoi(id));
    const ContextSources sources = ContextSourcesOf(step);
    std::vector<const ContextEntry*> inputs;
    try {
      inputs =
          SelectEntryRefs(entries, sources.sources, sources.excludes, matcher, step.instruction);
    } catch (const std::exception& e) {
      throw std::runtime_error(graph.dockerfile + ":" + std::to_string(step.line) + ": " +
                               step.text + ": " + e.what());
    }
    const std::string out = (dir / InputDigestPath(InputSetKey(graph, step))).string();
    const std::string digest = InputsDigest(inputs) + "\n";
    // The list says what the digest covers: an unchanged digest means an unchanged list, and
    // rebuilding the text of a large context on every build would cost more than the scan.
    // The list goes first, so a digest never describes a list that is not there yet.
    if (DiskFileSystem().ReadFile(out) != digest || !std::filesystem::exists(out + ".list"))
      WriteIfChanged(out + ".list", InputListText(inputs));
    WriteIfChanged(out, digest);
  }
}

}  // namespace

void HashInputSets(const std::filesystem::path& dir,
                   const std::vector<std::pair<const StepGraph*, std::string>>& selections) {
  if (selections.empty()) return;
  // The generator groups graphs by context and ignore rules: one scan serves them all.
  const StepGraph& first = *selections.front().first;
  const PathMatcher matcher = MakePathMatcher(first.ignore_patterns);
  FileHashCache cache = FileHashCache::Load(dir / "hash-cache");
  const std::vector<ContextEntry> entries = ScanContext(first.context, matcher, &cache);
  cache.Save();
  for (const auto& [graph, ids] : selections) WriteInputDigests(dir, *graph, ids, entries, matcher);
}

void RunHashEdge(const std::vector<std::string>& selections) {
  std::vector<StepGraph> graphs;
  std::vector<std::string> ids;
  graphs.reserve(selections.size());  // the pointers below must stay valid
  for (const std::string& selection : selections) {
    const size_t colon = selection.rfind(':');
    if (colon == std::string::npos)
      throw std::invalid_argument("--select wants GRAPH:STEP,STEP...");
    graphs.push_back(
        StepGraphFromJson(nlohmann::json::parse(ReadWholeFile(selection.substr(0, colon)))));
    ids.push_back(selection.substr(colon + 1));
  }
  std::vector<std::pair<const StepGraph*, std::string>> selected;
  for (size_t i = 0; i < graphs.size(); ++i) selected.emplace_back(&graphs[i], ids[i]);
  HashInputSets(".", selected);
}

}  // namespace kiln::driver
