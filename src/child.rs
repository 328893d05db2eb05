//! Starting a child on a new pseudo-terminal: everything the child needs is prepared in the
//! parent ([`ChildSpec`]), so that between fork and exec the child only makes async-signal-safe
//! calls on memory that already exists.
//!
//! A failing step in the child is reported through a close-on-exec pipe as two native-endian
//! `i32`s, the step ([`Step`]) and its errno; a successful exec closes the pipe with nothing
//! written. The parent learns which of the two happened from the reactor.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{SysError, SysResult};
use crate::pty::{open_pty, set_echo, set_nonblocking, WindowSize};

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

/// Everything a child needs, built before the fork. Holds raw pointers into its own strings,
/// so it stays on the thread that built it.
pub struct ChildSpec {
  program: CString,
  _argv: Vec<CString>,
  argv_ptrs: Vec<*const libc::c_char>,
  _envp: Vec<CString>,
  envp_ptrs: Vec<*const libc::c_char>,
  cwd: Option<CString>,
  uid: Option<libc::uid_t>,
  gid: Option<libc::gid_t>,
}

fn c_string(s: &str, what: &str) -> napi::Result<CString> {
  CString::new(s).map_err(|_| {
    napi::Error::new(
      napi::Status::InvalidArg,
      format!("{what} must not contain NUL bytes"),
    )
  })
}

/// The terminal type a child gets when neither the caller nor the environment names one.
pub const DEFAULT_TERM: &str = "xterm-256color";

/// The child's environment: `env` (`NAME=value` entries), or this process's own when `None`,
/// with `TERM` set to `term`, else to the environment's, else to [`DEFAULT_TERM`].
///
/// Reading this process's environment here rather than `process.env` in JavaScript saves
/// tens of microseconds per child: each `process.env` entry is a call into Node. Node's
/// `process.env` writes go to the real environment on the main thread, so both agree there
/// (a worker's `process.env` is its own copy: the facade passes it explicitly).
pub fn environment(
  env: Option<&[String]>,
  term: Option<&str>,
) -> Result<Vec<CString>, std::ffi::NulError> {
  let inherited: Vec<Vec<u8>>;
  let entries: Vec<&[u8]> = match env {
    Some(env) => env.iter().map(|e| e.as_bytes()).collect(),
    None => {
      inherited = std::env::vars_os()
        .map(|(k, v)| [k.as_bytes(), b"=", v.as_bytes()].concat())
        .collect();
      inherited.iter().map(Vec::as_slice).collect()
    }
  };
  let mut out = Vec::with_capacity(entries.len() + 1);
  let mut env_term: Option<&[u8]> = None;
  for entry in entries {
    match entry.strip_prefix(b"TERM=") {
      Some(value) => env_term = Some(value),
      None => out.push(CString::new(entry)?),
    }
  }
  let term = match term {
    Some(t) => t.as_bytes(),
    None => env_term.unwrap_or(DEFAULT_TERM.as_bytes()),
  };
  out.push(CString::new([b"TERM=", term].concat())?);
  Ok(out)
}

impl ChildSpec {
  /// `env` is the child's whole environment (see [`environment`]); `argv[0]` is looked up on
  /// its `PATH`.
  pub fn new(
    argv: &[String],
    env: Vec<CString>,
    cwd: Option<&str>,
    uid: Option<u32>,
    gid: Option<u32>,
  ) -> napi::Result<Self> {
    let Some(file) = argv.first() else {
      return Err(napi::Error::new(
        napi::Status::InvalidArg,
        "argv must not be empty",
      ));
    };
    let argv_c = argv
      .iter()
      .map(|a| c_string(a, "argv"))
      .collect::<napi::Result<Vec<_>>>()?;
    let cwd_c = cwd.map(|c| c_string(c, "cwd")).transpose()?;
    let path_var = env
      .iter()
      .find_map(|e| e.as_bytes().strip_prefix(b"PATH="))
      .map(String::from_utf8_lossy);
    let program = resolve_program(file, path_var.as_deref(), cwd.map(Path::new))?;
    let program = CString::new(program.as_os_str().as_bytes()).expect("checked above");
    let argv_ptrs = argv_c
      .iter()
      .map(|a| a.as_ptr())
      .chain(std::iter::once(std::ptr::null()))
      .collect();
    let envp_ptrs = env
      .iter()
      .map(|e| e.as_ptr())
      .chain(std::iter::once(std::ptr::null()))
      .collect();
    Ok(ChildSpec {
      program,
      _argv: argv_c,
      argv_ptrs,
      _envp: env,
      envp_ptrs,
      cwd: cwd_c,
      uid,
      gid,
    })
  }

  pub fn program(&self) -> String {
    self.program.to_string_lossy().into_owned()
  }

