// A streaming JSON writer: the frontend's large documents (`kiln parse --json`, step graphs) are
// written straight to text instead of through a JSON tree, which costs several times more.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
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
  /// Appends to `*out`; each complete top-level value is in `*out` as soon as it is written.
  explicit JsonWriter(std::string* out, int indent = -1);
  /// Writes to `file` through a reused buffer of about kFileBufferSize bytes, so a large
  /// document never exists as one string; the rest is written by Flush() or the destructor.
  JsonWriter(std::FILE* file, int indent);
  ~JsonWriter() { Flush(); }
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  /// Hands what is buffered to the file or the string.
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
  JsonWriter(int indent, std::FILE* file, std::string* out, size_t buffer_size);

  void Open(char bracket);
  void Close(char bracket);
  /// Separator and indentation before a value that is not an object member's.
  void BeforeValue();
  /// After each value: a complete top-level value is handed over at once.
  void EndValue();
  void Newline(size_t depth);
  /// `,` when `comma`, then a line break and the indentation of `depth`.
  void Break(bool comma, size_t depth);

  // Text goes into a plain buffer, not a std::string: appending is a copy and a pointer bump.
  void Put(std::string_view bytes) {
    if (bytes.size() > static_cast<size_t>(end_ - pos_)) Spill(bytes.size());
    std::memcpy(pos_, bytes.data(), bytes.size());
    pos_ += bytes.size();
  }
  void Put(char c) {
    if (pos_ == end_) Spill(1);
    *pos_++ = c;
  }
  /// Flushes, and makes the buffer hold at least `more` bytes.
  void Spill(size_t more);

  static constexpr size_t kFileBufferSize = 64 * 1024;
  static constexpr size_t kStringBufferSize = 4 * 1024;

  std::unique_ptr<char[]> buffer_;
  char* pos_;  ///< the end of the text not yet handed over
  char* end_;  ///< the end of buffer_
  std::FILE* file_;
  std::string* out_;
  int indent_;
  std::vector<unsigned char> empty_;  ///< per open container: nothing written in it yet
  bool after_key_ = false;
};

/// `text` as a JSON string literal (quotes included), as JsonWriter writes it.
void AppendJsonString(std::string_view text, std::string* out);

}  // namespace kiln
