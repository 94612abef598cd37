#include "frontend/lowering.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "frontend/build_args.h"
#include "frontend/dockerfile_error.h"
#include "frontend/dockerignore.h"
#include "frontend/instructions.h"
#include "frontend/parser.h"
#include "frontend/shell_word.h"
#include "frontend/step_text.h"
#include "frontend/text.h"

namespace kiln {
namespace {

/// The PATH a base image without one gets (BuildKit's default for Linux).
constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};

/// `path` made absolute against `base` and cleaned as Go's path.Join does.
std::string ResolvePath(std::string_view base, std::string_view path) {
  std::string joined;
  if (!path.starts_with("/")) joined.append(base).append("/");
  joined.append(path);
  std::vector<std::string_view> parts;  // into `joined`
  for (size_t start = 0; start <= joined.size();) {
    const size_t end = std::min(joined.find('/', start), joined.size());
    const std::string_view part = std::string_view(joined).substr(start, end - start);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = end + 1;
  }
  if (parts.empty()) return "/";
  std::string out;
  out.reserve(joined.size() + 1);
  for (const std::string_view part : parts) out.append("/").append(part);
  return out;
}

/// Expands with the variables in scope and remembers the names it looked up.
class ScopeExpander : public WordExpander {
 public:
  /// `vars` must outlive the expander and stay unchanged while it expands.
  ScopeExpander(const SyntaxTree& tree, const Node& node, const Variables& vars)
      : tree_(tree), node_(node), vars_(vars), shell_(tree.directives.escape) {}

  std::string Word(std::string_view raw) const override {
    try {
      return shell_.ExpandWord(raw, vars_, &used_);
    } catch (const ExpansionError& e) {
      throw ErrorAt(tree_, node_, e.what(), raw);
    }
  }
  std::vector<std::string> Words(std::string_view raw) const override {
    try {
      return shell_.ExpandWords(raw, vars_, &used_);
    } catch (const ExpansionError& e) {
      throw ErrorAt(tree_, node_, e.what(), raw);
    }
  }
  const std::set<std::string>& used() const { return used_; }

 private:
  const SyntaxTree& tree_;
  const Node& node_;
  const Variables& vars_;
  ShellWordExpander shell_;
  mutable std::set<std::string> used_;
};

/// The lowering of one Dockerfile, stage by stage.
class Lowerer {
 public:
  Lowerer(const SyntaxTree& tree, const LowerOptions& options)
      : tree_(tree),
        options_(options),
        args_(options.build_args, options.platform),
        proxies_(args_.GivenProxyArgs()) {}

  StepGraph Run() {
    CollectStageNames();
    // Steps are large: growing the vector step by step would move them all repeatedly.
    graph_.steps.reserve(tree_.instructions.size());
    for (const Node& node : tree_.instructions) {
      if (node.instruction == "FROM")
        LowerFrom(node);
      else if (states_.empty())
        LowerMeta(node);
      else
        LowerInstruction(tree_, node, node.line);
    }
    if (states_.empty()) {
      if (tree_.instructions.empty())
        throw DockerfileError({tree_.file, 0, 0}, "the Dockerfile has no instructions");
      throw ErrorAt(tree_, tree_.instructions.back(), "no build stage in current context");
    }
    return Prune(TargetStage());
  }

 private:
  struct StageState {
    Stage stage;
    Variables env;
    Variables scope;  ///< what words expand with: the args that have a value, then env
    std::string workdir = "/";
    std::vector<std::string> shell;
    std::vector<std::string> onbuild;  ///< recorded by ONBUILD: fire when used as a base
    StageArgs args;
    int last_step = -1;
    /// What every RUN gets as build_args and run_env (see LowerRun); reset by ARG and ENV.
    std::optional<Variables> run_args;
    std::vector<std::pair<std::string, std::string>> run_env;
  };

  // --- stages -------------------------------------------------------------------------------

