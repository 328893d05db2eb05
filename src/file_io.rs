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

/// What the file thread does for the relay of pty `id`.
pub enum FileJob {
  /// Write all of `bytes` to `fd`.
  Write {
    id: u32,
    fd: Arc<OwnedFd>,
    bytes: Vec<u8>,
  },
  /// Read once from `fd` into the spare capacity of `bytes`.
  Read {
    id: u32,
    fd: Arc<OwnedFd>,
    bytes: Vec<u8>,
  },
}

impl FileJob {
  /// Runs on the file thread; the reactor hears how it went and gets the buffer back.
  fn run(self) {
    let done = match self {
      FileJob::Write { id, fd, bytes } => {
        let errno = write_all(fd.as_raw_fd(), &bytes).err();
        Command::Written(id, errno, bytes)
      }
      FileJob::Read { id, fd, mut bytes } => {
        let result = read_once(fd.as_raw_fd(), &mut bytes);
        Command::FileRead(id, result, bytes)
      }
    };
    reactor().send(done);
  }
}

static FILE_THREAD: Mutex<Option<Sender<FileJob>>> = Mutex::new(None);

/// Starts the file thread unless it runs; `false` when no thread can be had (EAGAIN from
/// `pthread_create`). Started with the reactor, so that the process's thread count is the
/// same constant whether or not a file is ever used.
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

/// Queues `job` for the file thread. Gives the job back when there is no file thread: the
/// caller then does it itself.
pub fn submit(job: FileJob) -> Result<(), FileJob> {
  if !start() {
    return Err(job);
  }
  let thread = FILE_THREAD.lock().unwrap();
  // The thread never ends while a sender exists, so the send cannot fail.
  thread.as_ref().unwrap().send(job).map_err(|e| e.0)
}

/// Writes all of `data`; the errno of the write that failed otherwise (the bytes before it were
/// written, as a partial write to a file over `RLIMIT_FSIZE` leaves them).
pub fn write_all(fd: RawFd, mut data: &[u8]) -> Result<(), i32> {
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
pub fn read_once(fd: RawFd, buf: &mut Vec<u8>) -> Result<usize, i32> {
  loop {
    match crate::relay::read_fd(fd, buf) {
      Err(libc::EINTR) => continue,
      result => return result,
    }
  }
}
