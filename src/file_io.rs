//! Reading and writing `spawn`'s regular files, off the reactor thread.
//!
//! A regular file never reports "would block": a read or write returns when the data is in (or
//! comes from) the page cache, or when the filesystem lets it, which on a network filesystem, a
//! stalled disk or under dirty-page throttling can take seconds. Done on the reactor, that call
//! would stall the I/O and exits of every other pty in the process. So each read or write of a
//! file goes to one file thread (shared by all relays), which hands the buffer back through the
//! reactor when done. Meanwhile the relay gathers output into its other buffer, up to a limit,
//! then stops reading: the child blocks on a full terminal, as behind a slow pipe; input simply
//! waits for its read.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex};

use crate::reactor::{reactor, Command};

/// One read or write of a file, for the relay of pty `id`.
pub struct FileJob {
  pub id: u32,
  pub fd: Arc<OwnedFd>,
  /// What to write, or the buffer to read into (its spare capacity).
  pub bytes: Vec<u8>,
  pub op: FileOp,
}

pub enum FileOp {
  /// Write all of `bytes`.
  Write,
  /// Read once.
  Read,
}

/// How a job went; the reactor hands it, with the job's buffer, back to the relay.
pub enum FileDone {
  /// Written in full, or failed with the errno.
  Written(Option<i32>),
  /// Read this many bytes into the buffer (`Ok(0)`: end-of-file), or failed with the errno.
  Read(Result<usize, i32>),
}

impl FileJob {
  fn run(self) {
    let FileJob {
      id,
      fd,
      mut bytes,
      op,
    } = self;
    let done = match op {
      FileOp::Write => FileDone::Written(write_all(fd.as_raw_fd(), &bytes).err()),
      FileOp::Read => FileDone::Read(read_once(fd.as_raw_fd(), &mut bytes)),
    };
    reactor().send(Command::FileDone(id, done, bytes));
  }
}

static FILE_THREAD: Mutex<Option<Sender<FileJob>>> = Mutex::new(None);

/// Starts the file thread unless it runs. Started with the reactor, so that the process's
/// thread count is the same constant whether or not a file is ever used.
pub fn start() -> bool {
  let mut thread = FILE_THREAD.lock().unwrap();
  if thread.is_none() {
    let (sender, receiver) = channel::<FileJob>();
    let started = std::thread::Builder::new()
      .name("napi-pty-file".into())
      // It only loops over read(2) and write(2): a small stack is plenty.
      .stack_size(128 * 1024)
      .spawn(move || receiver.into_iter().for_each(FileJob::run));
    if started.is_ok() {
      *thread = Some(sender);
    }
  }
  thread.is_some()
}

/// Hands `job` to the file thread. When no thread can be had (EAGAIN from `pthread_create`),
/// runs it here instead, as for any always-ready endpoint; either way its outcome reaches the
/// relay as a [`Command::FileDone`].
pub fn submit(job: FileJob) {
  let job = if start() {
    let thread = FILE_THREAD.lock().unwrap();
    // The thread never ends while a sender exists, so the send fails only in theory.
    match thread.as_ref().unwrap().send(job) {
      Ok(()) => return,
      Err(refused) => refused.0,
    }
  } else {
    job
  };
  job.run();
}

/// Writes all of `data`; the errno of the write that failed otherwise (the bytes before it were
/// written, as a partial write to a file over `RLIMIT_FSIZE` leaves them).
fn write_all(fd: RawFd, mut data: &[u8]) -> Result<(), i32> {
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

/// One `read(2)` into `buf`'s spare capacity, retried on EINTR; `Ok(0)` is end-of-file.
fn read_once(fd: RawFd, buf: &mut Vec<u8>) -> Result<usize, i32> {
  loop {
    match crate::relay::read_fd(fd, buf) {
      Err(libc::EINTR) => continue,
      result => return result,
    }
  }
}
