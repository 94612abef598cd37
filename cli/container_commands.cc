#include "cli/container_commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <set>

#include "cli/container_inspect.h"
#include "cli/container_status.h"
#include "cli/flags.h"
#include "cli/image_format.h"
#include "engine/base/atomic_file.h"
#include "engine/run/container_runtime.h"
#include "engine/run/container_supervisor.h"
#include "engine/run/user_db.h"
#include "engine/store/container_store.h"
#include "engine/store/image_config.h"
#include "engine/store/image_rootfs.h"
#include "engine/store/image_store.h"

namespace kiln::cli {
namespace {

/// A failure with Docker's exit code for `kiln run` (125 kiln, 126 cannot invoke, 127 missing).
struct RunFailure {
  int code;
  std::string message;
};

struct RunOptions {
  bool remove = false;
  bool detach = false;
  std::string name;
  std::vector<std::string> env;
  std::string workdir;
  std::string user;
  std::optional<std::string> entrypoint;
  std::string network = "default";
};

int64_t Now() {
  return static_cast<int64_t>(std::time(nullptr));
}

std::string NowRfc3339() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  return Rfc3339(
      seconds.count(),
      std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds).count());
}

/// The index of IMAGE in `kiln run` arguments: the first one that is neither a flag nor a
/// flag's value. Everything after it is the container's command, flags included.
size_t ImageArgIndex(const std::vector<std::string>& args) {
  static const std::set<std::string> kLongWithValue = {"--name", "--env",        "--workdir",
                                                       "--user", "--entrypoint", "--network"};
  static const std::string kShortWithValue = "ewu";
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") return i + 1;
    if (a.size() < 2 || a[0] != '-') return i;
    if (a[1] == '-') {
      if (a.find('=') == std::string::npos && kLongWithValue.count(a) != 0) ++i;
    } else if (kShortWithValue.find(a.back()) != std::string::npos &&
               a.find_first_of(kShortWithValue) == a.size() - 1) {
      ++i;  // "-e" or "-de": the value is the next argument
    }
  }
  return args.size();
}

/// Docker's env rule: -e K=V sets, -e K takes the host's value (dropped when unset); a later
/// setting of a key replaces the earlier one.
std::vector<std::string> MergeEnv(std::vector<std::string> env,
                                  const std::vector<std::string>& overrides) {
  for (std::string entry : overrides) {
    if (entry.find('=') == std::string::npos) {
      const char* host = std::getenv(entry.c_str());
      if (host == nullptr) continue;
      entry.append("=").append(host);
    }
    const std::string key = entry.substr(0, entry.find('=') + 1);
    std::erase_if(env, [&](const std::string& e) { return e.rfind(key, 0) == 0; });
    env.push_back(entry);
  }
  return env;
}

std::vector<std::string> JsonStrings(const nlohmann::json& config, const char* key) {
  if (!config.contains(key) || !config[key].is_array()) return {};
  return config[key].get<std::vector<std::string>>();
}

std::string JsonString(const nlohmann::json& config, const char* key) {
  return config.contains(key) && config[key].is_string() ? config[key].get<std::string>() : "";
}

