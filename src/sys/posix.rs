//! What every supported system does the same way, written once with no `cfg`: the child's
//! set-up between fork and exec, its report through a close-on-exec pipe, the plain `fork`,
//! signalling by pid, and reopening a terminal by its name.
//!
//! The child is prepared entirely in the parent ([`ExecImage`]), so that between fork and exec
//! it only makes async-signal-safe calls on memory that already exists. A failing step is
//! reported through a close-on-exec pipe as two native-endian `i32`s, the step ([`Step`]) and
//! its errno; a successful exec closes the pipe with nothing written.

use std::ffi::{CStr, CString};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use crate::error::{SysError, SysResult};

/// The set-up step of the child that failed, as written to the report pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Step {
  Setsid = 1,
  Controlling = 2,
  Dup2 = 3,
  Chdir = 4,
  Setgroups = 5,
  Setgid = 6,
  Setuid = 7,
  Execve = 8,
}

impl Step {
  /// The step written as `v` by the child, if it is one.
  pub fn from_i32(v: i32) -> Option<Step> {
    Some(match v {
      1 => Step::Setsid,
      2 => Step::Controlling,
      3 => Step::Dup2,
      4 => Step::Chdir,
      5 => Step::Setgroups,
      6 => Step::Setgid,
      7 => Step::Setuid,
      8 => Step::Execve,
      _ => return None,
    })
  }

  /// The call this step makes, as named in the error a user sees.
  pub fn syscall(self) -> &'static str {
    match self {
      Step::Setsid => "setsid",
      Step::Controlling => "ioctl",
      Step::Dup2 => "dup2",
      Step::Chdir => "chdir",
      Step::Setgroups => "setgroups",
      Step::Setgid => "setgid",
      Step::Setuid => "setuid",
      Step::Execve => "execve",
    }
  }
}

/// Everything the child needs to exec, built before the fork. Holds raw pointers into its own
/// strings, so it stays on the thread that built it.
pub struct ExecImage {
  program: CString,
  _argv: Vec<CString>,
  argv_ptrs: Vec<*const libc::c_char>,
  _envp: Vec<CString>,
  envp_ptrs: Vec<*const libc::c_char>,
  cwd: Option<CString>,
  uid: Option<libc::uid_t>,
  gid: Option<libc::gid_t>,
  /// One past the highest fd that can be open, read here because the child may not ask.
  fd_bound: RawFd,
}

/// The most fds the loop of [`child_main`] visits, whatever the limit says (it may say
/// "unlimited"). Only the loop's cost grows with it: one `fcntl` per fd.
const FD_BOUND_MAX: libc::rlim_t = 1 << 20;

impl ExecImage {
  /// `program` is the path to exec; `argv` and `env` (`NAME=value`) are passed as they are.
  pub fn new(
    program: CString,
    argv: Vec<CString>,
    env: Vec<CString>,
    cwd: Option<CString>,
    uid: Option<u32>,
    gid: Option<u32>,
  ) -> Self {
    let nul = std::iter::once(std::ptr::null());
    let argv_ptrs = argv.iter().map(|a| a.as_ptr()).chain(nul.clone()).collect();
    let envp_ptrs = env.iter().map(|e| e.as_ptr()).chain(nul).collect();
    ExecImage {
      program,
      _argv: argv,
      argv_ptrs,
      _envp: env,
      envp_ptrs,
      cwd,
      uid,
      gid,
      fd_bound: fd_bound(),
    }
  }

  /// The path that will be exec'd.
  pub fn program(&self) -> &CStr {
    &self.program
  }

  /// The directory the child changes to, if any.
  pub fn cwd(&self) -> Option<&CStr> {
    self.cwd.as_deref()
  }
}

fn fd_bound() -> RawFd {
  // SAFETY: rlimit is plain data.
  let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
  // SAFETY: getrlimit writes one rlimit into `limit`, which is valid for writes.
  let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
  if rc != 0 {
    return 1024;
  }
  limit.rlim_cur.min(FD_BOUND_MAX) as RawFd
}

/// What the child's report pipe said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
  /// Nothing yet: the child has neither exec'd nor failed.
  Pending,
  /// The exec succeeded (the pipe closed with nothing written).
  Succeeded,
  /// A set-up step failed with this errno.
  Failed { step: Step, errno: i32 },
}

