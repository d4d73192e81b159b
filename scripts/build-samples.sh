#!/usr/bin/env bash
# Rebuilds the sample binaries in samples/ (committed, so the demo runs where mingw-w64 is not installed).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p samples
src=test/fixtures-src
x86_64-w64-mingw32-gcc -s -O2 -o samples/hello-x64.exe "$src/hello.c"
i686-w64-mingw32-gcc -s -O2 -o samples/hello-x86.exe "$src/hello.c"
x86_64-w64-mingw32-gcc -s -O2 -shared -o samples/library-x64.dll "$src/library.c"
i686-w64-mingw32-gcc -s -O2 -shared -o samples/library-x86.dll "$src/library.c"
