#!/bin/sh
#
# CodeCrafters runs this once before .codecrafters/run.sh.
# Bun runs the TypeScript sources directly and its image has already run
# `bun install --frozen-lockfile`, so there is nothing to compile.
set -e
exit 0
