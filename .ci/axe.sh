#!/usr/bin/env bash
# Fetches axe-core (the accessibility checker the browser test runs in each page) from the npm
# registry into target/axe/, once. Prints the path of axe.min.js.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=target/axe
if [ ! -f "$dir/package/axe.min.js" ]; then
  mkdir -p "$dir"
  (cd "$dir" && npm pack axe-core@4.14.1 --silent >/dev/null && tar xzf axe-core-4.14.1.tgz)
fi
echo "$PWD/$dir/package/axe.min.js"
