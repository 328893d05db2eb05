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
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::error::SysResult;
use crate::fd::{self, WriteMode};

/// One read or write of a file, for the relay of pty `id`.
pub(crate) struct FileJob {
  pub(crate) id: u32,
  pub(crate) fd: Arc<OwnedFd>,
  /// What to write, or the buffer to read into (its spare capacity).
  pub(crate) bytes: Vec<u8>,
  pub(crate) op: FileOp,
}

/// What a [`FileJob`] does.
pub(crate) enum FileOp {
  /// Write all of `bytes`.
  Write,
  /// Read once.
  Read,
}

/// How a job went; the reactor hands it, with the job's buffer, back to the relay.
pub(crate) enum FileDone {
  /// Written in full, or failed.
  Written(SysResult<()>),
  /// Read this many bytes into the buffer (`Ok(0)`: end-of-file), or failed.
  Read(SysResult<usize>),
}

/// Where a job's outcome goes: called with the pty's id, how it went and the job's buffer back,
/// on the thread that did the job. The reactor gives it at [`start`]; this module names none of
/// its types.
pub(crate) type Report = fn(u32, FileDone, Vec<u8>);

impl FileJob {
  /// Does the read or write, then reports it.
  fn perform(self, report: impl FnOnce(u32, FileDone, Vec<u8>)) {
    let FileJob {
      id,
      fd,
      mut bytes,
      op,
    } = self;
    let done = match op {
      FileOp::Write => FileDone::Written(write_all(fd.as_raw_fd(), &bytes)),
      FileOp::Read => FileDone::Read(fd::read_retrying(fd.as_raw_fd(), &mut bytes)),
    };
    report(id, done, bytes);
  }
}

/// Writes all of `data` (a file takes it all unless a write fails: then the bytes before it
/// stay written, as a partial write to a file over `RLIMIT_FSIZE` leaves them).
fn write_all(fd: std::os::fd::RawFd, data: &[u8]) -> SysResult<()> {
  let went = fd::write(fd, data, WriteMode::Write)?;
  if went < data.len() {
    // Only a non-blocking fd stops short, which a regular file never is.
    return Err(crate::error::SysError::new(libc::EAGAIN, "write"));
  }
  Ok(())
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
  /// Where outcomes go; set by [`start`], before any job can exist.
  report: Option<Report>,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
  queue: VecDeque::new(),
  threads: 0,
  busy: 0,
  report: None,
});
static WORK: Condvar = Condvar::new();

/// Starts the first file thread unless it runs, with `report` as where outcomes go. Started with
/// the reactor, so that the process's thread count is the same constant whether or not a file
/// is ever used.
pub(crate) fn start(report: Report) {
  let mut pool = POOL.lock().unwrap();
  pool.report.get_or_insert(report);
  if pool.threads == 0 {
    add_thread(&mut pool);
  }
}

/// Hands `job` to a file thread, adding one when every thread is busy (up to
/// [`MAX_FILE_THREADS`]). When no thread can be had at all (EAGAIN from `pthread_create`), runs
/// it here instead, as for any always-ready endpoint; either way its outcome reaches the relay
/// through the [`Report`] given to [`start`].
pub(crate) fn submit(job: FileJob) {
  let mut pool = POOL.lock().unwrap();
  if pool.busy + pool.queue.len() >= pool.threads && pool.threads < MAX_FILE_THREADS {
    add_thread(&mut pool);
  }
  let report = pool.report.expect("file_io::start comes before any job");
  if pool.threads == 0 {
    drop(pool);
    job.perform(report);
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
      let report = pool.report.expect("file_io::start comes before any job");
      drop(pool);
      // Free again before the relay hears of it: the next job it sends at once finds this
      // thread rather than starting another.
      job.perform(|id, done, bytes| {
        POOL.lock().unwrap().busy -= 1;
        report(id, done, bytes);
      });
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
