#include "frontend/step_graph.h"

#include "frontend/json_writer.h"

namespace kiln {

NLOHMANN_JSON_SERIALIZE_ENUM(StepKind, {{StepKind::kFrom, "from"},
                                        {StepKind::kRun, "run"},
                                        {StepKind::kCopy, "copy"},
                                        {StepKind::kAdd, "add"},
                                        {StepKind::kWorkdir, "workdir"},
                                        {StepKind::kConfig, "config"}})

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RunMount, type, target, from_stage, from_image,
                                                options)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Healthcheck, test, interval_ns, timeout_ns,
                                                start_period_ns, start_interval_ns, retries)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(InlineFile, name, content)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Stage, index, name, steps, depends_on)

namespace {

void from_json(const nlohmann::json& j, std::optional<Healthcheck>& h) {
  if (j.is_null())
    h.reset();
  else
    h = j.get<Healthcheck>();
}

// The one description of the JSON form: StepGraphToJson parses this text. Keys are written in
// sorted order, as nlohmann::json keeps them.

void Write(const RunMount& mount, JsonWriter& out);
void Write(const Healthcheck& check, JsonWriter& out);
void Write(const InlineFile& file, JsonWriter& out);
void Write(const Stage& stage, JsonWriter& out);
void Write(const Step& s, JsonWriter& out);

void Write(const std::string& text, JsonWriter& out) {
  out.String(text);
}
void Write(int value, JsonWriter& out) {
  out.Int(value);
}
void Write(int64_t value, JsonWriter& out) {
  out.Int(value);
}
void Write(bool value, JsonWriter& out) {
  out.Bool(value);
}
void Write(StepKind kind, JsonWriter& out) {
  out.String(StepKindName(kind));
}

template <class T>
void Write(const std::vector<T>& items, JsonWriter& out);

void Write(const std::pair<std::string, std::string>& pair, JsonWriter& out) {
  out.BeginArray();
  out.String(pair.first);
  out.String(pair.second);
  out.EndArray();
}

void Write(const std::map<std::string, std::string>& map, JsonWriter& out) {
  out.BeginObject();
  for (const auto& [key, value] : map) {
    out.Key(key);
    out.String(value);
  }
  out.EndObject();
}

/// Writes `key: value`.
template <class T>
void Member(const char* key, const T& value, JsonWriter& out) {
  out.Key(key);
  Write(value, out);
}

/// Writes `key: value` unless `value` is the default `fallback`.
template <class T>
void NonDefault(const char* key, const T& value, const T& fallback, JsonWriter& out) {
  if (!(value == fallback)) Member(key, value, out);
}

/// Writes `key: value` unless `value` (a string or a container) is empty, its default.
template <class T>
void NonEmpty(const char* key, const T& value, JsonWriter& out) {
  if (!value.empty()) Member(key, value, out);
}

void Write(const RunMount& mount, JsonWriter& out) {
  out.BeginObject();
  Member("from_image", mount.from_image, out);
  Member("from_stage", mount.from_stage, out);
  Member("options", mount.options, out);
  Member("target", mount.target, out);
  Member("type", mount.type, out);
  out.EndObject();
}

void Write(const Healthcheck& check, JsonWriter& out) {
  out.BeginObject();
  Member("interval_ns", check.interval_ns, out);
  Member("retries", check.retries, out);
  Member("start_interval_ns", check.start_interval_ns, out);
  Member("start_period_ns", check.start_period_ns, out);
  Member("test", check.test, out);
  Member("timeout_ns", check.timeout_ns, out);
  out.EndObject();
}

void Write(const InlineFile& file, JsonWriter& out) {
  out.BeginObject();
  Member("content", file.content, out);
  Member("name", file.name, out);
  out.EndObject();
}

void Write(const Stage& stage, JsonWriter& out) {
  out.BeginObject();
  Member("depends_on", stage.depends_on, out);
  Member("index", stage.index, out);
  Member("name", stage.name, out);
  Member("steps", stage.steps, out);
  out.EndObject();
}

void Write(const Step& s, JsonWriter& out) {
  static const Step d;
  out.BeginObject();
  NonEmpty("args", s.args, out);
  NonEmpty("base_image", s.base_image, out);
  NonDefault("base_stage", s.base_stage, d.base_stage, out);
  NonEmpty("build_args", s.build_args, out);
  NonEmpty("checksum", s.checksum, out);
  NonEmpty("chmod", s.chmod, out);
  NonEmpty("chown", s.chown, out);
  NonEmpty("command", s.command, out);
  NonEmpty("destination", s.destination, out);
  NonEmpty("env", s.env, out);
  NonEmpty("excludes", s.excludes, out);
  NonEmpty("from_image", s.from_image, out);
  NonDefault("from_stage", s.from_stage, d.from_stage, out);
  if (s.healthcheck) Member("healthcheck", *s.healthcheck, out);
  Member("id", s.id, out);
  NonEmpty("inline_files", s.inline_files, out);
  Member("instruction", s.instruction, out);
  NonDefault("keep_git_dir", s.keep_git_dir, d.keep_git_dir, out);
  Member("key_text", s.key_text, out);
  Member("kind", s.kind, out);
  NonEmpty("labels", s.labels, out);
  Member("line", s.line, out);
  NonDefault("link", s.link, d.link, out);
  NonEmpty("mounts", s.mounts, out);
  NonEmpty("network", s.network, out);
  Member("parent", s.parent, out);
  NonDefault("parents", s.parents, d.parents, out);
  NonEmpty("platform", s.platform, out);
  NonEmpty("run_env", s.run_env, out);
  NonEmpty("security", s.security, out);
  NonDefault("shell_form", s.shell_form, d.shell_form, out);
  NonEmpty("sources", s.sources, out);
  Member("stage", s.stage, out);
  Member("text", s.text, out);
  NonEmpty("value", s.value, out);
  out.EndObject();
}

template <class T>
void Write(const std::vector<T>& items, JsonWriter& out) {
  out.BeginArray();
  for (const T& item : items) Write(item, out);
  out.EndArray();
}

}  // namespace

