#include "frontend/build_args.h"

#include <array>

namespace kiln {

bool IsProxyArg(std::string_view name) {
  static constexpr std::array<std::string_view, 8> kProxyArgs = {
      "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
      "FTP_PROXY",  "ftp_proxy",  "NO_PROXY",    "no_proxy"};
  if (name == "ALL_PROXY" || name == "all_proxy") return true;
  for (std::string_view proxy : kProxyArgs)
    if (proxy == name) return true;
  return false;
}

Variables PlatformArgs(std::string_view platform) {
  std::string parts[3];
  size_t index = 0;
  for (char c : platform) {
    if (c == '/' && index < 2)
      ++index;
    else
      parts[index] += c;
  }
  Variables args;
  for (const std::string prefix : {"BUILD", "TARGET"}) {
    args[prefix + "PLATFORM"] = std::string(platform);
    args[prefix + "OS"] = parts[0];
    args[prefix + "ARCH"] = parts[1];
    args[prefix + "VARIANT"] = parts[2];
  }
  return args;
}

BuildArgs::BuildArgs(std::map<std::string, std::string> given, std::string_view platform)
    : given_(std::move(given)), platform_(PlatformArgs(platform)), meta_(platform_) {
  // A --build-arg may pin a platform arg too (e.g. TARGETARCH for a cross build).
  for (auto& [name, value] : meta_)
    if (auto it = given_.find(name); it != given_.end()) value = it->second;
}

void BuildArgs::DeclareMeta(const std::string& name,
                            const std::optional<std::string>& default_value) {
  meta_names_.insert(name);
  if (auto it = given_.find(name); it != given_.end())
    meta_[name] = it->second;
  else if (default_value)
    meta_[name] = *default_value;
  else if (auto platform = platform_.find(name); platform != platform_.end())
    meta_[name] = platform->second;
  else
    meta_.erase(name);
}

std::optional<std::string> BuildArgs::StageValue(
    const std::string& name, const std::optional<std::string>& default_value) const {
  if (auto it = given_.find(name); it != given_.end()) return it->second;
  if (default_value) return default_value;
  if (auto it = meta_.find(name); it != meta_.end()) return it->second;
  return std::nullopt;
}

Variables BuildArgs::GivenProxyArgs() const {
  Variables proxies;
  for (const auto& [name, value] : given_)
    if (IsProxyArg(name)) proxies[name] = value;
  return proxies;
}

std::vector<std::string> BuildArgs::Unconsumed(const std::set<std::string>& declared) const {
  std::vector<std::string> names;
  for (const auto& [name, value] : given_)
    if (!declared.count(name) && !IsProxyArg(name)) names.push_back(name);
  return names;
}

void StageArgs::Declare(const std::string& name, std::optional<std::string> value) {
  args_[name] = std::move(value);
}

const std::string* StageArgs::Value(const std::string& name) const {
  const auto it = args_.find(name);
  return it == args_.end() || !it->second ? nullptr : &*it->second;
}

Variables StageArgs::Values() const {
  Variables values;
  for (const auto& [name, value] : args_)
    if (value) values[name] = *value;
  return values;
}

std::set<std::string> StageArgs::Names() const {
  std::set<std::string> names;
  for (const auto& [name, value] : args_) names.insert(name);
  return names;
}

}  // namespace kiln