  void CollectStageNames() {
    for (const Node& node : tree_.instructions) {
      if (node.instruction != "FROM") continue;
      const auto from = std::get<FromInstruction>(ParseInstruction(node, tree_).value);
      if (!from.stage_name.empty()) {
        if (std::find(stage_names_.begin(), stage_names_.end(), from.stage_name) !=
            stage_names_.end())
          throw ErrorAt(tree_, node, "duplicate stage name \"" + from.stage_name + "\"",
                        from.stage_name);
      }
      stage_names_.push_back(from.stage_name);
    }
  }

  /// The stage `ref` (a name or an index) names for a stage being lowered now; -1 when `ref`
  /// names no stage, which makes it an image.
  int StageReference(const std::string& ref, const SyntaxTree& tree, const Node& node,
                     const std::string& what) const {
    const int current = static_cast<int>(states_.size()) - 1;
    int index = -1;
    if (IsDigits(ref)) {
      index = ref.size() > 6 ? static_cast<int>(stage_names_.size()) : std::stoi(ref);
      if (index >= static_cast<int>(stage_names_.size()))
        throw ErrorAt(tree, node,
                      what + " refers to stage index " + ref + ", but there are only " +
                          std::to_string(stage_names_.size()) + " stages",
                      ref);
    } else {
      const std::string name = Lower(ref);
      const auto it = std::find(stage_names_.begin(), stage_names_.end(), name);
      if (name.empty() || it == stage_names_.end()) return -1;
      index = static_cast<int>(it - stage_names_.begin());
    }
    if (index == current)
      throw ErrorAt(tree, node, what + " refers to its own stage \"" + ref + "\"", ref);
    if (index > current)
      throw ErrorAt(tree, node, what + " refers to stage \"" + ref + "\", which is defined later",
                    ref);
    return index;
  }

  StageState& Current() { return states_.back(); }

  void DependOn(int stage) {
    std::vector<int>& deps = Current().stage.depends_on;
    if (std::find(deps.begin(), deps.end(), stage) == deps.end()) deps.push_back(stage);
  }

  // --- steps --------------------------------------------------------------------------------

  Step& NewStep(StepKind kind, const std::string& instruction, int line) {
    StageState& state = Current();
    // Built in place: a Step is large, and moving one in costs as much as building it.
    Step& step = graph_.steps.emplace_back();
    step.id = static_cast<int>(graph_.steps.size()) - 1;
    step.stage = state.stage.index;
    step.parent = state.last_step;
    step.kind = kind;
    step.instruction = instruction;
    step.line = line;
    state.last_step = step.id;
    state.stage.steps.push_back(step.id);
    return step;
  }

  /// The args `names` refer to: declared in the stage, with a value, not shadowed by ENV.
  std::map<std::string, std::string> UsedArgs(const std::set<std::string>& names) {
    std::map<std::string, std::string> used;
    for (const std::string& name : names)
      if (const std::string* value = Current().args.Value(name);
          value && !Current().env.count(name))
        used[name] = *value;
    return used;
  }

  // --- instructions -------------------------------------------------------------------------

  void LowerMeta(const Node& node) {
    if (node.instruction != "ARG") throw ErrorAt(tree_, node, "no build stage in current context");
    ScopeExpander expander(tree_, node, args_.MetaVariables());
    const auto arg = std::get<ArgInstruction>(ParseInstruction(node, tree_, &expander).value);
    for (const auto& a : arg.args) args_.DeclareMeta(a.name, a.default_value);
  }

