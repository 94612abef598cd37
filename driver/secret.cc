#include "driver/secret.h"

#include <cstdlib>
#include <map>
#include <sstream>

#include "driver/build_request.h"

namespace kiln::driver {
namespace {

/// The comma-separated KEY=VALUE fields of `spec`; a KEY alone has the value "".
std::map<std::string, std::string> SpecFields(const std::string& spec) {
  std::map<std::string, std::string> fields;
  std::stringstream in(spec);
  for (std::string part; std::getline(in, part, ',');) {
    const size_t eq = part.find('=');
    if (eq == std::string::npos)
      fields[part] = "";
    else
      fields[part.substr(0, eq)] = part.substr(eq + 1);
  }
  return fields;
}

}  // namespace

std::pair<std::string, std::string> ResolveSecret(const std::string& spec,
                                                  const std::filesystem::path& dir) {
  std::map<std::string, std::string> fields = SpecFields(spec);
  const std::string id = fields.count("id") ? fields["id"] : "";
  if (id.empty()) throw RequestError("invalid secret \"" + spec + "\": id is required");
  std::string src = fields.count("src")      ? fields["src"]
                    : fields.count("source") ? fields["source"]
                                             : "";
  if (src.empty() && fields.count("env")) {
    const char* value = std::getenv(fields["env"].c_str());
    if (!value)
      throw RequestError("invalid secret \"" + spec + "\": variable " + fields["env"] +
                         " is not set");
    // The value must reach the container as a file; it stays in the private build directory.
    const std::filesystem::path file = dir / "secrets" / id;
    std::filesystem::create_directories(file.parent_path());
    std::filesystem::permissions(file.parent_path(), std::filesystem::perms::owner_all);
    WriteIfChanged(file, value);
    src = file.string();
  }
  if (src.empty()) throw RequestError("invalid secret \"" + spec + "\": src is required");
  if (!std::filesystem::exists(src))
    throw RequestError("secret " + id + ": file " + src + " not found");
  return {id, std::filesystem::absolute(src).string()};
}

}  // namespace kiln::driver
