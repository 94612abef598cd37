#include "tests/e2e/e2e_support.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace kiln::e2e {
namespace fs = std::filesystem;

CommandResult Run(const std::vector<std::string>& argv,
                  const std::map<std::string, std::string>& env, const std::string& input) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
    throw std::runtime_error("pipe failed");
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (!input.empty() && write(in[1], input.data(), input.size()) < 0) {
  }
  close(in[1]);
  CommandResult result;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        sinks[i]->append(buf, n);
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
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
