#include "engine/layers/libarchive.h"

#include <dlfcn.h>

#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

namespace kiln {
namespace {

// Trivially destructible: a preloading thread may still be filling them in while the process
// exits.
std::once_flag load_once;
void* library = nullptr;
char load_error[512] = "";

void Load() {
  std::call_once(load_once, [] {
    library = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) std::snprintf(load_error, sizeof load_error, "%s", dlerror());
  });
}

}  // namespace

void PreloadLibArchive() {
  static std::once_flag started;
  std::call_once(started, [] { std::thread(Load).detach(); });
}

void* LibArchiveSymbol(const char* name) {
  Load();  // waits for a preload under way
  if (library == nullptr)
    throw std::runtime_error(std::string("cannot load libarchive (install libarchive13): ") +
                             load_error);
  void* symbol = dlsym(library, name);
  if (symbol == nullptr)
    throw std::runtime_error(std::string("libarchive has no ") + name + ": too old a version");
  return symbol;
}

}  // namespace kiln
