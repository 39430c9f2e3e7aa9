#!/bin/sh
# chat-js: compare dc_chat_apply with the JS reference renderers (ref.mjs).
# usage: run_js.sh CHAT_RENDER_EXE SOURCE_DIR(tests/chat) TEMPLATES_DIR WORK_DIR
# Installs tests/chat/package.json into WORK_DIR (the build dir) once; exits
# 77 (skipped) when node or npm is missing or the install fails (offline).
set -u
exe="$1" src="$2" templates="$3" work="$4"
command -v node >/dev/null 2>&1 || { echo "node not found: skipping"; exit 77; }
mkdir -p "$work" || exit 1
if ! cmp -s "$src/package.json" "$work/package.json" || [ ! -d "$work/node_modules/@huggingface/jinja" ]; then
    command -v npm >/dev/null 2>&1 || { echo "npm not found: skipping"; exit 77; }
    cp "$src/package.json" "$work/package.json" || exit 1
    if ! (cd "$work" && npm install --no-audit --no-fund --no-package-lock --loglevel=error >npm.log 2>&1); then
        echo "npm install failed (offline?): skipping"; cat "$work/npm.log"; rm -f "$work/package.json"; exit 77
    fi
fi
# ESM resolves packages next to the script, so run a copy placed beside node_modules.
cp "$src/ref.mjs" "$work/ref.mjs" || exit 1
exec node "$work/ref.mjs" "$src/conversations.json" "$templates" "$exe"
