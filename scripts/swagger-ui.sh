#!/usr/bin/env bash
# swagger-ui.sh vendors Swagger UI for the API reference at /docs: it
# installs the swagger-ui-dist version pinned in
# internal/adapters/webui/vendor/package-lock.json and copies the few files
# the page loads, with the licence texts, into
# internal/adapters/webui/docs/swagger-ui/, which is committed and embedded
# in the binary. Building orderapi needs no Node.js; only changing the
# version does (`make swagger-ui` after raising it in package.json and
# running `npm install` there).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
vendor=$root/internal/adapters/webui/vendor
out=$root/internal/adapters/webui/docs/swagger-ui

# What the page uses: the bundle (Swagger UI with its dependencies; the
# standalone preset only adds a top bar that loads other documents), its
# styles and an icon. The licence texts go along: Swagger UI's (Apache-2.0)
# with its NOTICE, and the notices of the libraries inside the bundle,
# which the bundle's first line points to. No source maps.
files=(
	swagger-ui-bundle.js
	swagger-ui.css
	favicon-32x32.png
	LICENSE
	NOTICE
	swagger-ui-bundle.js.LICENSE.txt
)

cd "$vendor"
# --ignore-scripts: the package's dependency @scarf/scarf would report the
# install from a postinstall script; nothing here needs a script to run.
SCARF_ANALYTICS=false npm ci --ignore-scripts --no-audit --no-fund --silent
version=$(node -p 'require("swagger-ui-dist/package.json").version')

rm -rf "$out"
mkdir -p "$out"
for f in "${files[@]}"; do
	cp "node_modules/swagger-ui-dist/$f" "$out/$f"
done
printf 'swagger-ui: vendored swagger-ui-dist %s into %s\n' "$version" "${out#"$root"/}"
