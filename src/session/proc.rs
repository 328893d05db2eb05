//! A process as the session layer sees it, the same on every platform.

/// One process from a reading of the process table.
#[derive(Clone, Debug)]
pub(crate) struct Proc {
  pub(crate) pid: libc::pid_t,
  pub(crate) ppid: libc::pid_t,
  pub(crate) pgid: libc::pid_t,
  pub(crate) sid: libc::pid_t,
  /// When it started, in the platform's ticks: with the pid, what tells it from a later
  /// process that was given the same pid.
  pub(crate) start: u64,
  /// A zombie: it has exited and only waits to be reaped.
  pub(crate) gone: bool,
  /// Stopped by a signal (or a debugger).
  pub(crate) stopped: bool,
  /// The kernel's name for it (on Linux at most 15 bytes of the program's file name).
  pub(crate) name: String,
}
