//! The macOS backend. No helper executable: the child is created inside this process, so the
//! `.node` file is all an install needs.
//!
//! Everything here that is not Apple's own call (the plain `fork`, the fd loop, `kill` ordered
//! with reaping, the terminal reopened by name) is shared with Linux in [`super::posix`] and
//! runs there under `NAPI_PTY_PORTABLE=1`. What only a Mac runs is this file.

use std::ffi::CStr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::posix::{self, ChildCalls, ExecImage};
use crate::error::{SysError, SysResult};

/// Creates the child with a plain `fork`.
///
/// - `posix_spawn` cannot give the child its terminal: it has no action for `TIOCSCTTY` (nor
///   for credentials, nor our report of which step failed). Working around that is what needs
///   a helper executable, the file other pty libraries lose on install.
/// - `vfork` on macOS runs the child on the parent's own thread until it execs; what the child
///   then changes of its thread (signal mask, credentials) is the parent's to clean up, and
///   Apple has deprecated it.
/// - `fork` copies the parent's VM map, so its cost grows with an Electron-sized parent, but
///   the child is a process of its own from its first instruction, and it makes only
///   async-signal-safe calls before it execs ([`posix::child_main`]).
pub fn create_child(image: &ExecImage, slave: RawFd, report: RawFd) -> SysResult<libc::pid_t> {
  posix::fork_child::<Calls>(image, slave, report)
}

/// This backend's calls between fork and exec: libc's, which are plain system calls here.
pub struct Calls;

impl ChildCalls for Calls {
  /// `NSIG - 1`.
  const MAX_SIGNAL: libc::c_int = 31;

  /// `getgroups(2)`; async-signal-safe (a system call; the `$DARWIN_EXTSN` variant, which asks
  /// a directory service, is not the one linked).
  ///
  /// # Safety
  /// Only writes into `groups`; safe to call between fork and exec.
  unsafe fn get_groups(groups: &mut [libc::gid_t]) -> libc::c_long {
    let len = groups.len() as libc::c_int;
    // SAFETY: the kernel writes at most len ids into groups.
    libc::c_long::from(unsafe { libc::getgroups(len, groups.as_mut_ptr()) })
  }

  /// `setgroups(2)`.
  ///
  /// # Safety
  /// Between fork and exec only.
  unsafe fn set_groups(groups: &[libc::gid_t]) -> libc::c_long {
    // SAFETY: the kernel reads groups.len() ids from groups.
    libc::c_long::from(unsafe { libc::setgroups(groups.len() as libc::c_int, groups.as_ptr()) })
  }

  /// `setgid(2)`: process-wide on macOS, a system call with nothing to tell other threads.
  ///
  /// # Safety
  /// Between fork and exec only.
  unsafe fn set_gid(gid: libc::gid_t) -> libc::c_long {
    // SAFETY: takes an integer.
    libc::c_long::from(unsafe { libc::setgid(gid) })
  }

  /// `setuid(2)`, as [`Self::set_gid`].
  ///
  /// # Safety
  /// Between fork and exec only.
  unsafe fn set_uid(uid: libc::uid_t) -> libc::c_long {
    // SAFETY: takes an integer.
    libc::c_long::from(unsafe { libc::setuid(uid) })
  }

  /// macOS has no `close_range`: the child marks fds one by one, up to the limit the parent read
  /// before forking (see [`posix::child_main`]).
  ///
  /// # Safety
  /// Does nothing; kept `unsafe` as the contract's signature.
  unsafe fn mark_cloexec_from(_first: RawFd) -> bool {
    false
  }
}

/// Both ends of a new pipe, close-on-exec. macOS has no `pipe2`, so the flag is set just after:
/// a child that another thread forks in between would inherit the ends until its exec, unless
/// it marks its fds itself as ours do (and as libuv's `posix_spawn` with
/// `POSIX_SPAWN_CLOEXEC_DEFAULT` does).
pub fn pipe_cloexec() -> SysResult<(OwnedFd, OwnedFd)> {
  let mut fds = [0 as RawFd; 2];
  // SAFETY: pipe writes two fds into the array we own.
  if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
    return Err(SysError::last("pipe"));
  }
  // SAFETY: both fds were just created and are owned by nobody else.
  let ends = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
  set_cloexec(ends.0.as_raw_fd())?;
  set_cloexec(ends.1.as_raw_fd())?;
  Ok(ends)
}