  void LowerFrom(const Node& node) {
    ScopeExpander expander(tree_, node, args_.MetaVariables());
    const auto from = std::get<FromInstruction>(ParseInstruction(node, tree_, &expander).value);
    StageState state;
    state.stage.index = static_cast<int>(states_.size());
    state.stage.name = from.stage_name;
    states_.push_back(std::move(state));

    Step& step = NewStep(StepKind::kFrom, "FROM", node.line);
    step.platform = from.platform.empty() ? options_.platform : from.platform;
    for (const std::string& name : expander.used())
      if (auto it = args_.MetaVariables().find(name); it != args_.MetaVariables().end())
        step.build_args[name] = it->second;
    step.text = "FROM " + (from.platform.empty() ? "" : "--platform=" + from.platform + " ") +
                from.image + (from.stage_name.empty() ? "" : " AS " + from.stage_name);
    std::vector<std::string> triggers;
    const int base = StageReferenceForFrom(from.image);
    if (base >= 0) {
      step.base_stage = base;
      InheritFromStage(base, &triggers);
    } else {
      step.base_image = from.image == "scratch" ? "scratch" : from.image;
      InheritFromImage(from.image, &triggers);
    }
    Current().scope = Current().env;
    for (const std::string& trigger : triggers) FireTrigger(node, from.image, trigger);
  }

  int StageReferenceForFrom(const std::string& image) const {
    // FROM names an earlier stage only; any other name, its own included, is an image.
    const std::string name = Lower(image);
    const int current = static_cast<int>(states_.size()) - 1;
    for (int i = 0; i < current; ++i)
      if (!name.empty() && states_[i].stage.name == name) return i;
    return -1;
  }

  void InheritFromStage(int base, std::vector<std::string>* triggers) {
    const StageState& parent = states_[base];
    StageState& state = Current();
    state.env = parent.env;
    state.workdir = parent.workdir;
    state.shell = parent.shell;
    *triggers = parent.onbuild;
    DependOn(base);
  }

  void InheritFromImage(const std::string& image, std::vector<std::string>* triggers) {
    StageState& state = Current();
    const std::optional<BaseImageInfo> info =
        image == "scratch" || !options_.resolver ? std::nullopt : options_.resolver->Resolve(image);
    if (info) {
      for (const auto& [name, value] : info->env) state.env[name] = value;
      if (!info->workdir.empty()) state.workdir = ResolvePath("/", info->workdir);
      state.shell = info->shell;
      *triggers = info->onbuild;
    }
    // As BuildKit does for a base whose env has no PATH (scratch included).
    if (!state.env.count("PATH")) state.env["PATH"] = kDefaultPath;
  }

  void FireTrigger(const Node& from_node, const std::string& image, const std::string& trigger) {
    try {
      const SyntaxTree sub = ParseDockerfile(trigger, tree_.file);
      for (const Node& node : sub.instructions) {
        if (node.instruction == "FROM" || node.instruction == "ONBUILD" ||
            node.instruction == "MAINTAINER")
          throw ErrorAt(sub, node, node.instruction + " isn't allowed as an ONBUILD trigger");
        LowerInstruction(sub, node, from_node.line);
      }
    } catch (const DockerfileError& e) {
      throw ErrorAt(tree_, from_node,
                    "ONBUILD trigger \"" + trigger + "\" of " + image + ": " + e.message(), image);
    }
  }

