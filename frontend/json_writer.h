// A streaming JSON writer: the frontend's large documents (`kiln parse --json`, step graphs) are
// written straight to text instead of through a JSON tree, which costs several times more.
#pragma once

#include <cstdint>
#include <cstdio>
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
  /// Writes to `file` through a reused buffer of about kFlushSize bytes, so a large document
  /// never exists as one string; the rest is written by Flush() or the destructor.
  JsonWriter(std::FILE* file, int indent);
  ~JsonWriter() { Flush(); }
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  /// With a file: writes what is buffered to it. With a string: does nothing.
  void Flush();

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
  /// `,` when `comma`, then a line break and the indentation of `depth`.
  void Break(bool comma, size_t depth);

  static constexpr size_t kFlushSize = 64 * 1024;

  std::string buffer_;  ///< the text not yet written to file_
  std::FILE* file_ = nullptr;
  std::string* out_;
  int indent_;
  std::vector<bool> empty_;  ///< per open container: nothing written in it yet
  bool after_key_ = false;
};

/// `text` as a JSON string literal (quotes included), as JsonWriter writes it.
void AppendJsonString(std::string_view text, std::string* out);

}  // namespace kiln
