#include "engine/store/image_config.h"

#include <sys/utsname.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "engine/base/hash.h"

namespace kiln {
namespace {

constexpr const char* kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

nlohmann::json& Config(nlohmann::json& image) {
  if (!image.contains("config") || !image["config"].is_object())
    image["config"] = nlohmann::json::object();
  return image["config"];
}

std::vector<std::string> DefaultShell(const nlohmann::json& image) {
  if (image.contains("config") && image["config"].contains("Shell") &&
      !image["config"]["Shell"].empty())
    return image["config"]["Shell"].get<std::vector<std::string>>();
  return {"/bin/sh", "-c"};
}

/// CMD/ENTRYPOINT/HEALTHCHECK commands: shell form runs through SHELL.
std::vector<std::string> CommandOf(const std::vector<std::string>& args, bool shell_form,
                                   const nlohmann::json& image) {
  if (!shell_form) return args;
  std::vector<std::string> argv = DefaultShell(image);
  std::string joined;
  for (const std::string& a : args) joined += (joined.empty() ? "" : " ") + a;
  argv.push_back(joined);
  return argv;
}

void SetEnv(nlohmann::json& config, const std::string& key, const std::string& value) {
  nlohmann::json& env = config["Env"];
  if (!env.is_array()) env = nlohmann::json::array();
  const std::string entry = key + "=" + value;
  for (auto& e : env) {
    const std::string s = e.get<std::string>();
    if (s.compare(0, key.size() + 1, key + "=") == 0) {
      e = entry;
      return;
    }
  }
  env.push_back(entry);
}

/// Go's %q of a []string, as BuildKit prints commands in history: ["/bin/sh" "-c" "x"].
std::string GoQuotedList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ' ';
    out += nlohmann::json(items[i]).dump();
  }
  return out + "]";
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : " ") + s;
  return out;
}

void StripTimes(nlohmann::json& image) {
  image.erase("created");
  if (image.contains("history"))
    for (auto& h : image["history"]) h.erase("created");
}

}  // namespace

std::string HostArchitecture() {
  utsname u{};
  uname(&u);
  const std::string machine = u.machine;
  if (machine == "x86_64") return "amd64";
  if (machine == "aarch64") return "arm64";
  if (machine == "i686" || machine == "i386") return "386";
  if (machine.rfind("arm", 0) == 0) return "arm";
  return machine;
}

nlohmann::json EmptyImageConfig() {
  return {{"architecture", HostArchitecture()},
          {"os", "linux"},
          {"config", nlohmann::json::object()},
          {"rootfs", {{"type", "layers"}, {"diff_ids", nlohmann::json::array()}}},
          {"history", nlohmann::json::array()}};
}

void ApplyConfigStep(const Step& step, nlohmann::json& image, bool cmd_set_in_stage) {
  nlohmann::json& config = Config(image);
  const std::string& ins = step.instruction;
  if (ins == "ENV") {
    for (const auto& [k, v] : step.env) SetEnv(config, k, v);
  } else if (ins == "LABEL") {
    for (const auto& [k, v] : step.labels) config["Labels"][k] = v;
  } else if (ins == "CMD") {
    config["Cmd"] = CommandOf(step.args, step.shell_form, image);
  } else if (ins == "ENTRYPOINT") {
    config["Entrypoint"] = CommandOf(step.args, step.shell_form, image);
    if (!cmd_set_in_stage) config.erase("Cmd");
  } else if (ins == "EXPOSE") {
    for (const std::string& p : step.args) config["ExposedPorts"][p] = nlohmann::json::object();
  } else if (ins == "VOLUME") {
    for (const std::string& v : step.args) config["Volumes"][v] = nlohmann::json::object();
  } else if (ins == "USER") {
    config["User"] = step.value;
  } else if (ins == "WORKDIR") {
    config["WorkingDir"] = step.value;
  } else if (ins == "STOPSIGNAL") {
    config["StopSignal"] = step.value;
  } else if (ins == "SHELL") {
    config["Shell"] = step.args;
  } else if (ins == "ONBUILD") {
    config["OnBuild"].push_back(step.value);
  } else if (ins == "MAINTAINER") {
    image["author"] = step.value;
  } else if (ins == "HEALTHCHECK" && step.healthcheck) {
    const Healthcheck& h = *step.healthcheck;
    nlohmann::json hc = {{"Test", h.test}};
    if (h.interval_ns) hc["Interval"] = h.interval_ns;
    if (h.timeout_ns) hc["Timeout"] = h.timeout_ns;
    if (h.start_period_ns) hc["StartPeriod"] = h.start_period_ns;
    if (h.start_interval_ns) hc["StartInterval"] = h.start_interval_ns;
    if (h.retries) hc["Retries"] = h.retries;
    if (h.test.size() == 2 && h.test[0] == "CMD-SHELL") {
      // Shell-form health checks run through the image's SHELL like CMD does.
      const std::vector<std::string> shell = DefaultShell(image);
      if (shell != std::vector<std::string>{"/bin/sh", "-c"}) {
        std::vector<std::string> test = {"CMD"};
        test.insert(test.end(), shell.begin(), shell.end());
        test.push_back(h.test[1]);
        hc["Test"] = test;
      }
    }
    config["Healthcheck"] = hc;
  }
}

std::vector<std::string> RunArgv(const Step& step, const nlohmann::json& image) {
  return CommandOf(step.command, step.shell_form, image);
}

std::vector<std::string> ImageEnv(const nlohmann::json& image) {
  std::vector<std::string> env;
  if (image.contains("config") && image["config"].contains("Env"))
    env = image["config"]["Env"].get<std::vector<std::string>>();
  bool has_path = false;
  for (const std::string& e : env) has_path = has_path || e.rfind("PATH=", 0) == 0;
  if (!has_path) env.insert(env.begin(), kDefaultPath);
  return env;
}

std::string HistoryCreatedBy(const Step& step, const nlohmann::json& image) {
  const std::string& ins = step.instruction;
  if (ins == "RUN") {
    std::string text = "RUN ";
    for (const auto& [k, v] : step.run_env) text += "|" + k + "=" + v + " ";
    return text + Joined(RunArgv(step, image)) + " # buildkit";
  }
  if (ins == "COPY" || ins == "ADD" || ins == "WORKDIR") return step.text + " # buildkit";
  if (ins == "CMD" || ins == "ENTRYPOINT")
    return ins + " " + GoQuotedList(CommandOf(step.args, step.shell_form, image));
  if (ins == "SHELL") return "SHELL " + GoQuotedList(step.args);
  return step.text;
}

void AddHistory(nlohmann::json& image, const std::string& created, const std::string& created_by,
                bool empty_layer) {
  nlohmann::json entry = {{"created", created}, {"created_by", created_by}};
  if (empty_layer) entry["empty_layer"] = true;
  image["history"].push_back(entry);
}

std::string Rfc3339(int64_t seconds, int64_t nanos) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char base[32];
  std::strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  if (nanos == 0) return std::string(base) + "Z";
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(nanos));
  std::string f = frac;
  while (f.back() == '0') f.pop_back();  // Go's RFC3339Nano trims trailing zeros
  return std::string(base) + f + "Z";
}

std::string CreatedTime(const std::optional<int64_t>& source_date_epoch) {
  if (source_date_epoch) return Rfc3339(*source_date_epoch);
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
  return Rfc3339(ns / 1000000000, ns % 1000000000);
}

std::string ContentKey(const nlohmann::json& image) {
  nlohmann::json stripped = image;
  StripTimes(stripped);
  return CacheKey(stripped.dump());
}

}  // namespace kiln
