#!/usr/bin/env bash
# Property-based fuzzing of every API response decoder (src-tauri/tests/decoders_prop.rs) for longer
# than the regular test run: UNLOC_FUZZ_CASES cases per property (default here 20,000).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
UNLOC_FUZZ_CASES=${UNLOC_FUZZ_CASES:-20000} cargo test --release -p unloc-desk --test decoders_prop -- --nocapture
