//! Errors that name the syscall: every failure the core reports to JavaScript is an errno, the
//! call that produced it and, where one was involved, the path.
//!
//! They cross the Node-API boundary as a small JSON document in the error message; the facade
//! (`index.ts`) turns it into a Node-style `Error` with `code`, `errno`, `syscall` and `path`.

use std::fmt::Write;

/// Marks a message as a serialised [`SysError`] for the facade.
pub const SYS_ERROR_PREFIX: &str = "napi-pty:sys:";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysError {
  pub errno: i32,
  pub syscall: &'static str,
  pub path: Option<String>,
}

pub type SysResult<T> = Result<T, SysError>;

impl SysError {
  pub fn new(errno: i32, syscall: &'static str) -> Self {
    SysError {
      errno,
      syscall,
      path: None,
    }
  }

  /// The calling thread's `errno`, read right after `syscall` failed.
  pub fn last(syscall: &'static str) -> Self {
    Self::new(nix::errno::Errno::last_raw(), syscall)
  }

  pub fn with_path(mut self, path: impl Into<String>) -> Self {
    self.path = Some(path.into());
    self
  }

  fn to_json(&self) -> String {
    let mut out = format!(
      "{{\"errno\":{},\"syscall\":\"{}\"",
      self.errno, self.syscall
    );
    if let Some(path) = &self.path {
      out.push_str(",\"path\":");
      push_json_string(&mut out, path);
    }
    out.push('}');
    out
  }
}

impl From<nix::errno::Errno> for SysError {
  fn from(errno: nix::errno::Errno) -> Self {
    SysError::new(errno as i32, "unknown")
  }
}

impl From<SysError> for napi::Error {
  fn from(err: SysError) -> Self {
    napi::Error::new(
      napi::Status::GenericFailure,
      format!("{SYS_ERROR_PREFIX}{}", err.to_json()),
    )
  }
}

fn push_json_string(out: &mut String, s: &str) {
  out.push('"');
  for c in s.chars() {
    match c {
      '"' => out.push_str("\\\""),
      '\\' => out.push_str("\\\\"),
      c if (c as u32) < 0x20 => {
        let _ = write!(out, "\\u{:04x}", c as u32);
      }
      c => out.push(c),
    }
  }
  out.push('"');
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn json_escapes_paths() {
    let err = SysError::new(2, "chdir").with_path("a\"b\\c\nd");
    assert_eq!(
      err.to_json(),
      r#"{"errno":2,"syscall":"chdir","path":"a\"b\\c\u000ad"}"#
    );
  }

  #[test]
  fn json_without_path() {
    assert_eq!(
      SysError::new(13, "execve").to_json(),
      r#"{"errno":13,"syscall":"execve"}"#
    );
  }
}