fn set_cloexec(fd: RawFd) -> SysResult<()> {
  // SAFETY: F_SETFD only changes this fd's flags.
  if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } < 0 {
    return Err(SysError::last("fcntl"));
  }
  Ok(())
}

/// A new master, close-on-exec from the moment it exists. macOS's `posix_openpt` is an `open`
/// of `/dev/ptmx` that does not promise to pass `O_CLOEXEC` on, so it is opened directly.
pub fn open_master() -> SysResult<OwnedFd> {
  let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
  // SAFETY: the path is a NUL-terminated static; open returns a new fd or -1.
  let fd = unsafe { libc::open(c"/dev/ptmx".as_ptr(), flags) };
  if fd < 0 {
    return Err(SysError::last("open").with_path("/dev/ptmx"));
  }
  // SAFETY: fd was just returned by the kernel and is owned by nobody else.
  Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `TIOCPTYGNAME`, `_IOC(IOC_OUT, 't', 83, 128)`: the slave's name into a 128-byte buffer
/// (what macOS's own `ptsname` is built on; `ptsname_r` is not in every SDK).
const TIOCPTYGNAME: libc::c_ulong = 0x4080_7453;

/// The slave's path, thread-safe: the ioctl writes into our own buffer.
pub fn pts_name(master: RawFd) -> SysResult<String> {
  let mut buf = [0 as libc::c_char; 128];
  // SAFETY: TIOCPTYGNAME writes at most 128 bytes, NUL included, into buf.
  if unsafe { libc::ioctl(master, TIOCPTYGNAME, buf.as_mut_ptr()) } != 0 {
    return Err(SysError::last("ioctl"));
  }
  buf[buf.len() - 1] = 0;
  // SAFETY: buf holds a NUL-terminated string (its last byte is NUL whatever was written).
  let name = unsafe { CStr::from_ptr(buf.as_ptr()) };
  Ok(name.to_string_lossy().into_owned())
}

fn kevent_change(ident: usize, filter: i16, flags: u16, fflags: u32) -> libc::kevent {
  libc::kevent {
    ident,
    filter,
    flags,
    fflags,
    data: 0,
    udata: std::ptr::null_mut(),
  }
}

/// A kqueue that becomes readable once `pid` has exited (`EVFILT_PROC`/`NOTE_EXIT`); a kqueue
/// fd is itself pollable, so the reactor's poll watches it like a pidfd.
///
/// Three cases are covered, since `NOTE_EXIT` alone misses a child that exits while it is being
/// registered:
/// - the child runs: `NOTE_EXIT` fires at its exit;
/// - it is already a zombie (registering fails with `ESRCH`, or `waitid` with `WNOWAIT` sees it
///   right after registering): an `EVFILT_USER` event is triggered at once;
/// - it was on its way out during the registration (too late for `NOTE_EXIT`, too early to be a
///   zombie): the `SIGCHLD` it then sends this process fires the `EVFILT_SIGNAL` event (which
///   records signals whatever their disposition), after which `waitpid` finds it.
pub fn watch_exit(pid: libc::pid_t) -> SysResult<OwnedFd> {
  // SAFETY: kqueue takes no arguments and returns a new fd or -1.
  let kq = unsafe { libc::kqueue() };
  if kq < 0 {
    return Err(SysError::last("kqueue"));
  }
  // SAFETY: kq was just returned by the kernel and is owned by nobody else.
  let kq = unsafe { OwnedFd::from_raw_fd(kq) };
  let fd = kq.as_raw_fd();
  set_cloexec(fd)?;
  let sigchld = libc::SIGCHLD as usize;
  kevent_apply(fd, &kevent_change(sigchld, libc::EVFILT_SIGNAL, ADD, 0))?;
  let exit = kevent_change(pid as usize, libc::EVFILT_PROC, ADD, libc::NOTE_EXIT);
  let gone = match kevent_apply(fd, &exit) {
    Err(e) if e.errno == libc::ESRCH => true,
    Err(e) => return Err(e),
    Ok(()) => is_zombie(pid)?,
  };
  if gone {
    // As mio's waker does: add the user event, then trigger it.
    kevent_apply(fd, &kevent_change(0, libc::EVFILT_USER, ADD, 0))?;
    let trigger = kevent_change(0, libc::EVFILT_USER, libc::EV_ADD, libc::NOTE_TRIGGER);
    kevent_apply(fd, &trigger)?;
  }
  Ok(kq)
}

/// Edge-triggered registration: an event is reported once per change.
const ADD: u16 = libc::EV_ADD | libc::EV_CLEAR;

/// Whether our child `pid` has exited, without reaping it.
fn is_zombie(pid: libc::pid_t) -> SysResult<bool> {
  // SAFETY: siginfo_t is plain data, filled in by waitid.
  let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
  let options = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
  // SAFETY: waits for our own child only, without blocking or reaping, writing into info.
  if unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, options) } < 0 {
    return Err(SysError::last("waitid"));
  }
  Ok(info.si_pid != 0)
}

