#include "engine/store/reference.h"

#include <algorithm>

#include "engine/base/digest.h"

namespace kiln {
namespace {

constexpr std::string_view kLegacyDomain = "index.docker.io";
constexpr std::string_view kOfficialPrefix = "library/";

[[noreturn]] void Fail(const std::string& what) {
  throw ReferenceError("invalid reference format: " + what);
}

std::string Quote(std::string_view s) {
  std::string quoted = "\"";
  return quoted.append(s).append("\"");
}

bool IsLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool IsAlnum(char c) {
  return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z');
}
bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}
bool IsHex(char c) {
  return IsLowerHex(c) || (c >= 'A' && c <= 'F');
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsWordChar(char c) {
  return IsAlnum(c) || c == '_';
}

template <typename Pred>
bool All(std::string_view s, Pred pred) {
  return std::all_of(s.begin(), s.end(), pred);
}

// tag := [\w][\w.-]{0,127}
void ValidateTag(std::string_view tag) {
  if (tag.empty()) Fail("invalid tag format: the tag after ':' must not be empty");
  if (tag.size() > kMaxTagLength) {
    Fail("tag must be at most 128 characters (got " + std::to_string(tag.size()) + ")");
  }
  if (!IsWordChar(tag.front())) {
    Fail("invalid tag format " + Quote(tag) + ": a tag must start with a letter, digit or '_'");
  }
  if (!All(tag, [](char c) { return IsWordChar(c) || c == '.' || c == '-'; })) {
    Fail("invalid tag format " + Quote(tag) +
         ": a tag may contain only letters, digits, '_', '.' and '-'");
  }
}

// algorithm := [a-z0-9]+(?:[.+_-][a-z0-9]+)*
bool IsDigestAlgorithm(std::string_view algo) {
  if (algo.empty() || !IsLowerAlnum(algo.front()) || !IsLowerAlnum(algo.back())) return false;
  for (size_t i = 0; i < algo.size(); ++i) {
    char c = algo[i];
    if (IsLowerAlnum(c)) continue;
    bool separator = c == '.' || c == '+' || c == '_' || c == '-';
    if (!separator || !IsLowerAlnum(algo[i + 1])) return false;
  }
  return true;
}

// digest := algorithm ":" [a-zA-Z0-9=_-]{32,}; sha256 additionally needs 64 lowercase hex.
void ValidateDigest(std::string_view digest) {
  const std::string prefix = "invalid digest format " + Quote(digest) + ": ";
  size_t colon = digest.find(':');
  if (colon == std::string_view::npos) Fail(prefix + "expected ALGORITHM:ENCODED");
  std::string_view algo = digest.substr(0, colon);
  std::string_view encoded = digest.substr(colon + 1);
  if (!IsDigestAlgorithm(algo)) {
    Fail(prefix +
         "the algorithm must be lowercase letters and digits joined by '.', '+', '_' "
         "or '-'");
  }
  if (algo == "sha256") {
    if (!Digest::TryParse(digest)) {
      Fail(prefix + "a sha256 digest needs exactly 64 lowercase hexadecimal characters");
    }
    return;
  }
  bool chars_ok =
      All(encoded, [](char c) { return IsAlnum(c) || c == '=' || c == '_' || c == '-'; });
  if (encoded.size() < 32 || !chars_ok) {
    Fail(prefix + "the encoded part needs at least 32 characters of [a-zA-Z0-9=_-]");
  }
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool IsDomainName(std::string_view host) {
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    std::string_view part = host.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (part.empty() || !IsAlnum(part.front()) || !IsAlnum(part.back())) return false;
    if (!All(part, [](char c) { return IsAlnum(c) || c == '-'; })) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// domain := (domain-name | "[" IPv6 "]") [":" port]
void ValidateDomain(std::string_view domain) {
  const std::string prefix = "invalid registry host " + Quote(domain) + ": ";
  std::string_view host = domain;
  std::string_view rest;
  if (domain.front() == '[') {
    size_t close = domain.find(']');
    if (close == std::string_view::npos) Fail(prefix + "an IPv6 address needs a closing ']'");
    std::string_view address = domain.substr(1, close - 1);
    if (address.empty() || !All(address, [](char c) { return IsHex(c) || c == ':'; })) {
      Fail(prefix + "an IPv6 address may contain only hexadecimal digits and ':'");
    }
    rest = domain.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      Fail(prefix + "only ':PORT' may follow an IPv6 address");
    }
  } else {
    size_t colon = domain.find(':');
    host = domain.substr(0, colon);
    if (colon != std::string_view::npos) rest = domain.substr(colon);
    if (!IsDomainName(host)) {
      Fail(prefix + "host name components must be letters, digits and inner '-', joined by '.'");
    }
  }
  if (!rest.empty()) {
    std::string_view port = rest.substr(1);
    if (port.empty() || !All(port, IsDigit)) Fail(prefix + "the port must be a decimal number");
  }
}

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*; separator := [._] | __ | -+
void ValidatePathComponent(std::string_view component, const std::string& path) {
  const std::string where =
      "path component " + Quote(component) + " of repository name (" + path + ") ";
  if (component.empty()) Fail("repository name (" + path + ") has an empty path component");
  if (!IsLowerAlnum(component.front()) || !IsLowerAlnum(component.back())) {
    Fail(where + "must start and end with a lowercase letter or digit");
  }
  size_t i = 0;
  while (i < component.size()) {
    if (IsLowerAlnum(component[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < component.size() && !IsLowerAlnum(component[end])) ++end;
    std::string_view separator = component.substr(i, end - i);
    if (!All(separator, [](char c) { return c == '.' || c == '_' || c == '-'; })) {
      Fail(where +
           "contains an invalid character; only [a-z0-9] and the separators '.', '_', "
           "'__' and '-' are allowed");
    }
    bool ok = separator == "." || separator == "_" || separator == "__" ||
              All(separator, [](char c) { return c == '-'; });
    if (!ok) {
      Fail(where + "has the invalid separator " + Quote(separator) +
           "; separators are '.', '_', '__' or a run of '-'");
    }
    i = end;
  }
}

void ValidatePath(const std::string& path) {
  if (!std::none_of(path.begin(), path.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    Fail("repository name (" + path + ") must be lowercase");
  }
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    ValidatePathComponent(std::string_view(path).substr(start, slash - start), path);
    if (slash == std::string::npos) return;
    start = slash + 1;
  }
}

// Docker's rule: the first component names a host only if it looks like one.
bool IsHostComponent(std::string_view first) {
  return first.find_first_of(".:") != std::string_view::npos || first == "localhost";
}

}  // namespace

std::string Reference::Name() const {
  return domain + "/" + path;
}

std::string Reference::String() const {
  std::string s = Name();
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

std::string Reference::FamiliarName() const {
  if (domain != kDefaultDomain) return Name();
  std::string_view p = path;
  if (p.starts_with(kOfficialPrefix) && p.find('/', kOfficialPrefix.size()) == p.npos) {
    p.remove_prefix(kOfficialPrefix.size());
  }
  return std::string(p);
}

std::string Reference::Familiar() const {
  std::string s = FamiliarName();
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

bool LooksLikeImageId(std::string_view text) {
  return Digest::FromSha256Hex(text).has_value();
}

Reference ParseReference(std::string_view text, bool default_tag) {
  if (LooksLikeImageId(text)) {
    throw ReferenceError("invalid repository name (" + std::string(text) +
                         "), cannot specify 64-byte hexadecimal strings");
  }
  Reference ref;
  std::string_view rest = text;
  if (size_t at = rest.find('@'); at != rest.npos) {
    ref.digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
    ValidateDigest(ref.digest);
  }
  size_t last_slash = rest.rfind('/');
  size_t colon = rest.find(':', last_slash == rest.npos ? 0 : last_slash + 1);
  if (colon != rest.npos) {
    ref.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    ValidateTag(ref.tag);
  }
  if (rest.empty()) Fail("repository name must have at least one component");

  if (size_t slash = rest.find('/'); slash != rest.npos && IsHostComponent(rest.substr(0, slash))) {
    ref.domain = rest.substr(0, slash);
    rest = rest.substr(slash + 1);
    ValidateDomain(ref.domain);
  }
  if (ref.domain.empty() || ref.domain == kLegacyDomain) ref.domain = kDefaultDomain;
  ref.path = rest;
  if (ref.domain == kDefaultDomain && ref.path.find('/') == std::string::npos) {
    ref.path.insert(0, kOfficialPrefix);
  }
  ValidatePath(ref.path);
  if (ref.Name().size() > kMaxNameLength) {
    Fail("repository name must not be more than 255 characters (" + ref.Name() + " has " +
         std::to_string(ref.Name().size()) + ")");
  }
  if (default_tag && ref.tag.empty() && ref.digest.empty()) ref.tag = kDefaultTag;
  return ref;
}

Reference ParseCanonicalReference(std::string_view text) {
  Reference ref = ParseReference(text, /*default_tag=*/false);
  if (ref.String() != text) {
    Fail("repository name must be canonical (" + Quote(text) + " is " + Quote(ref.String()) +
         " in full)");
  }
  return ref;
}

}  // namespace kiln
