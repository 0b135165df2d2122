#!/usr/bin/env bash
# Fails if a dev-dependency changes the features of a crate the bot itself depends on.
#
# Such a change makes `cargo test` and `cargo bench` build that crate (and every crate
# above it) with other settings than `cargo build --release`, so the functions of the
# binary an operator builds have other names than those scripts/hot-functions.txt
# lists (written from the benchmark's build), and scripts/link-hot-first can no longer
# place them together: the bot's resident code grew from 16 to 36 MiB when tempfile's
# defaults were turned on that way. See the note above [dev-dependencies] in Cargo.toml.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

features() {
    cargo tree --workspace --locked -e "$1" --prefix none -f '{p} [{f}]' |
        sed 's/ (\*)$//' | LC_ALL=C sort -u
}
normal=$(features normal,build)
with_dev=$(features normal,build,dev)
# Crates of the normal build whose features differ once dev-dependencies are in.
changed=$(LC_ALL=C comm -23 <(echo "$normal") <(echo "$with_dev"))
if [ -n "$changed" ]; then
    echo "dev-dependencies change the features of these crates of the bot's build:" >&2
    echo "$changed" >&2
    echo "as built with dev-dependencies:" >&2
    grep -F -f <(awk '{ print $1 " " $2 " [" }' <<<"$changed") <<<"$with_dev" >&2 || true
    exit 1
fi
echo "dev-dependencies change no feature of the bot's dependencies"
