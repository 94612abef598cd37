#include "frontend/json_writer.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstring>

namespace kiln {
namespace {

/// Length of the valid UTF-8 sequence at the start of `text`, 0 when it is not one.
size_t Utf8SequenceLength(std::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // range of the second byte
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (text.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (size_t i = 2; i < length; ++i)
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  return length;
}

constexpr uint64_t kOnes = 0x0101010101010101ULL;

/// The high bit of each byte of the result says whether that byte of `word` is < 0x20, '"',
/// '\\' or >= 0x80 (SWAR tests: a borrow can flag a byte above a flagged one, never below it, so
/// the lowest flag is exact).
uint64_t Special(uint64_t word) {
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  const uint64_t quote = word ^ (kOnes * '"');
  const uint64_t backslash = word ^ (kOnes * '\\');
  return (((word - kOnes * 0x20) & ~word) | ((quote - kOnes) & ~quote) |
          ((backslash - kOnes) & ~backslash) | word) &
         kHighs;
}

/// True for the bytes Special() flags, for the few bytes after the last whole word.
constexpr std::array<bool, 256> kSpecialByte = [] {
  std::array<bool, 256> special{};
  for (int c = 0; c < 256; ++c) special[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
  return special;
}();

/// The index in memory order of the first byte flagged in `special` (not 0).
size_t FirstByte(uint64_t special) {
  const int bit = std::endian::native == std::endian::little ? std::countr_zero(special)
                                                             : std::countl_zero(special);
  return static_cast<size_t>(bit) / 8;
}

/// Index of the first byte at or after `from` that JSON text cannot hold as it is (a control
/// character, '"', '\\' or a byte of a multi-byte UTF-8 sequence, checked apart); text.size()
/// when there is none. Eight bytes at a time: most text needs no escaping at all.
size_t FindSpecial(std::string_view text, size_t from) {
  size_t i = from;
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, text.data() + i, sizeof word);
    if (const uint64_t special = Special(word)) return i + FirstByte(special);
  }
  for (; i < text.size(); ++i)
    if (kSpecialByte[static_cast<unsigned char>(text[i])]) return i;
  return text.size();
}

/// Writes `text` as a JSON string literal (quotes included) through `put`, called with each
/// piece in order: runs that need no escaping whole, escapes one by one.
template <class Put>
void WriteJsonString(std::string_view text, Put&& put) {
  static constexpr char kHex[] = "0123456789abcdef";
  put(std::string_view("\"", 1));
  size_t i = 0;
  while (i < text.size()) {
    const size_t run = FindSpecial(text, i);
    if (run > i) put(text.substr(i, run - i));
    i = run;
    if (i == text.size()) break;
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const size_t length = Utf8SequenceLength(text.substr(i));
      put(length == 0 ? std::string_view("\xEF\xBF\xBD") : text.substr(i, length));
      i += length == 0 ? 1 : length;
      continue;
    }
    switch (c) {
      case '"':
        put("\\\"");
        break;
      case '\\':
        put("\\\\");
        break;
      case '\b':
        put("\\b");
        break;
      case '\f':
        put("\\f");
        break;
      case '\n':
        put("\\n");
        break;
      case '\r':
        put("\\r");
        break;
      case '\t':
        put("\\t");
        break;
      default: {
        const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        put(std::string_view(escape, sizeof escape));
      }
    }
    ++i;
  }
  put(std::string_view("\"", 1));
}

/// A separator and a line break followed by spaces: what comes before a value, copied in one
/// piece rather than character by character.
constexpr std::string_view kBreak =
    ",\n                                                                                ";

}  // namespace

void AppendJsonString(std::string_view text, std::string* out) {
  WriteJsonString(text, [out](std::string_view piece) { out->append(piece); });
}

JsonWriter::JsonWriter(std::string* out, int indent)
    : JsonWriter(indent, nullptr, out, kStringBufferSize) {}

JsonWriter::JsonWriter(std::FILE* file, int indent)
    : JsonWriter(indent, file, nullptr, kFileBufferSize) {}

