// Image references: the distribution reference grammar `[HOST[:PORT]/]PATH[:TAG][@DIGEST]`,
// Docker's normalization (docker.io, library/, latest) and the familiar short form.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace kiln {

/// A reference that breaks the grammar. The message starts with "invalid reference format: " (as
/// Docker's CLI prints it) and names the rule broken, e.g.
/// "invalid reference format: repository name (library/App) must be lowercase".
class ReferenceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A parsed, normalized reference. `domain` is never empty after ParseReference ("docker.io" by
/// default); `path` is the repository path ("library/debian"); `tag` and `digest` ("sha256:<hex>")
/// may be empty, but ParseReference sets tag "latest" when neither is given (unless asked not to).
struct Reference {
  std::string domain;
  std::string path;
  std::string tag;
  std::string digest;

  /// "domain/path", e.g. "docker.io/library/debian".
  std::string Name() const;
  /// Full normalized form: Name() [":" tag] ["@" digest], e.g. "docker.io/library/debian:latest".
  std::string String() const;
  /// Docker's short name: docker.io and a lone "library/" dropped ("debian", "team/app",
  /// "localhost:5000/app").
  std::string FamiliarName() const;
  /// FamiliarName() [":" tag] ["@" digest], e.g. "debian:latest", "app@sha256:…".
  std::string Familiar() const;

  bool operator==(const Reference&) const = default;
};

inline constexpr std::string_view kDefaultDomain = "docker.io";
inline constexpr std::string_view kDefaultTag = "latest";
inline constexpr size_t kMaxNameLength = 255;  // of the normalized Name()
inline constexpr size_t kMaxTagLength = 128;

/// Parses and normalizes `text`. The first path component is a host only when it contains "." or
/// ":" (a port or a bracketed IPv6 address) or is "localhost"; "index.docker.io" becomes
/// "docker.io"; a one-component name on docker.io gets "library/"; with `default_tag` a reference
/// with neither tag nor digest gets tag "latest". A 64-hex string alone is an image id, never a
/// name. Throws ReferenceError naming the broken rule.
Reference ParseReference(std::string_view text, bool default_tag = true);

/// Like ParseReference, but `text` must already be in canonical form ("docker.io/library/debian",
/// not "debian"); otherwise throws ReferenceError "… repository name must be canonical".
Reference ParseCanonicalReference(std::string_view text);

/// True for a 64-character lowercase hex string (an image id without its "sha256:" prefix).
bool LooksLikeImageId(std::string_view text);

}  // namespace kiln
