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

/// The record of what `ninja_file`'s graph names, beside it.
std::string GraphFilesRecord(const std::string& ninja_file) {
  return ninja_file + ".paths";
}

/// The record's text for a graph depending on `always`; no path is ever named so.
constexpr std::string_view kAlwaysRecord = "always\n";

/// Appends "PATH INODE SIZE MTIME" (or "PATH missing") for `path`, taken in `dir_fd`.
void AppendFileState(int dir_fd, const char* path, std::string& fingerprint) {
  struct stat st;
  char line[128];
  if (::fstatat(dir_fd, path, &st, 0) == 0) {
    std::snprintf(line, sizeof line, " %llu %lld %lld.%09ld\n",
                  static_cast<unsigned long long>(st.st_ino), static_cast<long long>(st.st_size),
                  static_cast<long long>(st.st_mtim.tv_sec), st.st_mtim.tv_nsec);
  } else {
    std::snprintf(line, sizeof line, " missing\n");
  }
  fingerprint.append(path).append(line);
}

}  // namespace

void RecordNinjaGraphFiles(const std::filesystem::path& dir, const std::string& ninja_file,
                           const NinjaGraphFiles& files) {
  std::string record;
  if (files.uses_always) {
    record = kAlwaysRecord;
  } else {
    for (const std::string& path : files.paths) record.append(path).append(1, '\n');
  }
  WriteIfChanged(dir / GraphFilesRecord(ninja_file), record);
}

std::optional<std::string> NinjaFingerprint(const std::filesystem::path& dir,
                                            const std::string& ninja_file,
                                            const std::vector<std::string>& targets) {
  const std::string record_file = GraphFilesRecord(ninja_file);
  std::optional<std::string> record = DiskFileSystem().ReadFile((dir / record_file).string());
  if (!record || *record == kAlwaysRecord) return std::nullopt;
  std::string fingerprint = "targets";
  for (const std::string& target : targets) fingerprint.append(" ").append(target);
  fingerprint += '\n';
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return std::nullopt;
  // One path a line: each line is made a C string in place, with no copy.
  for (size_t start = 0; start < record->size();) {
    size_t end = record->find('\n', start);
    if (end == std::string::npos) end = record->size();
    (*record)[end] = '\0';  // at size() this is the string's own terminator
    AppendFileState(dir_fd, record->data() + start, fingerprint);
    start = end + 1;
  }
  AppendFileState(dir_fd, ninja_file.c_str(), fingerprint);
  AppendFileState(dir_fd, record_file.c_str(), fingerprint);
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