/// Reads the child's report from the (non-blocking) read end of its pipe.
pub fn read_report(report: RawFd) -> SysResult<Report> {
  const LEN: usize = 8;
  let mut buf = Vec::with_capacity(LEN);
  while buf.len() < LEN {
    match crate::fd::read(report, &mut buf) {
      Ok(0) => break,
      Ok(_) => {}
      Err(e) if e.errno == libc::EINTR => {}
      // Half a report: the rest is on its way (the child writes it in one call).
      Err(e) if e.errno == libc::EAGAIN && !buf.is_empty() => {}
      Err(e) if e.errno == libc::EAGAIN => return Ok(Report::Pending),
      Err(e) => return Err(e),
    }
  }
  if buf.len() < LEN {
    return Ok(Report::Succeeded);
  }
  let step = i32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]);
  let errno = i32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]);
  let step = Step::from_i32(step).unwrap_or(Step::Execve);
  Ok(Report::Failed { step, errno })
}

/// The calls the child makes between fork and exec that each system makes its own way. Each
/// backend implements them for its `Calls`, and hands that type to [`child_main`] and
/// [`fork_child`], so that this file names no backend. Every call is async-signal-safe and
/// touches no memory but what it is given.
pub trait ChildCalls {
  /// The highest signal number whose disposition the child resets.
  const MAX_SIGNAL: libc::c_int;

  /// `getgroups(2)`: how many ids were written into `groups`, or -1.
  ///
  /// # Safety
  /// Only writes into `groups`; safe to call between fork and exec.
  unsafe fn get_groups(groups: &mut [libc::gid_t]) -> libc::c_long;

  /// `setgroups(2)` for this process: 0, or -1.
  ///
  /// # Safety
  /// Between fork and exec only: other threads are not told.
  unsafe fn set_groups(groups: &[libc::gid_t]) -> libc::c_long;

  /// `setgid(2)` for this process: 0, or -1.
  ///
  /// # Safety
  /// Between fork and exec only: other threads are not told.
  unsafe fn set_gid(gid: libc::gid_t) -> libc::c_long;

  /// `setuid(2)` for this process: 0, or -1.
  ///
  /// # Safety
  /// Between fork and exec only: other threads are not told.
  unsafe fn set_uid(uid: libc::uid_t) -> libc::c_long;

  /// Marks every fd from `first` up close-on-exec in one call where the system can; false
  /// otherwise, and [`child_main`] then loops with `fcntl` up to the bound read before the fork.
  ///
  /// # Safety
  /// Changes fd flags of this process only; safe to call between fork and exec.
  unsafe fn mark_cloexec_from(first: RawFd) -> bool;
}

/// Runs `create` with every signal blocked in this thread, so that a child it creates cannot
/// run a handler of the parent's before it resets dispositions (it clears its mask itself,
/// right before exec). Returns what `create` returned and the errno it left.
pub fn with_signals_blocked(create: impl FnOnce() -> libc::pid_t) -> (libc::pid_t, i32) {
  // SAFETY: sigset_t is plain data, filled in below.
  let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
  // SAFETY: as above.
  let mut saved: libc::sigset_t = unsafe { std::mem::zeroed() };
  // SAFETY: sigfillset writes the set we own.
  unsafe { libc::sigfillset(&mut all) };
  // SAFETY: swaps this thread's mask; both sets are valid.
  unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut saved) };
  let pid = create();
  let errno = SysError::last("fork").errno;
  // SAFETY: restores the mask saved above.
  unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &saved, std::ptr::null_mut()) };
  (pid, errno)
}

/// Creates the child with a plain `fork`, which copies the parent's page tables (its cost
/// grows with the parent's size) but shares nothing with it afterwards.
pub fn fork_child<C: ChildCalls>(
  image: &ExecImage,
  slave: RawFd,
  report: RawFd,
) -> SysResult<libc::pid_t> {
  let (pid, errno) = with_signals_blocked(|| {
    // SAFETY: fork has no memory preconditions; the child only runs `child_main`, which makes
    // async-signal-safe calls on memory that was fully built before this point.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
      // SAFETY: we are the child of a fork, with every signal blocked; see child_main.
      unsafe { child_main::<C>(image, slave, report) }
    }
    pid
  });
  if pid < 0 {
    return Err(SysError::new(errno, "fork"));
  }
  Ok(pid)
}

