// Layer-writing benchmark helper, driven by bench/layer_bench.sh.
//
//   layer_bench generate DIR MIB   creates a tree of about MIB MiB: many files of varied sizes
//                                   (small, medium, large), alternately random and zero-filled
//   layer_bench write DIR OUT      writes DIR's layer to OUT with kiln's LayerWriter and prints
//                                   "bytes=<tar size> seconds=<wall> peak_rss_kib=<max RSS>
//                                   digest=<diff_id>"
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/base/unique_fd.h"
#include "engine/layers/layer_writer.h"

namespace {

namespace fs = std::filesystem;

// xoshiro256**: fast, good enough for incompressible file contents.
class Random {
 public:
  explicit Random(uint64_t seed) {
    for (uint64_t& s : state_) {  // splitmix64 seeding
      seed += 0x9e3779b97f4a7c15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      s = z ^ (z >> 31);
    }
  }
  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }
  uint64_t Between(uint64_t lo, uint64_t hi) { return lo + Next() % (hi - lo + 1); }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> state_;
};

void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) throw std::runtime_error(std::string("write: ") + std::strerror(errno));
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void WriteFile(const fs::path& path, uint64_t size, bool random, Random& rng,
               std::vector<uint64_t>& buf) {
  kiln::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) throw std::runtime_error("cannot create " + path.string());
  const uint64_t chunk_bytes = buf.size() * sizeof(uint64_t);
  if (!random) std::fill(buf.begin(), buf.end(), 0);
  while (size > 0) {
    const size_t n = static_cast<size_t>(std::min(size, chunk_bytes));
    if (random)
      for (size_t i = 0; i < (n + 7) / 8; ++i) buf[i] = rng.Next();
    WriteAll(fd.get(), reinterpret_cast<const char*>(buf.data()), n);
    size -= n;
  }
}

// Bytes split as 20% small files (1-32 KiB), 40% medium (64 KiB-1 MiB), 40% large (4-64 MiB),
// spread over two levels of directories; even-numbered files random, odd ones zeros.
int Generate(const fs::path& dir, uint64_t mib) {
  const uint64_t total = mib << 20;
  struct Band {
    double share;
    uint64_t lo, hi;
  };
  const Band bands[] = {
      {0.2, 1 << 10, 32 << 10}, {0.4, 64 << 10, 1 << 20}, {0.4, 4 << 20, 64 << 20}};
  Random rng(42);
  std::vector<uint64_t> buf((1 << 20) / sizeof(uint64_t));
  uint64_t files = 0, written = 0;
  for (const Band& band : bands) {
    const uint64_t budget = static_cast<uint64_t>(band.share * static_cast<double>(total));
    for (uint64_t used = 0; used < budget; ++files) {
      const uint64_t size = std::min(rng.Between(band.lo, band.hi), budget - used);
      const fs::path sub = dir / std::string("d").append(std::to_string(files % 32)) /
                           std::string("s").append(std::to_string(files % 7));
      fs::create_directories(sub);
      WriteFile(sub / std::string("f").append(std::to_string(files)), size, files % 2 == 0, rng,
                buf);
      used += size;
      written += size;
    }
  }
  std::printf("files=%llu bytes=%llu\n", static_cast<unsigned long long>(files),
              static_cast<unsigned long long>(written));
  return 0;
}

int Write(const fs::path& dir, const fs::path& out) {
  kiln::UniqueFd fd(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) throw std::runtime_error("cannot open " + out.string());
  const auto start = std::chrono::steady_clock::now();
  const kiln::LayerBlob blob = kiln::WriteLayer(dir, fd.get(), {});
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  std::printf("bytes=%llu seconds=%.3f peak_rss_kib=%ld digest=%s\n",
              static_cast<unsigned long long>(blob.size), elapsed.count(), usage.ru_maxrss,
              blob.diff_id.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "generate" && argc == 4) return Generate(argv[2], std::stoull(argv[3]));
    if (mode == "write" && argc == 4) return Write(argv[2], argv[3]);
    std::cerr << "usage: layer_bench generate DIR MIB | layer_bench write DIR OUT\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "layer_bench: " << e.what() << "\n";
    return 1;
  }
}
