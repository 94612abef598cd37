// Resolving USER / --chown specs against a root file system's /etc/passwd and /etc/group, with
// Docker's rules and error messages.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

/// A user or group named in a spec is missing from the files; what() is Docker's message, e.g.
/// "unable to find user foo: no matching entries in passwd file".
class UserLookupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ResolvedUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  /// Supplementary groups: the groups listing the user as a member, only when the spec names
  /// no group (Docker's rule).
  std::vector<uint32_t> additional_gids;
  std::string home = "/";  ///< from passwd; "/" when the user has no entry
  std::string name;        ///< passwd name; empty when the user has no entry
};

/// The text of a root file system's account files; nullopt when the file is missing.
struct AccountFiles {
  std::optional<std::string> passwd;
  std::optional<std::string> group;
};

/// Resolves a USER spec ("", "name", "uid", "name:group", "uid:gid", "name:gid", "uid:group")
/// as `docker run`/RUN do: a numeric user needs no passwd entry (gid 0, home "/" then); a named
/// user or group must exist; without a group the user's primary gid applies. Throws
/// UserLookupError (missing names) or std::invalid_argument (malformed numbers).
ResolvedUser ResolveUser(const AccountFiles& files, std::string_view spec);

/// Resolves a COPY/ADD --chown spec: like ResolveUser, except that a spec without a group uses
/// the uid as the gid ("--chown=10" is 10:10, Docker's documented rule). No supplementary groups.
ResolvedUser ResolveChown(const AccountFiles& files, std::string_view spec);

/// Reads etc/passwd and etc/group from a stack of unpacked layers (top-most first, overlay
/// whiteout form), honouring whiteouts and opaque directories; symlinks are not followed.
AccountFiles ReadAccountFiles(const std::vector<std::filesystem::path>& layers);

/// Reads etc/passwd and etc/group from a plain root directory.
AccountFiles ReadAccountFiles(const std::filesystem::path& rootfs);

}  // namespace kiln