  pub fn cwd(&self) -> Option<String> {
    self.cwd.as_ref().map(|c| c.to_string_lossy().into_owned())
  }
}

/// The default search path when the child's environment has no `PATH` (as `execvp` does).
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// `execvp`'s search, done in the parent: a name with a slash is used as it is; otherwise the
/// first executable regular file of that name on `path`. `EACCES` when only non-executable
/// candidates exist, `ENOENT` when there are none. Relative entries are taken from `cwd`, where
/// the child will be when it calls `execve`.
pub fn resolve_program(name: &str, path: Option<&str>, cwd: Option<&Path>) -> SysResult<PathBuf> {
  if name.is_empty() {
    return Err(SysError::new(libc::ENOENT, "execvp").with_path(name));
  }
  if name.contains('/') {
    return Ok(PathBuf::from(name));
  }
  let mut denied = false;
  for dir in path.unwrap_or(DEFAULT_PATH).split(':') {
    let dir = if dir.is_empty() { "." } else { dir };
    let candidate = Path::new(dir).join(name);
    let on_disk = match cwd {
      Some(cwd) if candidate.is_relative() => cwd.join(&candidate),
      _ => candidate.clone(),
    };
    match std::fs::metadata(&on_disk) {
      Ok(meta) if meta.is_file() => {
        if meta.permissions().mode() & 0o111 != 0 && access_x(&on_disk) {
          return Ok(candidate);
        }
        denied = true;
      }
      Ok(_) => {}
      Err(e) if e.raw_os_error() == Some(libc::EACCES) => denied = true,
      Err(_) => {}
    }
  }
  let errno = if denied { libc::EACCES } else { libc::ENOENT };
  Err(SysError::new(errno, "execvp").with_path(name))
}

fn access_x(path: &Path) -> bool {
  let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
    return false;
  };
  // SAFETY: c is a valid NUL-terminated path for the duration of the call.
  unsafe { libc::access(c.as_ptr(), libc::X_OK) == 0 }
}

/// A child that has been forked: its pid, the master end (non-blocking is left to the caller),
/// and the read end of its report pipe (non-blocking).
pub struct Forked {
  pub pid: libc::pid_t,
  pub master: OwnedFd,
  pub report: OwnedFd,
  pub pts_name: String,
}

/// Opens a pty, forks, and runs [`ChildSpec`] in the child. Returns as soon as the child exists;
/// whether its exec succeeded arrives on `report`.
pub fn fork_pty(spec: &ChildSpec, size: WindowSize, echo: bool) -> SysResult<Forked> {
  let pair = open_pty(size)?;
  if !echo {
    set_echo(pair.slave.as_raw_fd(), false)?;
  }
  let (report_rd, report_wr) = crate::fd::pipe()?;
  let slave = pair.slave.as_raw_fd();
  let report_fd = report_wr.as_raw_fd();

  // Block every signal around the fork so the child cannot run a handler of the parent's
  // before it resets dispositions; the child clears its mask right before exec.
  // SAFETY: sigset_t is plain data, for which all zeroes is a valid value.
  let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
  // SAFETY: as above.
  let mut saved: libc::sigset_t = unsafe { std::mem::zeroed() };
  // SAFETY: sigfillset writes the set we own; pthread_sigmask swaps this thread's mask.
  unsafe {
    libc::sigfillset(&mut all);
    libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut saved);
  }
  let strategy = Strategy::current();
  let pid = match strategy {
    Strategy::CloneVfork => clone_vfork(spec, slave, report_fd),
    Strategy::Fork => {
      // SAFETY: fork has no memory preconditions; the child only runs `child_main`, which
      // makes async-signal-safe calls on memory that was fully built before this point.
      let pid = unsafe { libc::fork() };
      if pid == 0 {
        // SAFETY: we are the child of a fork; see child_main's contract.
        unsafe { child_main(spec, slave, report_fd) }
      }
      pid
    }
  };
  let fork_errno = nix::errno::Errno::last_raw();
  // SAFETY: restores the mask saved above.
  unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &saved, std::ptr::null_mut()) };
  if pid < 0 {
    let syscall = match strategy {
      Strategy::CloneVfork => "clone",
      Strategy::Fork => "fork",
    };
    return Err(SysError::new(fork_errno, syscall));
  }
  drop(report_wr);
  drop(pair.slave);
  set_nonblocking(report_rd.as_raw_fd())?;
  Ok(Forked {
    pid,
    master: pair.master,
    report: report_rd,
    pts_name: pair.path,
  })
}

