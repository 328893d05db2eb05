//! The macOS side of the session layer: processes as `proc_pidinfo` describes them, their
//! arguments (`KERN_PROCARGS2`) and working directories, the terminal's foreground group, and
//! handles that signal by pid with the start time checked first ([`ByPid`]: macOS has no
//! pidfd) and watch the exit with a kqueue. The shared logic (the tracker, the waiter,
//! [`ByPid`]) runs on Linux too under `NAPI_PTY_PORTABLE=1`, where a pidfd stands in for the
//! kqueue as what wakes the waiter; what only a Mac runs is this file.
//!
//! A process whose owner is another user cannot be read with `PROC_PIDTBSDINFO` (unless this
//! process is root): it is left out of the table, so neither listed nor signalled.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;

use crate::error::{SysError, SysResult};

use crate::session::by_pid::ByPid;
use crate::session::proc::Proc;

/// `PROC_ALL_PIDS` (`libproc.h`), which the `libc` crate does not name.
const PROC_ALL_PIDS: u32 = 1;

/// `sizeof(struct proc_bsdinfo)` in `sys/proc_info.h` (`PROC_PIDTBSDINFO_SIZE`): twelve 32-bit
/// ids and flags, `MAXCOMLEN` and `2 * MAXCOMLEN` bytes of names, six 32-bit fields, and the
/// start time as two 64-bit fields.
const BSDINFO_SIZE: usize = 136;
const _: () = assert!(std::mem::size_of::<libc::proc_bsdinfo>() == BSDINFO_SIZE);

/// `sizeof(struct proc_vnodepathinfo)` (`PROC_PIDVNODEPATHINFO_SIZE`): two `vnode_info_path`s
/// of a 152-byte `vnode_info` and a `MAXPATHLEN` path each.
const VNODEPATHINFO_SIZE: usize = 2 * (152 + 1024);
const _: () = assert!(std::mem::size_of::<libc::vnode_info>() == 152);
const _: () = assert!(std::mem::size_of::<libc::proc_vnodepathinfo>() == VNODEPATHINFO_SIZE);

/// A C string in a fixed buffer, up to its NUL (or the buffer's end).
fn c_text(buf: &[libc::c_char]) -> String {
  let bytes: Vec<u8> = buf
    .iter()
    .take_while(|&&c| c != 0)
    .map(|&c| c as u8)
    .collect();
  String::from_utf8_lossy(&bytes).into_owned()
}

/// One process as `proc_pidinfo(PROC_PIDTBSDINFO)` and `getsid` describe it, or `None` when
/// it is gone (or another user's).
///
/// The session id comes from a second call, after the first: if the pid were handed to a new
/// process in between, the id read would be the new one's, but it would be filed under the
/// old process's start time, which no process has any more, so no signal would follow from it
/// ([`ByPid`] checks the start time first). The other order could file an old id under a new
/// process.
pub(crate) fn stat(pid: libc::pid_t) -> Option<Proc> {
  // SAFETY: proc_bsdinfo is plain data (integers and byte arrays), so all zeros is a value.
  let mut info: libc::proc_bsdinfo = unsafe { std::mem::zeroed() };
  let size = BSDINFO_SIZE as libc::c_int;
  // A non-zero `arg` asks for zombies too, as `/proc` shows them on Linux.
  let ptr = (&mut info as *mut libc::proc_bsdinfo).cast();
  // SAFETY: writes at most `size` bytes into `info`, which is that large.
  let got = unsafe { libc::proc_pidinfo(pid, libc::PROC_PIDTBSDINFO, 1, ptr, size) };
  if got != size || info.pbi_pid != pid as u32 {
    return None;
  }
  let gone = info.pbi_status == libc::SZOMB;
  // SAFETY: getsid takes a pid and returns an id or -1; no memory is passed.
  let sid = unsafe { libc::getsid(pid) };
  // A zombie has no session any more; any other process without one is gone since.
  if sid < 0 && !gone {
    return None;
  }
  let name = match c_text(&info.pbi_name) {
    name if name.is_empty() => c_text(&info.pbi_comm),
    name => name,
  };
  Some(Proc {
    pid,
    ppid: info.pbi_ppid as libc::pid_t,
    pgid: info.pbi_pgid as libc::pid_t,
    sid,
    start: info.pbi_start_tvsec * 1_000_000 + info.pbi_start_tvusec,
    gone,
    stopped: info.pbi_status == libc::SSTOP,
    name,
  })
}

