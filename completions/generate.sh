#!/bin/sh
# Regenerate the completion scripts from the installed `smallest` (tests/test_completions.py
# fails when these files are stale).
set -eu
cd "$(dirname "$0")"
for shell in bash zsh fish; do
  _SMALLEST_COMPLETE="source_$shell" smallest > "smallest.$shell"
done
