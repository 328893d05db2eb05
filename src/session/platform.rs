//! The part of the session layer that differs per system, one file each beside this one
//! (`linux.rs`, `macos.rs`), chosen by `#[cfg_attr(target_os = …, path = …)]` as `sys` chooses
//! its backend. Each gives the same items:
//!
//! - `stat(pid)` and `all()`: readings of one process and of the whole table as [`Proc`]s
//!   (zombies included, marked `gone`); `argv(pid)` and `cwd(pid)`, `None` when the system
//!   will not tell; `now_ticks()`, now on the clock start times are counted in.
//! - `Handle`: `open(&Proc)`, `None` unless the process is still the one the scan saw;
//!   `signal(signal)`, never to a process other than that one (pidfds on Linux; by pid with
//!   the start time checked first on macOS, see `by_pid`); `raw_fd()`, an fd readable at the
//!   process's exit (a pidfd, a kqueue), if it has one.
//! - `signal_syscall()`, the call a failed signal names, and `POLL_CALLS`, those that make the
//!   waiter's poller, its waker and a wake, which its errors name.
//!
//! [`Proc`]: super::proc::Proc

#[cfg_attr(target_os = "linux", path = "linux.rs")]
#[cfg_attr(target_os = "macos", path = "macos.rs")]
mod os;

/// The terminal's foreground process group, asked of the master: the same on every system.
pub(crate) use crate::sys::posix::foreground_group;
pub(crate) use os::{all, argv, cwd, now_ticks, signal_syscall, stat, Handle, POLL_CALLS};

#[cfg(test)]
mod tests {
  use super::*;

  /// What every backend must give for a process it may read in full: this one.
  #[test]
  fn this_process_is_found() {
    let me = std::process::id() as libc::pid_t;
    let proc = stat(me).unwrap();
    // SAFETY: getsid only reads this process's state.
    assert_eq!(proc.sid, unsafe { libc::getsid(0) });
    assert!(all()
      .unwrap()
      .iter()
      .any(|p| p.pid == me && p.start == proc.start));
    assert!(argv(me).is_some_and(|a| !a.is_empty()));
    assert!(cwd(me).is_some());
    assert!(now_ticks() >= proc.start);
  }
}