/// Every process of the system that could be read.
pub(crate) fn all() -> SysResult<Vec<Proc>> {
  // libproc answers 0, not -1, when the call fails (errno set); a system always has processes.
  // SAFETY: with no buffer, proc_listpids only returns the size it needs, in bytes.
  let needed = unsafe { libc::proc_listpids(PROC_ALL_PIDS, 0, std::ptr::null_mut(), 0) };
  if needed <= 0 {
    return Err(SysError::last("proc_listpids"));
  }
  // Room for processes started since the size was asked.
  let mut pids: Vec<libc::pid_t> = vec![0; needed as usize / 4 + 64];
  let bytes = (pids.len() * 4) as libc::c_int;
  // SAFETY: writes at most `bytes` bytes of pids into `pids`, which is that large.
  let got = unsafe { libc::proc_listpids(PROC_ALL_PIDS, 0, pids.as_mut_ptr().cast(), bytes) };
  if got <= 0 {
    return Err(SysError::last("proc_listpids"));
  }
  pids.truncate(got as usize / 4);
  // Gone since the listing, or not ours to read: either way not one to report. Pid 0 is the
  // kernel.
  Ok(
    pids
      .into_iter()
      .filter(|&pid| pid > 0)
      .filter_map(stat)
      .collect(),
  )
}

/// The size of the largest argument area (`KERN_ARGMAX`), read once.
fn arg_max() -> usize {
  static ARG_MAX: OnceLock<usize> = OnceLock::new();
  *ARG_MAX.get_or_init(|| {
    let mut mib = [libc::CTL_KERN, libc::KERN_ARGMAX];
    let mut value: libc::c_int = 0;
    let mut size = std::mem::size_of::<libc::c_int>();
    let ptr = (&mut value as *mut libc::c_int).cast();
    // SAFETY: reads one int into `value`; `size` says how large it is.
    let rc = unsafe { libc::sysctl(mib.as_mut_ptr(), 2, ptr, &mut size, std::ptr::null_mut(), 0) };
    // ARG_MAX of every macOS release should the call fail.
    if rc == 0 && value > 0 {
      value as usize
    } else {
      1 << 20
    }
  })
}

/// A process's arguments; `None` when the kernel will not say (another user's process, a
/// zombie, a system process).
pub(crate) fn argv(pid: libc::pid_t) -> Option<Vec<String>> {
  let mut mib = [libc::CTL_KERN, libc::KERN_PROCARGS2, pid];
  let mut buf = vec![0u8; arg_max()];
  let mut size = buf.len();
  let ptr = buf.as_mut_ptr().cast();
  // SAFETY: writes at most `size` bytes into `buf`, and the length written into `size`.
  let rc = unsafe { libc::sysctl(mib.as_mut_ptr(), 3, ptr, &mut size, std::ptr::null_mut(), 0) };
  if rc != 0 {
    return None;
  }
  buf.truncate(size);
  parse_procargs(&buf)
}

/// Parses `KERN_PROCARGS2`'s answer: `argc` as a native int, the executable's path, NULs up to
/// an aligned boundary, then the `argc` arguments (and the environment), each NUL-terminated.
fn parse_procargs(buf: &[u8]) -> Option<Vec<String>> {
  let argc = i32::from_ne_bytes(buf.get(..4)?.try_into().ok()?);
  if argc <= 0 {
    return None;
  }
  let rest = buf.get(4..)?;
  let path_end = rest.iter().position(|&b| b == 0)?;
  let first = rest[path_end..].iter().position(|&b| b != 0)? + path_end;
  let mut args = rest[first..].split(|&b| b == 0);
  let mut out = Vec::with_capacity(argc as usize);
  for _ in 0..argc {
    out.push(String::from_utf8_lossy(args.next()?).into_owned());
  }
  Some(out)
}

/// A process's working directory; `None` when the kernel will not say (another user's).
pub(crate) fn cwd(pid: libc::pid_t) -> Option<String> {
  // SAFETY: proc_vnodepathinfo is plain data (integers and byte arrays): all zeros is a value.
  let mut info: libc::proc_vnodepathinfo = unsafe { std::mem::zeroed() };
  let size = VNODEPATHINFO_SIZE as libc::c_int;
  let ptr = (&mut info as *mut libc::proc_vnodepathinfo).cast();
  // SAFETY: writes at most `size` bytes into `info`, which is that large.
  let got = unsafe { libc::proc_pidinfo(pid, libc::PROC_PIDVNODEPATHINFO, 0, ptr, size) };
  if got != size {
    return None;
  }
  let path = c_text(info.pvi_cdir.vip_path.as_flattened());
  (!path.is_empty()).then_some(path)
}

