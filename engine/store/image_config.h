// The image config a build step produces: applying config instructions to an OCI image config
// (Docker's field names), the history entries Docker writes, and the content key that tells
// whether a step really changed its image.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "frontend/step_graph.h"

namespace kiln {

/// The config of an empty image (FROM scratch) for this host: architecture, os, an empty
/// "config" object, rootfs {type: layers, diff_ids: []}, empty history.
nlohmann::json EmptyImageConfig();

/// The host's OCI architecture name (amd64, arm64, ...).
std::string HostArchitecture();

/// Applies a config-changing step (ENV, LABEL, CMD, ENTRYPOINT, EXPOSE, VOLUME, USER, WORKDIR,
/// STOPSIGNAL, HEALTHCHECK, SHELL, ONBUILD, MAINTAINER) to `image`. `cmd_set_in_stage` tells
/// ENTRYPOINT whether the stage itself set CMD: an inherited CMD is reset, as Docker does.
void ApplyConfigStep(const Step& step, nlohmann::json& image, bool cmd_set_in_stage);

/// The argv a RUN step executes: exec form as is, shell form through the image's SHELL
/// (default /bin/sh -c).
std::vector<std::string> RunArgv(const Step& step, const nlohmann::json& image);

/// The image's environment ("K=V" strings, PATH defaulted as Docker does when missing).
std::vector<std::string> ImageEnv(const nlohmann::json& image);

/// The history `created_by` text Docker's BuildKit writes for `step`.
std::string HistoryCreatedBy(const Step& step, const nlohmann::json& image);

/// Appends a history entry.
void AddHistory(nlohmann::json& image, const std::string& created, const std::string& created_by,
                bool empty_layer);

/// RFC 3339 UTC time as Go's RFC3339Nano prints it ("2024-01-02T03:04:05.123456789Z", trailing
/// zeros of the fraction dropped, no fraction for whole seconds).
std::string Rfc3339(int64_t seconds, int64_t nanos = 0);

/// "now", or SOURCE_DATE_EPOCH when given, as the `created` of new images and history entries.
std::string CreatedTime(const std::optional<int64_t>& source_date_epoch);

/// xxHash3-128 of the image with every timestamp removed: two builds of a step that give the
/// same layers and config have the same content key, so the chain after it stops.
std::string ContentKey(const nlohmann::json& image);

}  // namespace kiln
