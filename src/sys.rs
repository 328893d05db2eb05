//! Linux syscalls that glibc 2.28 has no wrapper for, made by number so that the binary runs on
//! old distributions. Each wrapper is a single call; callers own the fds involved.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use crate::error::{SysError, SysResult};

/// `close_range(2)` flag: mark the range close-on-exec instead of closing it.
const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;

/// A pidfd for `pid`, close-on-exec (the kernel always sets it).
pub fn pidfd_open(pid: libc::pid_t) -> SysResult<OwnedFd> {
  // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1; no memory is passed.
  let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
  if fd < 0 {
    return Err(SysError::last("pidfd_open"));
  }
  // SAFETY: the kernel just returned this fd to us and nothing else owns it.
  Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Signals the process behind `pidfd`; never a recycled pid, unlike `kill(2)`.
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

/// Marks every fd from `first` up close-on-exec. Async-signal-safe: used between fork and exec.
/// Returns false when the kernel lacks `CLOSE_RANGE_CLOEXEC` (before 5.11).
pub fn cloexec_from(first: RawFd) -> bool {
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
