#!/bin/sh
# Every symbol libdeepc.a defines with external linkage starts with dc_.
lib="$1"
# (sanitizer builds add __odr_asan.<name> twins of globals: those are the compiler's)
bad=$(nm -g --defined-only "$lib" 2>/dev/null | awk 'NF == 3 { print $3 }' \
      | grep -v '^dc_' | grep -v '^__odr_asan\.dc_' | sort -u)
if [ -n "$bad" ]; then
    echo "symbols without the dc_ prefix:"
    echo "$bad"
    exit 1
fi
n=$(nm -g --defined-only "$lib" | awk 'NF == 3' | wc -l)
echo "ok: $n exported symbols, all dc_"
