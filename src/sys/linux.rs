//! The Linux backend. Syscalls that glibc 2.17 has no wrapper for (pidfd, close_range) are made
//! by number, so that the binary runs on old distributions.
//!
//! `NAPI_PTY_PORTABLE=1` makes this backend take, wherever it can, the shared POSIX paths the
//! macOS backend takes, so that they run and are tested here: a plain `fork`, the fd loop
//! instead of `close_range`, `kill` ordered with reaping instead of `pidfd_send_signal`, and
//! spawn's terminal reopened by its name instead of through `/proc`; and in the session layer,
//! processes signalled by pid with their start time checked first instead of through pidfds.
//! `NAPI_PTY_STRATEGY=fork` selects only the plain `fork`.

use std::ffi::{CStr, CString};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use super::posix::{self, child_main, with_signals_blocked, ChildCalls, ExecImage};
use crate::error::{SysError, SysResult};
use crate::fd::{self, WriteMode};

/// How the child is created. Both run the same [`child_main`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strategy {
  /// `clone(CLONE_VM | CLONE_VFORK)`, as glibc's `posix_spawn` does: the child borrows the
  /// parent's memory until it execs, so no page table is copied and the cost does not grow
  /// with the parent's size. `posix_spawn` itself cannot be used: it has no step for
  /// `TIOCSCTTY` (nor, portably, for setsid, credentials or our per-step errors).
  CloneVfork,
  /// Plain `fork`: copies the parent's page tables.
  Fork,
}

/// Whether `NAPI_PTY_PORTABLE=1` asks for macOS's shared paths (read on each use, before any
/// fork: the child only reads [`CLOSE_RANGE`]). The session layer asks it too.
pub fn portable() -> bool {
  std::env::var_os("NAPI_PTY_PORTABLE").is_some_and(|v| v == "1")
}

impl Strategy {
  /// The clone path unless `NAPI_PTY_STRATEGY=fork` or `NAPI_PTY_PORTABLE=1`.
  fn current() -> Strategy {
    match std::env::var_os("NAPI_PTY_STRATEGY") {
      Some(v) if v == "fork" => Strategy::Fork,
      _ if portable() => Strategy::Fork,
      _ => Strategy::CloneVfork,
    }
  }
}

/// Whether the child may use `close_range`; set by the parent before each fork.
static CLOSE_RANGE: AtomicBool = AtomicBool::new(true);

/// Creates the child (see [`Strategy`]). With the clone path this returns once the child has
/// exec'd or given up, so its report is normally complete already.
pub fn create_child(image: &ExecImage, slave: RawFd, report: RawFd) -> SysResult<libc::pid_t> {
  CLOSE_RANGE.store(!portable(), Relaxed);
  match Strategy::current() {
    Strategy::Fork => posix::fork_child::<Calls>(image, slave, report),
    Strategy::CloneVfork => clone_vfork(image, slave, report),
  }
}

/// The child's stack for the clone path; it only needs room for `child_main`'s frames.
const CLONE_STACK: usize = 64 * 1024;

struct CloneArgs<'a> {
  image: &'a ExecImage,
  slave: RawFd,
  report: RawFd,
}

extern "C" fn clone_entry(arg: *mut libc::c_void) -> libc::c_int {
  // SAFETY: arg points to the CloneArgs on the parent's stack, which stays alive (and the
  // parent suspended) until this child execs or exits: that is what CLONE_VFORK guarantees.
  let args = unsafe { &*(arg as *const CloneArgs) };
  // SAFETY: we are a freshly cloned child with every signal blocked; see child_main.
  unsafe { child_main::<Calls>(args.image, args.slave, args.report) }
}

fn clone_vfork(image: &ExecImage, slave: RawFd, report: RawFd) -> SysResult<libc::pid_t> {
  let mut stack = vec![0u8; CLONE_STACK];
  // The stack grows down: pass its (16-byte aligned) top.
  let top = (stack.as_mut_ptr() as usize + CLONE_STACK) & !15;
  let mut args = CloneArgs {
    image,
    slave,
    report,
  };
  let (pid, errno) = with_signals_blocked(|| {
    // SAFETY: the child runs clone_entry on its own stack with every signal blocked, shares
    // our memory but writes none of it (child_main only makes syscalls on prepared data), and
    // has its own signal handler table (no CLONE_SIGHAND), so resetting dispositions is private
    // to it. CLONE_VFORK suspends us until it execs or exits, so `stack` and `args` outlive it.
    unsafe {
      libc::clone(
        clone_entry,
        top as *mut libc::c_void,
        libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
        (&mut args as *mut CloneArgs).cast(),
      )
    }
  });
  if pid < 0 {
    return Err(SysError::new(errno, "clone"));
  }
  Ok(pid)
}