void from_json(const nlohmann::json& j, Step& s) {
  const Step defaults;
  auto get = [&j](const char* key, auto& field) {
    if (auto it = j.find(key); it != j.end()) it->get_to(field);
  };
  s = defaults;
  get("id", s.id);
  get("stage", s.stage);
  get("parent", s.parent);
  get("kind", s.kind);
  get("instruction", s.instruction);
  get("text", s.text);
  get("line", s.line);
  get("key_text", s.key_text);
  get("build_args", s.build_args);
  get("base_image", s.base_image);
  get("base_stage", s.base_stage);
  get("platform", s.platform);
  get("command", s.command);
  get("shell_form", s.shell_form);
  get("mounts", s.mounts);
  get("network", s.network);
  get("security", s.security);
  get("run_env", s.run_env);
  get("sources", s.sources);
  get("destination", s.destination);
  get("from_stage", s.from_stage);
  get("from_image", s.from_image);
  get("chown", s.chown);
  get("chmod", s.chmod);
  get("link", s.link);
  get("parents", s.parents);
  get("excludes", s.excludes);
  get("checksum", s.checksum);
  get("keep_git_dir", s.keep_git_dir);
  get("inline_files", s.inline_files);
  get("env", s.env);
  get("labels", s.labels);
  get("args", s.args);
  get("value", s.value);
  if (auto it = j.find("healthcheck"); it != j.end()) from_json(*it, s.healthcheck);
}

nlohmann::json StepGraphToJson(const StepGraph& g) {
  return nlohmann::json::parse(StepGraphJsonText(g));
}

namespace {

void WriteGraph(const StepGraph& g, JsonWriter& out) {
  out.BeginObject();
  Member("build_args", g.build_args, out);
  Member("context", g.context, out);
  Member("dockerfile", g.dockerfile, out);
  Member("ignore_patterns", g.ignore_patterns, out);
  Member("stages", g.stages, out);
  Member("steps", g.steps, out);
  Member("target_stage", g.target_stage, out);
  Member("warnings", g.warnings, out);
  out.EndObject();
}

}  // namespace

std::string StepGraphJsonText(const StepGraph& g, int indent) {
  std::string text;
  text.reserve(2048 * (g.steps.size() + 1));  // a step is about 1.3 KB indented
  JsonWriter out(&text, indent);
  WriteGraph(g, out);
  return text;
}

void WriteStepGraphJson(const StepGraph& g, int indent, std::FILE* file) {
  JsonWriter out(file, indent);
  WriteGraph(g, out);
}

StepGraph StepGraphFromJson(const nlohmann::json& j) {
  StepGraph g;
  j.at("dockerfile").get_to(g.dockerfile);
  j.at("context").get_to(g.context);
  j.at("ignore_patterns").get_to(g.ignore_patterns);
  j.at("build_args").get_to(g.build_args);
  j.at("stages").get_to(g.stages);
  j.at("steps").get_to(g.steps);
  j.at("target_stage").get_to(g.target_stage);
  j.at("warnings").get_to(g.warnings);
  return g;
}

const char* StepKindName(StepKind kind) {
  switch (kind) {
    case StepKind::kFrom:
      return "from";
    case StepKind::kRun:
      return "run";
    case StepKind::kCopy:
      return "copy";
    case StepKind::kAdd:
      return "add";
    case StepKind::kWorkdir:
      return "workdir";
    case StepKind::kConfig:
      return "config";
  }
  return "config";
}

}  // namespace kiln