  void LowerInstruction(const SyntaxTree& tree, const Node& node, int line) {
    ScopeExpander expander(tree, node, Current().scope);
    // Its parts are moved into the step.
    Instruction typed = ParseInstruction(node, tree, &expander);
    // Before the instruction runs: the ENV it sets must not shadow the args it read.
    std::map<std::string, std::string> used_args;
    const bool expands = ExpandsVariables(node.instruction);
    if (expands) used_args = UsedArgs(expander.used());
    const size_t steps_before = graph_.steps.size();
    std::visit(
        Overloaded{
            [&](const FromInstruction&) {},
            [&](const ArgInstruction& arg) { LowerArg(arg); },
            [&](RunInstruction& run) { LowerRun(tree, node, std::move(run), line); },
            [&](const CmdInstruction& cmd) { LowerCommand("CMD", cmd.command, line); },
            [&](const EntrypointInstruction& entrypoint) {
              LowerCommand("ENTRYPOINT", entrypoint.command, line);
            },
            [&](CopyInstruction& copy) {
              Step& step = LowerTransfer(tree, node, StepKind::kCopy, copy, line);
              step.parents = copy.parents;
              step.text = TransferText(step, copy.from);
            },
            [&](AddInstruction& add) {
              Step& step = LowerTransfer(tree, node, StepKind::kAdd, add, line);
              step.checksum = add.checksum;
              step.keep_git_dir = add.keep_git_dir;
              step.text = TransferText(step, add.from);
            },
            [&](const EnvInstruction& env) { LowerEnv(env, line); },
            [&](LabelInstruction& label) {
              Step& step = NewStep(StepKind::kConfig, "LABEL", line);
              step.text = "LABEL" + PairsText(label.labels);
              step.labels = std::move(label.labels);
            },
            [&](ExposeInstruction& expose) {
              Step& step = NewStep(StepKind::kConfig, "EXPOSE", line);
              step.text = "EXPOSE" + WordsText(expose.ports);
              step.args = std::move(expose.ports);
            },
            [&](VolumeInstruction& volume) {
              Step& step = NewStep(StepKind::kConfig, "VOLUME", line);
              step.text = "VOLUME" + WordsText(volume.paths);
              step.args = std::move(volume.paths);
            },
            [&](const UserInstruction& user) { LowerValue("USER", user.user, line); },
            [&](const WorkdirInstruction& workdir) { LowerWorkdir(workdir, line); },
            [&](const StopsignalInstruction& stop) { LowerValue("STOPSIGNAL", stop.signal, line); },
            [&](const MaintainerInstruction& maintainer) {
              LowerValue("MAINTAINER", maintainer.name, line);
            },
            [&](const HealthcheckInstruction& health) {
              Step& step = NewStep(StepKind::kConfig, "HEALTHCHECK", line);
              step.healthcheck = health.check;
              step.text = HealthcheckText(node.flags, health.check);
            },
            [&](const ShellInstruction& shell) {
              Step& step = NewStep(StepKind::kConfig, "SHELL", line);
              step.args = shell.shell;
              step.text = "SHELL " + nlohmann::json(shell.shell).dump();
              Current().shell = shell.shell;
            },
            [&](const OnbuildInstruction& onbuild) {
              LowerValue("ONBUILD", onbuild.trigger, line);
              Current().onbuild.push_back(onbuild.trigger);
            },
        },
        typed.value);
    if (graph_.steps.size() > steps_before && expands)
      graph_.steps.back().build_args = std::move(used_args);
  }

  void LowerArg(const ArgInstruction& arg) {
    StageState& state = Current();
    state.run_args.reset();
    for (const auto& a : arg.args) {
      std::optional<std::string> value = args_.StageValue(a.name, a.default_value);
      if (!state.env.count(a.name)) {  // ENV wins over ARG
        if (value)
          state.scope[a.name] = *value;
        else
          state.scope.erase(a.name);
      }
      state.args.Declare(a.name, std::move(value));
    }
  }

  void LowerRun(const SyntaxTree& tree, const Node& node, RunInstruction run, int line) {
    Step& step = NewStep(StepKind::kRun, "RUN", line);
    step.command = std::move(run.command.args);
    step.shell_form = run.command.shell_form;
    step.network = std::move(run.network);
    step.security = std::move(run.security);
    step.inline_files = std::move(run.heredocs);
    step.mounts.reserve(run.mounts.size());
    for (RunMount& mount : run.mounts) {
      // No target (a secret given as env= only) means no file: nothing to resolve.
      if (!mount.target.empty()) mount.target = ResolvePath(Current().workdir, mount.target);
      if (!mount.from_image.empty()) {
        mount.from_stage = StageReference(mount.from_image, tree, node, "--mount from");
        if (mount.from_stage >= 0) {
          mount.from_image.clear();
          DependOn(mount.from_stage);
        }
      }
      step.mounts.push_back(std::move(mount));
    }
    step.text = RunText(node.flags, step);
    // RUN sees every arg declared so far as environment, so its result depends on them all (the
    // args its flags used are among them). The same for every RUN until an ARG or ENV.
    StageState& state = Current();
    if (!state.run_args) {
      state.run_args.emplace();
      for (const auto& [name, value] : state.args.declared())
        if (value && !state.env.count(name))
          state.run_args->emplace_hint(state.run_args->end(), name, *value);
      state.run_env = RunEnv(*state.run_args);
    }
    step.build_args = *state.run_args;
    step.run_env = state.run_env;
  }

