#include "frontend/step_graph.h"

#include <array>
#include <stdexcept>

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

/// Calls `field(key, member, presence)` for every field of Step: the one description of a
/// step's JSON form, which to_json and from_json both walk.
template <class Field>
void ForEachStepField(Field&& field) {
  constexpr Presence kAlways = Presence::kAlways;
  constexpr Presence kUnlessDefault = Presence::kUnlessDefault;
  field("id", &Step::id, kAlways);
  field("stage", &Step::stage, kAlways);
  field("parent", &Step::parent, kAlways);
  field("kind", &Step::kind, kAlways);
  field("instruction", &Step::instruction, kAlways);
  field("text", &Step::text, kAlways);
  field("line", &Step::line, kAlways);
  field("key_text", &Step::key_text, kAlways);
  field("build_args", &Step::build_args, kUnlessDefault);
  field("base_image", &Step::base_image, kUnlessDefault);
  field("base_stage", &Step::base_stage, kUnlessDefault);
  field("platform", &Step::platform, kUnlessDefault);
  field("command", &Step::command, kUnlessDefault);
  field("shell_form", &Step::shell_form, kUnlessDefault);
  field("mounts", &Step::mounts, kUnlessDefault);
  field("network", &Step::network, kUnlessDefault);
  field("security", &Step::security, kUnlessDefault);
  field("run_env", &Step::run_env, kUnlessDefault);
  field("sources", &Step::sources, kUnlessDefault);
  field("destination", &Step::destination, kUnlessDefault);
  field("from_stage", &Step::from_stage, kUnlessDefault);
  field("from_image", &Step::from_image, kUnlessDefault);
  field("chown", &Step::chown, kUnlessDefault);
  field("chmod", &Step::chmod, kUnlessDefault);
  field("link", &Step::link, kUnlessDefault);
  field("parents", &Step::parents, kUnlessDefault);
  field("excludes", &Step::excludes, kUnlessDefault);
  field("checksum", &Step::checksum, kUnlessDefault);
  field("keep_git_dir", &Step::keep_git_dir, kUnlessDefault);
  field("inline_files", &Step::inline_files, kUnlessDefault);
  field("env", &Step::env, kUnlessDefault);
  field("labels", &Step::labels, kUnlessDefault);
  field("args", &Step::args, kUnlessDefault);
  field("value", &Step::value, kUnlessDefault);
  field("healthcheck", &Step::healthcheck, kUnlessDefault);
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

/// The fields of a step's JSON that do not decide its result (see StepKeyText).
constexpr std::array<const char*, 7> kFieldsOutsideKey = {"id",   "stage",    "parent", "text",
                                                          "line", "key_text", "run_env"};

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
  static const Step defaults;
  j = json::object();
  ForEachStepField([&](const char* key, auto member, Presence presence) {
    if (presence == Presence::kAlways || !(step.*member == defaults.*member))
      j[key] = FieldToJson(step.*member);
  });
}

void from_json(const json& j, Step& step) {
  step = Step();
  ForEachStepField([&](const char* key, auto member, Presence) {
    if (const auto it = j.find(key); it != j.end()) FieldFromJson(*it, step.*member);
  });
}

nlohmann::json StepGraphToJson(const StepGraph& graph) {
  return graph;
}

StepGraph StepGraphFromJson(const nlohmann::json& j) {
  return j.get<StepGraph>();
}

std::string StepGraphJsonText(const StepGraph& graph, int indent) {
  return StepGraphToJson(graph).dump(indent, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string StepKeyText(const Step& step) {
  json key = step;
  for (const char* field : kFieldsOutsideKey) key.erase(field);
  StageIndexToFlag(key, "base_stage");
  StageIndexToFlag(key, "from_stage");
  if (const auto mounts = key.find("mounts"); mounts != key.end())
    for (json& mount : *mounts) StageIndexToFlag(mount, "from_stage");
  return key.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace kiln
