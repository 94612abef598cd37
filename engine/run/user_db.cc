#include "engine/run/user_db.h"

#include <charconv>
#include <limits>
#include <sstream>

#include "engine/base/atomic_file.h"
#include "engine/run/overlay_mount.h"

namespace kiln {
namespace {

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string home;
};

struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

std::vector<std::string> Split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    parts.emplace_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::optional<uint32_t> ParseId(std::string_view text) {
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool LooksNumeric(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

/// A numeric spec part; out-of-range numbers are errors, not names.
std::optional<uint32_t> NumericPart(std::string_view text, std::string_view what) {
  if (!LooksNumeric(text)) return std::nullopt;
  if (auto id = ParseId(text)) return id;
  throw std::invalid_argument(std::string(what) + " " + std::string(text) + " is out of range");
}

/// Non-comment lines split on ':' with at least `min_fields` fields; malformed lines are
/// skipped like libc does.
std::vector<std::vector<std::string>> Records(const std::optional<std::string>& text,
                                              size_t min_fields) {
  std::vector<std::vector<std::string>> records;
  if (!text) return records;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    auto fields = Split(line, ':');
    if (fields.size() >= min_fields) records.push_back(std::move(fields));
  }
  return records;
}

std::vector<PasswdEntry> ParsePasswd(const std::optional<std::string>& text) {
  std::vector<PasswdEntry> entries;
  for (const auto& f : Records(text, 6)) {
    auto uid = ParseId(f[2]);
    auto gid = ParseId(f[3]);
    if (!uid || !gid) continue;
    entries.push_back({f[0], *uid, *gid, f[5]});
  }
  return entries;
}

std::vector<GroupEntry> ParseGroup(const std::optional<std::string>& text) {
  std::vector<GroupEntry> entries;
  for (const auto& f : Records(text, 3)) {
    auto gid = ParseId(f[2]);
    if (!gid) continue;
    GroupEntry entry{f[0], *gid, {}};
    if (f.size() > 3 && !f[3].empty()) entry.members = Split(f[3], ',');
    entries.push_back(std::move(entry));
  }
  return entries;
}

/// The user part of a spec: a numeric user matches by uid only (Docker treats it as a uid even
/// if a user has that name); a named user must exist.
ResolvedUser ResolveUserPart(const std::vector<PasswdEntry>& passwd, std::string_view user) {
  ResolvedUser resolved;
  if (user.empty()) user = "0";
  auto uid = NumericPart(user, "uid");
  for (const auto& entry : passwd) {
    if (uid ? entry.uid == *uid : entry.name == user) {
      resolved.uid = entry.uid;
      resolved.gid = entry.gid;
      resolved.home = entry.home.empty() ? "/" : entry.home;
      resolved.name = entry.name;
      return resolved;
    }
  }
  if (!uid) {
    throw UserLookupError("unable to find user " + std::string(user) +
                          ": no matching entries in passwd file");
  }
  resolved.uid = *uid;
  return resolved;
}

uint32_t ResolveGroupPart(const std::vector<GroupEntry>& groups, std::string_view group) {
  if (auto gid = NumericPart(group, "gid")) return *gid;
  for (const auto& entry : groups) {
    if (entry.name == group) return entry.gid;
  }
  throw UserLookupError("unable to find group " + std::string(group) +
                        ": no matching entries in group file");
}

std::pair<std::string_view, std::optional<std::string_view>> SplitSpec(std::string_view spec) {
  size_t colon = spec.find(':');
  if (colon == std::string_view::npos) return {spec, std::nullopt};
  return {spec.substr(0, colon), spec.substr(colon + 1)};
}

}  // namespace

ResolvedUser ResolveUser(const AccountFiles& files, std::string_view spec) {
  auto [user, group] = SplitSpec(spec);
  ResolvedUser resolved = ResolveUserPart(ParsePasswd(files.passwd), user);
  auto groups = ParseGroup(files.group);
  if (group && !group->empty()) {
    resolved.gid = ResolveGroupPart(groups, *group);
    return resolved;
  }
  if (resolved.name.empty()) return resolved;
  for (const auto& entry : groups) {
    for (const auto& member : entry.members) {
      if (member == resolved.name && entry.gid != resolved.gid) {
        resolved.additional_gids.push_back(entry.gid);
        break;
      }
    }
  }
  return resolved;
}

ResolvedUser ResolveChown(const AccountFiles& files, std::string_view spec) {
  auto [user, group] = SplitSpec(spec);
  ResolvedUser resolved = ResolveUserPart(ParsePasswd(files.passwd), user);
  resolved.gid =
      group && !group->empty() ? ResolveGroupPart(ParseGroup(files.group), *group) : resolved.uid;
  return resolved;
}

AccountFiles ReadAccountFiles(const std::vector<std::filesystem::path>& layers) {
  AccountFiles files;
  if (auto path = FindInLayers(layers, "etc/passwd"))
    files.passwd = ReadRegularFileIfPresent(*path);
  if (auto path = FindInLayers(layers, "etc/group")) files.group = ReadRegularFileIfPresent(*path);
  return files;
}

AccountFiles ReadAccountFiles(const std::filesystem::path& rootfs) {
  return {ReadRegularFileIfPresent(rootfs / "etc/passwd"),
          ReadRegularFileIfPresent(rootfs / "etc/group")};
}

}  // namespace kiln
