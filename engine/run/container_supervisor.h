// Running a stored container: the supervisor that runs the OCI runtime, records the container's
// state (pid, exit code, times) in state.json and streams its output to the log; detached
// (`kiln run -d`) it is a forked process in its own session that outlives kiln.
#pragma once

#include <chrono>

#include "engine/run/container_runtime.h"
#include "engine/store/container_store.h"
#include "engine/store/image_store.h"

namespace kiln {

/// Docker's exit code for a runtime failure: 127 when the command was not found, 126 when it
/// could not be invoked, else 125.
int RuntimeFailureExitCode(const std::string& message);

/// Runs `spec` as the container `record` in this process to its end: marks it running (with the
/// host pid of its init process once seen), appends the output to its log (and passes it to
/// `echo`, may be empty), then records it exited with its code. A RuntimeError is recorded
/// (Error, RuntimeFailureExitCode) and rethrown. With record.auto_remove the container is deleted
/// at the end. spec.work_root is set here. Returns the exit code.
int SuperviseContainer(ImageStore& store, const ContainerRecord& record, RunSpec spec,
                       const OutputSink& echo);

/// Forks a supervisor in a new session (stdio on /dev/null, no inherited descriptors) running
/// SuperviseContainer, and returns the state once the container runs or has ended. Call from a
/// single-threaded process.
ContainerState StartDetached(ImageStore& store, const ContainerRecord& record, const RunSpec& spec);

/// Docker's stop: SIGTERM to the container's init, SIGKILL after `timeout`; returns once the
/// process is gone (its state is recorded by its supervisor). No-op when not running.
void StopContainer(const ImageStore& store, const ContainerRecord& record,
                   std::chrono::seconds timeout);

}  // namespace kiln
