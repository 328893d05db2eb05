//! The macOS side of the session layer: processes as `proc_pidinfo` describes them, their
//! arguments (`KERN_PROCARGS2`) and working directories, the terminal's foreground group, and
//! handles that signal by pid with the start time checked first ([`ByPid`]: macOS has no
//! pidfd) and watch the exit with a kqueue. The shared logic (the tracker, the waiter,
//! [`ByPid`]) runs on Linux too under `NAPI_PTY_PORTABLE=1`, where a pidfd stands in for the
//! kqueue as what wakes the waiter; what only a Mac runs is this file.
//!
//! A process of another user (a `sudo`, and what it runs) cannot be read with
//! `PROC_PIDTBSDINFO` unless this process is root: xnu answers that flavor only to the same
//! effective user. It is read instead as `ps` reads it, from what macOS tells anyone: its ids
//! and state from `PROC_PIDT_SHORTBSDINFO`, its start time from `sysctl` `KERN_PROC_PID`. Its
//! arguments and working directory stay unknown (`None`): xnu refuses those to another user.

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

/// `sizeof(struct proc_bsdshortinfo)` in `sys/proc_info.h` (`PROC_PIDT_SHORTBSDINFO_SIZE`):
/// four 32-bit ids and the state, `MAXCOMLEN` bytes of name, then the flags, six 32-bit user
/// and group ids and a reserved word.
const SHORTINFO_SIZE: usize = 64;
const _: () = assert!(std::mem::size_of::<libc::proc_bsdshortinfo>() == SHORTINFO_SIZE);

/// `sizeof(struct kinfo_proc)` in `sys/sysctl.h` on both 64-bit macOS ABIs (x86_64 and arm64
/// lay it out alike, every member at its natural alignment): a 296-byte `struct extern_proc`
/// (`sys/proc.h`) and a 352-byte `struct eproc`. The kernel fills in its own copy of the same
/// layout (`struct user64_kinfo_proc`) for a 64-bit caller, and writes it only into a buffer
/// at least that large, so a reply of this size is one whole record of that layout.
const KINFO_PROC_SIZE: usize = 648;

/// The one member of `struct kinfo_proc` read here: its first, `kp_proc.p_un`, a union whose
/// `__p_starttime` (`p_starttime`) is a `struct timeval` at offset 0 (the union's other member
/// is the two run-queue pointers, 16 bytes too). `sysctl` fills it from the same field of the
/// kernel's process (`p_start`) as `proc_pidinfo` fills `pbi_start_tvsec` and `_tvusec`, so
/// a process has the same start time whichever of the two read it.
#[repr(C)]
struct KinfoProc {
  start: libc::timeval,
  /// The rest of `kp_proc` and all of `kp_eproc`, not read.
  _rest: [u8; KINFO_PROC_SIZE - 16],
}
const _: () = assert!(std::mem::size_of::<libc::timeval>() == 16);
const _: () = assert!(std::mem::align_of::<libc::timeval>() == 8);
const _: () = assert!(std::mem::size_of::<KinfoProc>() == KINFO_PROC_SIZE);

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

/// One process as `proc_pidinfo(PROC_PIDTBSDINFO)` and `getsid` describe it (another user's
/// as [`stat_other`] does), or `None` when it is gone.
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
    // Refused (another user's) or gone: the reading anyone may make tells which.
    return stat_other(pid);
  }
  let name = match c_text(&info.pbi_name) {
    name if name.is_empty() => c_text(&info.pbi_comm),
    name => name,
  };
  let start = info.pbi_start_tvsec * 1_000_000 + info.pbi_start_tvusec;
  let (ppid, pgid) = (info.pbi_ppid, info.pbi_pgid);
  with_sid(pid, start, ppid, pgid, info.pbi_status, name)
}

/// One process as anyone may read it, another user's included: its start time from
/// `sysctl` `KERN_PROC_PID`, then its ids, state and name (`p_comm`, at most 15 bytes) from
/// `proc_pidinfo(PROC_PIDT_SHORTBSDINFO)`, which xnu answers without the same-user check,
/// then its session from `getsid`. `None` when it is gone.
///
/// The start time is read first for the reason [`stat`] reads the session last: whatever a
/// later call reads of a process that took the pid meanwhile is filed under the start time of
/// the one before, which no process has any more. The other order could file a new process's
/// start time with an old one's ids, and make it look like one of the terminal's.
fn stat_other(pid: libc::pid_t) -> Option<Proc> {
  let start = start_time(pid)?;
  // SAFETY: proc_bsdshortinfo is plain data (integers and bytes): all zeros is a value.
  let mut info: libc::proc_bsdshortinfo = unsafe { std::mem::zeroed() };
  let size = SHORTINFO_SIZE as libc::c_int;
  let ptr = (&mut info as *mut libc::proc_bsdshortinfo).cast();
  // A non-zero `arg` asks for zombies too, as above.
  // SAFETY: writes at most `size` bytes into `info`, which is that large.
  let got = unsafe { libc::proc_pidinfo(pid, libc::PROC_PIDT_SHORTBSDINFO, 1, ptr, size) };
  if got != size || info.pbsi_pid != pid as u32 {
    return None;
  }
  let name = c_text(&info.pbsi_comm);
  let (ppid, pgid) = (info.pbsi_ppid, info.pbsi_pgid);
  with_sid(pid, start, ppid, pgid, info.pbsi_status, name)
}

