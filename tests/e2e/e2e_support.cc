#include "tests/e2e/e2e_support.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "engine/base/subprocess.h"

namespace kiln::e2e {
namespace fs = std::filesystem;

CommandResult Run(const std::vector<std::string>& argv,
                  const std::map<std::string, std::string>& env, const std::string& input) {
  CommandResult result;
  ProcessSpec process;
  process.argv = argv;
  for (const auto& [name, value] : env) process.env.push_back(name + "=" + value);
  process.stdin_data = input;
  process.on_stdout = [&](std::string_view chunk) { result.out += chunk; };
  process.on_stderr = [&](std::string_view chunk) { result.err += chunk; };
  try {
    result.exit_code = ExitCode(RunProcess(std::move(process)));
  } catch (const ProcessError& error) {
    result.exit_code = 127;  // as a shell reports a program it cannot run
    result.err = error.what();
  }
  return result;
}

void WriteFile(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Kiln::Kiln() : store_("kiln-e2e-store") {}

CommandResult Kiln::operator()(const std::vector<std::string>& args, const std::string& input,
                               const std::map<std::string, std::string>& env) const {
  std::vector<std::string> argv = {KILN_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  std::map<std::string, std::string> full_env = env;
  full_env["KILN_ROOT"] = store_.path().string();
  return Run(argv, full_env, input);
}

ContainerCleanup::~ContainerCleanup() {
  for (const std::string& id : Lines(kiln_({"ps", "-aq", "--no-trunc"}).out))
    if (!id.empty()) kiln_({"rm", "-f", id});
}

std::string WhyNoRuntime() {
  if (geteuid() != 0) return "RUN needs root";
  if (Run({"runc", "--version"}).exit_code != 0) return "runc is not installed";
  if (!fs::exists("/bin/busybox")) return "busybox-static is not installed";
  return "";
}

void BuildBusyboxBase(const Kiln& kiln, const std::string& tag) {
  TempDir context("kiln-busybox");
  fs::copy_file("/bin/busybox", context / "busybox");
  WriteFile(context / "Dockerfile",
            "FROM scratch\nCOPY busybox /bin/busybox\n"
            "RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n");
  const CommandResult r = kiln({"build", "-q", "-t", tag, context.path().string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

std::string BuildImage(const Kiln& kiln, const std::string& tag, const std::string& dockerfile) {
  TempDir context;
  WriteFile(context / "Dockerfile", dockerfile);
  const CommandResult r = kiln({"build", "-q", "-t", tag, context.path().string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r.out.substr(0, r.out.find('\n'));
}

std::string ImageId(const Kiln& kiln, const std::string& name) {
  const CommandResult r = kiln({"inspect", "--type", "image", "-f", "{{.Id}}", name});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r.out.substr(0, r.out.find('\n'));
}

}  // namespace kiln::e2e

namespace kiln::e2e {

void UnpackWithUmoci(const Kiln& kiln, const std::string& reference,
                     const std::filesystem::path& bundle) {
  const CommandResult r = Run({"umoci", "unpack", "--image",
                               (kiln.root() / "oci").string() + ":" + reference, bundle.string()});
  INFO("umoci: " << r.err);
  REQUIRE(r.exit_code == 0);
}

namespace {

/// Lines "#N [i/t] TEXT" name step N; "#N DONE ..." or "#N CACHED" say what happened to it.
std::vector<std::string> StepsWith(const std::string& output, const std::string& state) {
  std::map<std::string, std::string> text_of;
  std::vector<std::string> steps;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '#') continue;
    const size_t space = line.find(' ');
    if (space == std::string::npos) continue;
    const std::string id = line.substr(0, space), rest = line.substr(space + 1);
    if (rest.rfind("[", 0) == 0) {
      const size_t close = rest.find("] ");
      if (close != std::string::npos) text_of[id] = rest.substr(close + 2);
    } else if (rest.rfind(state, 0) == 0 && text_of.count(id)) {
      steps.push_back(text_of[id]);
    }
  }
  return steps;
}

}  // namespace

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> RanSteps(const std::string& plain_output) {
  return StepsWith(plain_output, "DONE");
}

std::vector<std::string> CachedSteps(const std::string& plain_output) {
  return StepsWith(plain_output, "CACHED");
}

}  // namespace kiln::e2e
