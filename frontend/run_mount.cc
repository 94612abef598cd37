#include "frontend/run_mount.h"

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <regex>
#include <set>
#include <utility>
#include <vector>

#include "frontend/text.h"

namespace kiln {
namespace {

bool ParseBoolValue(std::string_view value, bool* out) {
  const std::string lower = Lower(value);
  if (lower.empty() || lower == "true" || lower == "1") {
    *out = true;
    return true;
  }
  if (lower == "false" || lower == "0") {
    *out = false;
    return true;
  }
  return false;
}

/// Splits a --mount value on commas, honouring double-quoted fields as a CSV reader does.
std::vector<std::string> SplitCsv(std::string_view text) {
  std::vector<std::string> fields;
  if (text.find('"') == std::string_view::npos) {  // the usual case: plain commas
    for (size_t start = 0;;) {
      const size_t comma = std::min(text.find(',', start), text.size());
      fields.emplace_back(text.substr(start, comma - start));
      if (comma == text.size()) return fields;
      start = comma + 1;
    }
  }
  std::string current;
  bool quoted = false;
  for (char c : text) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  fields.push_back(std::move(current));
  return fields;
}

[[noreturn]] void Fail(const std::string& message) {
  throw MountError(message);
}

void CheckMountKey(const RunMount& mount, const std::string& key,
                   std::initializer_list<std::string_view> types) {
  if (std::find(types.begin(), types.end(), mount.type) == types.end())
    Fail("unexpected key '" + key + "' for mount type '" + mount.type + "'");
}

}  // namespace

RunMount ParseRunMount(std::string_view spec, const WordExpander& words, bool literal,
                       int ssh_index) {
  // Values still holding variables are checked once they are expanded.
  const auto unexpanded = [literal](std::string_view value) {
    return literal && value.find('$') != std::string_view::npos;
  };
  RunMount mount;
  mount.type = "bind";
  std::vector<std::pair<std::string, std::optional<std::string>>> fields;
  for (const std::string& field : SplitCsv(spec)) {
    const size_t eq = field.find('=');
    std::string key = Lower(Trim(std::string_view(field).substr(0, eq)));
    if (key.empty()) Fail("invalid mount field '" + field + "' in '" + std::string(spec) + "'");
    std::optional<std::string> value;
    if (eq != std::string::npos) value = words.Word(std::string_view(field).substr(eq + 1));
    if (key == "type") {
      if (!value) Fail("invalid field 'type' must be a key=value pair");
      static const std::set<std::string> types = {"bind", "cache", "tmpfs", "secret", "ssh"};
      if (!types.count(*value)) Fail("unsupported mount type \"" + *value + "\"");
      mount.type = *value;
    } else {
      fields.emplace_back(std::move(key), std::move(value));
    }
  }
  std::optional<bool> readonly;
  for (const auto& [key, value] : fields) {
    static const std::set<std::string> flag_keys = {"readonly", "ro", "rw", "readwrite",
                                                    "required"};
    if (!value && !flag_keys.count(key))
      Fail("invalid field '" + key + "' must be a key=value pair");
    static const std::string kNone;
    const std::string& v = value ? *value : kNone;
    if (key == "target" || key == "dst" || key == "destination") {
      mount.target = v;
    } else if (key == "source" || key == "src") {
      CheckMountKey(mount, key, {"bind", "cache", "secret"});
      mount.options["source"] = v;
    } else if (key == "from") {
      CheckMountKey(mount, key, {"bind", "cache"});
      mount.from_image = v;
    } else if (key == "readonly" || key == "ro" || key == "rw" || key == "readwrite") {
      bool on = true;
      if (!ParseBoolValue(v, &on)) Fail("invalid value for " + key + ": " + v);
      readonly = (key == "rw" || key == "readwrite") ? !on : on;
    } else if (key == "required") {
      CheckMountKey(mount, key, {"secret", "ssh"});
      bool on = true;
      if (!ParseBoolValue(v, &on)) Fail("invalid value for required: " + v);
      mount.options["required"] = on ? "true" : "false";
    } else if (key == "id") {
      CheckMountKey(mount, key, {"cache", "secret", "ssh"});
      mount.options["id"] = v;
    } else if (key == "sharing") {
      CheckMountKey(mount, key, {"cache"});
      if (v != "shared" && v != "private" && v != "locked" && !unexpanded(v))
        Fail("unsupported sharing value \"" + v + "\"");
      mount.options["sharing"] = v;
    } else if (key == "mode") {
      CheckMountKey(mount, key, {"cache", "secret", "ssh"});
      if (!IsOctalMode(v) && !unexpanded(v)) Fail("invalid value " + v + " for mode");
      mount.options["mode"] = v;
    } else if (key == "uid" || key == "gid") {
      CheckMountKey(mount, key, {"cache", "secret", "ssh"});
      if (!IsDigits(v) && !unexpanded(v)) Fail("invalid value " + v + " for " + key);
      mount.options[key] = v;
    } else if (key == "size") {
      CheckMountKey(mount, key, {"tmpfs"});
      static const std::regex size("^[0-9]+([kKmMgG][bB]?|[bB])?$");
      if (!std::regex_match(v, size) && !unexpanded(v)) Fail("invalid value " + v + " for size");
      mount.options["size"] = v;
    } else if (key == "env") {
      CheckMountKey(mount, key, {"secret"});
      mount.options["env"] = v;
    } else {
      Fail("unexpected key '" + key + "' in '" + std::string(spec) + "'");
    }
  }
  if (mount.type == "secret") {
    auto& id = mount.options["id"];
    if (id.empty() && !mount.target.empty()) id = mount.target.substr(mount.target.rfind('/') + 1);
    if (id.empty()) Fail("secret mount requires an id or a target");
    if (mount.target.empty() && !mount.options.count("env")) mount.target = "/run/secrets/" + id;
    readonly = true;
  } else if (mount.type == "ssh") {
    if (mount.options["id"].empty()) mount.options["id"] = "default";
    if (mount.target.empty()) mount.target = "/run/buildkit/ssh_agent." + std::to_string(ssh_index);
    readonly = true;
  } else if (mount.target.empty()) {
    Fail("mount type=" + mount.type + " requires a target");
  }
  if (mount.type == "cache") {
    if (mount.options["id"].empty()) mount.options["id"] = mount.target;
    if (mount.options["sharing"].empty()) mount.options["sharing"] = "shared";
  }
  // BuildKit's defaults: bind mounts read-only, the others writable unless asked.
  mount.options["readonly"] = readonly.value_or(mount.type == "bind") ? "true" : "false";
  return mount;
}

}  // namespace kiln