/// Writes the failed step and errno to the report pipe and exits.
fn fail(report: RawFd, step: Step) -> ! {
  // Reading errno is async-signal-safe, and this error holds no allocation.
  let errno = SysError::last(step.syscall()).errno;
  let mut msg = [0u8; 8];
  msg[..4].copy_from_slice(&(step as i32).to_ne_bytes());
  msg[4..].copy_from_slice(&errno.to_ne_bytes());
  // SAFETY: write is async-signal-safe; msg lives on our stack. A failed write leaves the
  // parent with end-of-file and the exit status 127, which is all that can be done.
  unsafe { libc::write(report, msg.as_ptr().cast(), msg.len()) };
  // SAFETY: _exit is async-signal-safe and runs no atexit handler of the parent's.
  unsafe { libc::_exit(127) }
}

/// The child between fork and exec. Makes only async-signal-safe calls and touches no memory
/// but what `image` already holds, so it is sound after `fork` in a multi-threaded process.
///
/// # Safety
/// Must only be called in a freshly created child (fork, or a clone sharing memory whose parent
/// is suspended until it execs), with all signals blocked, with `slave` the pty's slave end
/// and `report` the write end of a close-on-exec pipe.
pub unsafe fn child_main<C: ChildCalls>(image: &ExecImage, slave: RawFd, report: RawFd) -> ! {
  // SAFETY: setsid takes no arguments.
  if unsafe { libc::setsid() } < 0 {
    fail(report, Step::Setsid);
  }
  // The ioctl request's type differs between C libraries; `as _` takes the one declared.
  // SAFETY: TIOCSCTTY takes an int argument, passed by value.
  if unsafe { libc::ioctl(slave, libc::TIOCSCTTY as _, 0) } < 0 {
    fail(report, Step::Controlling);
  }
  for target in 0..3 {
    // SAFETY: dup2 only changes this process's fd table.
    if unsafe { libc::dup2(slave, target) } < 0 {
      fail(report, Step::Dup2);
    }
  }
  // Node ignores SIGPIPE and may have handlers installed; the new program starts clean.
  // SAFETY: sigaction is plain data; all-zero with SIG_DFL set is the default disposition.
  let mut dfl: libc::sigaction = unsafe { std::mem::zeroed() };
  dfl.sa_sigaction = libc::SIG_DFL;
  for sig in 1..=C::MAX_SIGNAL {
    // SAFETY: reads dfl, which lives on our stack; numbers that name no signal fail harmlessly.
    unsafe { libc::sigaction(sig, &dfl, std::ptr::null_mut()) };
  }
  if let Some(cwd) = &image.cwd {
    // SAFETY: cwd is a NUL-terminated string owned by image.
    if unsafe { libc::chdir(cwd.as_ptr()) } < 0 {
      fail(report, Step::Chdir);
    }
  }
  if image.uid.is_some() || image.gid.is_some() {
    set_credentials::<C>(image, report);
  }
  // SAFETY: marks fds of this process only; async-signal-safe by the backend's contract.
  if !unsafe { C::mark_cloexec_from(3) } {
    for fd in 3..image.fd_bound {
      // SAFETY: F_SETFD only changes this fd's flags; an fd that is not open fails with EBADF.
      unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
  }
  // SAFETY: sigset_t is plain data, cleared below.
  let mut empty: libc::sigset_t = unsafe { std::mem::zeroed() };
  // SAFETY: writes the set we own.
  unsafe { libc::sigemptyset(&mut empty) };
  // SAFETY: sets this thread's mask from a valid set.
  unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut()) };
  // SAFETY: every pointer is into image, NUL-terminated, and the arrays end with a null.
  unsafe {
    libc::execve(
      image.program.as_ptr(),
      image.argv_ptrs.as_ptr(),
      image.envp_ptrs.as_ptr(),
    )
  };
  fail(report, Step::Execve)
}

