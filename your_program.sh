#!/bin/sh
#
# Starts the server: ./your_program.sh [--directory DIR] [--port N] ...
#
# On a fresh clone it first installs the locked dependencies (npm ci) and
# compiles the TypeScript; later runs skip both unless package-lock.json or
# a source file changed, so the server is listening well within a second.
set -e
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)

if [ ! -f "$here/node_modules/.package-lock.json" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  echo "installing dependencies (npm ci)..." >&2
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

stamp="$here/dist/.build-stamp"
if [ ! -f "$stamp" ] || [ -n "$(find "$here/app" "$here/stages" "$here/tsconfig.json" "$here/package.json" -newer "$stamp" -print 2>/dev/null | head -n 1)" ]; then
  echo "compiling TypeScript..." >&2
  "$here/node_modules/.bin/tsc" -p "$here/tsconfig.json"
  touch "$stamp"
fi

exec node "$here/dist/app/main.js" "$@"
