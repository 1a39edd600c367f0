#!/usr/bin/env bash
# Installs every Debian 12 package that building, testing and running QuantScope need.
# Idempotent: packages already present are skipped; uses sudo when not root.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git python3
  qt6-base-dev qt6-base-dev-tools qt6-svg-dev libgl-dev
  libqcustomplot-dev libqcustomplot2.1-qt6
  libeigen3-dev libspdlog-dev nlohmann-json3-dev libcli11-dev libpcre2-dev
  libvulkan-dev vulkan-tools glslc mesa-vulkan-drivers
  xvfb xauth
  help2man librsvg2-bin file desktop-file-utils appstream libxml2-utils groff-base man-db shared-mime-info
  clang libclang-rt-14-dev
)

if [[ ! -r /etc/os-release ]] || ! grep -qE '^ID=debian' /etc/os-release \
   || ! grep -qE '^VERSION_ID="12"' /etc/os-release; then
  echo "install-deps.sh: this script supports Debian 12 (bookworm) only." >&2
  echo "On other systems install the equivalents of: ${PACKAGES[*]}" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps.sh: all ${#PACKAGES[@]} packages present."
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps.sh: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
