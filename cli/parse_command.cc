#include "cli/parse_command.h"

#include <cstdio>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>

#include "frontend/dockerfile_error.h"
#include "frontend/file_system.h"
#include "frontend/parser.h"
#include "frontend/syntax_tree_json.h"

namespace kiln::cli {
namespace {

constexpr const char* kUsage =
    "Usage:  kiln parse [--json] FILE\n\n"
    "Print the syntax tree of a Dockerfile (FILE may be - for standard input).\n\n"
    "Options:\n"
    "      --json   Print the tree as JSON\n";

struct ParseOptions {
  bool json = false;
  std::string file;
};

/// nullopt after printing usage; `exit_code` then says how to exit.
std::optional<ParseOptions> ParseArguments(const std::vector<std::string>& args, int& exit_code) {
  ParseOptions options;
  bool have_file = false;
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      exit_code = 0;
      return std::nullopt;
    }
    if (arg == "--json") {
      options.json = true;
    } else if (arg.size() > 1 && arg[0] == '-') {
      std::fprintf(stderr, "unknown flag: %s\n\n%s", arg.c_str(), kUsage);
      exit_code = 2;
      return std::nullopt;
    } else if (have_file) {
      std::fprintf(stderr, "\"kiln parse\" requires exactly 1 argument.\n\n%s", kUsage);
      exit_code = 2;
      return std::nullopt;
    } else {
      options.file = arg;
      have_file = true;
    }
  }
  if (!have_file) {
    std::fprintf(stderr, "\"kiln parse\" requires exactly 1 argument.\n\n%s", kUsage);
    exit_code = 2;
    return std::nullopt;
  }
  return options;
}

std::optional<std::string> ReadInput(const std::string& file) {
  if (file == "-")
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  return DiskFileSystem().ReadFile(file);
}

std::string JoinQuoted(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& word : words) out += (out.empty() ? "" : " ") + word;
  return out;
}

/// `3-4 COPY [--from=build] words: a b /dst`
std::string NodeSummary(const Node& node) {
  // Appends only: `" " + std::string(...)` trips GCC 12's -Wrestrict at -O3.
  std::string out = std::to_string(node.line);
  if (node.end_line > node.line) out.append("-").append(std::to_string(node.end_line));
  out.append(" ").append(node.instruction);
  if (!node.flags.empty()) out.append(" [").append(JoinQuoted(node.flags)).append("]");
  out.append(" ").append(ArgFormName(node.form)).append(":");
  if (node.form == ArgForm::kExec) {
    out.append(" ").append(nlohmann::json(node.args).dump());
  } else if (node.form == ArgForm::kPairs) {
    for (const KeyValue& pair : node.pairs)
      out.append(" ").append(pair.key).append(pair.legacy ? " " : "=").append(pair.value);
  } else if (node.onbuild) {
    // The trigger's heredoc bodies appear below, under "onbuild:".
    out.append(" ").append(node.args[0], 0, node.args[0].find('\n'));
  } else if (!node.args.empty()) {
    out.append(" ").append(JoinQuoted(node.args));
  }
  return out;
}

void PrintNode(const Node& node, const std::string& indent, std::ostream& out) {
  out << indent << NodeSummary(node) << "\n";
  for (const Heredoc& heredoc : node.heredocs) {
    out << indent << "  heredoc " << heredoc.name << (heredoc.expand ? "" : " (no expansion)")
        << (heredoc.chomp ? " (tabs stripped)" : "") << ":\n";
    std::istringstream lines(heredoc.content);
    for (std::string line; std::getline(lines, line);) out << indent << "    | " << line << "\n";
  }
  if (node.onbuild) {
    out << indent << "  onbuild:\n";
    PrintNode(*node.onbuild, indent + "    ", out);
  }
}

void PrintTree(const SyntaxTree& tree, std::ostream& out) {
  const Directives& d = tree.directives;
  out << "directives: escape=" << d.escape;
  if (d.syntax) out << " syntax=" << *d.syntax;
  if (d.check) out << " check=" << *d.check;
  out << "\n";
  for (const Node& node : tree.instructions) PrintNode(node, "", out);
}

}  // namespace

int RunParseCommand(const std::vector<std::string>& args) {
  int exit_code = 0;
  const std::optional<ParseOptions> options = ParseArguments(args, exit_code);
  if (!options) return exit_code;

  const std::optional<std::string> text = ReadInput(options->file);
  if (!text) {
    std::fprintf(stderr, "Error: cannot read %s\n", options->file.c_str());
    return 1;
  }
  try {
    // Left for the process's exit to reclaim: freeing a large tree's blocks one by one costs
    // more than printing it. Kept reachable, so leak checkers stay quiet.
    static const SyntaxTree* kept = nullptr;
    kept = new SyntaxTree(ParseDockerfile(*text, options->file == "-" ? "<stdin>" : options->file));
    const SyntaxTree& tree = *kept;
    if (options->json) {
      WriteSyntaxTreeJson(tree, 2, [](std::string_view piece) {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
      });
    } else {
      PrintTree(tree, std::cout);
    }
  } catch (const DockerfileError& error) {
    std::fprintf(stderr, "Error: %s\n", error.what());
    return 1;
  }
  return 0;
}

}  // namespace kiln::cli
