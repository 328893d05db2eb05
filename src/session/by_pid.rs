//! Signalling a process of the terminal by its pid, where there is no handle on a process to
//! signal through (macOS: no pidfd; Linux under `NAPI_PTY_PORTABLE=1`, so that this path runs
//! and is tested there too).
//!
//! The process is named by its pid and the start time a scan saw, and each signal is preceded
//! by a fresh reading of that one process: `kill` is sent only if the pid still has that start
//! time and has not exited. What remains is the window between that reading and the `kill`
//! (a few microseconds, two system calls apart): in it the process would have to exit, be
//! reaped by its parent, and its pid be handed to a new process, which on both systems means
//! the pid counter going once round the whole pid space (pids are given out in increasing
//! order, skipping those in use). Nothing closes that window without a handle on the process
//! itself: macOS signals only by pid (`kill`, `killpg`; its private `proc_terminate` is by pid
//! too, and a task port needs an entitlement), and a kqueue can watch a process but not signal
//! it. A zombie keeps its pid until it is reaped, so a process that the reading shows as a
//! zombie is not signalled: it no longer needs to be, and its pid is still not anyone else's.
//!
//! Watching the exit is the OS's part (a kqueue on macOS, a pidfd under `NAPI_PTY_PORTABLE=1`).

use super::proc::Proc;

/// A fresh reading of one process (the system's `stat`), `None` when it is gone.
pub(crate) type Read = fn(libc::pid_t) -> Option<Proc>;

/// A process by pid and start time, checked again before each signal.
pub(crate) struct ByPid {
  pid: libc::pid_t,
  start: u64,
  read: Read,
}

impl ByPid {
  /// `None` when `proc` is gone, a zombie, or its pid is now another process's, as `read`
  /// shows it now.
  pub(crate) fn open(proc: &Proc, read: Read) -> Option<ByPid> {
    let now = read(proc.pid)?;
    (now.start == proc.start && !now.gone).then_some(ByPid {
      pid: proc.pid,
      start: proc.start,
      read,
    })
  }

  /// Sends `signal` if the pid is still the process that was seen and it has not exited.
  /// A process that is gone is not an error; any other errno is.
  pub(crate) fn signal(&self, signal: i32) -> Result<(), i32> {
    match (self.read)(self.pid) {
      Some(now) if now.start == self.start && !now.gone => {}
      _ => return Ok(()),
    }
    // The window described above is here, between the reading and this call.
    // SAFETY: kill takes two integers; the pid was just seen to be the process meant.
    if unsafe { libc::kill(self.pid, signal) } < 0 {
      let errno = crate::error::last_errno();
      if errno != libc::ESRCH {
        return Err(errno);
      }
    }
    Ok(())
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::session::platform::stat;
  use std::os::unix::process::ExitStatusExt;

  #[test]
  fn only_the_process_seen_is_signalled() {
    let mut child = std::process::Command::new("sleep")
      .arg("100")
      .spawn()
      .unwrap();
    let pid = child.id() as libc::pid_t;
    let seen = stat(pid).unwrap();
    // The same pid with another start time is another process: refused, and never signalled.
    let other = Proc {
      start: seen.start + 1,
      ..seen.clone()
    };
    assert!(ByPid::open(&other, stat).is_none());
    let stale = ByPid {
      pid,
      start: seen.start + 1,
      read: stat,
    };
    stale.signal(libc::SIGKILL).unwrap();
    // What ends it is the handle on the process seen: had the stale one sent its SIGKILL, the
    // status would say so.
    let handle = ByPid::open(&seen, stat).unwrap();
    handle.signal(libc::SIGTERM).unwrap();
    // Exited, not reaped yet: a zombie is neither opened nor signalled, and that is no error.
    // SAFETY: siginfo_t is plain data, filled in by waitid.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let options = libc::WEXITED | libc::WNOWAIT;
    // SAFETY: waits for our own child, writing into info; WNOWAIT leaves it unreaped.
    let rc = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, options) };
    assert_eq!(rc, 0);
    assert!(stat(pid).is_some_and(|p| p.gone && p.start == seen.start));
    assert!(ByPid::open(&seen, stat).is_none());
    handle.signal(libc::SIGKILL).unwrap();
    assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGTERM));
    // Reaped: the same.
    handle.signal(libc::SIGKILL).unwrap();
    assert!(ByPid::open(&seen, stat).is_none());
  }
}