// The credential calls are raw syscalls, not glibc's wrappers: those broadcast the change to
// every thread of the process, and in the clone path our "process" shares the parent's memory
// and its list of threads.

/// `close_range(2)` flag: mark the range close-on-exec instead of closing it.
const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;

/// This backend's calls between fork and exec.
pub struct Calls;

impl ChildCalls for Calls {
  /// `_NSIG - 1`.
  const MAX_SIGNAL: libc::c_int = 64;

  /// `getgroups(2)` as a raw syscall; async-signal-safe.
  ///
  /// # Safety
  /// Only writes into `groups`; safe to call between fork and exec.
  unsafe fn get_groups(groups: &mut [libc::gid_t]) -> libc::c_long {
    // SAFETY: the kernel writes at most groups.len() ids into groups.
    unsafe { libc::syscall(libc::SYS_getgroups, groups.len(), groups.as_mut_ptr()) }
  }

  /// `setgroups(2)` for this thread's process only, as a raw syscall.
  ///
  /// # Safety
  /// Between fork and exec only: it does not tell other threads.
  unsafe fn set_groups(groups: &[libc::gid_t]) -> libc::c_long {
    // SAFETY: the kernel reads groups.len() ids from groups.
    unsafe { libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) }
  }

  /// `setgid(2)` as a raw syscall.
  ///
  /// # Safety
  /// Between fork and exec only: it does not tell other threads.
  unsafe fn set_gid(gid: libc::gid_t) -> libc::c_long {
    // SAFETY: takes an integer.
    unsafe { libc::syscall(libc::SYS_setgid, gid) }
  }

  /// `setuid(2)` as a raw syscall.
  ///
  /// # Safety
  /// Between fork and exec only: it does not tell other threads.
  unsafe fn set_uid(uid: libc::uid_t) -> libc::c_long {
    // SAFETY: takes an integer.
    unsafe { libc::syscall(libc::SYS_setuid, uid) }
  }

  /// Marks every fd from `first` up close-on-exec with one `close_range`. False when the kernel
  /// lacks `CLOSE_RANGE_CLOEXEC` (before 5.11) or `NAPI_PTY_PORTABLE=1`: the caller then loops.
  ///
  /// # Safety
  /// Async-signal-safe; changes fd flags of this process only.
  unsafe fn mark_cloexec_from(first: RawFd) -> bool {
    if !CLOSE_RANGE.load(Relaxed) {
      return false;
    }
    // SAFETY: close_range only changes fd flags in this process; no memory is passed.
    let rc = unsafe {
      libc::syscall(
        libc::SYS_close_range,
        first as libc::c_uint,
        libc::c_uint::MAX,
        CLOSE_RANGE_CLOEXEC,
      )
    };
    rc == 0
  }
}

/// Both ends of a new pipe, close-on-exec atomically.
pub fn pipe_cloexec() -> SysResult<(OwnedFd, OwnedFd)> {
  let mut fds = [0 as RawFd; 2];
  // SAFETY: pipe2 writes two fds into the array we own.
  if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
    return Err(SysError::last("pipe2"));
  }
  // SAFETY: both fds were just created and are owned by nobody else.
  Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A new master, close-on-exec from the moment it exists: `posix_openpt` takes `O_CLOEXEC`
