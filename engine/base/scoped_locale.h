// Switching the calling thread to the C.UTF-8 locale for a scope.
#pragma once

#include <locale.h>

namespace kiln {

/// While alive, the calling thread uses the C.UTF-8 locale (if the system has it), restoring the
/// previous thread locale afterwards. libarchive converts entry names between the current locale
/// and the UTF-8 of PAX headers; pinning the locale makes tars independent of the user's locale
/// and keeps libarchive from failing on non-ASCII names under the "C" locale.
class ScopedUtf8Locale {
 public:
  ScopedUtf8Locale() {
    static const locale_t utf8 = newlocale(LC_ALL_MASK, "C.UTF-8", static_cast<locale_t>(0));
    if (utf8 != static_cast<locale_t>(0)) previous_ = uselocale(utf8);
  }
  ~ScopedUtf8Locale() {
    if (previous_ != static_cast<locale_t>(0)) uselocale(previous_);
  }
  ScopedUtf8Locale(const ScopedUtf8Locale&) = delete;
  ScopedUtf8Locale& operator=(const ScopedUtf8Locale&) = delete;

 private:
  locale_t previous_ = static_cast<locale_t>(0);
};

}  // namespace kiln
