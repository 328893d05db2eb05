//! This process's own terminal while `spawn` borrows it: raw mode and its exact restoration.

use std::os::fd::RawFd;
use std::sync::Mutex;

use crate::error::{SysError, SysResult};

/// A terminal's saved mode, restored by [`SavedMode::restore`].
pub struct SavedMode {
  fd: RawFd,
  termios: libc::termios,
}

/// Modes saved by live `spawn` calls, with the Env (sink id) that saved them, so that the Env's
/// teardown can restore any that a path of the JavaScript side missed.
static SAVED: Mutex<Vec<(u32, RawFd, libc::termios)>> = Mutex::new(Vec::new());

pub fn is_terminal(fd: RawFd) -> bool {
  // SAFETY: isatty only inspects the fd.
  unsafe { libc::isatty(fd) == 1 }
}

fn get_mode(fd: RawFd) -> SysResult<libc::termios> {
  // SAFETY: termios is plain data; tcgetattr fills it in.
  let mut t: libc::termios = unsafe { std::mem::zeroed() };
  // SAFETY: t is valid for writes.
  if unsafe { libc::tcgetattr(fd, &mut t) } != 0 {
    return Err(SysError::last("tcgetattr"));
  }
  Ok(t)
}

fn set_mode(fd: RawFd, t: &libc::termios) -> SysResult<()> {
  loop {
    // SAFETY: t is a valid termios for reads.
    if unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, t) } == 0 {
      return Ok(());
    }
    if nix::errno::Errno::last_raw() != libc::EINTR {
      return Err(SysError::last("tcsetattr"));
    }
  }
}

/// Saves the terminal's mode and puts it into raw mode (`cfmakeraw`, as Python's
/// `tty.setraw`), discarding pending input like Python does (TCSAFLUSH).
pub fn make_raw(fd: RawFd, owner: u32) -> SysResult<SavedMode> {
  let saved = get_mode(fd)?;
  let mut raw = saved;
  // SAFETY: raw is a valid termios; cfmakeraw only edits its flags.
  unsafe { libc::cfmakeraw(&mut raw) };
  SAVED.lock().unwrap().push((owner, fd, saved));
  if let Err(e) = set_mode(fd, &raw) {
    forget(fd);
    return Err(e);
  }
  Ok(SavedMode { fd, termios: saved })
}

fn forget(fd: RawFd) {
  let mut saved = SAVED.lock().unwrap();
  if let Some(i) = saved.iter().rposition(|(_, f, _)| *f == fd) {
    saved.remove(i);
  }
}

impl SavedMode {
  /// Puts the exact saved mode back.
  pub fn restore(&self) -> SysResult<()> {
    forget(self.fd);
    set_mode(self.fd, &self.termios)
  }
}

/// Restores every mode `owner` still has saved (its Env is going away mid-spawn).
pub fn restore_all(owner: u32) {
  let mine: Vec<_> = {
    let mut saved = SAVED.lock().unwrap();
    let (mine, others) = saved.drain(..).partition(|(o, _, _)| *o == owner);
    *saved = others;
    mine
  };
  // Restore the oldest save last: it is the mode the terminal had before any spawn.
  for (_, fd, t) in mine.iter().rev() {
    let _ = set_mode(*fd, t);
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::pty::{open_pty, WindowSize};
  use std::os::fd::AsRawFd;

  #[test]
  fn raw_mode_round_trips_exactly() {
    let pair = open_pty(WindowSize { cols: 80, rows: 24 }).unwrap();
    let fd = pair.slave.as_raw_fd();
    let before = get_mode(fd).unwrap();
    let saved = make_raw(fd, 0).unwrap();
    let raw = get_mode(fd).unwrap();
    assert_eq!(raw.c_lflag & (libc::ICANON | libc::ECHO | libc::ISIG), 0);
    saved.restore().unwrap();
    let after = get_mode(fd).unwrap();
    assert_eq!(before.c_lflag, after.c_lflag);
    assert_eq!(before.c_iflag, after.c_iflag);
    assert_eq!(before.c_oflag, after.c_oflag);
    assert_eq!(before.c_cflag, after.c_cflag);
    assert_eq!(before.c_cc, after.c_cc);
  }

  #[test]
  fn non_terminal_is_enotty() {
    let file = std::fs::File::open("/dev/null").unwrap();
    assert!(!is_terminal(file.as_raw_fd()));
    let err = make_raw(file.as_raw_fd(), 0).err().unwrap();
    assert_eq!((err.errno, err.syscall), (libc::ENOTTY, "tcgetattr"));
  }
}