/// The container record and runtime spec for `kiln run` (Docker's rules for the command, env,
/// working directory and user). Throws RunFailure.
std::pair<ContainerRecord, RunSpec> PrepareRun(ImageStore& store, const RunOptions& options,
                                               const std::string& image_name,
                                               const std::vector<std::string>& command) {
  std::optional<ImageRecord> image = store.FindImage(image_name);
  if (!image) throw RunFailure{125, "Error: No such image: " + image_name};
  const nlohmann::json full_config = store.ReadConfig(image->id);
  const nlohmann::json config = full_config.value("config", nlohmann::json::object());

  ContainerRecord record;
  record.name = options.name;
  record.image_id = image->id;
  record.image_name = image_name;
  record.created = NowRfc3339();
  // An --entrypoint replaces the image's and drops its Cmd, as Docker does.
  if (options.entrypoint) {
    if (!options.entrypoint->empty()) record.entrypoint = {*options.entrypoint};
  } else {
    record.entrypoint = JsonStrings(config, "Entrypoint");
  }
  record.cmd = !command.empty()     ? command
               : options.entrypoint ? std::vector<std::string>{}
                                    : JsonStrings(config, "Cmd");
  std::vector<std::string> argv = record.entrypoint;
  argv.insert(argv.end(), record.cmd.begin(), record.cmd.end());
  if (argv.empty()) {
    throw RunFailure{125, "Error response from daemon: no command specified"};
  }
  record.path = argv.front();
  record.args.assign(argv.begin() + 1, argv.end());
  record.env = MergeEnv(ImageEnv(full_config), options.env);
  record.working_dir = options.workdir.empty() ? JsonString(config, "WorkingDir") : options.workdir;
  if (!record.working_dir.empty() && record.working_dir.front() != '/') {
    throw RunFailure{125, "Error response from daemon: the working directory '" +
                              record.working_dir + "' is invalid, it needs to be an absolute path"};
  }
  record.user = options.user.empty() ? JsonString(config, "User") : options.user;
  if (config.contains("Labels") && config["Labels"].is_object()) {
    record.labels = config["Labels"].get<std::map<std::string, std::string>>();
  }
  if (options.network != "default" && options.network != "none" && options.network != "host") {
    throw RunFailure{125, "Error response from daemon: network " + options.network + " not found"};
  }
  record.network = options.network;
  record.auto_remove = options.remove;

  RunSpec spec;
  spec.lower_dirs = UnpackedLowerDirs(store, store.ReadManifest(image->id));
  ResolvedUser user;
  try {
    user = ResolveUser(ReadAccountFiles(spec.lower_dirs), record.user);
  } catch (const std::exception& error) {
    throw RunFailure{126, std::string("Error response from daemon: ") + error.what()};
  }
  spec.args = argv;
  spec.env = record.env;
  spec.cwd = record.working_dir.empty() ? "/" : record.working_dir;
  spec.uid = user.uid;
  spec.gid = user.gid;
  spec.additional_gids = user.additional_gids;
  spec.home = user.home;
  spec.network = record.network;
  return {record, spec};
}

void PrintError(const std::string& message) {
  std::fprintf(stderr, "%s\n", message.c_str());
}

int RunImpl(const std::vector<std::string>& args) {
  const size_t image_index = ImageArgIndex(args);
  RunOptions options;
  FlagSet flags;
  flags.Bool("rm", 0, &options.remove);
  flags.Bool("detach", 'd', &options.detach);
  flags.String("name", 0, &options.name);
  flags.Strings("env", 'e', &options.env);
  flags.String("workdir", 'w', &options.workdir);
  flags.String("user", 'u', &options.user);
  std::string entrypoint = "\x01";  // unset marker: "" is a valid value (no entrypoint)
  flags.String("entrypoint", 0, &entrypoint);
  flags.String("network", 0, &options.network);
  std::vector<std::string> head(
      args.begin(), args.begin() + static_cast<long>(std::min(image_index, args.size())));
  if (!head.empty() && head.back() == "--") head.pop_back();
  const std::vector<std::string> positional = flags.Parse(head);
  if (flags.help_requested()) {
    std::fputs(
        "Usage:  kiln run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
        "Create and run a new container from an image\n\n"
        "Options:\n"
        "  -d, --detach              Run container in background and print container ID\n"
        "      --entrypoint string   Overwrite the default ENTRYPOINT of the image\n"
        "  -e, --env list            Set environment variables\n"
        "      --name string         Assign a name to the container\n"
        "      --network string      Connect a container to a network (default|none|host)\n"
        "      --rm                  Automatically remove the container when it exits\n"
        "  -u, --user string         Username or UID (format: <name|uid>[:<group|gid>])\n"
        "  -w, --workdir string      Working directory inside the container\n",
        stdout);
    return 0;
  }
  if (!positional.empty() || image_index >= args.size()) {
    throw UsageError("\"kiln run\" requires at least 1 argument.");
  }
  if (entrypoint != "\x01") options.entrypoint = entrypoint;
  const std::string image_name = args[image_index];
  const std::vector<std::string> command(args.begin() + static_cast<long>(image_index) + 1,
                                         args.end());

  ImageStore store(ImageStore::DefaultRoot());
  auto [prepared, spec] = PrepareRun(store, options, image_name, command);
  ContainerRecord record;
  try {
    record = CreateContainer(store, prepared);
  } catch (const ContainerError& error) {
    throw RunFailure{125, std::string("Error response from daemon: ") + error.what()};
  }
  spec.hostname = record.hostname;
  if (options.detach) {
    const ContainerState state = StartDetached(store, record, spec);
    if (!state.error.empty()) {
      throw RunFailure{state.exit_code, "Error response from daemon: " + state.error};
    }
    std::printf("%s\n", record.id.c_str());
    return 0;
  }
  try {
    return SuperviseContainer(store, record, spec, [](std::string_view chunk) {
      std::fwrite(chunk.data(), 1, chunk.size(), stdout);
      std::fflush(stdout);
    });
  } catch (const std::exception& error) {
    throw RunFailure{RuntimeFailureExitCode(error.what()),
                     std::string("Error response from daemon: ") + error.what()};
  }
}