/// here, so no child that another thread starts meanwhile (`child_process` included) can
/// inherit it. This, and not `forkpty`, is why the pair is opened by hand: `forkpty` opens both
/// ends inheritable and forks in one call, so neither the flag nor the clone path fit it.
pub fn open_master() -> SysResult<OwnedFd> {
  // SAFETY: posix_openpt opens /dev/ptmx and returns a new fd or -1.
  let fd = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
  if fd < 0 {
    return Err(SysError::last("posix_openpt"));
  }
  // SAFETY: fd was just returned by the kernel and is owned by nobody else.
  Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The slave's path, through the thread-safe `ptsname_r`.
pub fn pts_name(master: RawFd) -> SysResult<String> {
  let mut buf = [0 as libc::c_char; 128];
  // SAFETY: ptsname_r writes at most buf.len() bytes, NUL included, into buf.
  let rc = unsafe { libc::ptsname_r(master, buf.as_mut_ptr(), buf.len()) };
  if rc != 0 {
    return Err(SysError::new(rc, "ptsname_r"));
  }
  // SAFETY: on success ptsname_r left a NUL-terminated string in buf.
  let name = unsafe { CStr::from_ptr(buf.as_ptr()) };
  Ok(name.to_string_lossy().into_owned())
}

/// A pidfd for `pid`, close-on-exec (the kernel always sets it). It becomes readable once the
/// child has exited, also when that happened before it was opened.
pub fn watch_exit(pid: libc::pid_t) -> SysResult<OwnedFd> {
  pidfd_open(pid)
}

/// A pidfd for any process (Linux only: the session layer signals through them too).
pub fn pidfd_open(pid: libc::pid_t) -> SysResult<OwnedFd> {
  // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1; no memory is passed.
  let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
  if fd < 0 {
    return Err(SysError::last("pidfd_open"));
  }
  // SAFETY: the kernel just returned this fd to us and nothing else owns it.
  Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Reaps `pid` if it has exited: `Ok(Some(status))`, or `Ok(None)` while it runs.
pub fn try_reap(pid: libc::pid_t, _watch: Option<RawFd>) -> SysResult<Option<i32>> {
  posix::wait_child(pid, libc::WNOHANG)
}

/// Signals the process behind `watch` (a pidfd); never a recycled pid, whatever the order of
/// reaping. With `NAPI_PTY_PORTABLE=1`, `kill` by pid as on macOS.
pub fn signal_child(watch: RawFd, pid: libc::pid_t, signal: i32) -> SysResult<()> {
  if portable() {
    return posix::signal_by_pid(pid, signal);
  }
  pidfd_send_signal(watch, signal)
}

/// Signals the process behind a pidfd; never a recycled pid (Linux only).
pub fn pidfd_send_signal(pidfd: RawFd, signal: i32) -> SysResult<()> {
  // SAFETY: a null siginfo is documented to mean "as kill(2) would"; no other memory is passed.
  let rc = unsafe {
    libc::syscall(
      libc::SYS_pidfd_send_signal,
      pidfd,
      signal,
      std::ptr::null::<libc::siginfo_t>(),
      0,
    )
  };
  if rc < 0 {
    return Err(SysError::last("pidfd_send_signal"));
  }
  Ok(())
}

/// A new non-blocking open file description of the pipe or terminal `fd`: opening
/// `/proc/self/fd/N` gives one (on Linux it opens the object again, it does not duplicate).
/// With `NAPI_PTY_PORTABLE=1`, as on macOS: a terminal by its name, a pipe not at all.
pub fn reopen_own(fd: RawFd, for_write: bool) -> Option<OwnedFd> {
  if portable() {
    return posix::reopen_terminal(fd, for_write);
  }
  let path = CString::new(format!("/proc/self/fd/{fd}")).ok()?;
  posix::open_nonblocking(&path, for_write)
}

/// The size of Linux's `n_tty` read buffer; it takes at most one byte less.
const N_TTY_BUF_SIZE: usize = 4096;

/// Whether a read of a master that asked for `asked` bytes and got `got` both left the master
/// empty and is worth stopping at, so that a reader woken by an edge-triggered `epoll` may stop
/// there rather than read once more to hear `EAGAIN`. Not with `NAPI_PTY_PORTABLE=1`, which
/// reads as macOS does, to `EAGAIN`.
///
/// Why a short read leaves the master empty, for Linux's `n_tty`, the master's line discipline:
///
/// - The master's termios is raw and stays so (a `tcsetattr` on the master changes the slave's),
///   so a read is non-canonical: it copies every byte the discipline's buffer holds, across its
///   wrap, up to the count asked; it stops short only when the buffer had no more. Packet mode
///   (`TIOCPKT`, whose status byte is a read of its own) is never turned on.
/// - Bytes reach that buffer later, through the flush worker, and each delivery wakes the
///   master's readers after the bytes are visible; so does the slave's last close, after it set
///   the flag that turns the next empty read into `EIO`. An edge-triggered `epoll` item is queued
///   again by any wake-up after its event was taken (one before that is in the event's mask).
///   So whatever comes after the short read's snapshot raises a new event.
/// - Hence the caller must not rely on it once an event has said `EPOLLHUP`: no wake-up follows
///   that one, and the output is then read to `EIO` as before. The `EAGAIN` read's only other
///   effect, waiting for a flush already queued, is the same wake-up arriving a little later.
///
/// Why not after a read of a full discipline buffer (`N_TTY_BUF_SIZE - 1` bytes): the writer is
/// then ahead of the reader, and the flush worker, throttled on that full buffer, is pushing more
/// at once; stopping would trade the read for an `epoll_wait` that returns at once. Stopping pays
/// only when the reader is ahead: a read of less.
pub fn read_emptied(asked: usize, got: usize) -> bool {
  static EDGES: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
  got < asked && got < N_TTY_BUF_SIZE - 1 && *EDGES.get_or_init(|| !portable())
}

/// Whether output can have been stranded once `delivered` bytes were read: the kernel can
/// strand output only behind a full line-discipline buffer, whose bytes are then all read, so
/// a terminal that gave fewer in all has nothing stranded, and is spared the cost of
/// [`collect_stranded`] (reopening the slave, a flush-worker round trip).
pub fn strandable(delivered: u64) -> bool {
  delivered >= N_TTY_BUF_SIZE as u64 - 1
}

/// After the master said EIO, collects output the kernel left behind: under a rare race in
/// Linux's `n_tty` (the reader's restart of the flush worker has no memory barrier on its
/// continuation path), the last few KiB a child wrote can stay in the driver's buffer with
/// nothing left to push them once the slave is closed. Reopening the slave and writing one
/// marker byte through it pushes that buffer; the master is then read up to the marker, which
/// is dropped. Rare, and only under load; nothing is added when nothing was left. Best effort:
/// if the slave cannot be reopened (permissions, another devpts), nothing.
pub fn collect_stranded(pts_path: &str, master: RawFd) -> Vec<u8> {
  const MARKER: u8 = 0x01;
  let mut out = Vec::new();
  let Ok(path) = CString::new(pts_path) else {
    return out;
  };
  let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_NONBLOCK | libc::O_CLOEXEC;
  // SAFETY: path is a valid NUL-terminated string that outlives the call.
  let slave = unsafe { libc::open(path.as_ptr(), flags) };
  if slave < 0 {
    return out;
  }
  let written = fd::write_once(slave, &[MARKER], WriteMode::Write);
  // SAFETY: closes the fd opened above, which nothing else holds.
  unsafe { libc::close(slave) };
  if !matches!(written, Ok(1)) {
    return out;
  }
  // Each read first waits for the driver's buffer to be flushed, so the marker is there to be
  // read; once it has been, the master says EIO again. Bounded: someone else could reopen the
  // slave and keep writing.
  for _ in 0..16 {
    out.reserve(N_TTY_BUF_SIZE);
    if !read_more(master, &mut out) {
      break;
    }
  }
  if out.last() == Some(&MARKER) {
    out.pop();
  }
  out
}

/// Reads `fd` into `buf`'s spare capacity until it is full (true) or a read fails (false).
fn read_more(fd: RawFd, buf: &mut Vec<u8>) -> bool {
  while buf.len() < buf.capacity() {
    match fd::read(fd, buf) {
      Ok(0) => return false,
      Ok(_) => {}
      Err(e) if e.errno == libc::EINTR => {}
      Err(_) => return false,
    }
  }
  true
}

/// Now, on the clock `/proc` gives process start times in (ticks since boot), rounded down.
pub fn now_ticks() -> u64 {
  let mut ts = libc::timespec {
    tv_sec: 0,
    tv_nsec: 0,
  };
  // SAFETY: clock_gettime writes one timespec, a local.
  unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) };
  // SAFETY: sysconf only reads a constant of the system.
  let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
  ts.tv_sec as u64 * hz + ts.tv_nsec as u64 * hz / 1_000_000_000
}