  /// The environment a RUN sees: the proxy build args given, overridden by `build_args`, in name
  /// order, without the names the stage's ENV sets (ENV wins).
  std::vector<std::pair<std::string, std::string>> RunEnv(const Variables& build_args) {
    const Variables& proxies = proxies_;
    std::vector<std::pair<std::string, std::string>> env;
    env.reserve(proxies.size() + build_args.size());
    const auto add = [&](const std::pair<const std::string, std::string>& entry) {
      if (!Current().env.count(entry.first)) env.emplace_back(entry);
    };
    // Both maps are sorted: merged in one walk rather than through a third map.
    auto proxy = proxies.begin();
    for (const auto& arg : build_args) {
      for (; proxy != proxies.end() && proxy->first < arg.first; ++proxy) add(*proxy);
      if (proxy != proxies.end() && proxy->first == arg.first) ++proxy;  // the build arg wins
      add(arg);
    }
    for (; proxy != proxies.end(); ++proxy) add(*proxy);
    return env;
  }

  void LowerCommand(const std::string& keyword, const CommandLine& command, int line) {
    Step& step = NewStep(StepKind::kConfig, keyword, line);
    step.args = command.args;
    step.shell_form = command.shell_form;
    step.text = keyword + " " + ShownCommand(command.args, command.shell_form);
  }

  /// Moves the parts of `transfer` into the new step.
  Step& LowerTransfer(const SyntaxTree& tree, const Node& node, StepKind kind,
                      FileTransfer& transfer, int line) {
    Step& step = NewStep(kind, node.instruction, line);
    step.sources = std::move(transfer.sources);
    step.destination = std::move(transfer.destination);
    step.chown = std::move(transfer.chown);
    step.chmod = std::move(transfer.chmod);
    step.link = transfer.link;
    step.excludes = std::move(transfer.excludes);
    step.inline_files = std::move(transfer.heredocs);
    if (!transfer.from.empty()) {
      step.from_stage = StageReference(transfer.from, tree, node, node.instruction + " --from");
      if (step.from_stage >= 0)
        DependOn(step.from_stage);
      else
        step.from_image = transfer.from;
    }
    return step;
  }

  void LowerEnv(const EnvInstruction& env, int line) {
    Step& step = NewStep(StepKind::kConfig, "ENV", line);
    step.env = env.env;
    step.text = "ENV" + PairsText(env.env);
    Current().run_args.reset();
    for (const auto& [name, value] : env.env) Current().env[name] = Current().scope[name] = value;
  }

  void LowerValue(const std::string& keyword, const std::string& value, int line) {
    Step& step = NewStep(StepKind::kConfig, keyword, line);
    step.value = value;
    step.text = keyword + " " + value;
  }

  void LowerWorkdir(const WorkdirInstruction& workdir, int line) {
    Current().workdir = ResolvePath(Current().workdir, workdir.path);
    Step& step = NewStep(StepKind::kWorkdir, "WORKDIR", line);
    step.value = Current().workdir;
    step.text = "WORKDIR " + step.value;
  }

  // --- target and pruning -------------------------------------------------------------------

  int TargetStage() const {
    if (options_.target.empty()) return static_cast<int>(states_.size()) - 1;
    const std::string name = Lower(options_.target);
    for (const StageState& state : states_)
      if (state.stage.name == name) return state.stage.index;
    throw DockerfileError({tree_.file, 0, 0},
                          "target stage \"" + options_.target + "\" could not be found");
  }

