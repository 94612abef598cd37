// Lowering: a parsed Dockerfile becomes a StepGraph. Instructions are typed, words expanded with
// the ARGs and ENVs in scope, stage references resolved, and the stages the target does not
// need dropped.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "frontend/file_system.h"
#include "frontend/step_graph.h"
#include "frontend/syntax_tree.h"

namespace kiln {

/// What lowering needs to know about a base image's config.
struct BaseImageInfo {
  std::string digest;
  std::vector<std::pair<std::string, std::string>> env;
  std::string workdir;
  std::vector<std::string> shell;
  std::vector<std::string> onbuild;  ///< triggers, each one Dockerfile instruction
};

class ImageResolver {
 public:
  virtual ~ImageResolver() = default;
  /// nullopt: unknown image
  virtual std::optional<BaseImageInfo> Resolve(const std::string& reference) const = 0;
};

struct LowerOptions {
  std::string dockerfile = "Dockerfile";
  std::string context = ".";
  std::map<std::string, std::string> build_args;
  std::string target;  ///< stage name; empty: the last stage
  std::string platform = "linux/amd64";
  const ImageResolver* resolver = nullptr;  ///< null: every image unknown (empty env)
  std::vector<std::string> ignore_patterns;
};

/// Lowers `tree` with Docker's rules (see frontend/build_args.h for ARG scoping). Throws
/// DockerfileError, placed at the offending instruction, for any invalid instruction, bad
/// expansion, bad stage reference or unknown target.
StepGraph LowerDockerfile(const SyntaxTree& tree, const LowerOptions& options);

/// Reads the Dockerfile (options.dockerfile, "-" not handled here) and its ignore file
/// (ReadIgnoreFile) through fs, parses, lowers.
StepGraph LoadStepGraph(const FileSystem& fs, LowerOptions options);

}  // namespace kiln
