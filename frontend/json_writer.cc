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

/// Index of the first byte at or after `from` that JSON text cannot hold as it is (a control
/// character, '"', '\\' or a byte of a multi-byte UTF-8 sequence, checked apart); text.size()
/// when there is none. Eight bytes at a time: most text needs no escaping at all.
size_t FindSpecial(std::string_view text, size_t from) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  size_t i = from;
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, text.data() + i, sizeof word);
    // The high bit of each byte of `special` says: < 0x20, '"', '\\' or >= 0x80 (SWAR tests; a
    // borrow can flag a byte above a flagged one, never below it, so the lowest flag is exact).
    const uint64_t quote = word ^ (kOnes * '"');
    const uint64_t backslash = word ^ (kOnes * '\\');
    const uint64_t special = (((word - kOnes * 0x20) & ~word) | ((quote - kOnes) & ~quote) |
                              ((backslash - kOnes) & ~backslash) | word) &
                             kHighs;
    if (special != 0) {
      const int bit = std::endian::native == std::endian::little ? std::countr_zero(special)
                                                                 : std::countl_zero(special);
      return i + static_cast<size_t>(bit) / 8;
    }
  }
  for (; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) return i;
  }
  return i;
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

void JsonWriter::Newline(size_t depth) {
  // Copied from a line of spaces rather than filled character by character.
  static constexpr std::string_view kSpaces =
      "\n                                                                ";
  size_t width = depth * static_cast<size_t>(indent_) + 1;
  out_->append(kSpaces.data(), std::min(width, kSpaces.size()));
  for (width -= std::min(width, kSpaces.size()); width > 0;) {
    const size_t part = std::min(width, kSpaces.size() - 1);
    out_->append(kSpaces.data() + 1, part);
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
  if (!empty_.back()) out_->push_back(',');
  empty_.back() = false;
  if (indent_ >= 0) Newline(empty_.size());
}

void JsonWriter::Key(std::string_view key) {
  BeforeValue();
  AppendJsonString(key, out_);
  out_->append(indent_ >= 0 ? ": " : ":");
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
