//! Reading and writing `spawn`'s regular files, off the reactor thread.
//!
//! A regular file never reports "would block": a read or write returns when the data is in (or
//! comes from) the page cache, or when the filesystem lets it, which on a network filesystem, a
//! stalled disk or under dirty-page throttling can take seconds. Done on the reactor, that call
//! would stall the I/O and exits of every other pty in the process. So each read or write of a
//! file goes to a file thread, which hands the buffer back through the reactor when done. One
//! thread serves every relay while the files are quick; when every thread is busy (one may be
//! stuck on a dead mount) another is added, up to a few, and the extra ones end once idle.
//! Meanwhile the relay gathers output into its other buffer, up to a limit, then stops reading:
//! the child blocks on a full terminal, as behind a slow pipe; input simply waits for its read.

use std::collections::VecDeque;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

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
  /// Does the read or write; returns what the relay is to hear of it.
  fn perform(self) -> Command {
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
    Command::FileDone(id, done, bytes)
  }
}

/// File threads at most. A file on a dead mount holds one thread for as long as its call hangs;
/// the others go on serving every other relay's files.
const MAX_FILE_THREADS: usize = 8;

/// How long a file thread beyond the first waits for work before it ends, so that a burst of
/// file I/O leaves the process with its usual threads again.
const SPARE_IDLE: Duration = Duration::from_secs(1);

/// Jobs not yet taken, and the threads that take them.
struct Pool {
  queue: VecDeque<FileJob>,
  threads: usize,
  /// Threads inside a read or write.
  busy: usize,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
  queue: VecDeque::new(),
  threads: 0,
  busy: 0,
});
static WORK: Condvar = Condvar::new();

/// Starts the first file thread unless it runs. Started with the reactor, so that the process's
/// thread count is the same constant whether or not a file is ever used.
pub fn start() {
  let mut pool = POOL.lock().unwrap();
  if pool.threads == 0 {
    add_thread(&mut pool);
  }
}

/// Hands `job` to a file thread, adding one when every thread is busy (up to
/// [`MAX_FILE_THREADS`]). When no thread can be had at all (EAGAIN from `pthread_create`), runs
/// it here instead, as for any always-ready endpoint; either way its outcome reaches the relay
/// as a [`Command::FileDone`].
pub fn submit(job: FileJob) {
  let mut pool = POOL.lock().unwrap();
  if pool.busy + pool.queue.len() >= pool.threads && pool.threads < MAX_FILE_THREADS {
    add_thread(&mut pool);
  }
  if pool.threads == 0 {
    drop(pool);
    reactor().send(job.perform());
    return;
  }
  pool.queue.push_back(job);
  drop(pool);
  WORK.notify_one();
}

fn add_thread(pool: &mut Pool) {
  let first = pool.threads == 0;
  let started = std::thread::Builder::new()
    .name("napi-pty-file".into())
    // It only loops over read(2) and write(2): a small stack is plenty.
    .stack_size(128 * 1024)
    .spawn(move || serve(first));
  if started.is_ok() {
    pool.threads += 1;
  }
}

/// A file thread's life: take jobs until, if it is not the first, none came for a while.
fn serve(first: bool) {
  let mut pool = POOL.lock().unwrap();
  loop {
    if let Some(job) = pool.queue.pop_front() {
      pool.busy += 1;
      drop(pool);
      let outcome = job.perform();
      // Free again before the relay hears of it: the next job it sends at once finds this
      // thread rather than starting another.
      POOL.lock().unwrap().busy -= 1;
      reactor().send(outcome);
      pool = POOL.lock().unwrap();
      continue;
    }
    let timed_out = if first {
      pool = WORK.wait(pool).unwrap();
      false
    } else {
      let (guard, wait) = WORK.wait_timeout(pool, SPARE_IDLE).unwrap();
      pool = guard;
      wait.timed_out()
    };
    if timed_out && pool.queue.is_empty() {
      pool.threads -= 1;
      return;
    }
  }
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
