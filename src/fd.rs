//! The one place that reads, writes and duplicates raw fds. Every helper makes one kind of call,
//! retries it on `EINTR` where that is safe, and reports failure as a [`SysError`] that names
//! the call. The same on every system: pipes, which systems create differently, come from
//! `sys::pipe_cloexec`.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use crate::error::{SysError, SysResult};

/// One `read(2)` into `buf`'s spare capacity, which it then commits; `Ok(0)` is end-of-file.
pub(crate) fn read(fd: RawFd, buf: &mut Vec<u8>) -> SysResult<usize> {
  let spare = buf.spare_capacity_mut();
  // SAFETY: read writes at most spare.len() bytes into the spare capacity, which buf owns.
  let n = unsafe { libc::read(fd, spare.as_mut_ptr().cast(), spare.len()) };
  commit(buf, n, "read")
}

/// As [`read`], retried on `EINTR`: for fds that may block (files), where a signal must not
/// end the call early.
pub(crate) fn read_retrying(fd: RawFd, buf: &mut Vec<u8>) -> SysResult<usize> {
  loop {
    match read(fd, buf) {
      Err(e) if e.errno == libc::EINTR => continue,
      result => return result,
    }
  }
}

/// One `recv(2)` with `MSG_DONTWAIT` into `buf`'s spare capacity, which it then commits.
pub(crate) fn recv_nonblocking(fd: RawFd, buf: &mut Vec<u8>) -> SysResult<usize> {
  let spare = buf.spare_capacity_mut();
  // SAFETY: recv writes at most spare.len() bytes into the spare capacity, which buf owns.
  let n = unsafe {
    libc::recv(
      fd,
      spare.as_mut_ptr().cast(),
      spare.len(),
      libc::MSG_DONTWAIT,
    )
  };
  commit(buf, n, "recv")
}

/// Makes the `n` bytes a read-like call returned part of `buf`.
fn commit(buf: &mut Vec<u8>, n: isize, syscall: &'static str) -> SysResult<usize> {
  if n < 0 {
    return Err(SysError::last(syscall));
  }
  let n = n as usize;
  // SAFETY: the kernel initialised the first n bytes of the spare capacity, right after the
  // initialised ones.
  unsafe { buf.set_len(buf.len() + n) };
  Ok(n)
}

/// How a write to an fd should be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteMode {
  /// `write(2)`.
  Write,
  /// `send(2)` with `MSG_DONTWAIT | MSG_NOSIGNAL`: a socket that must not block nor raise
  /// SIGPIPE, whatever its file status flags.
  Send,
}

/// One `write(2)` (or `send(2)`); `Ok(n)` is how many bytes the kernel took.
pub(crate) fn write_once(fd: RawFd, data: &[u8], mode: WriteMode) -> SysResult<usize> {
  let n = match mode {
    // SAFETY: the kernel reads at most data.len() bytes from the live slice.
    WriteMode::Write => unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) },
    // SAFETY: as above.
    WriteMode::Send => unsafe {
      libc::send(
        fd,
        data.as_ptr().cast(),
        data.len(),
        libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
      )
    },
  };
  if n < 0 {
    let syscall = match mode {
      WriteMode::Write => "write",
      WriteMode::Send => "send",
    };
    return Err(SysError::last(syscall));
  }
  Ok(n as usize)
}

/// Writes `data` until all of it went or the fd would block (`EAGAIN`), retrying `EINTR`;
/// `Ok(n)` is how much went (less than all only when the fd would block). A blocking fd (a
/// file) never would, so for it `Ok` means all of it. On failure, what went before is lost to
/// the caller: every caller drops the rest then.
pub(crate) fn write(fd: RawFd, data: &[u8], mode: WriteMode) -> SysResult<usize> {
  let mut off = 0;
  while off < data.len() {
    match write_once(fd, &data[off..], mode) {
      // Not seen from an fd given bytes; never loop on it.
      Ok(0) => return Err(SysError::new(libc::EIO, "write")),
      Ok(n) => off += n,
      Err(e) if e.errno == libc::EINTR => {}
      Err(e) if e.errno == libc::EAGAIN => break,
      Err(e) => return Err(e),
    }
  }
  Ok(off)
}

/// A close-on-exec duplicate of `fd`, numbered 3 or above.
pub(crate) fn dup(fd: RawFd) -> SysResult<OwnedFd> {
  // SAFETY: F_DUPFD_CLOEXEC only creates a new fd (or fails); no memory is passed.
  let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
  if new < 0 {
    return Err(SysError::last("fcntl"));
  }
  // SAFETY: new was just created and is owned by nobody else.
  Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::sys::pipe_cloexec as pipe;
  use std::os::fd::AsRawFd;

  #[test]
  fn a_pipe_carries_bytes_and_ends() {
    let (rd, wr) = pipe().unwrap();
    assert_eq!(write(wr.as_raw_fd(), b"abc", WriteMode::Write).unwrap(), 3);
    drop(wr);
    let mut buf = Vec::with_capacity(16);
    assert_eq!(read(rd.as_raw_fd(), &mut buf).unwrap(), 3);
    assert_eq!(buf, b"abc");
    assert_eq!(read_retrying(rd.as_raw_fd(), &mut buf).unwrap(), 0);
  }

  #[test]
  fn write_to_a_closed_pipe_names_the_call() {
    let (rd, wr) = pipe().unwrap();
    drop(rd);
    // SAFETY: ignoring SIGPIPE in the test process turns it into EPIPE.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let err = write(wr.as_raw_fd(), b"x", WriteMode::Write).unwrap_err();
    assert_eq!((err.errno, err.syscall), (libc::EPIPE, "write"));
  }

  #[test]
  fn dup_is_cloexec_and_above_stdio() {
    let (rd, _wr) = pipe().unwrap();
    let copy = dup(rd.as_raw_fd()).unwrap();
    assert!(copy.as_raw_fd() >= 3);
    // SAFETY: F_GETFD only reads the fd's flags.
    let flags = unsafe { libc::fcntl(copy.as_raw_fd(), libc::F_GETFD) };
    assert_ne!(flags & libc::FD_CLOEXEC, 0);
  }
}
