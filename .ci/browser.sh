#!/usr/bin/env bash
# Makes sure this machine can run the browser test of the web pages: Debian's headless
# Chromium and its WebDriver (chromedriver), installed with apt-get when missing.
set -euo pipefail

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "chromium or chromedriver not found; installing them" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
echo "$(chromium --version) and $(chromedriver --version | cut -d' ' -f1-2)"
