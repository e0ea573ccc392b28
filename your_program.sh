#!/bin/sh
#
# Starts the server: ./your_program.sh [--directory DIR] [--port N] ...
#
# On a fresh clone it first installs the locked dependencies (npm ci) and
# compiles the TypeScript; later runs skip both unless package-lock.json or
# a source file changed, so the server is listening well within a second.
set -e
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)

# By the lockfile's content, not its time: a second checkout (a git worktree)
# sharing this node_modules must not reinstall, and so empty, it.
lock_sum=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$here/node_modules/.package-lock.json" ] || [ "$(cat "$here/node_modules/.installed-lock-sha256" 2>/dev/null)" != "$lock_sum" ]; then
  if [ -f "$here/node_modules/.package-lock.json" ] && [ ! -f "$here/node_modules/.installed-lock-sha256" ] && [ ! "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
    : # installed before this check existed, and not older than the lockfile
  else
    echo "installing dependencies (npm ci)..." >&2
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
  echo "$lock_sum" > "$here/node_modules/.installed-lock-sha256"
fi

stamp="$here/dist/.build-stamp"
if [ ! -f "$stamp" ] || [ -n "$(find "$here/app" "$here/stages" "$here/tsconfig.json" "$here/package.json" -newer "$stamp" -print 2>/dev/null | head -n 1)" ]; then
  echo "compiling TypeScript..." >&2
  "$here/node_modules/.bin/tsc" -p "$here/tsconfig.json"
  touch "$stamp"
fi

exec node "$here/dist/app/main.js" "$@"
