#include "frontend/json_text.h"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

/// Elements with nesting, strings holding line breaks and the array's own key, and a byte
/// that is not UTF-8.
template <class Json>
std::vector<Json> Elements() {
  return {Json{{"b", {1, 2}}, {"a", {{"items", Json::array()}}}}, Json("line\nbreak \"items\": []"),
          Json::array(), Json::object(), Json("caf\xE9")};
}

/// What DumpWithLargeArray writes, collected.
template <class Json, class Element>
std::string Dumped(const Json& head, size_t count, Element&& element, int indent) {
  std::string text;
  size_t pieces = 0;
  DumpWithLargeArray(head, "items", count, element, indent, [&](std::string_view piece) {
    text.append(piece);
    ++pieces;
  });
  CHECK(pieces == count + (count > 0 && indent >= 0 ? 3 : 2));  // head, elements, break, tail
  return text;
}

template <class Json>
void CheckMatchesDump(const Json& head, size_t count) {
  const std::vector<Json> elements = Elements<Json>();
  Json whole = head;
  for (size_t i = 0; i < count; ++i) whole["items"].push_back(elements[i]);
  for (int indent : {-1, 0, 2, 4}) {
    INFO("indent " << indent << ", " << count << " elements");
    const auto element = [&elements](size_t i) { return elements[i]; };
    CHECK(Dumped(head, count, element, indent) ==
          whole.dump(indent, ' ', false, Json::error_handler_t::replace));
  }
}

TEST_CASE("DumpWithLargeArray writes what dump writes for the whole document, in pieces",
          "[json_text]") {
  // Members before and after the array, one holding an "items" member of its own before it.
  const json head = {{"a", {{"items", json::array()}}}, {"items", json::array()}, {"z", "x"}};
  const ordered_json ordered = {
      {"z", {{"items", ordered_json::array()}}}, {"m", 1}, {"items", ordered_json::array()}};
  for (size_t count : {0, 1, 5}) {
    CheckMatchesDump(head, count);
    CheckMatchesDump(ordered, count);
  }
}

TEST_CASE("DumpWithLargeArray replaces bytes that are not UTF-8", "[json_text]") {
  const json head = {{"items", json::array()}, {"name", "\xFF"}};
  const auto element = [](size_t) { return json("\xC3"); };
  CHECK(Dumped(head, 1, element, -1) == "{\"items\":[\"\xEF\xBF\xBD\"],\"name\":\"\xEF\xBF\xBD\"}");
}

TEST_CASE("DumpWithLargeArray wants the array member in the document", "[json_text]") {
  const auto element = [](size_t) { return json(1); };
  const auto ignore = [](std::string_view) {};
  CHECK_THROWS_AS(
      DumpWithLargeArray(json{{"other", json::array()}}, "items", 1, element, 2, ignore),
      std::invalid_argument);
}

}  // namespace
}  // namespace kiln
