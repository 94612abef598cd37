#include "frontend/step_graph.h"

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

void to_json(nlohmann::json& j, const std::optional<Healthcheck>& h) {
  if (h)
    j = *h;
  else
    j = nullptr;
}

void from_json(const nlohmann::json& j, std::optional<Healthcheck>& h) {
  if (j.is_null())
    h.reset();
  else
    h = j.get<Healthcheck>();
}

}  // namespace

void to_json(nlohmann::json& j, const Step& s) {
  j = nlohmann::json{{"id", s.id},
                     {"stage", s.stage},
                     {"parent", s.parent},
                     {"kind", s.kind},
                     {"instruction", s.instruction},
                     {"text", s.text},
                     {"line", s.line},
                     {"key_text", s.key_text},
                     {"build_args", s.build_args},
                     {"base_image", s.base_image},
                     {"base_stage", s.base_stage},
                     {"platform", s.platform},
                     {"command", s.command},
                     {"shell_form", s.shell_form},
                     {"mounts", s.mounts},
                     {"network", s.network},
                     {"security", s.security},
                     {"run_env", s.run_env},
                     {"sources", s.sources},
                     {"destination", s.destination},
                     {"from_stage", s.from_stage},
                     {"from_image", s.from_image},
                     {"chown", s.chown},
                     {"chmod", s.chmod},
                     {"link", s.link},
                     {"parents", s.parents},
                     {"excludes", s.excludes},
                     {"checksum", s.checksum},
                     {"keep_git_dir", s.keep_git_dir},
                     {"inline_files", s.inline_files},
                     {"env", s.env},
                     {"labels", s.labels},
                     {"args", s.args},
                     {"value", s.value}};
  to_json(j["healthcheck"], s.healthcheck);
}

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
  return nlohmann::json{{"dockerfile", g.dockerfile},         {"context", g.context},
                        {"ignore_patterns", g.ignore_patterns}, {"build_args", g.build_args},
                        {"stages", g.stages},                 {"steps", g.steps},
                        {"target_stage", g.target_stage},     {"warnings", g.warnings}};
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
    case StepKind::kFrom: return "from";
    case StepKind::kRun: return "run";
    case StepKind::kCopy: return "copy";
    case StepKind::kAdd: return "add";
    case StepKind::kWorkdir: return "workdir";
    case StepKind::kConfig: return "config";
  }
  return "config";
}

}  // namespace kiln
