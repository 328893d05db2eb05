//! The JavaScript thread's side of the reactor: [`PtyShared`], the state of one pty that both
//! threads touch (the master, the credit for output, input waiting to be written), and the
//! [`Command`]s that wake the reactor.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use mio::unix::SourceFd;
use mio::{Registry, Waker};

use crate::error::{SysError, SysResult};
use crate::fd::{self, WriteMode};
use crate::file_io::FileDone;
use crate::master;
use crate::pty::{eof_sequence, set_nonblocking, set_window_size, WindowSize};
use crate::relay::Relay;
use crate::sink::{Credit, Sink};
use crate::sys;

/// Chunks read but not yet handed to JavaScript, per pty: room for a batch on its way and the
/// next one being gathered (see `DELIVERY_BATCH` in `output.rs`).
const MAX_INFLIGHT: u32 = 8;

/// State of one pty that both the JS thread and the reactor touch.
pub(crate) struct PtyShared {
  pub(crate) id: u32,
  pub(crate) pid: libc::pid_t,
  pub(crate) pts_name: String,
  pub(super) master: RwLock<Option<OwnedFd>>,
  /// The child's exit watch ([`sys::watch_exit`]) until the child is reaped: `kill` signals
  /// only under its read lock and while it is there; the reaper drops it under the write lock.
  pub(super) exit_watch: RwLock<Option<OwnedFd>>,
  /// The JS readable side wants data.
  reading: AtomicBool,
  /// Chunks read and not yet delivered to JS.
  inflight: AtomicU32,
  /// The reactor stopped reading for lack of credit and waits for a poke.
  stalled: AtomicBool,
  /// Input that a write could not hand to the kernel yet; the reactor flushes it.
  pub(super) pending_input: Mutex<Vec<u8>>,
  /// The master has been made non-blocking (once the stream side is first used).
  nonblocking: AtomicBool,
  /// The input written so far leaves a line open (see [`master::leaves_line_open`]).
  line_pending: AtomicBool,
  /// The reactor has reaped the child.
  pub(super) reaped: AtomicBool,
  /// Just before the reap, in process start-time ticks (0: not reaped). Until then the
  /// child's session id could not have been reused; the session layer needs to know when.
  pub(crate) reaped_at: std::sync::atomic::AtomicU64,
  /// `spawn`'s copy loop has the I/O (and fds of its own the reactor must let go of).
  pub(crate) relaying: AtomicBool,
}

impl PtyShared {
  fn with_master<T>(&self, f: impl FnOnce(RawFd) -> SysResult<T>) -> SysResult<T> {
    match self.master.read().unwrap().as_ref() {
      Some(fd) => f(fd.as_raw_fd()),
      None => Err(SysError::new(libc::EBADF, "ioctl")),
    }
  }

  /// The master fd, unless it has been closed.
  pub(crate) fn master_fd(&self) -> Option<RawFd> {
    self
      .master
      .read()
      .unwrap()
      .as_ref()
      .map(|fd| fd.as_raw_fd())
  }

  /// The JS side wants output. The first call also makes the master non-blocking: until then
  /// a user may read the fd directly, as in Python.
  pub(crate) fn resume(&self) -> SysResult<()> {
    self.ensure_nonblocking()?;
    self.reading.store(true, SeqCst);
    self.unstall();
    Ok(())
  }

  /// Makes the master non-blocking, once: the reactor must never block on it.
  pub(crate) fn ensure_nonblocking(&self) -> SysResult<()> {
    if !self.nonblocking.load(SeqCst) {
      self.with_master(set_nonblocking)?;
      self.nonblocking.store(true, SeqCst);
    }
    Ok(())
  }

  /// The JS side wants no output for now.
  pub(crate) fn pause(&self) {
    self.reading.store(false, SeqCst);
  }

  fn unstall(&self) {
    if self.stalled.swap(false, SeqCst) {
      reactor().send(Command::Poke(self.id));
    }
  }

