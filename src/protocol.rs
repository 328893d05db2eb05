//! What JavaScript and the core must agree on besides the calls themselves: the kinds of event,
//! the relay's lanes, the grace times, the error prefix and the window size (the set-up steps'
//! syscalls come from `lib.rs`). Each is defined here once and exported through napi; the
//! facade takes them from the binding, and a test checks that both sides agree.

use napi_derive::napi;

/// The kinds of event the reactor sends to an Env's callback `(kind, id, data, a, b)`.
#[napi]
#[derive(Debug, PartialEq, Eq)]
pub enum Kind {
  /// The child's exec succeeded.
  Spawned = 1,
  /// A set-up step failed (`a`: the step, `b`: the errno); the child exits with 127.
  SpawnFailed = 2,
  /// Output (`data`).
  Data = 3,
  /// The output is complete.
  Eof = 4,
  /// The child was reaped (`a`: the raw `waitpid` status, -1 when it was gone).
  Exit = 5,
  /// Input that had to wait is now all written.
  Drained = 6,
  /// Writing waiting input failed (`a`: the errno).
  WriteFailed = 7,
  /// A chunk for a `spawn` hook (`data`; `a`: the lane).
  RelayChunk = 8,
  /// `spawn`'s output is complete and written.
  RelayDone = 9,
  /// `spawn` could not write the output to its stdout (`a`: the errno).
  RelayFailed = 10,
  /// `Eof` and `Exit` at once.
  EofExit = 11,
}

/// The relay's lane from the pty to stdout (a hook chunk's `a`, `relayAnswer`'s `lane`).
#[napi]
pub const LANE_OUTPUT: u32 = 0;
/// The relay's lane from stdin to the pty.
#[napi]
pub const LANE_INPUT: u32 = 1;

/// After the child has exited while some other process (a grandchild) still holds the terminal,
/// how long the master may stay silent before the output is declared complete.
#[napi]
pub const EXIT_GRACE_MS: u32 = 100;
/// ...and how long after the exit the output ends at the latest, however much the grandchild
/// prints. Neither applies when the kernel reports the terminal hung up (no slave fd left
/// open): then the output is read to its very end.
#[napi]
pub const EXIT_GRACE_MAX_MS: u32 = 1000;

/// Marks an error message as a serialised system error for the facade (see `error.rs`).
#[napi]
pub const SYS_ERROR_PREFIX: &str = "napi-pty:sys:";

/// A terminal's size in character cells.
#[napi(object)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSize {
  pub cols: u16,
  pub rows: u16,
}
