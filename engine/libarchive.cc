#include "engine/libarchive.h"

#include <dlfcn.h>

#include <mutex>
#include <stdexcept>
#include <string>

namespace kiln {

void* LibArchiveSymbol(const char* name) {
  static std::once_flag once;
  static void* library = nullptr;
  static std::string load_error;
  std::call_once(once, [] {
    library = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) load_error = dlerror();
  });
  if (library == nullptr)
    throw std::runtime_error("cannot load libarchive (install libarchive13): " + load_error);
  void* symbol = dlsym(library, name);
  if (symbol == nullptr)
    throw std::runtime_error(std::string("libarchive has no ") + name + ": too old a version");
  return symbol;
}

}  // namespace kiln
