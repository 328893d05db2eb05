//! Errors that name the syscall: every failure the core reports to JavaScript is an errno, the
//! call that produced it and, where one was involved, the path.
//!
//! They cross the Node-API boundary as a small JSON document in the error message, after
//! `SYS_ERROR_PREFIX` (see `lib.rs`); the facade (`lib/errors.ts`) turns it into a Node-style
//! `Error` with `code`, `errno`, `syscall` and `path`.

use std::fmt::Write;

/// A failed system call: its errno, its name and the path it was given, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SysError {
  pub(crate) errno: i32,
  pub(crate) syscall: &'static str,
  pub(crate) path: Option<String>,
}

/// What every fallible call below the napi surface returns.
pub(crate) type SysResult<T> = Result<T, SysError>;

impl SysError {
  /// `errno` from `syscall`, with no path.
  pub(crate) fn new(errno: i32, syscall: &'static str) -> Self {
    SysError {
      errno,
      syscall,
      path: None,
    }
  }

  /// The calling thread's `errno`, read right after `syscall` failed.
  pub(crate) fn last(syscall: &'static str) -> Self {
    Self::new(last_errno(), syscall)
  }

  /// The same error, naming the path the call was given.
  pub(crate) fn with_path(mut self, path: impl Into<String>) -> Self {
    self.path = Some(path.into());
    self
  }

  /// The error as the JSON document the facade parses.
  pub(crate) fn to_json(&self) -> String {
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

/// The calling thread's `errno`.
pub(crate) fn last_errno() -> i32 {
  std::io::Error::last_os_error()
    .raw_os_error()
    .unwrap_or(libc::EIO)
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
