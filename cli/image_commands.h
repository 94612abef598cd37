// Docker's image-management commands over the local store: images, inspect, rmi, tag, history,
// and the `image` family that aliases them (image ls|rm|inspect|tag|history|prune).
// Exit codes: 0 ok, 1 user error (unknown image, conflict), 2 usage error.
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

/// `kiln images [-a] [-q] [--digests] [--no-trunc] [-f FILTER]… [--format F] [REPO[:TAG]]`.
int RunImagesCommand(const std::vector<std::string>& args);
/// `kiln inspect [--type image|container] [-s] [-f FORMAT] NAME|ID…`.
int RunInspectCommand(const std::vector<std::string>& args);
/// `kiln rmi [-f] [--no-prune] IMAGE…` with Docker's conflict rules.
int RunRmiCommand(const std::vector<std::string>& args);
/// `kiln tag SOURCE TARGET`.
int RunTagCommand(const std::vector<std::string>& args);
/// `kiln history [-H] [-q] [--no-trunc] [--format F] IMAGE`.
int RunHistoryCommand(const std::vector<std::string>& args);
/// `kiln image ls|rm|inspect|tag|history|prune …`.
int RunImageCommand(const std::vector<std::string>& args);

}  // namespace kiln::cli
