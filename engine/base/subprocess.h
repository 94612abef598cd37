// Running a program to completion: argv, environment additions, stdin data, its output handed
// over as it comes, descriptors passed down, and its wait status at the end.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/base/unique_fd.h"

namespace kiln {

/// Running a process failed (it could not be started, or waiting for it failed); what() says
/// why, e.g. "cannot start ninja: No such file or directory".
class ProcessError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Receives a chunk of output as it arrives.
using OutputHandler = std::function<void(std::string_view chunk)>;

struct ProcessSpec {
  /// The program and its arguments; argv[0] is searched on this process's PATH unless it
  /// contains a '/'.
  std::vector<std::string> argv;
  /// "NAME=value" entries of the child's environment, over this process's own.
  std::vector<std::string> env;
  /// Written to the child's stdin, which then reaches its end; empty: stdin is /dev/null. The
  /// child reads it from a socket, so one that stops reading early fails the write instead of
  /// killing this process with SIGPIPE.
  std::string stdin_data;
  /// Each chunk of the child's stdout; empty: stdout goes to /dev/null.
  OutputHandler on_stdout;
  /// Each chunk of its stderr; empty: stderr goes where stdout goes (one stream, in order).
  OutputHandler on_stderr;
  /// Descriptors the child inherits under the same numbers (close-on-exec or not), e.g. the
  /// write end of a pipe whose number is passed in `env`. Closed in this process once the child
  /// has started, so that the other end sees its end when the child and its own children are
  /// done. (Other descriptors reach the child only when they lack close-on-exec.)
  std::vector<UniqueFd> handed_fds;
  /// Descriptors of this process read alongside the child's output until their end, each chunk
  /// to its handler (e.g. the read end of such a pipe). Owned by the caller.
  std::vector<std::pair<int, OutputHandler>> also_read;
};

/// Starts spec.argv, feeds it spec.stdin_data, hands its output (and the also_read descriptors')
/// to the handlers until every stream has ended, then waits for it and returns its wait status
/// (see ExitCode). Handlers run on the calling thread. When a handler throws, the child is
/// killed (SIGKILL) and reaped before the exception propagates. Throws ProcessError when the
/// program cannot be run (a missing one included) or the system refuses a pipe or the wait.
int RunProcess(ProcessSpec spec);

/// A wait status as a shell reports it: the exit code, or 128+N for a process killed by signal N.
int ExitCode(int wait_status);

}  // namespace kiln
