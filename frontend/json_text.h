// JSON text of large documents: the frontend's graph and syntax tree hold one array (steps,
// instructions) with thousands of elements; the rest of the document is small.
#pragma once

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kiln {

/// Writes `document.dump(indent)`, with bytes that are not UTF-8 replaced by U+FFFD, as
/// consecutive pieces `out(std::string_view)`, where the member `key` of the object
/// `document`, an empty array there, holds `count` elements: `element(i)` for each i, a JSON
/// value of the same type. Each element is made, dumped and handed to `out` one at a time, so
/// neither the whole document's JSON tree nor its whole text need exist at once: building and
/// freeing that tree costs several times what writing the text does. No member after `key` may
/// itself hold a member named `key` (strings may say anything). Throws std::invalid_argument
/// when `document` has no empty array `key`.
template <class Json, class Element, class Out>
void DumpWithLargeArray(const Json& document, std::string_view key, size_t count, Element&& element,
                        int indent, Out&& out) {
  const auto dump = [indent](const Json& value) {
    return value.dump(indent, ' ', false, Json::error_handler_t::replace);
  };
  const std::string head = dump(document);
  const std::string member =
      "\"" + std::string(key) + (indent >= 0 ? "\": []" : "\":[]");  // as dump writes it
  const size_t at = head.rfind(member);
  if (at == std::string::npos) throw std::invalid_argument("no empty array member " + member);
  const size_t close = at + member.size() - 1;  // at its ']'
  // The elements sit two levels deep: each line of theirs gets that much more indentation.
  const std::string element_break = indent >= 0 ? "\n" + std::string(2 * indent, ' ') : "";
  out(std::string_view(head).substr(0, close));
  std::string text;  // one element's, reused
  for (size_t i = 0; i < count; ++i) {
    text.assign(i == 0 ? "" : ",").append(element_break);
    const std::string value = dump(element(i));
    for (size_t start = 0; start < value.size();) {  // raw line breaks are only the layout's
      const size_t end = std::min(value.find('\n', start), value.size());
      text.append(value, start, end - start);
      if (end < value.size()) text.append(element_break);
      start = end + 1;
    }
    out(std::string_view(text));
  }
  if (count > 0 && indent >= 0) out("\n" + std::string(indent, ' '));
  out(std::string_view(head).substr(close));
}

}  // namespace kiln