/// The child's group list, group and user, in that order (a process that has given up its
/// user id can no longer change its groups).
fn set_credentials<C: ChildCalls>(image: &ExecImage, report: RawFd) {
  // SAFETY: getgid cannot fail.
  let gid = image.gid.unwrap_or_else(|| unsafe { libc::getgid() });
  // Only when some other group would survive: setgroups needs the privilege even when it
  // changes nothing, and an unprivileged process may well ask for the ids it has.
  let mut groups = [0 as libc::gid_t; 64];
  // SAFETY: writes at most groups.len() ids into groups; async-signal-safe.
  let n = unsafe { C::get_groups(&mut groups) };
  let only_gid = n >= 0 && groups[..n as usize].iter().all(|g| *g == gid);
  // SAFETY: as above, for the one id in a local.
  if !only_gid && unsafe { C::set_groups(&[gid]) } < 0 {
    fail(report, Step::Setgroups);
  }
  // SAFETY: changes this process's credentials only (see the backend).
  if image.gid.is_some() && unsafe { C::set_gid(gid) } < 0 {
    fail(report, Step::Setgid);
  }
  if let Some(uid) = image.uid {
    // SAFETY: as above.
    if unsafe { C::set_uid(uid) } < 0 {
      fail(report, Step::Setuid);
    }
  }
}

/// The terminal's foreground process group, asked of the master (Linux and macOS both answer
/// for a master that is nobody's controlling terminal); `None` when there is none.
pub fn foreground_group(master: RawFd) -> Option<libc::pid_t> {
  // SAFETY: tcgetpgrp only reads the terminal's state; no memory is passed.
  let pgid = unsafe { libc::tcgetpgrp(master) };
  (pgid > 0).then_some(pgid)
}

/// `kill(2)` for a child of ours that has not been reaped: a pid is only recycled once its
/// process has been reaped, so the caller must stop signalling before it reaps (the reactor
/// reaps under the lock that signals take, and drops the watch there).
pub fn signal_by_pid(pid: libc::pid_t, signal: i32) -> SysResult<()> {
  // SAFETY: kill takes two integers; the pid is our own unreaped child (see above).
  if unsafe { libc::kill(pid, signal) } < 0 {
    return Err(SysError::last("kill"));
  }
  Ok(())
}

/// A non-blocking open file description of this process's terminal `fd`, opened again by the
/// name `ttyname_r` gives: its flags are our own, so the shell that shares `fd`'s never sees
/// O_NONBLOCK. `None` when `fd` is not a terminal or cannot be reopened.
pub fn reopen_terminal(fd: RawFd, for_write: bool) -> Option<OwnedFd> {
  let mut buf = [0 as libc::c_char; 256];
  // SAFETY: ttyname_r writes at most buf.len() bytes, NUL included, into buf.
  if unsafe { libc::ttyname_r(fd, buf.as_mut_ptr(), buf.len()) } != 0 {
    return None;
  }
  // SAFETY: on success ttyname_r left a NUL-terminated string in buf.
  let path = unsafe { CStr::from_ptr(buf.as_ptr()) };
  open_nonblocking(path, for_write)
}

/// `open(path, O_RDONLY or O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)`.
pub fn open_nonblocking(path: &CStr, for_write: bool) -> Option<OwnedFd> {
  let mode = if for_write {
    libc::O_WRONLY
  } else {
    libc::O_RDONLY
  };
  let flags = mode | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC;
  // SAFETY: path is NUL-terminated and outlives the call.
  let new = unsafe { libc::open(path.as_ptr(), flags) };
  if new < 0 {
    return None;
  }
  // SAFETY: new was just created and is owned by nobody else.
  Some(unsafe { OwnedFd::from_raw_fd(new) })
}

/// `waitpid(pid, options)` for one child of ours: `Ok(None)` while it runs (with `WNOHANG`).
pub fn wait_child(pid: libc::pid_t, options: libc::c_int) -> SysResult<Option<i32>> {
  let mut status = 0;
  loop {
    // SAFETY: waits for our own child only (never -1), writing its status into a local.
    let rc = unsafe { libc::waitpid(pid, &mut status, options) };
    match rc {
      0 => return Ok(None),
      rc if rc > 0 => return Ok(Some(status)),
      _ => match SysError::last("waitpid") {
        e if e.errno == libc::EINTR => continue,
        e => return Err(e),
      },
    }
  }
}
