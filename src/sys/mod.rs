//! The platform layer: everything napi-pty asks of the operating system that is not the same
//! on every POSIX system, behind one set of names.
//!
//! [`posix`] is written once for every supported system, with no `cfg` inside it: the child's
//! set-up between fork and exec, its report through a close-on-exec pipe, the plain `fork`,
//! signalling by pid, reopening a terminal by its name (the pair's own POSIX calls, sizes and
//! termios are in [`crate::pty`]). `os` is one file per system (`linux.rs`, `macos.rs`), chosen by
//! `#[cfg_attr(target_os = …, path = …)]` as mio does; each provides the same items:
//!
//! - **Creating the child**: `create_child(&ExecImage, slave, report) -> SysResult<pid>` runs
//!   [`posix::child_main`] in a new process and returns once that process exists (and, where the
//!   creation borrows the parent's memory, once it has exec'd or given up), with every signal
//!   blocked around it; its error names the call that failed (`fork`, `clone`). A child is
//!   always made inside this process: no helper executable, whose loss or wrong path is the
//!   error users of other pty libraries meet most.
//! - **The child's raw calls**, async-signal-safe, made between fork and exec: `Calls`, the
//!   backend's [`posix::ChildCalls`] (`get_groups`, `set_groups`, `set_gid`, `set_uid`: Linux
//!   needs raw syscalls where libc's wrappers would talk to other threads;
//!   `mark_cloexec_from(first) -> bool`, which marks every fd from `first` up close-on-exec in
//!   one call where the system can, false otherwise, when the shared code loops with `fcntl` up
//!   to a bound read before the fork, allocating nothing; `MAX_SIGNAL`, the highest signal
//!   number whose disposition the child resets). It is passed to the shared code as a type, so
//!   that [`posix`] names no backend.
//! - **Pipes**: `pipe_cloexec() -> SysResult<(OwnedFd, OwnedFd)>`, both ends close-on-exec.
//! - **The master**: `open_master() -> SysResult<OwnedFd>`, close-on-exec from the moment it
//!   exists, and `pts_name(master) -> SysResult<String>`, thread-safe.
//! - **Exit watching**: `watch_exit(pid) -> SysResult<OwnedFd>`, an fd that becomes readable
//!   once the child has exited (a pidfd, a kqueue), registered in the reactor's `mio::Poll`,
//!   readable even when the child exited before the watch existed; `try_reap(pid, watch) ->
//!   SysResult<Option<status>>` reaps that one child if it has exited, never any other.
//! - **Signals**: `signal_child(watch, pid, signal) -> SysResult<()>`, which can never reach a
//!   recycled pid, given that the caller stops signalling (drops the watch) under the same lock
//!   as it reaps (see each backend for how).
//! - **spawn's stdin and stdout**: `reopen_own(fd, for_write) -> Option<OwnedFd>`, a new
//!   non-blocking open file description of the same pipe or terminal, so that the flags that
//!   this process's stdin/stdout share with the user's shell are never changed; `None` when the
//!   system cannot give one (the caller then uses a duplicate, probed before each call).
//! - **Reading a master**: `read_emptied(asked, got) -> bool`, whether a read of a master that
//!   got `got` of `asked` bytes left it empty (and is worth stopping at), so that a reader woken
//!   by an edge need not read again to hear `EAGAIN` (until the terminal has hung up).
//! - **Stranded output**: `collect_stranded(pts_name, master) -> Vec<u8>`, the output a
//!   terminal driver can leave behind at exit (Linux's `n_tty`; elsewhere nothing), and
//!   `strandable(delivered)`, whether anything can have been stranded after that much output.
//! - **Process start times**: `now_ticks()`, now on the clock the process table gives start
//!   times in (Linux: ticks since boot; macOS: microseconds of the wall clock). The session
//!   layer compares start times with it, and the reactor notes it just before each reap.
//!
//! Every error is a [`SysError`](crate::error::SysError) naming the call that failed, the same
//! on every system.

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
compile_error!(
  "napi-pty supports Linux and macOS only (x86_64 and aarch64; glibc or musl on Linux): \
   this target's operating system has no backend in src/sys/"
);

#[cfg(any(target_os = "linux", target_os = "macos"))]
#[cfg_attr(target_os = "linux", path = "linux.rs")]
#[cfg_attr(target_os = "macos", path = "macos.rs")]
mod os;
pub(crate) mod posix;

#[cfg(any(target_os = "linux", target_os = "macos"))]
pub(crate) use os::{
  collect_stranded, create_child, now_ticks, open_master, pipe_cloexec, pts_name, read_emptied,
  reopen_own, signal_child, strandable, try_reap, watch_exit,
};
#[cfg(target_os = "linux")]
pub(crate) use os::{pidfd_open, pidfd_send_signal, portable};
pub use posix::Step;
pub(crate) use posix::{read_report, ExecImage, Report};

#[cfg(test)]
mod tests {
  use super::*;
  use crate::pty::{open_pty, WindowSize};
  use std::ffi::CString;
  use std::os::fd::{AsRawFd, OwnedFd, RawFd};

  fn image(argv: &[&str]) -> ExecImage {
    let argv: Vec<CString> = argv.iter().map(|a| CString::new(*a).unwrap()).collect();
    let env = vec![CString::new("PATH=/usr/bin:/bin").unwrap()];
    ExecImage::new(argv[0].clone(), argv, env, None, None, None)
  }