  /// Called by the reactor before each read: whether JavaScript wants output and has credit
  /// for another chunk. When not, the pty is marked stalled, so that the credit's return
  /// pokes the reactor.
  pub(super) fn may_read(&self) -> bool {
    let can = || self.reading.load(SeqCst) && self.inflight.load(SeqCst) < MAX_INFLIGHT;
    if can() {
      return true;
    }
    self.stalled.store(true, SeqCst);
    // Credit may have come back between the check and the flag: look once more.
    can() && self.stalled.swap(false, SeqCst)
  }

  /// Called by the reactor as it sends a chunk: takes one credit.
  pub(super) fn take_credit(&self) {
    self.inflight.fetch_add(1, SeqCst);
  }

  /// Writes as much as the kernel takes now. `Ok(true)` when all of it went; `Ok(false)` when
  /// the rest waits in the reactor, which sends `Drained` once it is gone.
  pub(crate) fn write(&self, data: &[u8]) -> SysResult<bool> {
    if let Some(open) = master::leaves_line_open(data) {
      self.line_pending.store(open, SeqCst);
    }
    let guard = self.master.read().unwrap();
    let Some(master) = guard.as_ref() else {
      return Err(SysError::new(libc::EBADF, "write"));
    };
    self.ensure_nonblocking()?;
    let mut pending = self.pending_input.lock().unwrap();
    if !pending.is_empty() {
      pending.extend_from_slice(data);
      return Ok(false);
    }
    let written = fd::write(master.as_raw_fd(), data, WriteMode::Write)?;
    if written == data.len() {
      return Ok(true);
    }
    pending.extend_from_slice(&data[written..]);
    drop(pending);
    drop(guard);
    reactor().send(Command::Poke(self.id));
    Ok(false)
  }

  /// Queues the terminal's end-of-file for the child (see [`eof_sequence`]).
  pub(crate) fn send_eof(&self) -> SysResult<bool> {
    let seq = self.with_master(|fd| eof_sequence(fd, self.line_pending.load(SeqCst)))?;
    if seq.is_empty() {
      return Ok(true);
    }
    self.line_pending.store(false, SeqCst);
    self.write(&seq)
  }

  /// Sets the terminal's window size.
  pub(crate) fn resize(&self, size: WindowSize) -> SysResult<()> {
    self.with_master(|fd| set_window_size(fd, size))
  }

  /// `Ok(false)` when the child has already been reaped.
  pub(crate) fn kill(&self, signal: i32) -> SysResult<bool> {
    match self.exit_watch.read().unwrap().as_ref() {
      Some(fd) => match sys::signal_child(fd.as_raw_fd(), self.pid, signal) {
        Ok(()) => Ok(true),
        Err(e) if e.errno == libc::ESRCH => Ok(false),
        Err(e) => Err(e),
      },
      None => Ok(false),
    }
  }

  /// Hangs up: closes the master now. The child is still watched and reaped.
  pub(crate) fn close(&self) {
    if let Some(fd) = self.master.write().unwrap().take() {
      let reactor = reactor();
      // Not registered yet, or already removed: either way nothing is left to remove.
      reactor.forget(fd.as_raw_fd());
      drop(fd);
      // Once the child is reaped, closing only lets the reactor forget the entry: that can
      // wait for its next wake-up rather than cost one now (once per child at every exit).
      // Not so for a relay, whose own fds go with the entry.
      // Nor when the ring reads the master: its read holds the terminal open until the
      // reactor cancels it.
      if self.reaped.load(SeqCst) && !self.relaying.load(SeqCst) && !super::uring::active() {
        reactor.queue(Command::Closed(self.id));
      } else {
        reactor.send(Command::Closed(self.id));
      }
    }
  }
}

impl Credit for PtyShared {
  /// Returns one credit; called on the JS thread as each chunk is handed over.
  fn delivered(&self) {
    self.inflight.fetch_sub(1, SeqCst);
    if self.reading.load(SeqCst) {
      self.unstall();
    }
  }
}