/// Applies one change to a kqueue, receiving nothing.
fn kevent_apply(kq: RawFd, change: &libc::kevent) -> SysResult<()> {
  // SAFETY: reads one kevent from `change`; no event list, so nothing is written.
  let rc = unsafe { libc::kevent(kq, change, 1, std::ptr::null_mut(), 0, std::ptr::null()) };
  if rc < 0 {
    return Err(SysError::last("kevent"));
  }
  Ok(())
}

/// Reaps `pid` if it has exited: `Ok(Some(status))`, or `Ok(None)` while it runs.
///
/// `NOTE_EXIT` is posted while the child is still on its way out, a moment before `waitpid`
/// can take it; once `watch` has said so, the wait blocks for that moment instead of giving
/// up. A `SIGCHLD` alone (which may be another child's) only has it looked at.
pub fn try_reap(pid: libc::pid_t, watch: Option<RawFd>) -> SysResult<Option<i32>> {
  let exited = watch.is_some_and(|kq| {
    let zero = libc::timespec {
      tv_sec: 0,
      tv_nsec: 0,
    };
    let mut events = [kevent_change(0, 0, 0, 0); 4];
    let len = events.len() as libc::c_int;
    // SAFETY: writes at most `len` kevents into `events`; waits for nothing (zero timeout).
    let n = unsafe { libc::kevent(kq, std::ptr::null(), 0, events.as_mut_ptr(), len, &zero) };
    let fired = &events[..n.max(0) as usize];
    fired
      .iter()
      .any(|e| e.filter == libc::EVFILT_PROC || e.filter == libc::EVFILT_USER)
  });
  let options = if exited { 0 } else { libc::WNOHANG };
  posix::wait_child(pid, options)
}

/// `kill` by pid: macOS has no pidfd. Safe from recycled pids by ordering: a pid is recycled
/// only once its process has been reaped, only the reactor reaps our children (by pid, never
/// `waitpid(-1)`), and it does so holding the write lock on the watch, which it takes away
/// before releasing; this is only called with the watch, under its read lock.
pub fn signal_child(_watch: RawFd, pid: libc::pid_t, signal: i32) -> SysResult<()> {
  posix::signal_by_pid(pid, signal)
}

/// A new non-blocking open file description of the terminal `fd`, opened again by its name.
/// `/dev/fd/N` on macOS duplicates the same description (whose O_NONBLOCK the user's shell
/// would then see), so a pipe gets `None`: the caller uses a duplicate, probed with a
/// zero-timeout `poll` before each read and written at most `PIPE_BUF` at a time, so that it
/// never blocks and never changes flags anyone else sees.
pub fn reopen_own(fd: RawFd, for_write: bool) -> Option<OwnedFd> {
  posix::reopen_terminal(fd, for_write)
}

/// Not argued for macOS's terminal driver: a master is read until it says `EAGAIN`.
pub fn read_emptied(_asked: usize, _got: usize) -> bool {
  false
}

/// macOS's terminal driver hands the slave's output to the master as it is written, with no
/// deferred flush to lose at exit: there is never anything to collect.
pub fn strandable(_delivered: u64) -> bool {
  false
}

/// Nothing is ever stranded here (see [`strandable`]).
pub fn collect_stranded(_pts_path: &str, _master: RawFd) -> Vec<u8> {
  Vec::new()
}

/// Now, on the clock `proc_pidinfo` gives process start times in: microseconds of the wall
/// clock, which is what the kernel stamps a process's start with. Unlike Linux's boot-time
/// ticks it can be set back; a process started just before such a step could then look
/// younger than a moment the session layer's tracker noted, a window as wide as the step.
pub fn now_ticks() -> u64 {
  let mut ts = libc::timespec {
    tv_sec: 0,
    tv_nsec: 0,
  };
  // SAFETY: clock_gettime writes one timespec, a local.
  unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
  ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1_000
}