  StepGraph Prune(int target) {
    std::vector<bool> keep(states_.size(), false);
    std::vector<int> pending = {target};
    while (!pending.empty()) {
      const int stage = pending.back();
      pending.pop_back();
      if (keep[stage]) continue;
      keep[stage] = true;
      for (int dep : states_[stage].stage.depends_on) pending.push_back(dep);
    }
    std::vector<int> stage_map(states_.size(), -1);
    std::vector<int> step_map(graph_.steps.size(), -1);
    StepGraph out;
    std::set<std::string> declared = args_.meta_names();
    int next_step = 0;
    for (const Step& step : graph_.steps)
      if (keep[step.stage]) step_map[step.id] = next_step++;
    for (const StageState& state : states_) {
      if (!keep[state.stage.index]) continue;
      stage_map[state.stage.index] = static_cast<int>(out.stages.size());
      out.stages.push_back(state.stage);
      const std::set<std::string> names = state.args.Names();
      declared.insert(names.begin(), names.end());
    }
    auto remap = [](const std::vector<int>& map, int index) { return index < 0 ? -1 : map[index]; };
    for (Stage& stage : out.stages) {
      stage.index = stage_map[stage.index];
      for (int& id : stage.steps) id = step_map[id];
      for (int& dep : stage.depends_on) dep = stage_map[dep];
      std::sort(stage.depends_on.begin(), stage.depends_on.end());
    }
    // graph_ is done with: its steps are compacted in place (a kept step never moves to a
    // higher index) and handed over, so the large Steps are not copied to a second vector.
    for (Step& old : graph_.steps) {
      const int id = step_map[old.id];
      if (id < 0) continue;
      Step& step = graph_.steps[id];
      if (&step != &old) step = std::move(old);
      step.id = id;
      step.stage = stage_map[step.stage];
      step.parent = remap(step_map, step.parent);
      step.base_stage = remap(stage_map, step.base_stage);
      step.from_stage = remap(stage_map, step.from_stage);
      for (RunMount& mount : step.mounts) mount.from_stage = remap(stage_map, mount.from_stage);
    }
    graph_.steps.resize(next_step);
    out.steps = std::move(graph_.steps);
    out.dockerfile = options_.dockerfile;
    out.context = options_.context;
    out.ignore_patterns = options_.ignore_patterns;
    out.build_args = options_.build_args;
    out.target_stage = stage_map[target];
    if (const auto unused = args_.Unconsumed(declared); !unused.empty()) {
      std::string names;
      for (const std::string& name : unused) names += (names.empty() ? "" : " ") + name;
      out.warnings.push_back("[Warning] One or more build-args [" + names + "] were not consumed");
    }
    return out;
  }

  const SyntaxTree& tree_;
  const LowerOptions& options_;
  BuildArgs args_;
  const Variables proxies_;  ///< args_.GivenProxyArgs(), the same for every RUN
  StepGraph graph_;
  std::vector<StageState> states_;
  std::vector<std::string> stage_names_;  ///< every stage's name in order, "" when unnamed
};

}  // namespace

StepGraph LowerDockerfile(const SyntaxTree& tree, const LowerOptions& options) {
  return Lowerer(tree, options).Run();
}

StepGraph LoadStepGraph(const FileSystem& fs, LowerOptions options) {
  std::optional<std::string> text = fs.ReadFile(options.dockerfile);
  if (!text)
    throw DockerfileError({options.dockerfile, 0, 0},
                          "failed to read " + options.dockerfile + ": no such file or directory");
  const std::string ignore = ReadIgnoreFile(fs, options.dockerfile, options.context);
  options.ignore_patterns = IgnoreRules::Parse(ignore).patterns();
  const SyntaxTree tree = ParseDockerfile(*text, options.dockerfile);
  text.reset();  // the tree holds what it needs: lowering can reuse the memory
  return LowerDockerfile(tree, options);
}

}  // namespace kiln