/// What the JavaScript side (or a file thread) asks of the reactor.
pub(crate) enum Command {
  /// A new child to watch, with the Env it reports to and its exec-report pipe (unless the
  /// outcome is known already).
  Add(Arc<PtyShared>, Arc<Sink>, Option<OwnedFd>),
  /// Re-examine a pty: credit came back, or input is waiting.
  Poke(u32),
  /// The JS side closed the master.
  Closed(u32),
  /// The Env behind this sink is going away.
  DropSink(u32),
  /// `spawn` takes over the pty's I/O.
  StartRelay(u32, Box<Relay>),
  /// A `spawn` hook answered for a lane: bytes to pass on, or end-of-file.
  RelayAnswer(u32, u32, Option<Vec<u8>>),
  /// A read or write of a relay's file is done (`file_io.rs`); the job's buffer comes back.
  FileDone(u32, FileDone, Vec<u8>),
}

/// How anyone reaches the reactor's thread.
pub(crate) struct Reactor {
  pub(super) registry: Registry,
  pub(super) waker: Waker,
  pub(super) commands: Mutex<Vec<Command>>,
}

impl Reactor {
  /// Queues a command and wakes the reactor for it.
  pub(crate) fn send(&self, command: Command) {
    self.queue(command);
    // A failed wake would mean the eventfd is gone, which only happens at process exit.
    let _ = self.waker.wake();
  }

  /// Queues a command for the reactor's next wake-up, without waking it.
  fn queue(&self, command: Command) {
    self.commands.lock().unwrap().push(command);
  }

  /// Removes an fd from the poll set before it is closed (a duplicate would otherwise keep
  /// reporting under a stale token). Nothing happens if it is not there.
  pub(super) fn forget(&self, fd: RawFd) {
    let _ = self.registry.deregister(&mut SourceFd(&fd));
  }
}

pub(super) static REACTOR: OnceLock<Reactor> = OnceLock::new();

/// The running reactor. Everything that reaches a pty went through `start` first.
pub(crate) fn reactor() -> &'static Reactor {
  REACTOR
    .get()
    .expect("napi-pty: the reactor is started before any pty exists")
}

/// A freshly forked child, to be handed to the reactor.
pub(crate) struct NewChild {
  pub(crate) pid: libc::pid_t,
  pub(crate) master: OwnedFd,
  /// The exec-report pipe, unless the outcome is known already.
  pub(crate) report: Option<OwnedFd>,
  pub(crate) pts_name: String,
}

static NEXT_ID: AtomicU32 = AtomicU32::new(1);

/// Registers a new child with the reactor and returns the state the JS object keeps.
pub(crate) fn adopt(child: NewChild, sink: Arc<Sink>) -> SysResult<Arc<PtyShared>> {
  let exit_watch = match sys::watch_exit(child.pid) {
    Ok(fd) => fd,
    Err(e) => {
      // Without an exit watch the child cannot be watched: end it and reap it here.
      // SAFETY: the pid is our own unreaped child, so it cannot have been recycled.
      unsafe { libc::kill(child.pid, libc::SIGKILL) };
      // SAFETY: waits for that same child only, with no status wanted.
      unsafe { libc::waitpid(child.pid, std::ptr::null_mut(), 0) };
      return Err(e);
    }
  };
  let shared = Arc::new(PtyShared {
    id: NEXT_ID.fetch_add(1, SeqCst),
    pid: child.pid,
    pts_name: child.pts_name,
    master: RwLock::new(Some(child.master)),
    exit_watch: RwLock::new(Some(exit_watch)),
    reading: AtomicBool::new(false),
    inflight: AtomicU32::new(0),
    stalled: AtomicBool::new(false),
    pending_input: Mutex::new(Vec::new()),
    nonblocking: AtomicBool::new(false),
    line_pending: AtomicBool::new(false),
    reaped: AtomicBool::new(false),
    reaped_at: std::sync::atomic::AtomicU64::new(0),
    relaying: AtomicBool::new(false),
  });
  reactor().send(Command::Add(shared.clone(), sink, child.report));
  Ok(shared)
}

/// The reactor's half of an Env going away.
pub(crate) fn drop_sink(sink_id: u32) {
  // An Env that never forked has nothing in the reactor (which may not even be running).
  if let Some(reactor) = REACTOR.get() {
    reactor.send(Command::DropSink(sink_id));
  }
}