  /// Creates the child on a new pty the way `fork_pty` does; returns its pid, the report's
  /// read end (blocking) and the master.
  fn start(argv: &[&str]) -> (libc::pid_t, OwnedFd, OwnedFd) {
    let pair = open_pty(WindowSize { cols: 80, rows: 24 }).unwrap();
    let (report, report_wr) = pipe_cloexec().unwrap();
    let image = image(argv);
    let pid = create_child(&image, pair.slave.as_raw_fd(), report_wr.as_raw_fd()).unwrap();
    (pid, report, pair.master)
  }

  fn readable_within(fd: RawFd, ms: i32) -> bool {
    let mut pfd = libc::pollfd {
      fd,
      events: libc::POLLIN,
      revents: 0,
    };
    // SAFETY: polls one pollfd we own.
    unsafe { libc::poll(&mut pfd, 1, ms) == 1 }
  }

  fn flags(fd: RawFd, cmd: libc::c_int) -> libc::c_int {
    // SAFETY: F_GETFD/F_GETFL only read the fd's flags.
    unsafe { libc::fcntl(fd, cmd) }
  }

  #[test]
  fn the_child_runs_on_its_terminal_as_session_leader() {
    // Exit 5 only if stdin is a terminal and /dev/tty (the controlling terminal) opens.
    let (pid, report, _master) =
      start(&["/bin/sh", "-c", "test -t 0 && exec 3</dev/tty && exit 5"]);
    assert_eq!(read_report(report.as_raw_fd()).unwrap(), Report::Succeeded);
    let status = posix::wait_child(pid, 0).unwrap().unwrap();
    assert!(libc::WIFEXITED(status));
    assert_eq!(libc::WEXITSTATUS(status), 5);
  }

  #[test]
  fn a_failed_exec_is_reported_with_its_step_and_errno() {
    let (pid, report, _master) = start(&["/nonexistent/program"]);
    let failed = Report::Failed {
      step: Step::Execve,
      errno: libc::ENOENT,
    };
    assert_eq!(read_report(report.as_raw_fd()).unwrap(), failed);
    let status = posix::wait_child(pid, 0).unwrap().unwrap();
    assert_eq!(libc::WEXITSTATUS(status), 127);
  }

  #[test]
  fn a_pending_report_is_pending() {
    let (rd, wr) = pipe_cloexec().unwrap();
    crate::pty::set_nonblocking(rd.as_raw_fd()).unwrap();
    assert_eq!(read_report(rd.as_raw_fd()).unwrap(), Report::Pending);
    drop(wr);
    assert_eq!(read_report(rd.as_raw_fd()).unwrap(), Report::Succeeded);
    assert_ne!(flags(rd.as_raw_fd(), libc::F_GETFD) & libc::FD_CLOEXEC, 0);
  }

  #[test]
  fn the_watch_wakes_at_the_exit_and_signals_reach_the_child_until_it_is_reaped() {
    let (pid, report, _master) = start(&["/bin/sh", "-c", "exec sleep 100"]);
    assert_eq!(read_report(report.as_raw_fd()).unwrap(), Report::Succeeded);
    let watch = watch_exit(pid).unwrap();
    let fd = watch.as_raw_fd();
    assert!(!readable_within(fd, 0));
    assert_eq!(try_reap(pid, Some(fd)).unwrap(), None);
    signal_child(fd, pid, libc::SIGKILL).unwrap();
    assert!(readable_within(fd, 10_000), "no exit seen within 10 s");
    let status = try_reap(pid, Some(fd)).unwrap().expect("reaped");
    assert!(libc::WIFSIGNALED(status));
    assert_eq!(libc::WTERMSIG(status), libc::SIGKILL);
  }

  #[test]
  fn a_child_that_exited_before_it_was_watched_is_seen_and_reaped() {
    let (pid, _report, _master) = start(&["/bin/sh", "-c", "exit 9"]);
    // Wait for the exit without reaping: the child stays a zombie.
    // SAFETY: siginfo_t is plain data, filled in by waitid.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let options = libc::WEXITED | libc::WNOWAIT;
    // SAFETY: waits for our own child, writing into info; WNOWAIT leaves it unreaped.
    let rc = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, options) };
    assert_eq!(rc, 0);
    let watch = watch_exit(pid).unwrap();
    assert!(readable_within(watch.as_raw_fd(), 10_000));
    let status = try_reap(pid, Some(watch.as_raw_fd()))
      .unwrap()
      .expect("reaped");
    assert_eq!(libc::WEXITSTATUS(status), 9);
  }

  #[test]
  fn a_terminal_reopened_by_name_has_flags_of_its_own() {
    let pair = open_pty(WindowSize { cols: 80, rows: 24 }).unwrap();
    let slave = pair.slave.as_raw_fd();
    let own = posix::reopen_terminal(slave, true).expect("reopened");
    assert_ne!(flags(own.as_raw_fd(), libc::F_GETFL) & libc::O_NONBLOCK, 0);
    assert_eq!(flags(slave, libc::F_GETFL) & libc::O_NONBLOCK, 0);
    assert_ne!(flags(own.as_raw_fd(), libc::F_GETFD) & libc::FD_CLOEXEC, 0);
    let file = std::fs::File::open("/dev/null").unwrap();
    assert!(posix::reopen_terminal(file.as_raw_fd(), false).is_none());
  }

  #[test]
  fn pts_name_names_the_slave() {
    let pair = open_pty(WindowSize { cols: 80, rows: 24 }).unwrap();
    assert_eq!(pts_name(pair.master.as_raw_fd()).unwrap(), pair.path);
    let file = std::fs::File::open("/dev/null").unwrap();
    assert!(pts_name(file.as_raw_fd()).is_err());
  }
}