/// The terminal's foreground process group, asked of the master (which macOS answers for the
/// master without it being anyone's controlling terminal).
pub(crate) fn foreground_group(master: RawFd) -> Option<libc::pid_t> {
  // SAFETY: tcgetpgrp only reads the terminal's state; no memory is passed.
  let pgid = unsafe { libc::tcgetpgrp(master) };
  (pgid > 0).then_some(pgid)
}

/// Now, on the clock start times are counted in (kept in `sys`, where the reactor reads it too).
pub(crate) use crate::sys::now_ticks;

/// A process that has been proven to be the one a scan saw, signalled by pid with its start
/// time checked before each signal (see [`ByPid`] for the window that leaves and why nothing
/// on macOS closes it), and watched by a kqueue of its own that becomes readable at its exit
/// (`EVFILT_PROC`/`NOTE_EXIT`; a kqueue fd is pollable, so the waiter's poller watches it as
/// it would a pidfd).
pub(crate) struct Handle {
  by_pid: ByPid,
  /// `None` when no kqueue could be had (out of fds): the waiter's next reading of the table
  /// then sees the exit.
  exit: Option<OwnedFd>,
}

impl Handle {
  /// Opens a handle on `proc`, or `None` when it is gone or its pid is another process's now.
  /// The exit is watched first and the identity checked after, as a pidfd is opened first on
  /// Linux: a process that still has the pid and the start time the scan saw held that pid all
  /// along, so it is the one the kqueue watches.
  pub(crate) fn open(proc: &Proc) -> Option<Handle> {
    let exit = match watch_exit(proc.pid) {
      Ok(kq) => Some(kq),
      // Gone, or a zombie: nothing to signal or wait for.
      Err(e) if e.errno == libc::ESRCH => return None,
      Err(_) => None,
    };
    Some(Handle {
      by_pid: ByPid::open(proc, stat)?,
      exit,
    })
  }

  /// Sends `signal`. A process that has already exited is not an error; the errno is.
  pub(crate) fn signal(&self, signal: i32) -> Result<(), i32> {
    self.by_pid.signal(signal)
  }

  /// The kqueue to poll for the process's exit, if there is one.
  pub(crate) fn raw_fd(&self) -> Option<RawFd> {
    self.exit.as_ref().map(|kq| kq.as_raw_fd())
  }
}

/// A new kqueue, close-on-exec, that becomes readable once `pid` exits. `ESRCH` when it has
/// exited already (a zombie included).
fn watch_exit(pid: libc::pid_t) -> SysResult<OwnedFd> {
  // SAFETY: kqueue takes no arguments and returns a new fd or -1.
  let fd = unsafe { libc::kqueue() };
  if fd < 0 {
    return Err(SysError::last("kqueue"));
  }
  // SAFETY: fd was just returned by the kernel and is owned by nobody else.
  let kq = unsafe { OwnedFd::from_raw_fd(fd) };
  // SAFETY: F_SETFD only changes this fd's flags.
  if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } < 0 {
    return Err(SysError::last("fcntl"));
  }
  let change = libc::kevent {
    ident: pid as usize,
    filter: libc::EVFILT_PROC,
    flags: libc::EV_ADD | libc::EV_ONESHOT,
    fflags: libc::NOTE_EXIT,
    data: 0,
    udata: std::ptr::null_mut(),
  };
  // SAFETY: reads one kevent from `change`; no event list, so nothing is written.
  let rc = unsafe { libc::kevent(fd, &change, 1, std::ptr::null_mut(), 0, std::ptr::null()) };
  if rc < 0 {
    return Err(SysError::last("kevent"));
  }
  Ok(kq)
}

/// The calls that make the waiter's poller, its waker, and a wake (a kqueue and its
/// `EVFILT_USER` event), which its errors name.
pub(crate) const POLL_CALLS: [&str; 3] = ["kqueue", "kevent", "kevent"];

/// The system call a failed signal names.
pub(crate) fn signal_syscall() -> &'static str {
  "kill"
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn procargs_skip_the_path_and_its_padding() {
    let mut buf = 2i32.to_ne_bytes().to_vec();
    buf.extend_from_slice(b"/bin/sleep\0\0\0\0sleep\x0030\0HOME=/\0");
    assert_eq!(parse_procargs(&buf).unwrap(), ["sleep", "30"]);
    assert!(parse_procargs(&0i32.to_ne_bytes()).is_none());
    // Fewer arguments than argc says: cut short, so not trusted.
    let mut short = 5i32.to_ne_bytes().to_vec();
    short.extend_from_slice(b"/bin/x\0\0a\0");
    assert!(parse_procargs(&short).is_none());
  }

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
