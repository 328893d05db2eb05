//! This process's stdin or stdout as `spawn`'s relay reads or writes it, without changing any
//! file status flag that someone else shares (see the parent module).

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

use crate::error::{SysError, SysResult};
use crate::fd::{self, WriteMode};

/// How an endpoint is read and written without changing flags anyone else sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
  /// Our own non-blocking description of the same pipe or terminal.
  NonBlocking,
  /// A socket: `recv`/`send` with `MSG_DONTWAIT`.
  Socket,
  /// A duplicate of a blocking description (reopening was refused): each call is preceded by a
  /// zero-timeout `poll`, and writes stay within `PIPE_BUF`, so none blocks.
  Probe,
  /// Devices that are always ready (and cannot be polled), such as `/dev/null`.
  Always,
  /// A regular file or block device, read or written on a file thread: never "would block",
  /// but a call may take as long as the disk or a network filesystem does.
  File,
}

/// Where the read of a `File` stdin stands.
pub(super) enum FileRead {
  Idle,
  InFlight,
  /// Done and not yet acted on: how it went, and the buffer it read into.
  Done(SysResult<usize>, Vec<u8>),
}

/// This process's stdin or stdout as the relay uses it.
pub(crate) struct Endpoint {
  /// Shared with a file thread while it reads or writes it.
  pub(super) fd: Arc<OwnedFd>,
  pub(super) access: Access,
  /// Readiness as last learned: set by an event (or always, for `Always`), cleared by EAGAIN.
  pub(crate) ready: bool,
  /// A chunk is with a file thread (`File` only).
  pub(super) writing: bool,
  /// The last write failed so (`File` only).
  pub(super) failed: Option<SysError>,
  /// Where the read of it stands (`File` stdin only).
  pub(super) file_read: FileRead,
  /// The poll set it is in, if any: it leaves it before its fd is closed (a duplicate of the
  /// fd would otherwise keep reporting under a stale token).
  registry: Option<&'static Registry>,
}

impl Drop for Endpoint {
  fn drop(&mut self) {
    if let Some(registry) = self.registry {
      let _ = registry.deregister(&mut SourceFd(&self.fd.as_raw_fd()));
    }
  }
}

impl Endpoint {
  /// `None` when `fd` is not open: for stdin that is an immediate end-of-file.
  pub(crate) fn open(fd: RawFd, for_write: bool) -> SysResult<Option<Endpoint>> {
    // SAFETY: stat is plain data, for which all zeroes is a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat writes one stat into st, which is valid for writes.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
      let err = SysError::last("fstat");
      return if err.errno == libc::EBADF {
        Ok(None)
      } else {
        Err(err)
      };
    }
    let (fd, access) = match st.st_mode & libc::S_IFMT {
      libc::S_IFSOCK => (fd::dup(fd)?, Access::Socket),
      libc::S_IFIFO | libc::S_IFCHR => match crate::sys::reopen_own(fd, for_write) {
        Some(own) => (own, Access::NonBlocking),
        None => (fd::dup(fd)?, Access::Probe),
      },
      libc::S_IFREG | libc::S_IFBLK => (fd::dup(fd)?, Access::File),
      _ => (fd::dup(fd)?, Access::Always),
    };
    Ok(Some(Endpoint {
      fd: Arc::new(fd),
      access,
      ready: true,
      writing: false,
      failed: None,
      file_read: FileRead::Idle,
      registry: None,
    }))
  }

  /// Asks `registry` for its readiness events under `token`. What cannot be polled (a file, a
  /// device epoll refuses such as `/dev/null`) is treated as always ready instead.
  pub(super) fn register(&mut self, registry: &'static Registry, token: Token, interest: Interest) {
    if matches!(self.access, Access::Always | Access::File) {
      return;
    }
    let raw = self.fd.as_raw_fd();
    if registry
      .register(&mut SourceFd(&raw), token, interest)
      .is_ok()
    {
      self.registry = Some(registry);
    } else {
      self.access = Access::Always;
      self.ready = true;
    }
  }

  fn probe(&self, events: libc::c_short) -> bool {
    let mut pfd = libc::pollfd {
      fd: self.fd.as_raw_fd(),
      events,
      revents: 0,
    };
    // SAFETY: polls one pollfd we own, without waiting.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    n > 0
  }

  /// Reads into `buf`'s spare capacity; `Ok(0)` is end-of-file.
  pub(super) fn read(&mut self, buf: &mut Vec<u8>) -> SysResult<usize> {
    match self.access {
      Access::Probe if !self.probe(libc::POLLIN) => Err(SysError::new(libc::EAGAIN, "read")),
      Access::Socket => fd::recv_nonblocking(self.fd.as_raw_fd(), buf),
      _ => fd::read(self.fd.as_raw_fd(), buf),
    }
  }

  /// Writes as much of `data` as goes without blocking: `Ok(n)` with `n` short of all when the
  /// endpoint would block (as [`fd::write`]).
  pub(super) fn write(&mut self, data: &[u8]) -> SysResult<usize> {
    let fd = self.fd.as_raw_fd();
    match self.access {
      Access::Probe => {
        // Within PIPE_BUF, a write to what polled writable does not block.
        let mut off = 0;
        while off < data.len() && self.probe(libc::POLLOUT) {
          let end = data.len().min(off + libc::PIPE_BUF);
          match fd::write_once(fd, &data[off..end], WriteMode::Write) {
            Ok(n) => off += n,
            Err(e) if e.errno == libc::EINTR => {}
            Err(e) => return Err(e),
          }
        }
        Ok(off)
      }
      Access::Socket => fd::write(fd, data, WriteMode::Send),
      _ => fd::write(fd, data, WriteMode::Write),
    }
  }
}
