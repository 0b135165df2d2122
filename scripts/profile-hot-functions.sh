#!/usr/bin/env bash
# Rewrites scripts/hot-functions.txt: the functions the bot runs in service, which
# scripts/link-hot-first places together when it links an optimised build.
#
# It runs the budget benchmark's Matrix part (`--quick`: a soak with 100 feeds and
# 10 rooms on a test Synapse, then the latency part) with the bot under valgrind's
# callgrind, which records every function that runs, and a short `console` session
# the same way. The names stay valid across code changes; rerun this after dependency
# or profile changes, or when the budget benchmark's resident code grows. Needs
# valgrind (Debian package) and 1.5 to 6 minutes once the benchmark is built.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo bench --bench budget --no-run
cp "${CARGO_TARGET_DIR:-target}/release/sanctions-watch" "$work/bot"
cat >"$work/bot-under-callgrind" <<EOF
#!/usr/bin/env bash
exec valgrind --tool=callgrind --demangle=no --dump-instr=no \
    --callgrind-out-file="$work/callgrind.%p" "$work/bot" "\$@"
EOF
chmod +x "$work/bot-under-callgrind"

echo "== the budget benchmark's Matrix part, the bot under callgrind"
SANCTIONS_WATCH_BIN="$work/bot-under-callgrind" cargo bench --bench budget -- --only matrix --quick

echo "== a console session under callgrind"
sed "s|^data_dir = .*|data_dir = \"$work/state\"|" config.toml.example >"$work/config.toml"
printf 'help\nstatus\nfeeds\nwatchlists\ntest Kim Jong Un met the crew of the vessel Lady R\nsearch sanctions\nquit\n' |
    timeout 300 "$work/bot-under-callgrind" console --config "$work/config.toml" >/dev/null 2>&1 || true

# Every function of the bot's own binary named in the profiles (not those of the
# C library or of valgrind), without LLVM's per-build `.llvm.<n>` suffixes and
# callgrind's recursion marks (see scripts/link-hot-first).
nm --defined-only "$work/bot" | awk 'NF == 3 { print $3 }' |
    sed -E 's/\.llvm\.[0-9]+$//' | LC_ALL=C sort -u >"$work/binary-functions"
cat "$work"/callgrind.* |
    sed -nE 's/^c?fn=\([0-9]+\) (.*)$/\1/p' |
    sed -E "s/'[0-9]+\$//; s/\\.llvm\\.[0-9]+\$//" |
    LC_ALL=C sort -u |
    LC_ALL=C comm -12 - "$work/binary-functions" >scripts/hot-functions.txt
echo "scripts/hot-functions.txt: $(wc -l <scripts/hot-functions.txt) functions"
