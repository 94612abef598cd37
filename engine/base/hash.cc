#include "engine/base/hash.h"

// SHA256_Init and friends are deprecated in OpenSSL 3 in favour of EVP, but EVP's first digest
// initialises the library's providers and reads its configuration: about 2.5 ms, paid by every
// short kiln process that verifies a blob. The direct functions cost nothing up front and run
// the same (SHA-NI) code.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace kiln {
namespace {

std::string ToHex(const unsigned char* bytes, size_t size) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return out;
}

}  // namespace

struct CacheKeyHasher::State {
  XXH3_state_t* xxh = XXH3_createState();
  /// Small updates gather here first: keys are built from many short fields (a 100,000-file
  /// context's input digest takes 800,000 of them), and each call into XXH3 costs more than
  /// copying a field. The digest is the same either way.
  char pending[4096];
  size_t pending_size = 0;
  ~State() { XXH3_freeState(xxh); }

  void Flush() {
    XXH3_128bits_update(xxh, pending, pending_size);
    pending_size = 0;
  }
};

CacheKeyHasher::CacheKeyHasher() : state_(std::make_unique<State>()) {
  if (!state_->xxh) throw std::bad_alloc();
  XXH3_128bits_reset(state_->xxh);
}
CacheKeyHasher::~CacheKeyHasher() = default;

void CacheKeyHasher::Update(const void* data, size_t size) {
  State& state = *state_;
  if (size > sizeof state.pending - state.pending_size) {
    state.Flush();
    if (size > sizeof state.pending) {
      XXH3_128bits_update(state.xxh, data, size);
      return;
    }
  }
  std::memcpy(state.pending + state.pending_size, data, size);
  state.pending_size += size;
}

void CacheKeyHasher::AddField(std::string_view field) {
  const uint64_t size = field.size();
  Update(&size, sizeof size);
  Update(field.data(), field.size());
}

std::string CacheKeyHasher::HexDigest() const {
  state_->Flush();
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(state_->xxh));
  return ToHex(canonical.digest, sizeof canonical.digest);
}

struct Sha256::State {
  SHA256_CTX ctx;
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  if (SHA256_Init(&state_->ctx) != 1) throw std::runtime_error("cannot initialise SHA-256");
}
Sha256::~Sha256() = default;

void Sha256::Update(const void* data, size_t size) {
  if (SHA256_Update(&state_->ctx, data, size) != 1) throw std::runtime_error("SHA-256 failed");
}

std::string Sha256::HexDigest() {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  if (SHA256_Final(digest, &state_->ctx) != 1) throw std::runtime_error("SHA-256 failed");
  return ToHex(digest, sizeof digest);
}

std::string Sha256Digest(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Digest();
}

std::string CacheKey(std::string_view data) {
  CacheKeyHasher h;
  h.Update(data.data(), data.size());
  return h.HexDigest();
}

}  // namespace kiln
