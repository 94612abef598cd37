// A streaming JSON writer: the frontend's large documents (`kiln parse --json`, step graphs) are
// written straight to text instead of through a JSON tree, which costs several times more.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

/// Appends JSON text to a string in exactly nlohmann::json's dump(indent) layout (indent < 0:
/// compact; strings escaped the same way). Bytes that are not valid UTF-8 become U+FFFD, as
/// with nlohmann's error_handler_t::replace. The caller keeps the calls well nested: Key()
/// before each member of an object, one value per key.
class JsonWriter {
 public:
  explicit JsonWriter(std::string* out, int indent = -1) : out_(out), indent_(indent) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  void Key(std::string_view key);

  void String(std::string_view text);
  void Int(int64_t value);
  void Bool(bool value);
  void Null();

  void Strings(const std::vector<std::string>& texts);

 private:
  void Open(char bracket);
  void Close(char bracket);
  /// Separator and indentation before a value that is not an object member's.
  void BeforeValue();
  void Newline(size_t depth);

  std::string* out_;
  int indent_;
  std::vector<bool> empty_;  ///< per open container: nothing written in it yet
  bool after_key_ = false;
};

/// `text` as a JSON string literal (quotes included), as JsonWriter writes it.
void AppendJsonString(std::string_view text, std::string* out);

}  // namespace kiln
