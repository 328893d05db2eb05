//! Writing `spawn`'s output to a regular file, off the reactor thread.
//!
//! A regular file never reports "would block": a write returns when the data is in the page
//! cache, or when the filesystem lets it, which on a network filesystem, a stalled disk or
//! under dirty-page throttling can take seconds. Done on the reactor, that write would stall the
//! I/O and exits of every other pty in the process. So each chunk for a file goes to one writer
//! thread (shared by all relays), which hands the buffer back through the reactor once it is
//! written. Meanwhile the relay gathers what the master gives into its other buffer, up to a
//! limit, then stops reading: the child blocks on a full terminal, as behind a slow pipe.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex};

use crate::reactor::{reactor, Command};

/// One chunk to write in full to `fd`, for the relay of pty `id`.
pub struct WriteJob {
  pub id: u32,
  pub fd: Arc<OwnedFd>,
  pub bytes: Vec<u8>,
}

static WRITER: Mutex<Option<Sender<WriteJob>>> = Mutex::new(None);

/// Starts the writer thread unless it runs; `false` when no thread can be had (EAGAIN from
/// `pthread_create`). Started with the reactor, so that the process's thread count is the
/// same constant whether or not a file is ever written.
pub fn start() -> bool {
  let mut writer = WRITER.lock().unwrap();
  if writer.is_none() {
    let (sender, receiver) = channel::<WriteJob>();
    let started = std::thread::Builder::new()
      .name("napi-pty-writer".into())
      // It only loops over write(2): a small stack is plenty.
      .stack_size(128 * 1024)
      .spawn(move || {
        for job in receiver {
          let errno = write_all(job.fd.as_raw_fd(), &job.bytes).err();
          reactor().send(Command::Written(job.id, errno, job.bytes));
        }
      });
    if started.is_ok() {
      *writer = Some(sender);
    }
  }
  writer.is_some()
}

/// Queues `job` for the writer thread. Gives the job back when there is no writer thread: the
/// caller then writes it itself.
pub fn submit(job: WriteJob) -> Result<(), WriteJob> {
  if !start() {
    return Err(job);
  }
  let writer = WRITER.lock().unwrap();
  // The thread never ends while a sender exists, so the send cannot fail.
  writer.as_ref().unwrap().send(job).map_err(|e| e.0)
}

/// Writes all of `data`; the errno of the write that failed otherwise (the bytes before it were
/// written, as a partial write to a file over `RLIMIT_FSIZE` leaves them).
pub fn write_all(fd: std::os::fd::RawFd, mut data: &[u8]) -> Result<(), i32> {
  while !data.is_empty() {
    // SAFETY: the kernel reads at most data.len() bytes from the live slice.
    let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
    if n < 0 {
      match nix::errno::Errno::last_raw() {
        libc::EINTR => continue,
        errno => return Err(errno),
      }
    }
    if n == 0 {
      // Not seen from a file given bytes; never loop on it.
      return Err(libc::EIO);
    }
    data = &data[n as usize..];
  }
  Ok(())
}
