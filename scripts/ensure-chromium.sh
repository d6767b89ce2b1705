#!/usr/bin/env bash
# Install Debian's chromium when /usr/bin/chromium is missing: the console's browser tests drive it
# headless through Playwright (executable_path), so no browser build is ever downloaded.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
echo "chromium not found: installing it with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
test -x /usr/bin/chromium
