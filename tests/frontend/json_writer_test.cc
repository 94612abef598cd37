#include "frontend/json_writer.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace kiln {
namespace {

/// Writes {"a": [1, "x", true, null, {}, []], "b": {"c": TEXT}, "d": []}.
std::string Sample(const std::string& text, int indent) {
  std::string out;
  JsonWriter w(&out, indent);
  w.BeginObject();
  w.Key("a");
  w.BeginArray();
  w.Int(1);
  w.String("x");
  w.Bool(true);
  w.Null();
  w.BeginObject();
  w.EndObject();
  w.BeginArray();
  w.EndArray();
  w.EndArray();
  w.Key("b");
  w.BeginObject();
  w.Key("c");
  w.String(text);
  w.EndObject();
  w.Key("d");
  w.Strings({});
  w.EndObject();
  return out;
}

TEST_CASE("JsonWriter matches nlohmann's dump in every layout", "[json_writer]") {
  const std::string texts[] = {"plain", "quote \" backslash \\ slash /", "\b\f\n\r\t\x01\x1f\x7f",
                               "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", ""};
  for (const std::string& text : texts) {
    const nlohmann::json expected = {
        {"a", {1, "x", true, nullptr, nlohmann::json::object(), nlohmann::json::array()}},
        {"b", {{"c", text}}},
        {"d", nlohmann::json::array()}};
    for (int indent : {-1, 0, 2, 4}) {
      INFO("indent " << indent << " text " << text);
      CHECK(Sample(text, indent) == expected.dump(indent));
    }
  }
}

TEST_CASE("AppendJsonString escapes a special byte at any place in a long run", "[json_writer]") {
  // The scan reads eight bytes at a time: every offset in and around a word, every kind of byte
  // that must be escaped (and the neighbours of those that must not), before plain bytes.
  const std::string specials[] = {"\"", "\\", "\n", "\x01", "\x1f",     " ",   "!",
                                  "#",  "[",  "]",  "\x7f", "\xC3\xA9", "\xE9"};
  for (const std::string& special : specials) {
    for (size_t at = 0; at < 20; ++at) {
      for (size_t after : {size_t{0}, size_t{3}, size_t{9}}) {
        const std::string text = std::string(at, 'a') + special + std::string(after, 'b');
        INFO("special " << static_cast<int>(static_cast<unsigned char>(special[0])) << " at " << at
                        << " then " << after);
        std::string out;
        AppendJsonString(text, &out);
        CHECK(out ==
              nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      }
    }
  }
}

TEST_CASE("JsonWriter replaces bytes that are not UTF-8", "[json_writer]") {
  const std::string replacement = "\xEF\xBF\xBD";
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"caf\xE9", "caf" + replacement},                           // Latin-1
      {"\xC0\xAF", replacement + replacement},                    // overlong
      {"\xED\xA0\x80", replacement + replacement + replacement},  // surrogate
      {"\xF4\x90\x80\x80", replacement + replacement + replacement + replacement},
      {"a\xE2\x82", "a" + replacement + replacement},  // truncated
  };
  for (const Case& c : cases) {
    std::string out;
    AppendJsonString(c.in, &out);
    CHECK(out == "\"" + c.out + "\"");
    CHECK(nlohmann::json::parse(out).get<std::string>() == c.out);
  }
}

/// An array of `count` strings, each longer than the last, written to a string or to a file.
void WriteStrings(JsonWriter& w, int count) {
  w.BeginArray();
  for (int i = 0; i < count; ++i) w.String(std::string(static_cast<size_t>(i), 'x'));
  w.EndArray();
}

TEST_CASE("JsonWriter writes the same text to a file in chunks", "[json_writer]") {
  for (int count : {0, 3, 1000}) {  // 1000: about 500 KB, several chunks
    std::string expected;
    {
      JsonWriter w(&expected, 2);
      WriteStrings(w, count);
    }
    std::FILE* file = std::tmpfile();
    REQUIRE(file);
    {
      JsonWriter w(file, 2);
      WriteStrings(w, count);
    }  // the destructor writes the rest
    std::string written(static_cast<size_t>(std::ftell(file)), '\0');
    std::rewind(file);
    CHECK(std::fread(written.data(), 1, written.size(), file) == written.size());
    std::fclose(file);
    CHECK(written == expected);
  }
}

TEST_CASE("JsonWriter's string holds each whole value as soon as it is written", "[json_writer]") {
  // Larger than the writer's buffer, strings larger than it, nesting deeper than one run of
  // indentation: all must come out as nlohmann writes them.
  nlohmann::json expected = nlohmann::json::array();
  std::string out;
  JsonWriter w(&out, 4);
  w.BeginArray();
  for (size_t size : {size_t{10}, size_t{5000}, size_t{70000}}) {
    w.String(std::string(size, 'y'));
    expected.push_back(std::string(size, 'y'));
  }
  nlohmann::json* inner = &expected;
  for (int depth = 0; depth < 30; ++depth) {
    w.BeginArray();
    inner->push_back(nlohmann::json::array());
    inner = &inner->back();
  }
  w.Int(-42);
  inner->push_back(-42);
  for (int depth = 0; depth < 30; ++depth) w.EndArray();
  w.EndArray();
  CHECK(out == expected.dump(4));  // before the writer is gone
}

}  // namespace
}  // namespace kiln
