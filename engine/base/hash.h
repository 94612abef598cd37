// Hashing: xxHash3-128 for cache keys, SHA-256 (OpenSSL) for OCI digests.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace kiln {

/// Incremental xxHash3-128. Digest() gives 32 lowercase hex characters. Strings added with
/// AddField are length-prefixed so ("ab","c") and ("a","bc") hash differently.
class CacheKeyHasher {
 public:
  CacheKeyHasher();
  ~CacheKeyHasher();
  CacheKeyHasher(const CacheKeyHasher&) = delete;
  CacheKeyHasher& operator=(const CacheKeyHasher&) = delete;

  void Update(const void* data, size_t size);
  void AddField(std::string_view field);
  std::string HexDigest() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Streaming SHA-256. HexDigest() gives 64 lowercase hex characters; Digest() "sha256:<hex>".
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  /// Finishes the hash; call once.
  std::string HexDigest();
  std::string Digest() { return "sha256:" + HexDigest(); }

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// "sha256:<hex>" of a whole buffer.
std::string Sha256Digest(std::string_view data);
/// xxHash3-128 hex of a whole buffer.
std::string CacheKey(std::string_view data);

}  // namespace kiln
