#include "cli/flags.h"

#include <charconv>

namespace kiln::cli {

void FlagSet::String(const std::string& name, char short_name, std::string* value) {
  flags_.push_back({name, short_name, true, [value](const std::string& v) { *value = v; }});
}

void FlagSet::Strings(const std::string& name, char short_name, std::vector<std::string>* values) {
  flags_.push_back(
      {name, short_name, true, [values](const std::string& v) { values->push_back(v); }});
}

void FlagSet::Bool(const std::string& name, char short_name, bool* value) {
  flags_.push_back({name, short_name, false, [name, value](const std::string& v) {
                      if (v.empty() || v == "true" || v == "1")
                        *value = true;
                      else if (v == "false" || v == "0")
                        *value = false;
                      else
                        throw UsageError("invalid argument \"" + v + "\" for \"--" + name +
                                         "\" flag: strconv.ParseBool: parsing \"" + v +
                                         "\": invalid syntax");
                    }});
}

void FlagSet::Int(const std::string& name, char short_name, int* value) {
  flags_.push_back({name, short_name, true, [name, value](const std::string& v) {
                      int parsed = 0;
                      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), parsed);
                      if (ec != std::errc() || end != v.data() + v.size())
                        throw UsageError("invalid argument \"" + v + "\" for \"--" + name +
                                         "\" flag: strconv.ParseInt: parsing \"" + v +
                                         "\": invalid syntax");
                      *value = parsed;
                    }});
}

const FlagSet::Flag* FlagSet::Find(const std::string& name) const {
  for (const Flag& f : flags_)
    if (f.name == name) return &f;
  return nullptr;
}

const FlagSet::Flag* FlagSet::FindShort(char c) const {
  for (const Flag& f : flags_)
    if (f.short_name == c) return &f;
  return nullptr;
}

std::vector<std::string> FlagSet::Parse(const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      positional.insert(positional.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      continue;
    }
    if (arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
      const size_t eq = arg.find('=');
      const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      const Flag* flag = Find(name);
      if (!flag) throw UsageError("unknown flag: --" + name);
      if (eq != std::string::npos) {
        flag->set(arg.substr(eq + 1));
      } else if (!flag->takes_value) {
        flag->set("");
      } else {
        if (i + 1 >= args.size()) throw UsageError("flag needs an argument: --" + name);
        flag->set(args[++i]);
      }
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-') {
      for (size_t j = 1; j < arg.size(); ++j) {
        const Flag* flag = FindShort(arg[j]);
        if (!flag)
          throw UsageError(std::string("unknown shorthand flag: '") + arg[j] + "' in " + arg);
        if (!flag->takes_value) {
          flag->set("");
          continue;
        }
        std::string value = arg.substr(j + 1);
        if (!value.empty() && value[0] == '=') value.erase(0, 1);
        if (value.empty()) {
          if (i + 1 >= args.size())
            throw UsageError(std::string("flag needs an argument: '") + arg[j] + "' in -" + arg[j]);
          value = args[++i];
        }
        flag->set(value);
        break;
      }
      continue;
    }
    positional.push_back(arg);
  }
  return positional;
}

}  // namespace kiln::cli
