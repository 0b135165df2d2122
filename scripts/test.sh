#!/usr/bin/env bash
# The whole test suite, as the README and CI run it: installs the pinned Synapse
# the Matrix end-to-end tests start (idempotent; about 25 s the first time, well
# under a second after), then runs every test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-synapse.sh >/dev/null
exec cargo test "$@"
