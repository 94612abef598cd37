// `kiln inspect` for containers: Docker's container JSON.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/store/container_store.h"
#include "engine/store/image_store.h"

namespace kiln::cli {

/// Docker's inspect object of the container `name_or_id` (full id, name, unique id prefix) in
/// the default store: Id, Created, Path, Args, State, Image, Name, Config, Mounts, HostConfig,
/// and with `size` SizeRw and SizeRootFs. nullopt when there is no such container.
std::optional<nlohmann::json> InspectContainerJson(const std::string& name_or_id, bool size);

/// As above for a record of `store`.
nlohmann::json ContainerJson(const ImageStore& store, const ContainerRecord& record, bool size);

}  // namespace kiln::cli
