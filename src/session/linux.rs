//! The Linux side of the session layer: processes as `/proc` describes them, the terminal's
//! foreground group, and handles that signal one process and only that one (pidfds; by pid
//! as on macOS under `NAPI_PTY_PORTABLE=1`).

use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use crate::error::{SysError, SysResult};
use crate::sys::{pidfd_open, pidfd_send_signal, portable};

use crate::session::by_pid::ByPid;
use crate::session::proc::Proc;

/// One process as `/proc/<pid>/stat` describes it, or `None` when it is gone (or unreadable).
pub(crate) fn stat(pid: libc::pid_t) -> Option<Proc> {
  let text = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
  parse_stat(pid, &text)
}

/// Parses a `stat` line. The name sits between the first `(` and the last `)`: it may itself
/// hold spaces and parentheses.
fn parse_stat(pid: libc::pid_t, text: &[u8]) -> Option<Proc> {
  let open = text.iter().position(|&b| b == b'(')?;
  let close = text.iter().rposition(|&b| b == b')')?;
  let name = String::from_utf8_lossy(text.get(open + 1..close)?).into_owned();
  let rest = std::str::from_utf8(text.get(close + 2..)?).ok()?;
  // From field 3 (state) on; the start time is field 22.
  let fields: Vec<&str> = rest.split(' ').collect();
  let state = fields.first()?.bytes().next()?;
  let number = |i: usize| fields.get(i)?.parse::<i64>().ok();
  Some(Proc {
    pid,
    ppid: number(1)? as libc::pid_t,
    pgid: number(2)? as libc::pid_t,
    sid: number(3)? as libc::pid_t,
    start: number(19)? as u64,
    gone: state == b'Z' || state == b'X',
    stopped: state == b'T',
    name,
  })
}

/// Every process of the system that could be read.
pub(crate) fn all() -> SysResult<Vec<Proc>> {
  let dir = std::fs::read_dir("/proc").map_err(|e| io_error(e, "opendir"))?;
  let mut out = Vec::new();
  for entry in dir.flatten() {
    let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
      continue;
    };
    // Gone since the listing, or not ours to read: either way not one to report.
    if let Some(proc) = stat(pid) {
      out.push(proc);
    }
  }
  Ok(out)
}

fn io_error(err: std::io::Error, syscall: &'static str) -> SysError {
  SysError::new(err.raw_os_error().unwrap_or(libc::EIO), syscall).with_path("/proc")
}

/// A process's arguments; `None` when the kernel will not say (another user's process under
/// `hidepid`, a kernel thread, a zombie).
pub(crate) fn argv(pid: libc::pid_t) -> Option<Vec<String>> {
  let bytes = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
  if bytes.is_empty() {
    return None;
  }
  let body = bytes.strip_suffix(b"\0").unwrap_or(&bytes);
  Some(
    body
      .split(|&b| b == 0)
      .map(|arg| String::from_utf8_lossy(arg).into_owned())
      .collect(),
  )
}

/// A process's working directory; `None` when the kernel will not say (another user's).
pub(crate) fn cwd(pid: libc::pid_t) -> Option<String> {
  let path = std::fs::read_link(format!("/proc/{pid}/cwd")).ok()?;
  Some(path.to_string_lossy().into_owned())
}

/// Now, on the clock `/proc` start times are counted in (kept in `sys`, where the reactor
/// reads it too).
pub(crate) use crate::sys::now_ticks;

/// A process that has been proven to be the one a scan saw, with a pidfd readable once it has
/// exited. Signals go through the pidfd and reach that process or none, even if its pid is
/// reused meanwhile. Under `NAPI_PTY_PORTABLE=1` they go by pid with the start time checked
/// first, as on macOS (see [`ByPid`] for the window that leaves), and the pidfd only watches
/// the exit, as macOS's kqueue does.
pub(crate) struct Handle {
  fd: OwnedFd,
  by_pid: Option<ByPid>,
}

impl Handle {
  /// Opens a handle on `proc`, or `None` when it is gone or its pid now belongs to another
  /// process. The pidfd is opened first and the identity checked after: a process that still
  /// has the pid and the start time the scan saw held that pid all along, so it is the one
  /// the pidfd refers to.
  pub(crate) fn open(proc: &Proc) -> Option<Handle> {
    let fd = pidfd_open(proc.pid).ok()?;
    if portable() {
      let by_pid = Some(ByPid::open(proc, stat)?);
      return Some(Handle { fd, by_pid });
    }
    let now = stat(proc.pid)?;
    (now.start == proc.start && !now.gone).then_some(Handle { fd, by_pid: None })
  }

  /// Sends `signal`. A process that has already exited is not an error; the errno is.
  pub(crate) fn signal(&self, signal: i32) -> Result<(), i32> {
    if let Some(by_pid) = &self.by_pid {
      return by_pid.signal(signal);
    }
    match pidfd_send_signal(self.fd.as_raw_fd(), signal) {
      Err(e) if e.errno != libc::ESRCH => Err(e.errno),
      _ => Ok(()),
    }
  }

  /// The fd to poll for the process's exit.
  pub(crate) fn raw_fd(&self) -> Option<RawFd> {
    Some(self.fd.as_raw_fd())
  }
}

/// The calls that make the waiter's poller, its waker, and a wake (epoll and an eventfd), which
/// its errors name.
pub(crate) const POLL_CALLS: [&str; 3] = ["epoll_create1", "eventfd", "write"];

/// The system call a failed signal names.
pub(crate) fn signal_syscall() -> &'static str {
  if portable() {
    "kill"
  } else {
    "pidfd_send_signal"
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn names_with_spaces_and_parentheses() {
    let line = b"42 (a b) (c)) S 1 42 42 34816 42 4194560 0 0 0 0 0 0 0 0 20 0 1 0 777 0 0";
    let proc = parse_stat(42, line).unwrap();
    assert_eq!(proc.name, "a b) (c)");
    assert_eq!(
      (proc.ppid, proc.pgid, proc.sid, proc.start),
      (1, 42, 42, 777)
    );
    assert!(!proc.gone);
  }
}