/// How the child is created. Both run the same [`child_main`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
  /// `clone(CLONE_VM | CLONE_VFORK)`, as `posix_spawn` does: the child borrows the parent's
  /// memory until it execs, so no page table is copied and the cost does not grow with the
  /// parent's size.
  CloneVfork,
  /// Plain `fork`: copies the parent's page tables.
  Fork,
}

impl Strategy {
  /// `NAPI_PTY_STRATEGY=fork` selects the fork path (for comparison and tests); the default is
  /// the clone path.
  pub fn current() -> Strategy {
    match std::env::var_os("NAPI_PTY_STRATEGY") {
      Some(v) if v == "fork" => Strategy::Fork,
      _ => Strategy::CloneVfork,
    }
  }
}

/// The child's stack for the clone path; it only needs room for `child_main`'s frames.
const CLONE_STACK: usize = 64 * 1024;

struct CloneArgs<'a> {
  spec: &'a ChildSpec,
  slave: RawFd,
  report: RawFd,
}

extern "C" fn clone_entry(arg: *mut libc::c_void) -> libc::c_int {
  // SAFETY: arg points to the CloneArgs on the parent's stack, which stays alive (and the
  // parent suspended) until this child execs or exits: that is what CLONE_VFORK guarantees.
  let args = unsafe { &*(arg as *const CloneArgs) };
  // SAFETY: we are a freshly cloned child; see child_main's contract.
  unsafe { child_main(args.spec, args.slave, args.report) }
}

/// Returns the child's pid (or -1 with errno set), once the child has exec'd or exited.
fn clone_vfork(spec: &ChildSpec, slave: RawFd, report: RawFd) -> libc::pid_t {
  let mut stack = vec![0u8; CLONE_STACK];
  // The stack grows down: pass its (16-byte aligned) top.
  let top = (stack.as_mut_ptr() as usize + CLONE_STACK) & !15;
  let mut args = CloneArgs {
    spec,
    slave,
    report,
  };
  // SAFETY: the child runs clone_entry on its own stack with every signal blocked, shares our
  // memory but writes none of it (child_main only makes syscalls on prepared data), and has
  // its own signal handler table (no CLONE_SIGHAND), so resetting dispositions is private to
  // it. CLONE_VFORK suspends us until it execs or exits, so `stack` and `args` outlive it.
  unsafe {
    libc::clone(
      clone_entry,
      top as *mut libc::c_void,
      libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
      (&mut args as *mut CloneArgs).cast(),
    )
  }
}

/// Reads the child's report: `Ok(None)` once the exec succeeded (end-of-file),
/// `Ok(Some((step, errno)))` when a step failed, `Err(EAGAIN)` if nothing is there yet.
pub fn read_report(report: RawFd) -> Result<Option<(Step, i32)>, i32> {
  let mut buf = [0u8; 8];
  let mut got = 0;
  while got < buf.len() {
    // SAFETY: reads into the unfilled tail of buf, which we own.
    let n = unsafe { libc::read(report, buf[got..].as_mut_ptr().cast(), buf.len() - got) };
    match n {
      0 => break,
      n if n > 0 => got += n as usize,
      _ => match nix::errno::Errno::last_raw() {
        libc::EINTR => continue,
        libc::EAGAIN if got > 0 => continue,
        e => return Err(e),
      },
    }
  }
  if got < buf.len() {
    return Ok(None);
  }
  let step = i32::from_ne_bytes(buf[..4].try_into().unwrap());
  let errno = i32::from_ne_bytes(buf[4..].try_into().unwrap());
  Ok(Some((Step::from_i32(step).unwrap_or(Step::Execve), errno)))
}

/// Highest signal number to reset (Linux's `_NSIG - 1`).
const MAX_SIGNAL: libc::c_int = 64;

