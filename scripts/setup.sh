#!/usr/bin/env bash
# Installs every Debian package kiln needs to build, test and check interop. Idempotent: packages
# already present are not touched, and apt-get runs only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libxxhash-dev libarchive-dev nlohmann-json3-dev catch2
  libssl-dev zlib1g-dev libzstd-dev libcurl4-openssl-dev
  runc busybox-static skopeo umoci oci-image-tool buildah graphviz
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
