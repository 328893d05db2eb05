//! Starting a child on a new pseudo-terminal: the child's specification (arguments,
//! environment, `PATH` lookup, done in the parent) and the fork itself. What happens in the
//! child between fork and exec, and how each system creates it, is in [`crate::sys`].

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{SysError, SysResult};
use crate::pty::{open_pty, set_echo, set_nonblocking, WindowSize};
use crate::sys::{self, ExecImage};

/// Everything a child needs, built before the fork (see [`ExecImage`]).
pub struct ChildSpec {
  image: ExecImage,
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
    Ok(ChildSpec {
      image: ExecImage::new(program, argv_c, env, cwd_c, uid, gid),
    })
  }

  /// The path that is exec'd, as found on `PATH`.
  pub fn program(&self) -> String {
    self.image.program().to_string_lossy().into_owned()
  }

  /// The directory the child starts in, if not this process's.
  pub fn cwd(&self) -> Option<String> {
    self.image.cwd().map(|c| c.to_string_lossy().into_owned())
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

/// Opens a pty and creates the child on it (see [`sys`]). Returns as soon as the child exists;
/// whether its exec succeeded arrives on `report`.
pub fn fork_pty(spec: &ChildSpec, size: WindowSize, echo: bool) -> SysResult<Forked> {
  let pair = open_pty(size)?;
  if !echo {
    set_echo(pair.slave.as_raw_fd(), false)?;
  }
  let (report_rd, report_wr) = sys::pipe_cloexec()?;
  let pid = sys::create_child(&spec.image, pair.slave.as_raw_fd(), report_wr.as_raw_fd())?;
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