/// Finds each named container, calling `action` on it; prints Docker's error for unknown ones.
/// Returns 1 when any failed.
int ForEachContainer(const std::vector<std::string>& names,
                     const std::function<void(ImageStore&, const ContainerRecord&)>& action) {
  ImageStore store(ImageStore::DefaultRoot());
  int status = 0;
  for (const std::string& name : names) {
    try {
      std::optional<ContainerRecord> record = FindContainer(store, name);
      if (!record) {
        PrintError("Error: No such container: " + name);
        status = 1;
        continue;
      }
      action(store, *record);
      std::printf("%s\n", name.c_str());
    } catch (const std::exception& error) {
      std::fflush(stdout);
      PrintError(std::string("Error response from daemon: ") + error.what());
      status = 1;
    }
  }
  return status;
}

std::string CommandText(const ContainerRecord& c) {
  std::string text = c.path;
  for (const auto& arg : c.args) text += " " + arg;
  return text;
}

int PsImpl(const std::vector<std::string>& args) {
  bool all = false, quiet = false, no_trunc = false;
  FlagSet flags;
  flags.Bool("all", 'a', &all);
  flags.Bool("quiet", 'q', &quiet);
  flags.Bool("no-trunc", 0, &no_trunc);
  if (!flags.Parse(args).empty()) throw UsageError("\"kiln ps\" accepts no arguments.");
  if (flags.help_requested()) {
    std::fputs(
        "Usage:  kiln ps [OPTIONS]\n\nList containers\n\nOptions:\n"
        "  -a, --all         Show all containers (default shows just running)\n"
        "      --no-trunc    Don't truncate output\n"
        "  -q, --quiet       Only display container IDs\n",
        stdout);
    return 0;
  }
  ImageStore store(ImageStore::DefaultRoot());
  const int64_t now = Now();
  std::vector<std::vector<std::string>> rows = {
      {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"}};
  for (const ContainerRecord& c : ListContainers(store)) {
    if (!all && c.state.status != "running") continue;
    const std::string id = no_trunc ? c.id : c.id.substr(0, 12);
    if (quiet) {
      std::printf("%s\n", id.c_str());
      continue;
    }
    const std::string command = CommandText(c);
    rows.push_back({id, c.image_name,
                    nlohmann::json(no_trunc ? command : Ellipsis(command, 20)).dump(),
                    CreatedSince(c.created, now), StatusText(c.state, now), "", c.name});
  }
  if (!quiet) {
    std::string table = AlignColumns(rows);
    if (!table.empty() && table.back() != '\n') table += '\n';
    std::fputs(table.c_str(), stdout);
  }
  return 0;
}

int StopImpl(const std::vector<std::string>& args) {
  int timeout = 10;
  FlagSet flags;
  flags.Int("time", 't', &timeout);
  flags.Int("timeout", 0, &timeout);
  const std::vector<std::string> names = flags.Parse(args);
  if (flags.help_requested()) {
    std::fputs(
        "Usage:  kiln stop [OPTIONS] CONTAINER [CONTAINER...]\n\nStop one or more "
        "running containers\n\nOptions:\n  -t, --time int   Seconds to wait before "
        "killing the container (default 10)\n",
        stdout);
    return 0;
  }
  if (names.empty()) throw UsageError("\"kiln stop\" requires at least 1 argument.");
  return ForEachContainer(names, [&](ImageStore& store, const ContainerRecord& record) {
    StopContainer(store, record, std::chrono::seconds(std::max(timeout, 0)));
  });
}

int RmImpl(const std::vector<std::string>& args) {
  bool force = false, volumes = false;
  FlagSet flags;
  flags.Bool("force", 'f', &force);
  flags.Bool("volumes", 'v', &volumes);
  const std::vector<std::string> names = flags.Parse(args);
  if (flags.help_requested()) {
    std::fputs(
        "Usage:  kiln rm [OPTIONS] CONTAINER [CONTAINER...]\n\nRemove one or more "
        "containers\n\nOptions:\n  -f, --force   Force the removal of a running "
        "container (uses SIGKILL)\n",
        stdout);
    return 0;
  }
  if (names.empty()) throw UsageError("\"kiln rm\" requires at least 1 argument.");
  return ForEachContainer(names, [&](ImageStore& store, const ContainerRecord& record) {
    if (IsRunning(record)) {
      if (!force) {
        throw ContainerError("cannot remove container \"/" + record.name +
                             "\": container is running: stop the container before removing or "
                             "force remove");
      }
      StopContainer(store, record, std::chrono::seconds(0));
    }
    DeleteContainer(store, record.id);
  });
}

int LogsImpl(const std::vector<std::string>& args) {
  FlagSet flags;
  const std::vector<std::string> names = flags.Parse(args);
  if (flags.help_requested()) {
    std::fputs("Usage:  kiln logs CONTAINER\n\nFetch the logs of a container\n", stdout);
    return 0;
  }
  if (names.size() != 1) throw UsageError("\"kiln logs\" requires exactly 1 argument.");
  ImageStore store(ImageStore::DefaultRoot());
  std::optional<ContainerRecord> record = FindContainer(store, names[0]);
  if (!record) throw ContainerError("No such container: " + names[0]);
  const std::string log = ReadWholeFile(ContainerLogPath(store, record->id));
  std::fwrite(log.data(), 1, log.size(), stdout);
  return 0;
}

int InspectImpl(const std::vector<std::string>& args) {
  bool size = false;
  FlagSet flags;
  flags.Bool("size", 's', &size);
  const std::vector<std::string> names = flags.Parse(args);
  if (names.empty()) throw UsageError("\"kiln container inspect\" requires at least 1 argument.");
  nlohmann::json out = nlohmann::json::array();
  int status = 0;
  for (const std::string& name : names) {
    if (auto json = InspectContainerJson(name, size)) {
      out.push_back(*json);
    } else {
      PrintError("Error: No such container: " + name);
      status = 1;
    }
  }
  std::printf("%s\n", out.dump(4).c_str());
  return status;
}

/// Runs a command body with kiln's error conventions: usage errors exit 2 with a hint, others
/// print "Error response from daemon: ..." / "Error: ..." and exit `failure_code`.
int Guard(const char* command, int usage_code, int failure_code, const std::function<int()>& body) {
  try {
    return body();
  } catch (const RunFailure& failure) {
    PrintError(failure.message);
    return failure.code;
  } catch (const UsageError& error) {
    std::fprintf(stderr, "%s\nSee 'kiln %s --help'.\n", error.what(), command);
    return usage_code;
  } catch (const ContainerError& error) {
    const std::string what = error.what();
    PrintError(what.rfind("No such container", 0) == 0 ? "Error: " + what
                                                       : "Error response from daemon: " + what);
    return failure_code;
  } catch (const std::exception& error) {
    PrintError(std::string("Error: ") + error.what());
    return failure_code;
  }
}

}  // namespace

int RunRunCommand(const std::vector<std::string>& args) {
  return Guard("run", 125, 125, [&] { return RunImpl(args); });
}
int RunPsCommand(const std::vector<std::string>& args) {
  return Guard("ps", 2, 1, [&] { return PsImpl(args); });
}
int RunStopCommand(const std::vector<std::string>& args) {
  return Guard("stop", 2, 1, [&] { return StopImpl(args); });
}
int RunRmCommand(const std::vector<std::string>& args) {
  return Guard("rm", 2, 1, [&] { return RmImpl(args); });
}
int RunLogsCommand(const std::vector<std::string>& args) {
  return Guard("logs", 2, 1, [&] { return LogsImpl(args); });
}

int RunContainerCommand(const std::vector<std::string>& args) {
  static const std::map<std::string, std::function<int(const std::vector<std::string>&)>>
      kSubcommands = {
          {"ls", RunPsCommand},
          {"ps", RunPsCommand},
          {"list", RunPsCommand},
          {"run", RunRunCommand},
          {"stop", RunStopCommand},
          {"rm", RunRmCommand},
          {"remove", RunRmCommand},
          {"logs", RunLogsCommand},
          {"inspect",
           [](const std::vector<std::string>& a) {
             return Guard("container inspect", 2, 1, [&] { return InspectImpl(a); });
           }},
      };
  if (args.empty() || kSubcommands.count(args[0]) == 0) {
    std::fputs(
        "Usage:  kiln container COMMAND\n\nManage containers\n\nCommands:\n"
        "  inspect, logs, ls, rm, run, stop\n",
        args.empty() ? stderr : stdout);
    return args.empty() || (args[0] != "--help" && args[0] != "-h") ? 2 : 0;
  }
  return kSubcommands.at(args[0])({args.begin() + 1, args.end()});
}

}  // namespace kiln::cli
