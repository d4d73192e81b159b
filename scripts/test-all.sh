#!/usr/bin/env bash
# Lint, build, check that dist/ is what the build makes, then the tests on Node 20 (this machine's) and Node 24 (the Action's).
set -euo pipefail
cd "$(dirname "$0")/.."

npm run lint
npm run build
# Status, not diff: a bundle file the build adds but nobody committed counts as a difference too.
if [[ "${CI:-}" == "true" && -n "$(git status --porcelain -- dist)" ]]; then
  echo "dist/ differs from a fresh build: run npm run build and commit dist/" >&2
  git status --short -- dist >&2
  git diff --stat -- dist >&2
  exit 1
fi

jest=(--experimental-vm-modules node_modules/jest/bin/jest.js --ci)
echo "== tests on $(node --version)"
node "${jest[@]}"

node24=.cache/node24/node_modules/.bin/node
if [[ ! -x $node24 ]]; then
  npm install --no-save --no-audit --no-fund --prefix .cache/node24 node@24 >/dev/null
fi
echo "== tests on $($node24 --version)"
"$node24" "${jest[@]}"
