#include "driver/ninja_fingerprint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <system_error>

#include "driver/build_request.h"
#include "frontend/file_system.h"

namespace kiln::driver {
namespace {

constexpr const char* kFingerprintFile = "ninja.fingerprint";

/// Where a build directory keeps the fingerprint of its last successful ninja run.
std::filesystem::path FingerprintPath(const std::filesystem::path& dir) {
  return dir / kFingerprintFile;
}

/// Splits the rest of a `build` line into unescaped words; `$` followed by a newline never
/// occurs in kiln's files, so a line is a whole statement head.
std::vector<std::string> SplitNinjaWords(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  auto finish_word = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '$' && i + 1 < line.size()) {
      word.push_back(line[++i]);  // `$ `, `$:` and `$$` stand for the character itself
    } else if (c == ' ') {
      finish_word();
    } else if (c == ':') {
      finish_word();
      words.emplace_back(1, ':');
    } else {
      word.push_back(c);
    }
  }
  finish_word();
  return words;
}

}  // namespace

std::optional<std::vector<std::string>> NinjaGraphPaths(const std::string& ninja_text) {
  std::vector<std::string> paths;
  size_t start = 0;
  while (start < ninja_text.size()) {
    size_t end = ninja_text.find('\n', start);
    if (end == std::string::npos) end = ninja_text.size();
    const std::string_view line(ninja_text.data() + start, end - start);
    start = end + 1;
    if (!line.starts_with("build ")) continue;
    enum { kOutputs, kRule, kInputs } part = kOutputs;
    for (std::string& word : SplitNinjaWords(line.substr(6))) {
      if (word == ":") {
        part = kRule;
      } else if (part == kRule) {
        part = kInputs;  // the word was the rule's name
      } else if (word == "|" || word == "||") {
        continue;
      } else if (word == "always") {
        if (part == kInputs) return std::nullopt;  // the phony itself is no file
      } else {
        paths.push_back(std::move(word));
      }
    }
  }
  return paths;
}

std::optional<std::string> NinjaFingerprint(const std::filesystem::path& dir,
                                            const std::string& ninja_file,
                                            const std::vector<std::string>& targets) {
  const std::filesystem::path file = dir / ninja_file;
  const std::optional<std::string> text = DiskFileSystem().ReadFile(file.string());
  if (!text) return std::nullopt;
  std::optional<std::vector<std::string>> paths = NinjaGraphPaths(*text);
  if (!paths) return std::nullopt;
  paths->push_back(ninja_file);
  std::string fingerprint = "targets";
  for (const std::string& target : targets) fingerprint.append(" ").append(target);
  fingerprint += '\n';
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return std::nullopt;
  for (const std::string& path : *paths) {
    struct stat st;
    char line[128];
    if (::fstatat(dir_fd, path.c_str(), &st, 0) == 0) {
      std::snprintf(line, sizeof line, " %llu %lld %lld.%09ld\n",
                    static_cast<unsigned long long>(st.st_ino), static_cast<long long>(st.st_size),
                    static_cast<long long>(st.st_mtim.tv_sec), st.st_mtim.tv_nsec);
    } else {
      std::snprintf(line, sizeof line, " missing\n");
    }
    fingerprint.append(path).append(line);
  }
  ::close(dir_fd);
  return fingerprint;
}

bool NinjaIsUpToDate(const std::filesystem::path& dir, const std::string& ninja_file,
                     const std::vector<std::string>& targets) {
  const std::optional<std::string> recorded =
      DiskFileSystem().ReadFile(FingerprintPath(dir).string());
  if (!recorded) return false;
  const std::optional<std::string> current = NinjaFingerprint(dir, ninja_file, targets);
  return current && *current == *recorded;
}

void RecordNinjaFingerprint(const std::filesystem::path& dir, const std::string& ninja_file,
                            const std::vector<std::string>& targets) {
  const std::optional<std::string> current = NinjaFingerprint(dir, ninja_file, targets);
  if (!current) {
    ForgetNinjaFingerprint(dir);
    return;
  }
  // Not synced: after a crash a lost or torn fingerprint only means that ninja runs.
  WriteIfChanged(FingerprintPath(dir), *current);
}

void ForgetNinjaFingerprint(const std::filesystem::path& dir) {
  std::error_code ignored;
  std::filesystem::remove(FingerprintPath(dir), ignored);
}

}  // namespace kiln::driver
