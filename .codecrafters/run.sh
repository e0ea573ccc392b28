#!/bin/sh
#
# CodeCrafters runs this to start the server, as the tester does with
# ./your_program.sh: Bun runs the TypeScript entry point directly.
set -e
exec bun run "$(dirname "$0")/../app/main.ts" "$@"
