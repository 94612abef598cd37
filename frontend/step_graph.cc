#include "frontend/step_graph.h"

#include <array>
#include <stdexcept>
#include <type_traits>

#include "frontend/json_text.h"

namespace kiln {
namespace {

using nlohmann::json;

/// The one list of the step kinds' names.
constexpr std::array<std::pair<StepKind, const char*>, 6> kStepKindNames = {{
    {StepKind::kFrom, "from"},
    {StepKind::kRun, "run"},
    {StepKind::kCopy, "copy"},
    {StepKind::kAdd, "add"},
    {StepKind::kWorkdir, "workdir"},
    {StepKind::kConfig, "config"},
}};

/// Whether a Step field is written always or only when it differs from its default.
enum class Presence { kAlways, kUnlessDefault };

/// What a Step field is to the step's cache key (StepKeyText).
enum class KeyRole {
  kPart,       ///< decides the result: in the key as in the JSON
  kNotPart,    ///< a position, the shown text, the key itself, run_env
  kStageFlag,  ///< a stage index: in the key only as "refers to a stage"
};

/// Calls `field(key, member, presence, role)` for every field of Step, in the order of the
/// keys: the one description of a step's JSON form and of its key text.
template <class Field>
void ForEachStepField(Field&& field) {
  constexpr Presence kAlways = Presence::kAlways;
  constexpr Presence kUnlessDefault = Presence::kUnlessDefault;
  constexpr KeyRole kPart = KeyRole::kPart;
  constexpr KeyRole kNotPart = KeyRole::kNotPart;
  constexpr KeyRole kStageFlag = KeyRole::kStageFlag;
  field("args", &Step::args, kUnlessDefault, kPart);
  field("base_image", &Step::base_image, kUnlessDefault, kPart);
  field("base_stage", &Step::base_stage, kUnlessDefault, kStageFlag);
  field("build_args", &Step::build_args, kUnlessDefault, kPart);
  field("checksum", &Step::checksum, kUnlessDefault, kPart);
  field("chmod", &Step::chmod, kUnlessDefault, kPart);
  field("chown", &Step::chown, kUnlessDefault, kPart);
  field("command", &Step::command, kUnlessDefault, kPart);
  field("destination", &Step::destination, kUnlessDefault, kPart);
  field("env", &Step::env, kUnlessDefault, kPart);
  field("excludes", &Step::excludes, kUnlessDefault, kPart);
  field("from_image", &Step::from_image, kUnlessDefault, kPart);
  field("from_stage", &Step::from_stage, kUnlessDefault, kStageFlag);
  field("healthcheck", &Step::healthcheck, kUnlessDefault, kPart);
  field("id", &Step::id, kAlways, kNotPart);
  field("inline_files", &Step::inline_files, kUnlessDefault, kPart);
  field("instruction", &Step::instruction, kAlways, kPart);
  field("keep_git_dir", &Step::keep_git_dir, kUnlessDefault, kPart);
  field("kind", &Step::kind, kAlways, kPart);
  field("labels", &Step::labels, kUnlessDefault, kPart);
  field("line", &Step::line, kAlways, kNotPart);
  field("link", &Step::link, kUnlessDefault, kPart);
  field("mounts", &Step::mounts, kUnlessDefault, kPart);  // their from_stage: a stage flag
  field("network", &Step::network, kUnlessDefault, kPart);
  field("parent", &Step::parent, kAlways, kNotPart);
  field("parents", &Step::parents, kUnlessDefault, kPart);
  field("platform", &Step::platform, kUnlessDefault, kPart);
  field("run_env", &Step::run_env, kUnlessDefault, kNotPart);
  field("security", &Step::security, kUnlessDefault, kPart);
  field("shell_form", &Step::shell_form, kUnlessDefault, kPart);
  field("sources", &Step::sources, kUnlessDefault, kPart);
  field("stage", &Step::stage, kAlways, kNotPart);
  field("text", &Step::text, kAlways, kNotPart);
  field("value", &Step::value, kUnlessDefault, kPart);
}

/// Calls `field(key, member)` for every field of StepGraph, in the order of the keys.
template <class Field>
void ForEachGraphField(Field&& field) {
  field("build_args", &StepGraph::build_args);
  field("context", &StepGraph::context);
  field("dockerfile", &StepGraph::dockerfile);
  field("ignore_patterns", &StepGraph::ignore_patterns);
  field("stages", &StepGraph::stages);
  field("steps", &StepGraph::steps);
  field("target_stage", &StepGraph::target_stage);
  field("warnings", &StepGraph::warnings);
}

/// The graph's JSON form with an empty "steps".
json GraphWithoutSteps(const StepGraph& graph) {
  json::object_t object;
  ForEachGraphField([&](const char* key, auto member) {
    if constexpr (std::is_same_v<decltype(member), std::vector<Step> StepGraph::*>)
      object.emplace_hint(object.end(), key, json::array());
    else
      object.emplace_hint(object.end(), key, graph.*member);
  });
  return object;
}

const Step& DefaultStep() {
  static const Step step;
  return step;
}

/// Whether `step` writes `member`.
template <class Member>
bool IsWritten(const Step& step, Member member, Presence presence) {
  return presence == Presence::kAlways || !(step.*member == DefaultStep().*member);
}

// nlohmann/json 3.11 has no conversion for std::optional: null stands for none.
template <class T>
json FieldToJson(const T& value) {
  return value;
}

template <class T>
json FieldToJson(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

template <class T>
void FieldFromJson(const json& j, T& value) {
  j.get_to(value);
}

template <class T>
void FieldFromJson(const json& j, std::optional<T>& value) {
  if (j.is_null())
    value.reset();
  else
    value = j.get<T>();
}

/// Replaces a stage index in `object` by `true` ("refers to a stage"); an unset one (-1) is left
/// out, as the step's JSON leaves it out.
void StageIndexToFlag(json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end()) return;
  if (it->get<int>() >= 0)
    *it = true;
  else
    object.erase(it);
}

}  // namespace

const char* StepKindName(StepKind kind) {
  for (const auto& [k, name] : kStepKindNames)
    if (k == kind) return name;
  return "config";
}

void to_json(json& j, StepKind kind) {
  j = StepKindName(kind);
}

void from_json(const json& j, StepKind& kind) {
  const std::string& name = j.get_ref<const std::string&>();
  for (const auto& [k, known] : kStepKindNames) {
    if (name == known) {
      kind = k;
      return;
    }
  }
  throw std::invalid_argument("unknown step kind \"" + name + "\"");
}

void to_json(json& j, const Step& step) {
  json::object_t object;
  ForEachStepField([&](const char* key, auto member, Presence presence, KeyRole) {
    if (IsWritten(step, member, presence))
      object.emplace_hint(object.end(), key, FieldToJson(step.*member));
  });
  j = std::move(object);
}

void from_json(const json& j, Step& step) {
  step = Step();
  ForEachStepField([&](const char* key, auto member, Presence, KeyRole) {
    if (const auto it = j.find(key); it != j.end()) FieldFromJson(*it, step.*member);
  });
}

void to_json(json& j, const StepGraph& graph) {
  j = GraphWithoutSteps(graph);
  j["steps"] = graph.steps;
}

void from_json(const json& j, StepGraph& graph) {
  graph = StepGraph();
  ForEachGraphField([&](const char* key, auto member) {
    if (const auto it = j.find(key); it != j.end()) it->get_to(graph.*member);
  });
}

nlohmann::json StepGraphToJson(const StepGraph& graph) {
  return graph;
}

StepGraph StepGraphFromJson(const nlohmann::json& j) {
  return j.get<StepGraph>();
}

void WriteStepGraphJson(const StepGraph& graph, int indent,
                        const std::function<void(std::string_view)>& out) {
  const auto step = [&graph](size_t i) { return json(graph.steps[i]); };
  DumpWithLargeArray(GraphWithoutSteps(graph), "steps", graph.steps.size(), step, indent, out);
  out("\n");
}

std::string StepGraphJsonText(const StepGraph& graph, int indent) {
  std::string text;
  WriteStepGraphJson(graph, indent, [&text](std::string_view piece) { text.append(piece); });
  return text;
}

std::string StepKeyText(const Step& step) {
  json::object_t key;
  ForEachStepField([&](const char* name, auto member, Presence presence, KeyRole role) {
    if (role == KeyRole::kNotPart || !IsWritten(step, member, presence)) return;
    json& value = key.emplace_hint(key.end(), name, FieldToJson(step.*member))->second;
    if (role == KeyRole::kStageFlag) value = value.get<int>() >= 0;
  });
  if (const auto mounts = key.find("mounts"); mounts != key.end())
    for (json& mount : mounts->second) StageIndexToFlag(mount, "from_stage");
  return json(std::move(key)).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace kiln