/// `pid`'s start time in microseconds of the wall clock, as `pbi_start_tvsec` and
/// `pbi_start_tvusec` give it, read with `sysctl` `{CTL_KERN, KERN_PROC, KERN_PROC_PID, pid}`
/// (which lists zombies too, and checks no user). `None` when there is no such process.
fn start_time(pid: libc::pid_t) -> Option<u64> {
  let mut mib = [libc::CTL_KERN, libc::KERN_PROC, libc::KERN_PROC_PID, pid];
  // SAFETY: KinfoProc is plain data (integers and bytes): all zeros is a value.
  let mut info: KinfoProc = unsafe { std::mem::zeroed() };
  let mut size = KINFO_PROC_SIZE;
  let ptr = (&mut info as *mut KinfoProc).cast();
  // SAFETY: writes at most `size` bytes into `info`, which is that large, and the length
  // written into `size`.
  let rc = unsafe { libc::sysctl(mib.as_mut_ptr(), 4, ptr, &mut size, std::ptr::null_mut(), 0) };
  // No such process: success with nothing written.
  if rc != 0 || size != KINFO_PROC_SIZE {
    return None;
  }
  let (sec, usec) = (info.start.tv_sec, info.start.tv_usec);
  (sec >= 0 && usec >= 0).then(|| sec as u64 * 1_000_000 + usec as u64)
}

/// The reading of one process completed with its session, read last (see [`stat`]).
fn with_sid(
  pid: libc::pid_t,
  start: u64,
  ppid: u32,
  pgid: u32,
  status: u32,
  name: String,
) -> Option<Proc> {
  let gone = status == libc::SZOMB;
  // SAFETY: getsid takes a pid and returns an id or -1; no memory is passed.
  let sid = unsafe { libc::getsid(pid) };
  // A zombie has no session any more; any other process without one is gone since.
  if sid < 0 && !gone {
    return None;
  }
  Some(Proc {
    pid,
    ppid: ppid as libc::pid_t,
    pgid: pgid as libc::pid_t,
    sid,
    start,
    gone,
    stopped: status == libc::SSTOP,
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
  // Gone since the listing: not one to report. Pid 0 is the kernel.
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
  /// Another user's process can be watched too: xnu checks the right to signal only when
  /// `NOTE_EXITSTATUS` is asked for, and only `NOTE_EXIT` is. The exit is watched first and the
  /// identity checked after, as a pidfd is opened first on Linux: a process that still has the
  /// pid and the start time the scan saw held that pid all along, so it is the one the kqueue
  /// watches.
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

  /// Sends `signal`. A process that has already exited is not an error; the errno is:
  /// `EPERM` for another user's process unless this one is root, as on Linux.
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
  fn the_reading_anyone_may_make_agrees_with_the_full_one() {
    // This process (readable both ways) and launchd (root's: read the second way unless the
    // tests run as root): the same start time whichever call gave it, which also proves the
    // layout `start_time` reads.
    for pid in [std::process::id() as libc::pid_t, 1] {
      let other = stat_other(pid).unwrap();
      let full = stat(pid).unwrap();
      assert_eq!(
        (other.pid, other.ppid, other.pgid, other.sid, other.start),
        (full.pid, full.ppid, full.pgid, full.sid, full.start),
      );
      assert!(!other.gone && !other.name.is_empty());
      assert!(full.name.starts_with(&other.name));
    }
    // SAFETY: getuid takes no arguments and cannot fail.
    if unsafe { libc::getuid() } != 0 {
      // launchd's: listed, with what macOS tells another user, and no more.
      assert!(argv(1).is_none() && cwd(1).is_none());
      assert!(all().unwrap().iter().any(|p| p.pid == 1));
    }
    // No such process: nothing, from either call.
    assert!(start_time(-5).is_none() && stat_other(-5).is_none() && stat(-5).is_none());
  }
}
