#include "engine/base/digest.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "engine/base/hash.h"
#include "engine/base/system_error.h"
#include "engine/base/unique_fd.h"

namespace kiln {
namespace {

struct AlgorithmRule {
  std::string_view name;
  size_t hex_length;
};

// The OCI image spec's registered algorithms.
constexpr AlgorithmRule kAlgorithms[] = {{"sha256", 64}, {"sha512", 128}};

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/// Why `text` is not a digest, or "" when it is one.
std::string Violation(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return "expected ALGORITHM:HEX, e.g. sha256:<64 hex>";
  const std::string_view algorithm = text.substr(0, colon);
  const std::string_view hex = text.substr(colon + 1);
  const auto rule = std::find_if(std::begin(kAlgorithms), std::end(kAlgorithms),
                                 [&](const AlgorithmRule& r) { return r.name == algorithm; });
  if (rule == std::end(kAlgorithms)) {
    return "unsupported algorithm \"" + std::string(algorithm) + "\" (expected sha256 or sha512)";
  }
  if (hex.size() != rule->hex_length) {
    return "a " + std::string(algorithm) + " digest needs " + std::to_string(rule->hex_length) +
           " hex characters, not " + std::to_string(hex.size());
  }
  for (char c : hex) {
    if (IsLowerHex(c)) continue;
    if (c >= 'A' && c <= 'F') return "the hex part must be lowercase";
    return "the hex part may contain only 0-9 and a-f";
  }
  return "";
}

}  // namespace

Digest Digest::Parse(std::string_view text) {
  if (std::string why = Violation(text); !why.empty()) {
    throw DigestError("invalid digest \"" + std::string(text) + "\": " + why);
  }
  return Digest(std::string(text));
}

std::optional<Digest> Digest::TryParse(std::string_view text) {
  if (!Violation(text).empty()) return std::nullopt;
  return Digest(std::string(text));
}

std::optional<Digest> Digest::FromSha256Hex(std::string_view hex) {
  return TryParse("sha256:" + std::string(hex));
}

Digest Digest::Of(std::string_view bytes) {
  return Digest(Sha256Digest(bytes));
}

Digest Digest::Of(Sha256& hash) {
  return Digest(hash.Digest());
}

Digest Digest::OfFile(const std::filesystem::path& path) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) ThrowErrno("cannot open", path);
  Sha256 hash;
  constexpr size_t kBufferSize = 1 << 20;
  // Not value-initialized: small blobs then touch one page of it, not 256.
  const auto buffer = std::make_unique_for_overwrite<char[]>(kBufferSize);
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer.get(), kBufferSize);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ThrowErrno("cannot read", path);
    if (n == 0) break;
    hash.Update(buffer.get(), static_cast<size_t>(n));
  }
  return Of(hash);
}

std::string_view Digest::Algorithm() const {
  const std::string_view text = text_;
  return text.substr(0, text.find(':') == std::string_view::npos ? 0 : text.find(':'));
}

std::string_view Digest::Hex() const {
  const size_t colon = text_.find(':');
  return colon == std::string::npos ? std::string_view()
                                    : std::string_view(text_).substr(colon + 1);
}

std::string ShortId(std::string_view id) {
  if (const size_t colon = id.find(':'); colon != std::string_view::npos)
    id.remove_prefix(colon + 1);
  return std::string(id.substr(0, 12));
}

void to_json(nlohmann::json& j, const Digest& d) {
  j = d.String();
}

void from_json(const nlohmann::json& j, Digest& d) {
  const std::string text = j.get<std::string>();
  d = text.empty() ? Digest() : Digest::Parse(text);
}

}  // namespace kiln
