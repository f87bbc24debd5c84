#!/usr/bin/env bash
# Unpack the test inputs the repository carries (tests/data/*.tar.xz: tokenizer files, the Austen
# corpus) into DIR and check every file against tests/data/SHA256SUMS. A file that does not match
# stops everything with a non-zero exit: a test must never run on inputs other than the ones its
# golden files were made from.
#
# Usage: scripts/prepare-test-data.sh [DIR]    (default: build/test-data)
# The build runs it into <build dir>/test-data (tests/CMakeLists.txt); scripts/test.sh runs it
# again before ctest. Safe to repeat: when DIR already holds the right files it only re-checks them.
#
# Needs only cmake (its built-in tar reads .tar.xz, so no xz binary is required) and sha256sum.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data="$root/tests/data"
dest=${1:-"$root/build/test-data"}
sums="$data/SHA256SUMS"

fail() { echo "prepare-test-data: $*" >&2; exit 1; }
[ -f "$sums" ] || fail "missing $sums"
command -v sha256sum >/dev/null || fail "sha256sum not found (coreutils)"
command -v cmake >/dev/null || fail "cmake not found (it unpacks the .tar.xz archives)"

# DIR/SHA256SUMS is written last, once everything matched: its presence and equality with the
# repository's list says DIR is complete; the hashes are still checked every time.
if cmp -s "$sums" "$dest/SHA256SUMS" && (cd "$dest" && sha256sum --check --quiet --strict "$sums") >/dev/null 2>&1; then
    exit 0
fi

mkdir -p "$(dirname "$dest")"
dest=$(cd "$(dirname "$dest")" && pwd)/$(basename "$dest")
work=$(mktemp -d "$dest.tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
shopt -s nullglob
archives=("$data"/*.tar.xz)
[ ${#archives[@]} -gt 0 ] || fail "no archives in $data"
for archive in "${archives[@]}"; do
    (cd "$work" && cmake -E tar xf "$archive") || fail "cannot unpack $archive"
done

# Every file listed must be there with the listed hash, and nothing unlisted may ride along.
if ! (cd "$work" && sha256sum --check --quiet --strict "$sums"); then
    fail "test data in $data does not match $sums (a changed archive needs its hashes updated, see tests/data/README.md)"
fi
listed=$(awk '{print $2}' "$sums" | sort)
unpacked=$(cd "$work" && find . -type f | sed 's|^\./||' | sort)
[ "$listed" = "$unpacked" ] || fail "archives in $data and $sums list different files:
$(diff <(echo "$listed") <(echo "$unpacked") || true)"

cp "$sums" "$work/SHA256SUMS"
rm -rf "$dest"
mv "$work" "$dest"
trap - EXIT
echo "prepare-test-data: $(echo "$listed" | wc -l) files checked into $dest"
