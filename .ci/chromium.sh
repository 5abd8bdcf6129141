#!/usr/bin/env bash
# Installs Debian's Chromium for the console's browser tests
# (internal/console, driven with chromedp) when it is not there yet.
set -euo pipefail
for b in chromium chromium-browser google-chrome headless-shell; do
  if command -v "$b" >/dev/null 2>&1; then
    echo "chromium: $(command -v "$b") ($("$b" --version 2>/dev/null || true))"
    exit 0
  fi
done
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium
echo "chromium: $(command -v chromium) ($(chromium --version 2>/dev/null || true))"
