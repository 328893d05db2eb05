#!/usr/bin/env bash
# Type-checks and lints the crate for every target it ships to, from any Linux machine and with
# no linker or SDK for them: Debian's Rust (rustc-web, cargo-web, rust-web-src, rust-web-clippy)
# builds the standard library from its source for each target (-Zbuild-std), and `cargo check`
# and `cargo clippy` never link. This is what lets the macOS code be checked where there is no
# Mac. Debian's cargo is named by path so that whichever cargo is first on PATH (rustup's, say)
# is left alone; it keeps its own target dir (NAPI_PTY_CROSS_DIR, by default under ~/.cache) so the normal
# build is not invalidated.
#
# Usage: scripts/check-targets.sh [target...]   (default: all six)
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_BIN=/usr/bin
TARGETS=(
  x86_64-apple-darwin
  aarch64-apple-darwin
  x86_64-unknown-linux-gnu
  aarch64-unknown-linux-gnu
  x86_64-unknown-linux-musl
  aarch64-unknown-linux-musl
)
[ $# -gt 0 ] && TARGETS=("$@")

for tool in cargo rustc clippy-driver cargo-clippy; do
  if [ ! -x "$DEB_BIN/$tool" ]; then
    echo "check-targets: $DEB_BIN/$tool is missing (apt-get install rustc-web cargo-web rust-web-src rust-web-clippy)" >&2
    exit 1
  fi
done
if [ ! -d /usr/lib/rustlib/src/rust/library ]; then
  echo "check-targets: the standard library's source is missing (apt-get install rust-web-src)" >&2
  exit 1
fi

# Debian's tools first on PATH, so that `cargo clippy` finds Debian's clippy-driver; RUSTC
# named so that no rustup proxy is asked; nightly flags (-Zbuild-std) allowed on this stable
# compiler; no RUSTC_WRAPPER or RUSTFLAGS from the caller's setup.
export PATH="$DEB_BIN:$PATH"
export RUSTC="$DEB_BIN/rustc"
export RUSTC_BOOTSTRAP=1
unset RUSTC_WRAPPER RUSTFLAGS CARGO_BUILD_TARGET
CARGO="$DEB_BIN/cargo"
# A target dir of its own, outside the checkout: building std for six targets takes minutes the
# first time, and a cache kept beside cargo's own lets every clone on this machine reuse it.
CROSS_DIR="${NAPI_PTY_CROSS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/napi-pty/cross-check}"
# As the musl addon is built: a cdylib needs the C runtime linked dynamically.
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C target-feature=-crt-static"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C target-feature=-crt-static"
COMMON=(-Zbuild-std=std,panic_abort --target-dir "$CROSS_DIR" --quiet)

failed=()
for target in "${TARGETS[@]}"; do
  echo "check-targets: $target"
  start=$SECONDS
  if ! "$CARGO" check "${COMMON[@]}" --target "$target" --all-targets; then
    failed+=("$target (check)")
    continue
  fi
  if ! "$CARGO" clippy "${COMMON[@]}" --target "$target" --all-targets -- -D warnings; then
    failed+=("$target (clippy)")
    continue
  fi
  echo "check-targets: $target clean ($((SECONDS - start)) s)"
done

if [ ${#failed[@]} -gt 0 ]; then
  printf 'check-targets: failed: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "check-targets: all ${#TARGETS[@]} targets type-check and lint clean"