JsonWriter::JsonWriter(int indent, std::FILE* file, std::string* out, size_t buffer_size)
    : buffer_(new char[buffer_size]),
      pos_(buffer_.get()),
      end_(buffer_.get() + buffer_size),
      file_(file),
      out_(out),
      indent_(indent) {}

void JsonWriter::Flush() {
  const size_t size = static_cast<size_t>(pos_ - buffer_.get());
  if (size == 0) return;
  if (file_)
    std::fwrite(buffer_.get(), 1, size, file_);
  else
    out_->append(buffer_.get(), size);
  pos_ = buffer_.get();
}

void JsonWriter::Spill(size_t more) {
  Flush();
  if (more > static_cast<size_t>(end_ - pos_)) {  // larger than the whole buffer
    buffer_.reset(new char[more]);
    pos_ = buffer_.get();
    end_ = pos_ + more;
  }
}

void JsonWriter::EndValue() {
  // A whole document is in the string or file as soon as it is written.
  if (empty_.empty()) Flush();
}

void JsonWriter::Newline(size_t depth) {
  Break(false, depth);
}

void JsonWriter::Break(bool comma, size_t depth) {
  const size_t skip = comma ? 0 : 1;  // kBreak without its comma
  size_t width = depth * static_cast<size_t>(indent_);
  if (width <= kBreak.size() - 2) {
    Put(std::string_view(kBreak.data() + skip, 2 - skip + width));
    return;
  }
  Put(std::string_view(kBreak.data() + skip, kBreak.size() - skip));
  for (width -= kBreak.size() - 2; width > 0;) {
    const size_t part = std::min(width, kBreak.size() - 2);
    Put(std::string_view(kBreak.data() + 2, part));
    width -= part;
  }
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (empty_.empty()) return;
  const bool comma = !empty_.back();
  empty_.back() = 0;
  if (indent_ >= 0)
    Break(comma, empty_.size());
  else if (comma)
    Put(',');
}

void JsonWriter::Key(std::string_view key) {
  BeforeValue();
  // A plain key (all of them but odd map keys) goes in with its quotes and colon in one piece.
  // Keys are short: copied and checked in one pass.
  char piece[64];
  bool plain = key.size() + 4 <= sizeof piece;
  for (size_t i = 0; plain && i < key.size(); ++i) {
    piece[i + 1] = key[i];
    plain = !kSpecialByte[static_cast<unsigned char>(key[i])];
  }
  if (plain) {
    piece[0] = '"';
    std::memcpy(piece + 1 + key.size(), "\": ", 3);
    Put(std::string_view(piece, key.size() + (indent_ >= 0 ? 4 : 3)));
  } else {
    WriteJsonString(key, [this](std::string_view part) { Put(part); });
    Put(indent_ >= 0 ? std::string_view(": ") : std::string_view(":"));
  }
  after_key_ = true;
}

void JsonWriter::Open(char bracket) {
  BeforeValue();
  Put(bracket);
  empty_.push_back(1);
}

void JsonWriter::Close(char bracket) {
  const bool empty = empty_.back();
  empty_.pop_back();
  if (!empty && indent_ >= 0) Newline(empty_.size());
  Put(bracket);
  EndValue();
}

void JsonWriter::String(std::string_view text) {
  BeforeValue();
  WriteJsonString(text, [this](std::string_view part) { Put(part); });
  EndValue();
}

void JsonWriter::Int(int64_t value) {
  BeforeValue();
  char digits[24];
  const char* end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  Put(std::string_view(digits, static_cast<size_t>(end - digits)));
  EndValue();
}

void JsonWriter::Bool(bool value) {
  BeforeValue();
  Put(value ? std::string_view("true") : std::string_view("false"));
  EndValue();
}

void JsonWriter::Null() {
  BeforeValue();
  Put(std::string_view("null"));
  EndValue();
}

void JsonWriter::Strings(const std::vector<std::string>& texts) {
  BeginArray();
  for (const std::string& text : texts) String(text);
  EndArray();
}

}  // namespace kiln
