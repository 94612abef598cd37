#include "frontend/shell_word.h"

#include <cstring>
#include <optional>
#include <utility>

#include "frontend/text.h"

namespace kiln {
namespace {

constexpr int kEnd = -1;

bool IsAsciiLetter(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsNameChar(int c) {
  return IsAsciiLetter(c) || IsAsciiDigit(c) || c == '_';
}

/// POSIX special parameters ($@, $#, ...); BuildKit reads them as one-character names.
bool IsSpecialParam(int c) {
  return c > 0 && std::strchr("@*#?-$!0", c) != nullptr;
}

/// Go's unicode.IsSpace restricted to ASCII.

bool IsContinuationByte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

/// Length of the UTF-8 sequence starting at s[i] (1 for invalid bytes).

/// Word splitting as BuildKit's ProcessWords does it: characters that came from unquoted
/// text or unquoted `$` expansions split on whitespace; quoted text and escaped characters
/// never do. A word that is empty at a split point is dropped, so `""` yields no word.
class WordSplitter {
 public:
  void AddChar(char c) {
    if (!IsSpace(c)) {
      AddRawChar(c);
    } else if (in_word_ && !word_.empty()) {
      words_.push_back(std::move(word_));
      word_.clear();
      in_word_ = false;
    }
  }
  void AddRawChar(char c) {
    word_ += c;
    in_word_ = true;
  }
  void AddString(std::string_view s) {
    for (char c : s) AddChar(c);
  }
  void AddRawString(std::string_view s) {
    word_ += s;
    in_word_ = true;
  }
  std::vector<std::string> Finish() {
    if (!word_.empty()) words_.push_back(std::move(word_));
    return std::move(words_);
  }

 private:
  std::string word_;
  bool in_word_ = false;
  std::vector<std::string> words_;
};

/// Matches one bracket expression `[...]` at pattern[i] against rune `r`; sets `end` to the
/// index after `]`. Returns nullopt when the bracket is unterminated (then `[` is literal).
std::optional<bool> MatchShellClass(std::string_view pattern, size_t i, std::string_view r,
                                    size_t* end) {
  size_t p = i + 1;
  bool negate = p < pattern.size() && (pattern[p] == '!' || pattern[p] == '^');
  if (negate) ++p;
  bool matched = false;
  bool first = true;
  auto read_member = [&](std::string_view* out) {
    if (pattern[p] == '\\' && p + 1 < pattern.size()) ++p;
    size_t n = RuneLength(pattern, p);
    *out = pattern.substr(p, n);
    p += n;
  };
  while (p < pattern.size()) {
    if (pattern[p] == ']' && !first) {
      *end = p + 1;
      return matched != negate;
    }
    first = false;
    std::string_view lo;
    read_member(&lo);
    std::string_view hi = lo;
    if (p + 1 < pattern.size() && pattern[p] == '-' && pattern[p + 1] != ']') {
      ++p;
      read_member(&hi);
    }
    // Byte-wise comparison of UTF-8 sequences orders code points correctly.
    if (lo <= r && r <= hi) matched = true;
  }
  return std::nullopt;
}

/// Shell pattern matching (`*`, `?`, `[...]`, `\` escapes) of the whole of `s`.
bool ShellGlobMatch(std::string_view pattern, std::string_view s) {
  size_t pi = 0;
  size_t si = 0;
  while (pi < pattern.size()) {
    const char c = pattern[pi];
    if (c == '*') {
      while (pi < pattern.size() && pattern[pi] == '*') ++pi;
      if (pi == pattern.size()) return true;
      for (size_t k = si; k <= s.size(); ++k) {
        if (ShellGlobMatch(pattern.substr(pi), s.substr(k))) return true;
      }
      return false;
    }
    if (si >= s.size()) return false;
    const size_t rune = RuneLength(s, si);
    if (c == '?') {
      pi += 1;
      si += rune;
      continue;
    }
    if (c == '[') {
      size_t end = 0;
      if (std::optional<bool> hit = MatchShellClass(pattern, pi, s.substr(si, rune), &end)) {
        if (!*hit) return false;
        pi = end;
        si += rune;
        continue;
      }
    }
    size_t literal = pi;
    if (c == '\\' && pi + 1 < pattern.size()) literal = pi + 1;
    if (pattern[literal] != s[si]) return false;
    pi = literal + 1;
    si += 1;
  }
  return si == s.size();
}

bool IsRuneBoundary(std::string_view s, size_t i) {
  return i == 0 || i >= s.size() || !IsContinuationByte(s[i]);
}

/// `${VAR#pattern}` / `${VAR##pattern}`: removes the shortest (longest) matching prefix.
std::string TrimPrefix(std::string_view pattern, std::string_view value, bool longest) {
  for (size_t n = 0; n <= value.size(); ++n) {
    const size_t len = longest ? value.size() - n : n;
    if (IsRuneBoundary(value, len) && ShellGlobMatch(pattern, value.substr(0, len))) {
      return std::string(value.substr(len));
    }
  }
  return std::string(value);
}

/// `${VAR%pattern}` / `${VAR%%pattern}`: removes the shortest (longest) matching suffix.
std::string TrimSuffix(std::string_view pattern, std::string_view value, bool longest) {
  for (size_t n = 0; n <= value.size(); ++n) {
    const size_t start = longest ? n : value.size() - n;
    if (IsRuneBoundary(value, start) && ShellGlobMatch(pattern, value.substr(start))) {
      return std::string(value.substr(0, start));
    }
  }
  return std::string(value);
}

/// The leftmost match of `pattern` in `value` at or after `from`, longest at that start.
std::optional<std::pair<size_t, size_t>> FindMatch(std::string_view pattern, std::string_view value,
                                                   size_t from) {
  for (size_t start = from; start <= value.size(); ++start) {
    if (!IsRuneBoundary(value, start)) continue;
    for (size_t end = value.size() + 1; end-- > start;) {
      if (IsRuneBoundary(value, end) && ShellGlobMatch(pattern, value.substr(start, end - start))) {
        return std::make_pair(start, end);
      }
    }
  }
  return std::nullopt;
}

/// `${VAR/pattern/replacement}` and `${VAR//pattern/replacement}`. Replacing all follows Go's
/// regexp.ReplaceAllString, which BuildKit uses: an empty match right after a previous match
/// is skipped, so `${V//*/x}` gives one `x`.
std::string Replace(std::string_view pattern, std::string_view replacement, std::string_view value,
                    bool all) {
  std::string out;
  size_t copied = 0;
  size_t search = 0;
  std::optional<size_t> last_end;
  while (search <= value.size()) {
    auto match = FindMatch(pattern, value, search);
    if (!match) break;
    const auto [start, end] = *match;
    const bool empty = start == end;
    if (!(empty && last_end == start)) {
      out.append(value.substr(copied, start - copied));
      out.append(replacement);
      copied = end;
      last_end = end;
      if (!all) break;
    }
    search = empty ? end + (end < value.size() ? RuneLength(value, end) : 1) : end;
  }
  out.append(value.substr(copied));
  return out;
}

/// One expansion pass over a word; mirrors the structure of BuildKit's shellWord.
class Lexer {
 public:
  Lexer(std::string_view text, char escape, const Variables& vars, std::set<std::string>* used)
      : text_(text), escape_(escape), vars_(vars), used_(used) {}

  std::string ExpandAll(WordSplitter* words) {
    return ProcessUntil(kEnd, /*raw_escapes=*/false, words, "", 0);
  }

 private:
  int Peek() const { return pos_ < text_.size() ? static_cast<unsigned char>(text_[pos_]) : kEnd; }
  char Next() { return text_[pos_++]; }
  bool AtEnd() const { return pos_ >= text_.size(); }

  /// Reads up to `stop` (consumed) or the end when `stop` is kEnd. With `raw_escapes` the
  /// escape characters are kept, as patterns of `#`, `%` and `/` need them.
  std::string ProcessUntil(int stop, bool raw_escapes, WordSplitter* words,
                           const char* missing_stop, size_t open) {
    std::string result;
    while (!AtEnd()) {
      const int c = Peek();
      if (stop != kEnd && c == stop) {
        Next();
        return result;
      }
      if (c == '$' || c == '\'' || c == '"') {
        const std::string part = c == '$'    ? Dollar()
                                 : c == '\'' ? SingleQuote()
                                             : DoubleQuote(raw_escapes);
        result += part;
        if (words && c == '$') words->AddString(part);
        if (words && c != '$') words->AddRawString(part);
        continue;
      }
      char ch = Next();
      if (ch == escape_) {
        if (raw_escapes) {
          result += ch;
          if (words) words->AddRawChar(ch);
        }
        if (AtEnd()) break;  // a trailing escape character vanishes
        ch = Next();
        if (words) words->AddRawChar(ch);
      } else if (words) {
        words->AddChar(ch);
      }
      result += ch;
    }
    if (stop != kEnd) throw ExpansionError(missing_stop, open);
    return result;
  }

  /// A word part inside `${...}`. As in BuildKit, any error that ran into the end of the
  /// input is reported as the missing delimiter of the substitution.
  std::string ProcessPart(int stop, bool raw_escapes, const char* missing_stop, size_t dollar) {
    try {
      return ProcessUntil(stop, raw_escapes, nullptr, missing_stop, dollar);
    } catch (const ExpansionError&) {
      if (AtEnd()) throw ExpansionError(missing_stop, dollar);
      throw;
    }
  }

  std::string SingleQuote() {
    const size_t open = pos_;
    Next();
    std::string result;
    while (!AtEnd()) {
      const char c = Next();
      if (c == '\'') return result;
      result += c;
    }
    throw ExpansionError("unexpected end of statement while looking for matching single-quote",
                         open);
  }

  /// Inside double quotes the escape character escapes only `"`, `$` and itself (BuildKit
  /// leaves newline and backquote alone); before anything else it stays literal.
  std::string DoubleQuote(bool raw_escapes) {
    const size_t open = pos_;
    Next();
    std::string result;
    while (!AtEnd()) {
      const int c = Peek();
      if (c == '"') {
        Next();
        return result;
      }
      if (c == '$') {
        result += Dollar();
        continue;
      }
      char ch = Next();
      if (ch == escape_) {
        if (raw_escapes) result += ch;
        const int n = Peek();
        if (n == '"' || n == '$' || n == static_cast<unsigned char>(escape_)) ch = Next();
        if (n == kEnd) continue;
      }
      result += ch;
    }
    throw ExpansionError("unexpected end of statement while looking for matching double-quote",
                         open);
  }

  /// A parameter name: a run of digits (positional), one special character, or
  /// [A-Za-z0-9_]*. Empty when none starts here.
  std::string Name() {
    const size_t start = pos_;
    if (IsAsciiDigit(Peek())) {
      while (IsAsciiDigit(Peek())) Next();
    } else if (IsSpecialParam(Peek())) {
      Next();
    } else {
      while (IsNameChar(Peek())) Next();
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  std::optional<std::string> Lookup(const std::string& name) {
    if (used_) used_->insert(name);
    auto it = vars_.find(name);
    if (it == vars_.end()) return std::nullopt;
    return it->second;
  }

  std::string Dollar() {
    const size_t dollar = pos_;
    Next();
    if (Peek() == '{') return Braced(dollar);
    const std::string name = Name();
    if (name.empty()) return "$";
    return Lookup(name).value_or("");
  }

  [[noreturn]] static void Unsupported(std::string_view modifier, size_t dollar) {
    throw ExpansionError("syntax error: bad substitution: unsupported modifier (" +
                             std::string(modifier) + ") in substitution",
                         dollar);
  }

  std::string Braced(size_t dollar) {
    static constexpr char kMissingBrace[] = "syntax error: missing '}'";
    Next();
    const int first = Peek();
    if (first == kEnd) throw ExpansionError(kMissingBrace, dollar);
    if (first == '{' || first == '}' || first == ':') {
      throw ExpansionError("syntax error: bad substitution", dollar);
    }
    const std::string name = Name();
    if (AtEnd()) throw ExpansionError(kMissingBrace, dollar);
    const char op = Next();
    switch (op) {
      case '}':
        return Lookup(name).value_or("");
      case ':': {
        if (AtEnd()) throw ExpansionError(kMissingBrace, dollar);
        const char op2 = Next();
        if (!std::strchr("-+?#%", op2)) Unsupported(std::string(":") + op2, dollar);
        return Modifier(name, op2, /*null_is_unset=*/true, dollar);
      }
      case '-':
      case '+':
      case '?':
      case '#':
      case '%':
        return Modifier(name, op, /*null_is_unset=*/false, dollar);
      case '/':
        return Substitute(name, dollar);
      default:
        Unsupported(std::string(1, op), dollar);
    }
  }

  std::string Modifier(const std::string& name, char op, bool null_is_unset, size_t dollar) {
    const bool pattern = op == '#' || op == '%';
    std::string word = ProcessPart('}', pattern, "syntax error: missing '}'", dollar);
    const std::optional<std::string> value = Lookup(name);
    const bool unset = !value || (null_is_unset && value->empty());
    switch (op) {
      case '-':
        return unset ? word : *value;
      case '+':
        return unset ? "" : word;
      case '?':
        if (!unset) return *value;
        if (word.empty())
          word = value ? "is not allowed to be empty" : "is not allowed to be unset";
        throw ExpansionError(name + ": " + word, dollar);
      default: {
        // `##` and `%%` arrive as a pattern starting with the operator again.
        const bool longest = !word.empty() && word[0] == op;
        const std::string_view pat = std::string_view(word).substr(longest ? 1 : 0);
        const std::string_view v = value ? std::string_view(*value) : std::string_view();
        return op == '#' ? TrimPrefix(pat, v, longest) : TrimSuffix(pat, v, longest);
      }
    }
  }

  std::string Substitute(const std::string& name, size_t dollar) {
    const bool all = Peek() == '/';
    if (all) Next();
    const std::string pattern = ProcessPart('/', true, "syntax error: missing '/' in ${}", dollar);
    const std::string replacement = ProcessPart('}', true, "syntax error: missing '}'", dollar);
    const std::optional<std::string> value = Lookup(name);
    return Replace(pattern, replacement, value.value_or(""), all);
  }

  std::string_view text_;
  char escape_;
  const Variables& vars_;
  std::set<std::string>* used_;
  size_t pos_ = 0;
};

}  // namespace

std::string ShellWordExpander::ExpandWord(std::string_view text, const Variables& vars,
                                          std::set<std::string>* used) const {
  // Most words hold nothing to expand, unquote or unescape: they are their own value.
  const char specials[] = {'$', '\'', '"', escape_, '\0'};
  if (text.find_first_of(specials) == std::string_view::npos) return std::string(text);
  return Lexer(text, escape_, vars, used).ExpandAll(nullptr);
}

std::vector<std::string> ShellWordExpander::ExpandWords(std::string_view text,
                                                        const Variables& vars,
                                                        std::set<std::string>* used) const {
  WordSplitter words;
  Lexer(text, escape_, vars, used).ExpandAll(&words);
  return words.Finish();
}

}  // namespace kiln
