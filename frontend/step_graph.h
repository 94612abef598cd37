// StepGraph: the lowered build, the vocabulary shared by the frontend (which makes it), the
// generators (which write it as ninja/dot/json) and the engine (which executes its steps).
// Everything a step's cache key needs that is known before execution is in here; the engine adds
// what only execution knows (context digests, base image digests, other stages' results).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln {

enum class StepKind {
  kFrom,     ///< the stage's base: scratch, an image, or another stage
  kRun,      ///< a command in a container; its file changes become a layer
  kCopy,     ///< COPY: files from the context, a stage or an image
  kAdd,      ///< ADD: COPY plus archive extraction and URLs
  kWorkdir,  ///< WORKDIR: config change plus the directory created
  kConfig,   ///< ENV, LABEL, CMD, ... : changes the image config only (an empty layer)
};

/// A RUN --mount, flags validated; `options` holds the remaining key/values normalized
/// (source, id, sharing, mode, uid, gid, size, required, env, readonly="true"...).
struct RunMount {
  std::string type;        ///< bind | cache | tmpfs | secret | ssh
  std::string target;      ///< absolute path in the container
  int from_stage = -1;     ///< bind/cache `from=` naming a stage
  std::string from_image;  ///< bind/cache `from=` naming an image; empty: the context
  std::map<std::string, std::string> options;
  bool operator==(const RunMount&) const = default;
};

/// HEALTHCHECK settings; durations in nanoseconds, 0 = unset (Docker's defaults apply).
struct Healthcheck {
  std::vector<std::string> test;  ///< ["NONE"], ["CMD", ...] or ["CMD-SHELL", "cmd"]
  int64_t interval_ns = 0;
  int64_t timeout_ns = 0;
  int64_t start_period_ns = 0;
  int64_t start_interval_ns = 0;
  int retries = 0;
  bool operator==(const Healthcheck&) const = default;
};

/// A here-document after expansion: RUN feeds it to the command, COPY/ADD writes it as a file.
struct InlineFile {
  std::string name;
  std::string content;
  bool operator==(const InlineFile&) const = default;
};

struct Step {
  int id = -1;      ///< index in StepGraph::steps
  int stage = -1;   ///< index in StepGraph::stages
  int parent = -1;  ///< the previous step of the stage (-1 for FROM)
  StepKind kind = StepKind::kConfig;
  std::string instruction;  ///< canonical keyword: FROM, RUN, COPY, ENV, ...
  std::string text;         ///< the instruction after expansion, as shown to users and in history
  int line = 0;             ///< 1-based Dockerfile line
  std::map<std::string, std::string> build_args;  ///< build args the step uses, with values

  // FROM
  std::string base_image;  ///< reference as written after expansion; "scratch" for none
  int base_stage = -1;     ///< index of the stage named by FROM, or -1
  std::string platform;

  // RUN
  std::vector<std::string> command;  ///< exec form as is; shell form: one string
  bool shell_form = false;           ///< command runs through the config's SHELL
  std::vector<RunMount> mounts;
  std::string network;   ///< default | none | host
  std::string security;  ///< sandbox | insecure
  /// Build args visible to RUN as environment variables (Docker passes them, unlike ENV, without
  /// storing them in the image).
  std::vector<std::pair<std::string, std::string>> run_env;

  // COPY / ADD
  std::vector<std::string> sources;  ///< expanded source patterns or URLs
  std::string destination;           ///< expanded; relative to WORKDIR when not absolute
  int from_stage = -1;               ///< COPY --from naming a stage
  std::string from_image;            ///< COPY --from naming an image
  std::string chown;
  std::string chmod;
  bool link = false;
  bool parents = false;
  std::vector<std::string> excludes;
  std::string checksum;  ///< ADD --checksum
  bool keep_git_dir = false;
  std::vector<InlineFile> inline_files;  ///< heredocs (RUN: script bodies; COPY/ADD: files)

