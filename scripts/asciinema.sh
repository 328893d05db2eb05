#!/bin/sh
# Installs asciinema 3.2.0 (the reference for the recorder's asciicast tests) into a cache
# directory, once. The tests look for it at the same place and skip, naming this script and
# the reason, when it is not there.
#
# Uses rustup's cargo explicitly: another cargo (a distribution's) may come first on PATH.
# When it cannot be built (no rustup, no network), it says why and exits 0: the tests that need
# it then skip by name.
set -u

VERSION=3.2.0
ROOT=${NAPI_PTY_ASCIINEMA_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/napi-pty/asciinema-$VERSION}
BIN=$ROOT/bin/asciinema

if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q " $VERSION\$"; then
  echo "asciinema $VERSION: already installed at $BIN"
  exit 0
fi

if [ -x "$HOME/.cargo/bin/rustup" ]; then
  CARGO="$HOME/.cargo/bin/rustup run stable cargo"
elif [ -x "$HOME/.cargo/bin/cargo" ]; then
  CARGO="$HOME/.cargo/bin/cargo"
else
  echo "asciinema $VERSION: not installed (no rustup cargo in \$HOME/.cargo/bin); its tests will skip"
  exit 0
fi

echo "asciinema $VERSION: building into $ROOT (once)"
if $CARGO install asciinema --locked --version "$VERSION" --root "$ROOT"; then
  echo "asciinema $VERSION: installed at $BIN"
else
  echo "asciinema $VERSION: the build failed (see above); its tests will skip"
fi
exit 0