/// The child between fork and exec. Makes only async-signal-safe calls and touches no memory
/// but what `spec` already holds, so it is sound after `fork` in a multi-threaded process.
///
/// # Safety
/// Must only be called in a freshly forked (or `CLONE_VM | CLONE_VFORK`-cloned) child, with all
/// signals blocked, with `slave` the pty's slave end and `report`
/// the write end of a close-on-exec pipe.
unsafe fn child_main(spec: &ChildSpec, slave: RawFd, report: RawFd) -> ! {
  let fail = |step: Step| -> ! {
    let errno = nix::errno::Errno::last_raw();
    let mut msg = [0u8; 8];
    msg[..4].copy_from_slice(&(step as i32).to_ne_bytes());
    msg[4..].copy_from_slice(&errno.to_ne_bytes());
    // SAFETY: write and _exit are async-signal-safe; msg lives on our stack.
    unsafe {
      libc::write(report, msg.as_ptr().cast(), msg.len());
      libc::_exit(127)
    }
  };
  // SAFETY: (whole block) each call is async-signal-safe and only passes memory owned by `spec`
  // or by this stack frame.
  unsafe {
    if libc::setsid() < 0 {
      fail(Step::Setsid);
    }
    if libc::ioctl(slave, libc::TIOCSCTTY, 0) < 0 {
      fail(Step::Controlling);
    }
    for target in 0..3 {
      if libc::dup2(slave, target) < 0 {
        fail(Step::Dup2);
      }
    }
    // Node ignores SIGPIPE and may have handlers installed; the new program starts clean.
    let mut dfl: libc::sigaction = std::mem::zeroed();
    dfl.sa_sigaction = libc::SIG_DFL;
    for sig in 1..=MAX_SIGNAL {
      libc::sigaction(sig, &dfl, std::ptr::null_mut());
    }
    if let Some(cwd) = &spec.cwd {
      if libc::chdir(cwd.as_ptr()) < 0 {
        fail(Step::Chdir);
      }
    }
    // Raw syscalls, not glibc's wrappers: those broadcast the change to every thread of the
    // process, and in the clone path our "process" shares the parent's memory and threads list.
    if spec.uid.is_some() || spec.gid.is_some() {
      let gid = spec.gid.unwrap_or_else(|| libc::getgid());
      // Only when some other group would survive: setgroups needs the privilege even when it
      // changes nothing, and an unprivileged process may well ask for the ids it has.
      let mut groups = [0 as libc::gid_t; 64];
      let n = libc::syscall(libc::SYS_getgroups, groups.len(), groups.as_mut_ptr());
      let only_gid = n >= 0 && groups[..n as usize].iter().all(|g| *g == gid);
      if !only_gid && libc::syscall(libc::SYS_setgroups, 1, &gid as *const libc::gid_t) < 0 {
        fail(Step::Setgroups);
      }
      if spec.gid.is_some() && libc::syscall(libc::SYS_setgid, gid) < 0 {
        fail(Step::Setgid);
      }
      if let Some(uid) = spec.uid {
        if libc::syscall(libc::SYS_setuid, uid) < 0 {
          fail(Step::Setuid);
        }
      }
    }
    if !crate::sys::cloexec_from(3) {
      let mut limit: libc::rlimit = std::mem::zeroed();
      let max = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
        limit.rlim_cur.min(1 << 20) as RawFd
      } else {
        1024
      };
      for fd in 3..max {
        libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
      }
    }
    let mut empty: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut empty);
    libc::pthread_sigmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    libc::execve(
      spec.program.as_ptr(),
      spec.argv_ptrs.as_ptr(),
      spec.envp_ptrs.as_ptr(),
    );
    fail(Step::Execve)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn resolves_on_path() {
    let p = resolve_program("sh", Some("/nonexistent:/bin:/usr/bin"), None).unwrap();
    assert_eq!(p, PathBuf::from("/bin/sh"));
  }

  #[test]
  fn missing_program_is_enoent() {
    let e = resolve_program("no-such-program-xyz", Some("/bin"), None).unwrap_err();
    assert_eq!((e.errno, e.syscall), (libc::ENOENT, "execvp"));
  }

  #[test]
  fn non_executable_is_eacces() {
    let dir = std::env::temp_dir().join(format!("napi-pty-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("plain"), b"data").unwrap();
    let e = resolve_program("plain", dir.to_str(), None).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(e.errno, libc::EACCES);
  }

  fn names(env: &[CString]) -> Vec<String> {
    env
      .iter()
      .map(|e| e.to_string_lossy().into_owned())
      .collect()
  }

  #[test]
  fn term_is_the_callers_then_the_environments_then_the_default() {
    let env = vec!["A=1".to_owned(), "TERM=vt100".to_owned()];
    assert_eq!(
      names(&environment(Some(&env), None).unwrap()),
      ["A=1", "TERM=vt100"]
    );
    assert_eq!(
      names(&environment(Some(&env), Some("dumb")).unwrap()),
      ["A=1", "TERM=dumb"]
    );
    let env = vec!["A=1".to_owned()];
    assert_eq!(
      names(&environment(Some(&env), None).unwrap()),
      ["A=1", "TERM=xterm-256color"]
    );
  }

  #[test]
  fn no_env_means_this_processs_own() {
    let own = names(&environment(None, Some("dumb")).unwrap());
    let path = format!("PATH={}", std::env::var("PATH").unwrap());
    assert!(own.contains(&path));
    assert_eq!(own.last().unwrap(), "TERM=dumb");
    assert_eq!(own.iter().filter(|e| e.starts_with("TERM=")).count(), 1);
  }

  #[test]
  fn slash_names_are_taken_as_they_are() {
    let p = resolve_program("./x/y", Some("/bin"), None).unwrap();
    assert_eq!(p, PathBuf::from("./x/y"));
  }
}