  // Config changes (ENV, LABEL, CMD, ENTRYPOINT, EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL,
  // HEALTHCHECK, SHELL, ONBUILD, MAINTAINER); only the fields of `instruction` are set.
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<std::string> args;  ///< CMD/ENTRYPOINT (exec form, or one string with shell_form),
                                  ///< SHELL, EXPOSE ports ("80/tcp"), VOLUME paths
  std::string value;  ///< USER, WORKDIR (absolute), STOPSIGNAL, ONBUILD trigger text, MAINTAINER
  std::optional<Healthcheck> healthcheck;
  bool operator==(const Step&) const = default;
};

struct Stage {
  int index = -1;
  std::string name;             ///< `AS name`, lower-cased; empty when unnamed
  std::vector<int> steps;       ///< step ids in order, FROM first
  std::vector<int> depends_on;  ///< stages whose results this stage reads (base, --from, mounts)
  bool operator==(const Stage&) const = default;
};

struct StepGraph {
  std::string dockerfile;                         ///< path of the Dockerfile as given
  std::string context;                            ///< the build context directory
  std::vector<std::string> ignore_patterns;       ///< .dockerignore lines in effect, cleaned
  std::map<std::string, std::string> build_args;  ///< --build-arg values given
  std::vector<Stage> stages;  ///< only the stages the target needs, in Dockerfile order
  std::vector<Step> steps;
  int target_stage = -1;              ///< the stage whose result is the image
  std::vector<std::string> warnings;  ///< e.g. unused build args
  bool operator==(const StepGraph&) const = default;
};

/// True for a COPY/ADD source naming a heredoc ("<<EOF"): its body is in Step::inline_files.
inline bool IsHeredocSource(const std::string& source) {
  return source.rfind("<<", 0) == 0;
}

/// True for an ADD source that is a URL rather than a context path.
inline bool IsUrlSource(const std::string& source) {
  return source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0;
}

/// The name of `kind` in the JSON form and in messages: "from", "run", "copy", ...
const char* StepKindName(StepKind kind);

// The JSON form used by `kiln graph --format json` and by the graph files ninja's edges read,
// one description per type. Objects come out with their keys sorted. RunMount, Healthcheck,
// InlineFile, Stage and StepGraph have every field written. A Step's id, stage, parent, kind,
// instruction, text and line are always written; its other fields only when they
// differ from their default, which reading restores. So `StepGraphFromJson(StepGraphToJson(g))`
// equals `g`. Reading a step kind that has no name throws std::invalid_argument.
void to_json(nlohmann::json& json, StepKind kind);
void from_json(const nlohmann::json& json, StepKind& kind);
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RunMount, type, target, from_stage, from_image,
                                                options)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Healthcheck, test, interval_ns, timeout_ns,
                                                start_period_ns, start_interval_ns, retries)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(InlineFile, name, content)
void to_json(nlohmann::json& json, const Step& step);
void from_json(const nlohmann::json& json, Step& step);
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Stage, index, name, steps, depends_on)
void to_json(nlohmann::json& json, const StepGraph& graph);
void from_json(const nlohmann::json& json, StepGraph& graph);

nlohmann::json StepGraphToJson(const StepGraph& graph);
StepGraph StepGraphFromJson(const nlohmann::json& json);

/// The one writer of a graph's JSON text: StepGraphToJson(graph).dump(indent) and a newline,
/// with bytes that are not UTF-8 replaced by U+FFFD, handed to `out` in consecutive pieces (a
/// step at a time: a large graph's text is megabytes). What `kiln graph --format json` prints
/// (indent 2).
void WriteStepGraphJson(const StepGraph& graph, int indent,
                        const std::function<void(std::string_view)>& out);

/// The text WriteStepGraphJson writes, as one string: what a build directory's graph files hold
/// (indent -1, compact).
std::string StepGraphJsonText(const StepGraph& graph, int indent = -1);

/// The canonical text of everything static in `step` that decides its result (instruction after
/// expansion, flags, heredocs, the values of the build args it uses), for its cache key; derived
/// when needed, never stored. The step's JSON form without what does not decide the result: its
/// id, stage, parent, line and shown text, and run_env (build_args holds the values that
/// matter; undeclared proxies do not). Stage indexes (base_stage, from_stage, a mount's
/// from_stage) become `true` when set: another target of the same Dockerfile numbers the stages
/// differently, and the stages' results enter the key through the engine.
std::string StepKeyText(const Step& step);

}  // namespace kiln
