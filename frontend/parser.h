// The Dockerfile parser: text -> SyntaxTree, with BuildKit's rules for parser directives,
// comments, line continuations, heredocs, flags and argument forms. Flags are not validated
// and words are not expanded here; later passes do that.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/syntax_tree.h"

namespace kiln {

/// Parses Dockerfile text. `file` names it in errors. Throws DockerfileError (1-based line and
/// column, source line attached) on malformed input.
///
/// Forms of Node::args per instruction:
///  - RUN, CMD, ENTRYPOINT: kExec when the arguments are a JSON string array, else kShell.
///  - SHELL: kExec only (anything else is an error).
///  - COPY, ADD, VOLUME: kExec for a JSON string array, else kWords (split on whitespace).
///  - FROM, EXPOSE, USER, WORKDIR, STOPSIGNAL, MAINTAINER: kWords (split on whitespace).
///  - ARG: kWords, split as Docker does for ARG (quotes and escapes kept, not split inside).
///  - ENV, LABEL: kPairs (args empty).
///  - HEALTHCHECK: args[0] is "CMD" or "NONE" (upper-cased); for CMD the rest is the command,
///    form kExec or kShell; for NONE the form is kWords.
///  - ONBUILD: kShell with args[0] = the trigger text (continuations joined; heredoc bodies
///    appended as `\n<content><name>` like Docker's stored trigger, so ParseDockerfile(args[0])
///    gives the trigger back); Node::onbuild holds it parsed.
/// Flags: leading `--` words are collected into Node::flags with quotes and escapes removed as
/// BuildKit does (`--chown="a b"` gives `--chown=a b`); a bare `--` ends them.
/// Heredocs (RUN, COPY, ADD, also as ONBUILD triggers) keep their `<<EOF` words in args; for
/// `<<-` the leading tabs of the body lines are already stripped from Heredoc::content.
SyntaxTree ParseDockerfile(std::string_view text, const std::string& file = "Dockerfile");

/// The 18 Dockerfile instruction keywords, upper-case, in Docker's documentation order.
const std::vector<std::string>& InstructionKeywords();

/// The keyword closest to `word` (case-insensitive, Damerau edit distance) when it is close enough
/// to be a likely typo (distance at most max(1, length/3)); nullopt otherwise or when `word` is
/// itself a keyword.
std::optional<std::string> SuggestInstruction(std::string_view word);

}  // namespace kiln
