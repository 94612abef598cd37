// Typed instructions: a syntax-tree Node checked and turned into one struct per instruction kind,
// with its flags validated the way Docker (BuildKit) validates them. The values of the
// instructions Docker expands pass through a WordExpander, so checks apply to final values.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "frontend/dockerfile_error.h"
#include "frontend/step_graph.h"
#include "frontend/syntax_tree.h"

namespace kiln {

/// Expands the words of the instructions (and flags) Docker expands.
class WordExpander {
 public:
  virtual ~WordExpander() = default;
  /// `raw` as one word (no splitting).
  virtual std::string Word(std::string_view raw) const = 0;
  /// `raw` split into words after expansion (VOLUME /a /b, EXPOSE 80 443).
  virtual std::vector<std::string> Words(std::string_view raw) const = 0;
};

/// Takes words as written: Word returns `raw`, Words splits it on whitespace.
class LiteralWords : public WordExpander {
 public:
  std::string Word(std::string_view raw) const override;
  std::vector<std::string> Words(std::string_view raw) const override;
};

/// CMD, ENTRYPOINT and RUN arguments: an exec array, or one shell string.
struct CommandLine {
  std::vector<std::string> args;
  bool shell_form = false;
};

struct FromInstruction {
  std::string image;       ///< expanded reference
  std::string stage_name;  ///< `AS name`, lower-cased; empty when unnamed
  std::string platform;    ///< expanded --platform; empty when not given
};

struct ArgInstruction {
  struct Arg {
    std::string name;
    std::optional<std::string> default_value;  ///< expanded
  };
  std::vector<Arg> args;
};

struct RunInstruction {
  CommandLine command;
  /// Validated and expanded; `from_image` holds the raw `from=` value (stage or image is
  /// decided by lowering) and `target` may still be relative to WORKDIR.
  std::vector<RunMount> mounts;
  std::string network;               ///< empty when not given
  std::string security;              ///< empty when not given
  std::vector<InlineFile> heredocs;  ///< bodies as written (the shell expands them)
};

struct CmdInstruction {
  CommandLine command;
};

struct EntrypointInstruction {
  CommandLine command;
};

/// What COPY and ADD share.
struct FileTransfer {
  /// Expanded source patterns; a here-document source is kept as "<<NAME".
  std::vector<std::string> sources;
  std::string destination;
  std::string from;  ///< expanded --from: a stage name, a stage index or an image
  std::string chown;
  std::string chmod;  ///< octal, validated
  bool link = false;
  std::vector<std::string> excludes;
  std::vector<InlineFile> heredocs;  ///< bodies expanded unless the delimiter was quoted
};

struct CopyInstruction : FileTransfer {
  bool parents = false;
};

struct AddInstruction : FileTransfer {
  std::string checksum;  ///< sha256:<64 hex>
  bool keep_git_dir = false;
};

struct EnvInstruction {
  std::vector<std::pair<std::string, std::string>> env;
};

struct LabelInstruction {
  std::vector<std::pair<std::string, std::string>> labels;
};

struct ExposeInstruction {
  std::vector<std::string> ports;  ///< "80/tcp", ranges expanded port by port
};

struct VolumeInstruction {
  std::vector<std::string> paths;
};

struct UserInstruction {
  std::string user;  ///< user[:group]
};

struct WorkdirInstruction {
  std::string path;  ///< as given (relative paths are resolved by lowering)
};

struct StopsignalInstruction {
  std::string signal;
};

struct HealthcheckInstruction {
  Healthcheck check;
};

struct ShellInstruction {
  std::vector<std::string> shell;
};

struct MaintainerInstruction {
  std::string name;
};

struct Instruction;

struct OnbuildInstruction {
  std::string trigger;  ///< the wrapped instruction as Dockerfile text, stored in the image config
  std::shared_ptr<const Instruction> inner;  ///< typed without expansion
};

struct Instruction {
  std::string keyword;  ///< canonical upper-case keyword
  int line = 0;
  int column = 1;
  std::variant<FromInstruction, ArgInstruction, RunInstruction, CmdInstruction,
               EntrypointInstruction, CopyInstruction, AddInstruction, EnvInstruction,
               LabelInstruction, ExposeInstruction, VolumeInstruction, UserInstruction,
               WorkdirInstruction, StopsignalInstruction, HealthcheckInstruction, ShellInstruction,
               OnbuildInstruction, MaintainerInstruction>
      value;
};

/// Types `node`: flags parsed and validated, forms and values checked. The words Docker expands
/// (see ExpandsVariables, plus ARG defaults and the values of RUN --mount, COPY/ADD --from,
/// --chown, --chmod, --checksum and FROM --platform) go through `expander`, or are taken as
/// written when it is null. Throws DockerfileError placed at the node (column of the offending
/// word when it can be found on the node's first line).
Instruction ParseInstruction(const Node& node, const SyntaxTree& tree,
                             const WordExpander* expander = nullptr);

/// True for the instructions whose arguments Docker expands: ADD, COPY, ENV, EXPOSE, FROM,
/// LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR.
bool ExpandsVariables(std::string_view keyword);

/// The instruction as one Dockerfile line, flags and arguments as written (ONBUILD triggers).
std::string NodeText(const Node& node);

/// An error for `node`, at the column of `token` on the node's first line when found there,
/// else at the keyword.
DockerfileError ErrorAt(const SyntaxTree& tree, const Node& node, const std::string& message,
                        std::string_view token = {});

/// Parses a Go duration ("1m30s", "500ms", "0"); nullopt when malformed.
std::optional<int64_t> ParseGoDuration(std::string_view text);

}  // namespace kiln
