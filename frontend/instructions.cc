#include "frontend/instructions.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "frontend/instruction_flags.h"
#include "frontend/run_mount.h"
#include "frontend/text.h"

namespace kiln {

std::string LiteralWords::Word(std::string_view raw) const {
  return std::string(raw);
}

std::vector<std::string> LiteralWords::Words(std::string_view raw) const {
  std::vector<std::string> words;
  std::string current;
  for (char c : raw) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!current.empty()) words.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

DockerfileError ErrorAt(const SyntaxTree& tree, const Node& node, const std::string& message,
                        std::string_view token) {
  SourceLocation location{tree.file, node.line, node.column};
  std::string line;
  if (node.line >= 1 && node.line <= static_cast<int>(tree.lines.size()))
    line = tree.lines[node.line - 1];
  if (!token.empty() && !line.empty()) {
    // Skip the keyword so a token that happens to occur inside it is not matched there.
    const size_t from = std::min(
        line.size(), static_cast<size_t>(std::max(node.column - 1, 0)) + node.instruction.size());
    if (const size_t at = line.find(token, from); at != std::string::npos)
      location.column = static_cast<int>(at) + 1;
  }
  return DockerfileError(std::move(location), message, line);
}

bool ExpandsVariables(std::string_view keyword) {
  static const std::set<std::string_view> expanded = {
      "ADD", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"};
  return expanded.count(keyword) > 0;
}

std::optional<int64_t> ParseGoDuration(std::string_view text) {
  static const std::map<std::string_view, long double> units = {
      {"ns", 1.0L}, {"us", 1e3L}, {"\xc2\xb5s", 1e3L}, {"\xce\xbcs", 1e3L},
      {"ms", 1e6L}, {"s", 1e9L},  {"m", 60e9L},        {"h", 3600e9L}};
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text == "0") return 0;
  if (text.empty()) return std::nullopt;
  long double total = 0;
  while (!text.empty()) {
    size_t i = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    size_t digits = i;
    if (i < text.size() && text[i] == '.') {
      ++i;
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++digits;
    }
    if (digits == 0) return std::nullopt;
    const long double number = std::stold(std::string(text.substr(0, i)));
    size_t j = i;
    while (j < text.size() && text[j] != '.' && !std::isdigit(static_cast<unsigned char>(text[j])))
      ++j;
    const auto unit = units.find(text.substr(i, j - i));
    if (unit == units.end()) return std::nullopt;
    total += number * unit->second;
    text.remove_prefix(j);
  }
  if (total > static_cast<long double>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  const auto ns = static_cast<int64_t>(std::llround(total));
  return negative ? -ns : ns;
}

namespace {

std::string Join(const std::vector<std::string>& words, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += separator;
    out += words[i];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the instruction parsers

/// One node being typed: where errors go and how words expand.
struct Typing {
  const Node& node;
  const SyntaxTree& tree;
  const WordExpander& words;
  Flags flags;
  bool literal = false;  ///< no expander: words kept as written (ONBUILD triggers)

  /// True when `value` still holds variables, so its content is checked once it is expanded.
  bool Unexpanded(std::string_view value) const {
    return literal && value.find('$') != std::string_view::npos;
  }

  [[noreturn]] void Fail(const std::string& message, std::string_view token = {}) const {
    throw ErrorAt(tree, node, message, token);
  }
  /// The raw argument text of single-value instructions (USER, WORKDIR, ...).
  std::string RestText() const {
    switch (node.form) {
      case ArgForm::kShell:
        return node.args.empty() ? std::string() : std::string(Trim(node.args[0]));
      case ArgForm::kExec:
        return nlohmann::json(node.args).dump();
      case ArgForm::kWords:
        return Join(node.args, " ");
      case ArgForm::kPairs: {
        std::vector<std::string> parts;
        for (const KeyValue& kv : node.pairs) parts.push_back(kv.key + "=" + kv.value);
        return Join(parts, " ");
      }
    }
    return {};
  }
  /// The raw words of word-list instructions, whatever form the parser gave.
  std::vector<std::string> RawWords() const {
    if (node.form == ArgForm::kShell) {
      std::vector<std::string> out;
      for (const std::string& arg : node.args) {
        const auto split = LiteralWords().Words(arg);
        out.insert(out.end(), split.begin(), split.end());
      }
      return out;
    }
    return node.args;
  }
  /// Expanded words of VOLUME/EXPOSE: split after expansion unless the exec form was used.
  std::vector<std::string> ExpandedList() const {
    std::vector<std::string> out;
    if (node.form == ArgForm::kExec) {
      for (const std::string& arg : node.args) out.push_back(words.Word(arg));
      return out;
    }
    for (const std::string& arg : node.args) {
      const auto split = words.Words(arg);
      out.insert(out.end(), split.begin(), split.end());
    }
    return out;
  }
  CommandLine Command() const {
    CommandLine command;
    if (node.form == ArgForm::kExec) {
      command.args = node.args;
      return command;
    }
    command.shell_form = true;
    std::string text = RestText();
    if (text.empty()) Fail(node.instruction + " requires at least one argument");
    command.args.push_back(std::move(text));
    return command;
  }
};

std::string StripTabs(std::string_view content) {
  std::string out;
  bool line_start = true;
  for (char c : content) {
    if (line_start && c == '\t') continue;
    line_start = c == '\n';
    out += c;
  }
  return out;
}

/// Prepares a here-document body for ExpandWord so that it expands like an unquoted shell
/// here-document: quotes and lone escapes stay literal, `\$` and `\\` still escape.
std::string ProtectHeredoc(std::string_view body, char escape) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    const char next = i + 1 < body.size() ? body[i + 1] : '\0';
    if (c == '"' || c == '\'') {
      out += escape;
      out += c;
    } else if (c == escape && (next == '$' || next == escape || next == '`')) {
      out += escape;
      out += next;
      ++i;
    } else if (c == escape && next == '\n') {
      ++i;  // a line continuation disappears, as in the shell
    } else if (c == escape) {
      out += escape;
      out += escape;
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<InlineFile> Heredocs(const Typing& t, bool expand) {
  std::vector<InlineFile> files;
  for (const Heredoc& doc : t.node.heredocs) {
    std::string content = doc.chomp ? StripTabs(doc.content) : doc.content;
    if (expand && doc.expand)
      content = t.words.Word(ProtectHeredoc(content, t.tree.directives.escape));
    files.push_back({doc.name, std::move(content)});
  }
  return files;
}

/// "<<NAME" when `word` names one of the node's here-documents (`<<-NAME`, `<<"NAME"` too).
std::optional<std::string> HeredocSource(const Node& node, std::string_view word) {
  if (!word.starts_with("<<")) return std::nullopt;
  word.remove_prefix(2);
  if (word.starts_with("-")) word.remove_prefix(1);
  if (word.size() >= 2 && (word.front() == '"' || word.front() == '\'') &&
      word.back() == word.front())
    word = word.substr(1, word.size() - 2);
  for (const Heredoc& doc : node.heredocs)
    if (doc.name == word) return "<<" + doc.name;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// FROM, ARG

const std::regex& StageNamePattern() {
  static const std::regex pattern("^[a-z][a-z0-9._-]*$");
  return pattern;
}

FromInstruction ParseFrom(const Typing& t) {
  const std::vector<std::string> words = t.RawWords();
  if (words.size() != 1 && !(words.size() == 3 && Lower(words[1]) == "as"))
    t.Fail("FROM requires either one or three arguments");
  FromInstruction from;
  from.image = t.words.Word(words[0]);
  if (from.image.empty()) t.Fail("base name (" + words[0] + ") should not be blank", words[0]);
  if (words.size() == 3) {
    from.stage_name = Lower(words[2]);
    if (!std::regex_match(from.stage_name, StageNamePattern()))
      t.Fail("invalid name for build stage: \"" + words[2] +
                 "\", name can't start with a number or contain symbols",
             words[2]);
  }
  if (t.flags.Has("platform")) {
    from.platform = t.words.Word(t.flags.Value("platform"));
    if (from.platform.empty()) t.Fail("flag --platform expects a value", t.flags.Word("platform"));
  }
  return from;
}

ArgInstruction ParseArg(const Typing& t) {
  ArgInstruction arg;
  auto add = [&](const std::string& name, std::optional<std::string> value) {
    if (name.empty()) t.Fail("ARG names can not be blank");
    if (std::any_of(name.begin(), name.end(),
                    [](char c) { return std::isspace(static_cast<unsigned char>(c)); }))
      t.Fail("invalid ARG name: " + name, name);
    if (value) value = t.words.Word(*value);
    arg.args.push_back({name, std::move(value)});
  };
  if (t.node.form == ArgForm::kPairs) {
    for (const KeyValue& kv : t.node.pairs)
      add(kv.key, kv.legacy && kv.value.empty() ? std::nullopt : std::optional(kv.value));
  } else {
    for (const std::string& word : t.RawWords()) {
      const size_t eq = word.find('=');
      if (eq == std::string::npos)
        add(word, std::nullopt);
      else
        add(word.substr(0, eq), word.substr(eq + 1));
    }
  }
  if (arg.args.empty()) t.Fail("ARG requires at least one argument");
  return arg;
}

// ---------------------------------------------------------------------------------------------
// RUN

RunInstruction ParseRun(const Typing& t) {
  RunInstruction run;
  run.command = t.Command();
  int ssh_index = 0;
  for (const std::string& spec : t.flags.Values("mount")) {
    try {
      run.mounts.push_back(ParseRunMount(spec, t.words, t.literal, ssh_index));
    } catch (const MountError& e) {
      t.Fail(e.what(), spec);
    }
    if (run.mounts.back().type == "ssh") ++ssh_index;
  }
  run.network = t.flags.Value("network");
  if (t.flags.Has("network") && run.network != "default" && run.network != "none" &&
      run.network != "host")
    t.Fail("unsupported network mode \"" + run.network + "\"", t.flags.Word("network"));
  run.security = t.flags.Value("security");
  if (t.flags.Has("security") && run.security != "sandbox" && run.security != "insecure")
    t.Fail("unsupported security mode \"" + run.security + "\"", t.flags.Word("security"));
  run.heredocs = Heredocs(t, false);
  return run;
}

// ---------------------------------------------------------------------------------------------
// COPY, ADD

bool IsUrl(std::string_view source) {
  return source.starts_with("http://") || source.starts_with("https://");
}

void ParseTransfer(const Typing& t, FileTransfer* out) {
  // The node's words as they are, unless the shell form needs them split.
  const std::vector<std::string> split =
      t.node.form == ArgForm::kShell ? t.RawWords() : std::vector<std::string>();
  const std::vector<std::string>& raw = t.node.form == ArgForm::kShell ? split : t.node.args;
  if (raw.size() < 2)
    t.Fail(t.node.instruction + " requires at least two arguments, but only " +
           std::to_string(raw.size()) + " was provided. Destination could not be determined.");
  for (size_t i = 0; i + 1 < raw.size(); ++i) {
    if (auto heredoc = t.node.form != ArgForm::kExec ? HeredocSource(t.node, raw[i]) : std::nullopt)
      out->sources.push_back(*heredoc);
    else
      out->sources.push_back(t.words.Word(raw[i]));
  }
  out->destination = t.words.Word(raw.back());
  if (out->destination.empty()) t.Fail("destination can not be empty", raw.back());
  out->heredocs = Heredocs(t, true);
  if (t.flags.Has("from")) out->from = t.words.Word(t.flags.Value("from"));
  out->chown = t.words.Word(t.flags.Value("chown"));
  out->chmod = t.words.Word(t.flags.Value("chmod"));
  if (t.flags.Has("chmod") && !IsOctalMode(out->chmod) && !t.Unexpanded(out->chmod))
    t.Fail("invalid chmod parameter: " + out->chmod + " (expected an octal mode such as 0755)",
           t.flags.Word("chmod"));
  out->link = t.flags.Bool("link");
  for (const std::string& pattern : t.flags.Values("exclude"))
    out->excludes.push_back(t.words.Word(pattern));
}

/// `sha256:` and 64 lower-case hex digits (std::regex cost more than the rest of an ADD).
bool IsSha256Digest(std::string_view text) {
  constexpr std::string_view kPrefix = "sha256:";
  if (text.size() != kPrefix.size() + 64 || !text.starts_with(kPrefix)) return false;
  return std::all_of(text.begin() + kPrefix.size(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

CopyInstruction ParseCopy(const Typing& t) {
  CopyInstruction copy;
  ParseTransfer(t, &copy);
  copy.parents = t.flags.Bool("parents");
  return copy;
}

AddInstruction ParseAdd(const Typing& t) {
  AddInstruction add;
  ParseTransfer(t, &add);
  add.keep_git_dir = t.flags.Bool("keep-git-dir");
  if (t.flags.Has("checksum")) {
    add.checksum = t.words.Word(t.flags.Value("checksum"));
    if (!IsSha256Digest(add.checksum) && !t.Unexpanded(add.checksum))
      t.Fail("invalid checksum digest format: " + add.checksum +
                 " (expected sha256: and 64 lower-case hex digits)",
             t.flags.Word("checksum"));
    for (const std::string& source : add.sources)
      if (!IsUrl(source))
        t.Fail("checksum can't be specified for non-HTTP(S) sources: " + source, source);
  }
  return add;
}

// ---------------------------------------------------------------------------------------------
// ENV, LABEL

std::vector<std::pair<std::string, std::string>> ParsePairs(const Typing& t) {
  std::vector<KeyValue> split;  // pairs written as words (ONBUILD triggers...)
  if (t.node.form != ArgForm::kPairs) {
    for (const std::string& word : t.RawWords()) {
      const size_t eq = word.find('=');
      if (eq == std::string::npos) t.Fail(t.node.instruction + " must have two arguments", word);
      split.push_back({word.substr(0, eq), word.substr(eq + 1), false});
    }
  }
  const std::vector<KeyValue>& pairs = t.node.form == ArgForm::kPairs ? t.node.pairs : split;
  if (pairs.empty()) t.Fail(t.node.instruction + " requires at least one argument");
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(pairs.size());
  for (const KeyValue& kv : pairs) {
    std::string key = t.words.Word(kv.key);
    if (key.empty()) t.Fail(t.node.instruction + " names can not be blank", kv.key);
    if (kv.legacy && Trim(kv.value).empty())
      t.Fail(t.node.instruction + " must have two arguments", kv.key);
    out.emplace_back(std::move(key), t.words.Word(kv.value));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL

std::vector<std::string> ExpandPort(const Typing& t, const std::string& spec) {
  std::string port = spec;
  std::string proto = "tcp";
  if (const size_t slash = spec.find('/'); slash != std::string::npos) {
    port = spec.substr(0, slash);
    proto = Lower(spec.substr(slash + 1));
    if (proto != "tcp" && proto != "udp" && proto != "sctp")
      t.Fail("invalid proto: " + spec.substr(slash + 1), spec);
  }
  const size_t dash = port.find('-');
  const std::string first = port.substr(0, dash);
  const std::string last = dash == std::string::npos ? first : port.substr(dash + 1);
  if (!IsDigits(first) || !IsDigits(last) || first.size() > 5 || last.size() > 5 ||
      std::stoi(first) > 65535 || std::stoi(last) > 65535)
    t.Fail("invalid containerPort: " + port, spec);
  if (std::stoi(last) < std::stoi(first))
    t.Fail("invalid range specified for containerPort: " + port, spec);
  std::vector<std::string> ports;
  for (int p = std::stoi(first); p <= std::stoi(last); ++p)
    ports.push_back(std::to_string(p) + "/" + proto);
  return ports;
}

ExposeInstruction ParseExpose(const Typing& t) {
  ExposeInstruction expose;
  for (const std::string& spec : t.ExpandedList()) {
    const auto ports = t.Unexpanded(spec) ? std::vector<std::string>{spec} : ExpandPort(t, spec);
    expose.ports.insert(expose.ports.end(), ports.begin(), ports.end());
  }
  if (expose.ports.empty()) t.Fail("EXPOSE requires at least one argument");
  return expose;
}

VolumeInstruction ParseVolume(const Typing& t) {
  VolumeInstruction volume;
  volume.paths = t.ExpandedList();
  if (volume.paths.empty()) t.Fail("VOLUME requires at least one argument");
  for (const std::string& path : volume.paths)
    if (Trim(path).empty()) t.Fail("VOLUME specified can not be an empty string");
  return volume;
}

std::string SingleValue(const Typing& t) {
  const std::string raw = t.RestText();
  if (raw.empty()) t.Fail(t.node.instruction + " requires exactly one argument");
  std::string value = t.words.Word(raw);
  if (value.empty()) t.Fail(t.node.instruction + " requires exactly one argument", raw);
  return value;
}

UserInstruction ParseUser(const Typing& t) {
  UserInstruction user{SingleValue(t)};
  const size_t colon = user.user.find(':');
  const bool blank_part =
      colon != std::string::npos && (colon == 0 || colon + 1 == user.user.size() ||
                                     user.user.find(':', colon + 1) != std::string::npos);
  if (t.Unexpanded(user.user)) return user;
  if (blank_part || std::any_of(user.user.begin(), user.user.end(),
                                [](char c) { return std::isspace(static_cast<unsigned char>(c)); }))
    t.Fail("invalid user: \"" + user.user + "\" (expected user[:group])", t.RestText());
  return user;
}

bool IsSignal(std::string_view text) {
  static const std::set<std::string_view> names = {
      "ABRT", "ALRM",   "BUS",  "CHLD",   "CLD",   "CONT", "FPE",  "HUP",   "ILL",
      "INT",  "IO",     "IOT",  "KILL",   "PIPE",  "POLL", "PROF", "PWR",   "QUIT",
      "SEGV", "STKFLT", "STOP", "SYS",    "TERM",  "TRAP", "TSTP", "TTIN",  "TTOU",
      "URG",  "USR1",   "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ", "RTMIN", "RTMAX"};
  if (IsDigits(text)) return text.size() <= 2 && std::stoi(std::string(text)) >= 1;
  std::string name = Upper(text);
  if (name.starts_with("SIG")) name.erase(0, 3);
  static const std::regex realtime("^RT(MIN\\+[0-9]{1,2}|MAX-[0-9]{1,2})$");
  return names.count(name) > 0 || std::regex_match(name, realtime);
}

StopsignalInstruction ParseStopsignal(const Typing& t) {
  StopsignalInstruction stop{SingleValue(t)};
  if (!IsSignal(stop.signal) && !t.Unexpanded(stop.signal))
    t.Fail("Invalid signal: " + stop.signal, t.RestText());
  return stop;
}

// ---------------------------------------------------------------------------------------------
// HEALTHCHECK, SHELL, ONBUILD

int64_t DurationFlag(const Typing& t, std::string_view name) {
  if (!t.flags.Has(name)) return 0;
  const std::string value = t.flags.Value(name);
  const std::string flag = "--" + std::string(name);
  const std::optional<int64_t> ns = ParseGoDuration(value);
  if (!ns) t.Fail("invalid duration for " + flag + ": " + value, t.flags.Word(name));
  if (*ns < 0) t.Fail(flag + " cannot be negative: " + value, t.flags.Word(name));
  if (*ns != 0 && *ns < 1000000)
    t.Fail(flag + " cannot be less than 1ms: " + value, t.flags.Word(name));
  return *ns;
}

HealthcheckInstruction ParseHealthcheck(const Typing& t) {
  // The parser gives the type in args[0] and the command after it (exec or one shell string).
  const std::vector<std::string>& args = t.node.args;
  const std::string type = args.empty() ? std::string() : Upper(args[0]);
  std::optional<std::vector<std::string>> exec;
  std::string rest;
  if (t.node.form == ArgForm::kExec)
    exec = std::vector<std::string>(args.begin() + (args.empty() ? 0 : 1), args.end());
  else if (args.size() > 1)
    rest = Trim(Join(std::vector<std::string>(args.begin() + 1, args.end()), " "));
  HealthcheckInstruction health;
  if (type.empty()) t.Fail("HEALTHCHECK requires at least one argument");
  if (type == "NONE") {
    if (!rest.empty() || (exec && !exec->empty())) t.Fail("HEALTHCHECK NONE takes no arguments");
    if (!t.flags.Empty()) t.Fail("HEALTHCHECK NONE takes no flags", t.node.flags.front());
    health.check.test = {"NONE"};
    return health;
  }
  if (type != "CMD") t.Fail("unknown type \"" + type + "\" in HEALTHCHECK (try CMD)");
  if (exec) {
    if (exec->empty()) t.Fail("Missing command after HEALTHCHECK CMD");
    health.check.test = {"CMD"};
    health.check.test.insert(health.check.test.end(), exec->begin(), exec->end());
  } else {
    if (rest.empty()) t.Fail("Missing command after HEALTHCHECK CMD");
    health.check.test = {"CMD-SHELL", rest};
  }
  health.check.interval_ns = DurationFlag(t, "interval");
  health.check.timeout_ns = DurationFlag(t, "timeout");
  health.check.start_period_ns = DurationFlag(t, "start-period");
  health.check.start_interval_ns = DurationFlag(t, "start-interval");
  if (t.flags.Has("retries")) {
    const std::string value = t.flags.Value("retries");
    const bool negative = value.starts_with("-");
    if (!IsDigits(negative ? value.substr(1) : value) || value.size() > 9)
      t.Fail("invalid value for --retries: " + value, t.flags.Word("retries"));
    if (negative) t.Fail("--retries cannot be negative (" + value + ")", t.flags.Word("retries"));
    health.check.retries = std::stoi(value);
  }
  return health;
}

ShellInstruction ParseShell(const Typing& t) {
  if (t.node.form != ArgForm::kExec) t.Fail("SHELL requires the arguments to be in JSON form");
  if (t.node.args.empty()) t.Fail("SHELL requires at least one argument");
  return {t.node.args};
}

OnbuildInstruction ParseOnbuild(const Typing& t) {
  if (!t.node.onbuild) t.Fail("ONBUILD requires at least one argument");
  const Node& inner = *t.node.onbuild;
  if (inner.instruction == "ONBUILD")
    t.Fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", inner.instruction);
  if (inner.instruction == "FROM" || inner.instruction == "MAINTAINER")
    t.Fail(inner.instruction + " isn't allowed as an ONBUILD trigger", inner.instruction);
  OnbuildInstruction onbuild;
  onbuild.trigger = t.node.form == ArgForm::kShell && !t.node.args.empty()
                        ? std::string(Trim(t.node.args[0]))
                        : NodeText(inner);
  onbuild.inner = std::make_shared<const Instruction>(ParseInstruction(inner, t.tree));
  return onbuild;
}

}  // namespace

std::string NodeText(const Node& node) {
  std::string text = node.instruction;
  for (const std::string& flag : node.flags) text += " " + flag;
  if (node.onbuild) return text + " " + NodeText(*node.onbuild);
  std::string rest;
  switch (node.form) {
    case ArgForm::kShell:
      rest = node.args.empty() ? "" : node.args[0];
      break;
    case ArgForm::kExec:
      rest = nlohmann::json(node.args).dump();
      break;
    case ArgForm::kWords:
      rest = Join(node.args, " ");
      break;
    case ArgForm::kPairs: {
      std::vector<std::string> parts;
      for (const KeyValue& kv : node.pairs)
        parts.push_back(kv.legacy ? kv.key + " " + kv.value : kv.key + "=" + kv.value);
      rest = Join(parts, " ");
      break;
    }
  }
  if (!rest.empty()) text += " " + rest;
  for (const Heredoc& doc : node.heredocs) text += "\n" + doc.content + doc.name;
  return text;
}

Instruction ParseInstruction(const Node& node, const SyntaxTree& tree,
                             const WordExpander* expander) {
  static const LiteralWords literal;
  Typing t{node, tree, expander ? *expander : literal, ParseFlags(node, tree), !expander};
  Instruction out{node.instruction, node.line, node.column, {}};
  const std::string& k = node.instruction;
  if (k == "FROM") {
    out.value = ParseFrom(t);
  } else if (k == "ARG") {
    out.value = ParseArg(t);
  } else if (k == "RUN") {
    out.value = ParseRun(t);
  } else if (k == "CMD") {
    out.value = CmdInstruction{t.Command()};
  } else if (k == "ENTRYPOINT") {
    out.value = EntrypointInstruction{t.Command()};
  } else if (k == "COPY") {
    out.value = ParseCopy(t);
  } else if (k == "ADD") {
    out.value = ParseAdd(t);
  } else if (k == "ENV") {
    out.value = EnvInstruction{ParsePairs(t)};
  } else if (k == "LABEL") {
    out.value = LabelInstruction{ParsePairs(t)};
  } else if (k == "EXPOSE") {
    out.value = ParseExpose(t);
  } else if (k == "VOLUME") {
    out.value = ParseVolume(t);
  } else if (k == "USER") {
    out.value = ParseUser(t);
  } else if (k == "WORKDIR") {
    out.value = WorkdirInstruction{SingleValue(t)};
  } else if (k == "STOPSIGNAL") {
    out.value = ParseStopsignal(t);
  } else if (k == "HEALTHCHECK") {
    out.value = ParseHealthcheck(t);
  } else if (k == "SHELL") {
    out.value = ParseShell(t);
  } else if (k == "ONBUILD") {
    out.value = ParseOnbuild(t);
  } else if (k == "MAINTAINER") {
    const std::string name = t.RestText();
    if (name.empty()) t.Fail("MAINTAINER requires exactly one argument");
    out.value = MaintainerInstruction{name};
  } else {
    t.Fail("unknown instruction: " + k);
  }
  return out;
}

}  // namespace kiln
