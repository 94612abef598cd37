// Content digests ("sha256:<hex>"), parsed once where a digest enters the store: from JSON
// (manifests, index.json, image records), from a file name, from the command line.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kiln {

class Sha256;

/// A text that is not a digest the store understands. The message names the text and the rule
/// broken, e.g. `invalid digest "sha256:AB…": the hex part must be lowercase`.
class DigestError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// A validated OCI content digest: "<algorithm>:<lowercase hex>", the algorithm one of the OCI
/// image spec's registered ones (sha256 with 64 hex characters, sha512 with 128). The store keeps
/// sha256 blobs only; a sha512 digest parses (other tools' index.json may name one) but names no
/// blob of the store. A default-constructed Digest is empty: "no digest" (written as "").
class Digest {
 public:
  Digest() = default;

  /// Parses `text`; throws DigestError naming the rule broken (missing ':', unknown algorithm,
  /// wrong hex length, upper-case or non-hex characters).
  static Digest Parse(std::string_view text);
  /// Parse without throwing: nullopt for anything Parse would refuse.
  static std::optional<Digest> TryParse(std::string_view text);
  /// The sha256 digest with this hex part (a blob's or an unpacked layer's file name, an image
  /// id without its prefix); nullopt for anything but 64 lowercase hex characters.
  static std::optional<Digest> FromSha256Hex(std::string_view hex);
  /// The sha256 digest of `bytes`.
  static Digest Of(std::string_view bytes);
  /// The sha256 digest of what `hash` has read; finishes it.
  static Digest Of(Sha256& hash);
  /// The sha256 digest of a file's content, streamed (for big layers).
  static Digest OfFile(const std::filesystem::path& path);

  bool empty() const { return text_.empty(); }
  /// "sha256:<hex>"; "" when empty.
  const std::string& String() const { return text_; }
  /// "sha256" (or "sha512"); "" when empty.
  std::string_view Algorithm() const;
  /// The hex part; "" when empty.
  std::string_view Hex() const;
  bool IsSha256() const { return Algorithm() == "sha256"; }

  friend bool operator==(const Digest&, const Digest&) = default;
  friend auto operator<=>(const Digest&, const Digest&) = default;
  /// Compares with a digest's text, e.g. a descriptor's digest with a reference's.
  friend bool operator==(const Digest& d, std::string_view text) { return d.text_ == text; }

 private:
  explicit Digest(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

/// Writes String(); reads with Digest::Parse ("" gives an empty Digest), so a malformed digest
/// in a JSON document is an error of that document.
void to_json(nlohmann::json& j, const Digest& d);
void from_json(const nlohmann::json& j, Digest& d);

/// Docker's TruncateID, the form an image or container id is shown in: the hex part of an id
/// (the algorithm dropped) cut to 12 characters.
std::string ShortId(std::string_view id);

}  // namespace kiln

template <>
struct std::hash<kiln::Digest> {
  size_t operator()(const kiln::Digest& d) const noexcept {
    return std::hash<std::string>{}(d.String());
  }
};
