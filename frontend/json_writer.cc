#include "frontend/json_writer.h"

#include <algorithm>
#include <bit>
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
  if (i < text.size()) {
    // The last few bytes, padded with plain ones to a whole word.
    uint64_t word = kOnes * 'a';
    std::memcpy(&word, text.data() + i, text.size() - i);
    if (const uint64_t special = Special(word)) return i + FirstByte(special);
  }
  return text.size();
}

}  // namespace

void AppendJsonString(std::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t i = 0;
  while (i < text.size()) {
    // Copy the longest run that needs no escaping in one append.
    const size_t run = FindSpecial(text, i);
    out->append(text.data() + i, run - i);
    i = run;
    if (i == text.size()) break;
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const size_t length = Utf8SequenceLength(text.substr(i));
      if (length == 0) {
        out->append("\xEF\xBF\xBD");
        ++i;
      } else {
        out->append(text.data() + i, length);
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xF]);
    }
    ++i;
  }
  out->push_back('"');
}

JsonWriter::JsonWriter(std::FILE* file, int indent) : file_(file), out_(&buffer_), indent_(indent) {
  buffer_.reserve(kFlushSize + 4096);
}

void JsonWriter::Flush() {
  if (!file_ || buffer_.empty()) return;
  std::fwrite(buffer_.data(), 1, buffer_.size(), file_);
  buffer_.clear();
}

namespace {

/// A separator and a line break followed by spaces: what comes before a value, copied in one
/// piece rather than character by character.
constexpr std::string_view kBreak =
    ",\n                                                                                ";

}  // namespace

void JsonWriter::Newline(size_t depth) {
  Break(false, depth);
}

void JsonWriter::Break(bool comma, size_t depth) {
  const std::string_view line = kBreak.substr(comma ? 0 : 1);
  size_t width = (comma ? 2 : 1) + depth * static_cast<size_t>(indent_);
  out_->append(line.data(), std::min(width, line.size()));
  for (width -= std::min(width, line.size()); width > 0;) {
    const size_t part = std::min(width, kBreak.size() - 2);
    out_->append(kBreak.data() + 2, part);
    width -= part;
  }
}

void JsonWriter::BeforeValue() {
  // Every value and key starts here: the one place to keep the file buffer small.
  if (file_ && buffer_.size() >= kFlushSize) Flush();
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (empty_.empty()) return;
  const bool comma = !empty_.back();
  empty_.back() = false;
  if (indent_ >= 0)
    Break(comma, empty_.size());
  else if (comma)
    out_->push_back(',');
}

void JsonWriter::Key(std::string_view key) {
  BeforeValue();
  // A plain key (all of them but odd map keys) goes in with its quotes and colon in one piece.
  char piece[64];
  if (key.size() + 4 <= sizeof piece && FindSpecial(key, 0) == key.size()) {
    piece[0] = '"';
    std::memcpy(piece + 1, key.data(), key.size());
    std::memcpy(piece + 1 + key.size(), "\": ", 3);
    out_->append(piece, key.size() + (indent_ >= 0 ? 4 : 3));
  } else {
    AppendJsonString(key, out_);
    out_->append(indent_ >= 0 ? ": " : ":");
  }
  after_key_ = true;
}

void JsonWriter::Open(char bracket) {
  BeforeValue();
  out_->push_back(bracket);
  empty_.push_back(true);
}

void JsonWriter::Close(char bracket) {
  const bool empty = empty_.back();
  empty_.pop_back();
  if (!empty && indent_ >= 0) Newline(empty_.size());
  out_->push_back(bracket);
}

void JsonWriter::String(std::string_view text) {
  BeforeValue();
  AppendJsonString(text, out_);
}

void JsonWriter::Int(int64_t value) {
  BeforeValue();
  out_->append(std::to_string(value));
}

void JsonWriter::Bool(bool value) {
  BeforeValue();
  out_->append(value ? "true" : "false");
}

void JsonWriter::Null() {
  BeforeValue();
  out_->append("null");
}

void JsonWriter::Strings(const std::vector<std::string>& texts) {
  BeginArray();
  for (const std::string& text : texts) String(text);
  EndArray();
}

}  // namespace kiln
