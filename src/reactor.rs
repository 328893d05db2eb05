//! The process-wide reactor: one thread, one `mio::Poll`, owning the I/O of every pty.
//!
//! For each child it watches three fds: the master (output to read, input to flush), the
//! child's pidfd (exit) and, until the exec has happened, the report pipe (exec result). It
//! reaps exactly its own children with `waitpid(pid)`, so libuv's SIGCHLD handling for
//! `child_process` is never disturbed and no SIGCHLD handler is installed.
//!
//! JavaScript talks to it through [`PtyShared`] (atomics and locks it may touch from the JS
//! thread) and [`Command`]s carried by a `mio::Waker`. Events go back through each Env's
//! [`Sink`]. Reading obeys a credit: at most [`MAX_INFLIGHT`] chunks are on their way to JS,
//! and none while the JS side has paused, so memory stays bounded whatever the child prints.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token, Waker};

use crate::error::{SysError, SysResult};
use crate::pty::{eof_sequence, read_available, set_nonblocking, set_window_size, WindowSize};
use crate::relay::{Out, Relay, LANE_OUTPUT};
use crate::sink::{Event, Sink};
use crate::sys::{self, collect_stranded, read_report, Report, Step};

/// Bytes asked of the master per read.
pub const READ_CHUNK: usize = 64 * 1024;
/// The most output gathered into one `data` event. A pty master gives at most a few KiB per
/// read; gathering what is there cuts the events, whose cost is mostly Node's (a callback
/// scope, the stream's bookkeeping), by an order of magnitude. Reading 256 MiB, the JS thread
/// spent 220-270 ms in 32 KiB chunks and 140-180 ms in 124-128 KiB ones; what memory this costs
/// is kept down by reporting each chunk to V8 (see `chunk.rs`). Just under glibc's default
/// mmap threshold (128 KiB), so that each chunk's buffer comes from the heap: at 128 KiB every
/// short output cost an mmap and an mremap.
pub const DELIVERY_CHUNK: usize = 124 * 1024;
/// Chunks read but not yet handed to JavaScript, per pty.
pub const MAX_INFLIGHT: u32 = 4;
/// While output streams (the master had more within this long of the last read), a part-filled
/// chunk waits up to this long for more before it goes to JavaScript. A flood read as it comes
/// then reaches JavaScript in full chunks: per 256 MiB about 2,100 events instead of 4,000 to
/// 26,000, and the JS thread's CPU 204 ms instead of 382 (medians of 8 alternating runs).
pub const STREAM_HOLD: Duration = Duration::from_millis(2);
/// After the child has exited while some other process (a grandchild) still holds the terminal,
/// how long the master may stay silent before the output is declared complete...
pub const EXIT_GRACE: Duration = Duration::from_millis(100);
/// ...and how long after the exit it ends at the latest, however much the grandchild prints.
/// Neither applies when the kernel reports the terminal hung up (no slave fd left open): then
/// the output is read to its very end, EIO.
pub const EXIT_GRACE_MAX: Duration = Duration::from_secs(1);
/// When an Env goes away, how long its children get after SIGHUP before SIGKILL.
const ORPHAN_GRACE: Duration = Duration::from_secs(2);

const WAKER: Token = Token(usize::MAX);
const KIND_MASTER: usize = 0;
const KIND_PIDFD: usize = 1;
const KIND_REPORT: usize = 2;
const KIND_STDIN: usize = 3;
const KIND_STDOUT: usize = 4;
const KIND_BITS: usize = 3;

fn token(id: u32, kind: usize) -> Token {
  Token(((id as usize) << KIND_BITS) | kind)
}

/// State of one pty that both the JS thread and the reactor touch.
pub struct PtyShared {
  pub id: u32,
  pub pid: libc::pid_t,
  pub pts_name: String,
  master: RwLock<Option<OwnedFd>>,
  pidfd: RwLock<Option<OwnedFd>>,
  /// The JS readable side wants data.
  reading: AtomicBool,
  /// Chunks read and not yet delivered to JS.
  inflight: AtomicU32,
  /// The reactor stopped reading for lack of credit and waits for a poke.
  stalled: AtomicBool,
  /// Input that a write could not hand to the kernel yet; the reactor flushes it.
  pending_input: Mutex<Vec<u8>>,
  /// The master has been made non-blocking (once the stream side is first used).
  nonblocking: AtomicBool,
  /// The last byte of input was not a newline (an EOF then needs two EOF characters).
  line_pending: AtomicBool,
  /// The reactor has reaped the child.
  reaped: AtomicBool,
  /// `spawn`'s copy loop has the I/O (and fds of its own the reactor must let go of).
  pub relaying: AtomicBool,
}

impl PtyShared {
  fn with_master<T>(&self, f: impl FnOnce(RawFd) -> SysResult<T>) -> SysResult<T> {
    match self.master.read().unwrap().as_ref() {
      Some(fd) => f(fd.as_raw_fd()),
      None => Err(SysError::new(libc::EBADF, "ioctl")),
    }
  }

  pub fn master_fd(&self) -> Option<RawFd> {
    self
      .master
      .read()
      .unwrap()
      .as_ref()
      .map(|fd| fd.as_raw_fd())
  }

  /// The JS side wants output. The first call also makes the master non-blocking: until then
  /// a user may read the fd directly, as in Python.
  pub fn resume(&self) -> SysResult<()> {
    self.ensure_nonblocking()?;
    self.reading.store(true, SeqCst);
    self.unstall();
    Ok(())
  }

  pub fn ensure_nonblocking(&self) -> SysResult<()> {
    if !self.nonblocking.load(SeqCst) {
      self.with_master(set_nonblocking)?;
      self.nonblocking.store(true, SeqCst);
    }
    Ok(())
  }

  pub fn pause(&self) {
    self.reading.store(false, SeqCst);
  }

  /// Called on the JS thread as each chunk is handed over: returns one credit.
  pub fn delivered(&self) {
    self.inflight.fetch_sub(1, SeqCst);
    if self.reading.load(SeqCst) {
      self.unstall();
    }
  }

  fn unstall(&self) {
    if self.stalled.swap(false, SeqCst) {
      reactor().send(Command::Poke(self.id));
    }
  }

  /// Writes as much as the kernel takes now. `Ok(true)` when all of it went; `Ok(false)` when
  /// the rest waits in the reactor, which sends `Drained` once it is gone.
  pub fn write(&self, data: &[u8]) -> SysResult<bool> {
    if let Some(last) = data.last() {
      self.line_pending.store(*last != b'\n', SeqCst);
    }
    let guard = self.master.read().unwrap();
    let Some(fd) = guard.as_ref() else {
      return Err(SysError::new(libc::EBADF, "write"));
    };
    self.ensure_nonblocking()?;
    let mut pending = self.pending_input.lock().unwrap();
    if !pending.is_empty() {
      pending.extend_from_slice(data);
      return Ok(false);
    }
    let written = write_some(fd.as_raw_fd(), data)?;
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
  pub fn send_eof(&self) -> SysResult<bool> {
    let seq = self.with_master(|fd| eof_sequence(fd, self.line_pending.load(SeqCst)))?;
    if seq.is_empty() {
      return Ok(true);
    }
    self.line_pending.store(false, SeqCst);
    self.write(&seq)
  }

  pub fn resize(&self, size: WindowSize) -> SysResult<()> {
    self.with_master(|fd| set_window_size(fd, size))
  }

  /// `Ok(false)` when the child has already been reaped.
  pub fn kill(&self, signal: i32) -> SysResult<bool> {
    match self.pidfd.read().unwrap().as_ref() {
      Some(fd) => match sys::signal_child(fd.as_raw_fd(), self.pid, signal) {
        Ok(()) => Ok(true),
        Err(e) if e.errno == libc::ESRCH => Ok(false),
        Err(e) => Err(e),
      },
      None => Ok(false),
    }
  }

  /// Hangs up: closes the master now. The child is still watched and reaped.
  pub fn close(&self) {
    if let Some(fd) = self.master.write().unwrap().take() {
      let reactor = reactor();
      // Not registered yet, or already removed: either way nothing is left to remove.
      let _ = reactor.registry.deregister(&mut SourceFd(&fd.as_raw_fd()));
      drop(fd);
      // Once the child is reaped, closing only lets the reactor forget the entry: that can
      // wait for its next wake-up rather than cost one now (once per child at every exit).
      // Not so for a relay, whose own fds go with the entry.
      if self.reaped.load(SeqCst) && !self.relaying.load(SeqCst) {
        reactor.queue(Command::Closed(self.id));
      } else {
        reactor.send(Command::Closed(self.id));
      }
    }
  }
}

/// Writes until done or the kernel would block; returns how much went.
fn write_some(fd: RawFd, data: &[u8]) -> SysResult<usize> {
  let mut off = 0;
  while off < data.len() {
    // SAFETY: writes from the initialised slice data[off..], which outlives the call.
    let n = unsafe { libc::write(fd, data[off..].as_ptr().cast(), data.len() - off) };
    if n >= 0 {
      off += n as usize;
      continue;
    }
    match nix::errno::Errno::last_raw() {
      libc::EINTR => continue,
      libc::EAGAIN => break,
      e => return Err(SysError::new(e, "write")),
    }
  }
  Ok(off)
}

pub enum Command {
  Add(Box<Entry>),
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
  FileDone(u32, crate::file_io::FileDone, Vec<u8>),
}

/// What the reactor alone knows of a pty.
pub struct Entry {
  shared: Arc<PtyShared>,
  sink: Arc<Sink>,
  report: Option<OwnedFd>,
  readable: bool,
  exited: bool,
  eof: bool,
  /// The end of the output and the exit, held until the entry has been serviced so that when
  /// both happen in one turn (the usual case) JavaScript hears of them in one call.
  unsent_eof: bool,
  unsent_exit: Option<i32>,
  orphaned: bool,
  /// The silence deadline after the exit (see [`EXIT_GRACE`]).
  grace: Option<Instant>,
  /// The hard deadline after the exit (see [`EXIT_GRACE_MAX`]).
  grace_max: Option<Instant>,
  /// The kernel reported that every slave fd is closed: the output will end with EIO.
  hung_up: bool,
  kill_at: Option<Instant>,
  relay: Option<Box<Relay>>,
  /// Deadlines of this entry already in the timer heap.
  scheduled: Vec<Instant>,
  /// Output bytes handed to JavaScript so far (see [`sys::strandable`]).
  delivered: u64,
  /// A part-filled chunk held back while output streams (see [`STREAM_HOLD`]).
  held: Vec<u8>,
  /// When `held` goes to JavaScript at the latest.
  held_until: Option<Instant>,
  /// When the master last gave bytes.
  last_read: Option<Instant>,
}

/// A freshly forked child, to be handed to the reactor.
pub struct NewChild {
  pub pid: libc::pid_t,
  pub master: OwnedFd,
  /// The exec-report pipe, unless the outcome is known already.
  pub report: Option<OwnedFd>,
  pub pts_name: String,
}

static NEXT_ID: AtomicU32 = AtomicU32::new(1);

/// Registers a new child with the reactor and returns the state the JS object keeps.
pub fn adopt(child: NewChild, sink: Arc<Sink>) -> SysResult<Arc<PtyShared>> {
  let pidfd = match sys::watch_exit(child.pid) {
    Ok(fd) => fd,
    Err(e) => {
      // Without a pidfd the child cannot be watched: end it and reap it here.
      // SAFETY: the pid is our own unreaped child, so it cannot have been recycled.
      unsafe {
        libc::kill(child.pid, libc::SIGKILL);
        libc::waitpid(child.pid, std::ptr::null_mut(), 0);
      }
      return Err(e);
    }
  };
  let shared = Arc::new(PtyShared {
    id: NEXT_ID.fetch_add(1, SeqCst),
    pid: child.pid,
    pts_name: child.pts_name,
    master: RwLock::new(Some(child.master)),
    pidfd: RwLock::new(Some(pidfd)),
    reading: AtomicBool::new(false),
    inflight: AtomicU32::new(0),
    stalled: AtomicBool::new(false),
    pending_input: Mutex::new(Vec::new()),
    nonblocking: AtomicBool::new(false),
    line_pending: AtomicBool::new(false),
    reaped: AtomicBool::new(false),
    relaying: AtomicBool::new(false),
  });
  reactor().send(Command::Add(Box::new(Entry {
    shared: shared.clone(),
    sink,
    report: child.report,
    readable: true,
    exited: false,
    eof: false,
    unsent_eof: false,
    unsent_exit: None,
    orphaned: false,
    grace: None,
    grace_max: None,
    hung_up: false,
    kill_at: None,
    relay: None,
    scheduled: Vec::new(),
    delivered: 0,
    held: Vec::new(),
    held_until: None,
    last_read: None,
  })));
  Ok(shared)
}

pub struct Reactor {
  registry: Registry,
  waker: Waker,
  commands: Mutex<Vec<Command>>,
}

impl Reactor {
  pub fn send(&self, command: Command) {
    self.queue(command);
    // A failed wake would mean the eventfd is gone, which only happens at process exit.
    let _ = self.waker.wake();
  }

  /// Queues a command for the reactor's next wake-up, without waking it.
  fn queue(&self, command: Command) {
    self.commands.lock().unwrap().push(command);
  }
}

static REACTOR: OnceLock<Reactor> = OnceLock::new();

fn io_error(syscall: &'static str) -> impl Fn(std::io::Error) -> SysError {
  move |e| SysError::new(e.raw_os_error().unwrap_or(libc::EIO), syscall)
}

/// Starts the reactor if it is not running yet. Fallible (EMFILE, EAGAIN…): called before a
/// child is forked, so that a failure here leaves nothing behind.
pub fn start() -> SysResult<&'static Reactor> {
  static STARTING: Mutex<()> = Mutex::new(());
  if let Some(reactor) = REACTOR.get() {
    return Ok(reactor);
  }
  let _one_at_a_time = STARTING.lock().unwrap();
  if let Some(reactor) = REACTOR.get() {
    return Ok(reactor);
  }
  let poll = Poll::new().map_err(io_error("epoll_create1"))?;
  let registry = poll.registry().try_clone().map_err(io_error("dup"))?;
  let waker = Waker::new(poll.registry(), WAKER).map_err(io_error("eventfd"))?;
  std::thread::Builder::new()
    .name("napi-pty-reactor".into())
    .spawn(move || Loop::new(poll).run())
    .map_err(io_error("pthread_create"))?;
  let reactor = Reactor {
    registry,
    waker,
    commands: Mutex::new(Vec::new()),
  };
  let reactor = REACTOR.get_or_init(|| reactor);
  // Best effort: without its thread, `spawn` uses its files from the reactor (`file_io.rs`).
  crate::file_io::start();
  Ok(reactor)
}

/// The running reactor. Everything that reaches a pty went through [`start`] first.
pub fn reactor() -> &'static Reactor {
  REACTOR
    .get()
    .expect("napi-pty: the reactor is started before any pty exists")
}

struct Loop {
  poll: Poll,
  entries: HashMap<u32, Entry>,
  timers: BinaryHeap<Reverse<(Instant, u32)>>,
  /// The buffer the next output chunk is read into; handed to JavaScript as it is.
  spare: Vec<u8>,
}

impl Loop {
  fn new(poll: Poll) -> Self {
    Loop {
      poll,
      entries: HashMap::new(),
      timers: BinaryHeap::new(),
      spare: Vec::new(),
    }
  }

  fn run(mut self) {
    let mut events = Events::with_capacity(256);
    let mut touched: Vec<u32> = Vec::new();
    loop {
      let timeout = self
        .timers
        .peek()
        .map(|Reverse((at, _))| at.saturating_duration_since(Instant::now()));
      if let Err(e) = self.poll.poll(&mut events, timeout) {
        if e.kind() == std::io::ErrorKind::Interrupted {
          continue;
        }
        // Only closing the reactor's epoll fd behind its back gets here. Without its poll set
        // the reactor can neither read nor reap, and every child and Promise would hang with
        // no word: stop loudly instead, as libuv does when its own epoll_wait fails.
        eprintln!("napi-pty: epoll_wait failed: {e}");
        std::process::abort();
      }
      for event in events.iter() {
        if event.token() == WAKER {
          continue;
        }
        let id = (event.token().0 >> KIND_BITS) as u32;
        let Some(entry) = self.entries.get_mut(&id) else {
          continue;
        };
        match event.token().0 & ((1 << KIND_BITS) - 1) {
          KIND_MASTER => {
            entry.readable = true;
            if event.is_read_closed() || event.is_error() {
              entry.hung_up = true;
            }
          }
          KIND_PIDFD => entry.reap(),
          KIND_REPORT => entry.check_report(),
          KIND_STDIN => {
            if let Some(stdin) = entry.relay.as_mut().and_then(|r| r.stdin.as_mut()) {
              stdin.ready = true;
            }
          }
          KIND_STDOUT => {
            if let Some(stdout) = entry.relay.as_mut().and_then(|r| r.stdout.as_mut()) {
              stdout.ready = true;
            }
          }
          _ => {}
        }
        touched.push(id);
      }
      let commands = std::mem::take(&mut *reactor().commands.lock().unwrap());
      for command in commands {
        match command {
          Command::Add(entry) => touched.push(self.add(*entry)),
          Command::Poke(id) | Command::Closed(id) => touched.push(id),
          Command::StartRelay(id, relay) => {
            if let Some(entry) = self.entries.get_mut(&id) {
              entry.relay = Some(relay);
              entry.register_relay(self.poll.registry());
              touched.push(id);
            }
          }
          Command::RelayAnswer(id, lane, data) => {
            if let Some(entry) = self.entries.get_mut(&id) {
              entry.relay_answer(lane, data);
              touched.push(id);
            }
          }
          Command::FileDone(id, done, bytes) => {
            if let Some(relay) = self.entries.get_mut(&id).and_then(|e| e.relay.as_mut()) {
              relay.file_done(done, bytes);
              touched.push(id);
            }
          }
          Command::DropSink(sink) => {
            for entry in self.entries.values_mut().filter(|e| e.sink.id == sink) {
              entry.orphan();
              touched.push(entry.shared.id);
            }
          }
        }
      }
      self.fire_timers(&mut touched);
      touched.sort_unstable();
      touched.dedup();
      for id in touched.drain(..) {
        self.service(id);
      }
    }
  }

  fn add(&mut self, mut entry: Entry) -> u32 {
    let id = entry.shared.id;
    let registry = self.poll.registry();
    if let Some(fd) = entry.shared.master_fd() {
      let _ = registry.register(
        &mut SourceFd(&fd),
        token(id, KIND_MASTER),
        Interest::READABLE | Interest::WRITABLE,
      );
    }
    if let Some(fd) = entry.shared.pidfd.read().unwrap().as_ref() {
      let _ = registry.register(
        &mut SourceFd(&fd.as_raw_fd()),
        token(id, KIND_PIDFD),
        Interest::READABLE,
      );
    }
    if let Some(fd) = &entry.report {
      let _ = registry.register(
        &mut SourceFd(&fd.as_raw_fd()),
        token(id, KIND_REPORT),
        Interest::READABLE,
      );
    }
    // Whatever happened before registration raised no event: look at everything once.
    entry.check_report();
    entry.reap();
    self.entries.insert(id, entry);
    id
  }

  fn fire_timers(&mut self, touched: &mut Vec<u32>) {
    let now = Instant::now();
    while let Some(Reverse((at, id))) = self.timers.peek().copied() {
      if at > now {
        break;
      }
      self.timers.pop();
      let Some(entry) = self.entries.get_mut(&id) else {
        continue;
      };
      entry.scheduled.retain(|s| *s != at);
      let expired = |d: Option<Instant>| d.is_some_and(|d| d <= now);
      if !entry.hung_up && (expired(entry.grace) || expired(entry.grace_max)) {
        entry.grace = None;
        entry.grace_max = None;
        match entry.relay.as_mut() {
          Some(relay) if !relay.output.awaiting => relay.output.ended = true,
          Some(_) => {}
          None => entry.finish_output(),
        }
      }
      if entry.held_until.is_some_and(|h| h <= now) {
        entry.readable = true;
      }
      if entry.kill_at.is_some_and(|k| k <= now) {
        entry.kill_at = None;
        if !entry.exited {
          let _ = entry.shared.kill(libc::SIGKILL);
        }
      }
      touched.push(id);
    }
  }

  fn service(&mut self, id: u32) {
    let Some(entry) = self.entries.get_mut(&id) else {
      return;
    };
    if entry.relay.is_some() {
      entry.pump_relay();
    } else {
      entry.flush_input();
      entry.read_output(&mut self.spare);
    }
    entry.send_ends();
    // Each deadline enters the heap once; stale ones are skipped when they come up.
    if entry.hung_up {
      entry.grace = None;
      entry.grace_max = None;
    }
    for at in [
      entry.grace,
      entry.grace_max,
      entry.kill_at,
      entry.held_until,
    ]
    .into_iter()
    .flatten()
    {
      if !entry.scheduled.contains(&at) {
        entry.scheduled.push(at);
        self.timers.push(Reverse((at, id)));
      }
    }
    let done = entry.exited && entry.report.is_none() && entry.shared.master_fd().is_none();
    if done {
      self.entries.remove(&id);
    }
  }
}

impl Entry {
  fn emit(&self, event: Event) {
    if !self.orphaned {
      self.sink.send(event);
    }
  }

  fn register_relay(&mut self, registry: &Registry) {
    let id = self.shared.id;
    let Some(relay) = self.relay.as_mut() else {
      return;
    };
    let ends = [
      (relay.stdin.as_mut(), KIND_STDIN, Interest::READABLE),
      (relay.stdout.as_mut(), KIND_STDOUT, Interest::WRITABLE),
    ];
    for (end, kind, interest) in ends {
      let Some(end) = end else { continue };
      if !end.pollable() {
        continue;
      }
      // epoll refuses what cannot block (regular files, /dev/null): it is always ready.
      if registry
        .register(&mut SourceFd(&end.raw()), token(id, kind), interest)
        .is_err()
      {
        end.set_always_ready();
      }
    }
  }

  fn relay_answer(&mut self, lane: u32, data: Option<Vec<u8>>) {
    let hang_up = lane == LANE_OUTPUT && data.is_none();
    let master = self.shared.master_fd();
    if let Some(relay) = self.relay.as_mut() {
      relay.answer(lane, data, master);
    }
    // The output hook said end-of-file: as Python's spawn, hang up and wait for the child.
    if hang_up {
      self.shared.close();
    }
  }

  fn pump_relay(&mut self) {
    let id = self.shared.id;
    let sink = self.sink.clone();
    let orphaned = self.orphaned;
    let mut emit = |out: Out| {
      let event = match out {
        Out::Chunk(lane, bytes) => Event::RelayChunk { id, lane, bytes },
        Out::StdoutFailed(errno) => Event::RelayFailed { id, errno },
      };
      if !orphaned {
        sink.send(event);
      }
    };
    let guard = self.shared.master.read().unwrap();
    let master = guard.as_ref().map(|f| f.as_raw_fd());
    let relay = self.relay.as_mut().expect("relay present");
    relay.pump_input(master, &mut emit);
    let read_before = relay.output_read;
    let would_block =
      relay.pump_output(master, &self.shared.pts_name, &mut self.readable, &mut emit);
    if relay.output_read != read_before {
      self.grace = None;
    }
    if would_block && self.exited && !self.hung_up && self.grace.is_none() {
      self.grace = Some(Instant::now() + EXIT_GRACE);
    }
    let done = relay.output_complete() && !relay.done;
    if done {
      relay.done = true;
    }
    drop(guard);
    if done {
      self.emit(Event::RelayDone { id });
    }
  }

  fn check_report(&mut self) {
    let Some(report) = &self.report else {
      return;
    };
    let id = self.shared.id;
    match read_report(report.as_raw_fd()) {
      Ok(Report::Pending) => return,
      Ok(Report::Succeeded) => self.emit(Event::Spawned { id }),
      Ok(Report::Failed { step, errno }) => {
        self.emit(Event::SpawnFailed { id, step, errno });
        self.shared.close();
      }
      Err(e) => {
        self.emit(Event::SpawnFailed {
          id,
          step: Step::Execve,
          errno: e.errno,
        });
        self.shared.close();
      }
    }
    if let Some(report) = self.report.take() {
      let _ = reactor()
        .registry
        .deregister(&mut SourceFd(&report.as_raw_fd()));
    }
  }

  fn reap(&mut self) {
    if self.exited {
      return;
    }
    // Reaped under the watch's write lock, which is dropped before the lock is released: a
    // signal (sent under the read lock, only while there is a watch) then never reaches the
    // pid once it can be recycled (macOS signals by pid; see `sys`).
    let mut watch = self.shared.pidfd.write().unwrap();
    let status = match sys::try_reap(self.shared.pid, watch.as_ref().map(|w| w.as_raw_fd())) {
      Ok(None) => return,
      Ok(Some(status)) => status,
      Err(_) => -1,
    };
    if let Some(fd) = watch.take() {
      let _ = reactor()
        .registry
        .deregister(&mut SourceFd(&fd.as_raw_fd()));
    }
    drop(watch);
    // The exec result is settled by now (the child is gone); report it before the exit.
    self.check_report();
    self.exited = true;
    self.shared.reaped.store(true, SeqCst);
    self.unsent_exit = Some(status);
    // Try the master once more: the next EAGAIN starts the exit grace.
    self.readable = true;
    if !self.hung_up && !self.eof {
      self.grace_max = Some(Instant::now() + EXIT_GRACE_MAX);
    }
  }

  fn orphan(&mut self) {
    self.orphaned = true;
    self.shared.close();
    if !self.exited {
      let _ = self.shared.kill(libc::SIGHUP);
      self.kill_at = Some(Instant::now() + ORPHAN_GRACE);
    }
  }

  /// Sends what [`Entry::reap`] and [`Entry::finish_output`] held back: one event when both.
  fn send_ends(&mut self) {
    if self.unsent_eof && !self.exited {
      // A child's terminal fds close as it exits, just before it can be reaped: the exit is
      // often there already, ahead of its pidfd's event.
      self.reap();
    }
    let id = self.shared.id;
    let eof = std::mem::take(&mut self.unsent_eof);
    match (eof, self.unsent_exit.take()) {
      (true, Some(status)) => self.emit(Event::EofExit { id, status }),
      (true, None) => self.emit(Event::Eof { id }),
      (false, Some(status)) => self.emit(Event::Exit { id, status }),
      (false, None) => {}
    }
  }

  /// Hands a chunk of output to JavaScript, taking one credit for it.
  fn deliver(&mut self, bytes: Vec<u8>) {
    self.delivered += bytes.len() as u64;
    self.shared.inflight.fetch_add(1, SeqCst);
    self.grace = None;
    self.emit(Event::Data {
      pty: self.shared.clone(),
      bytes,
    });
  }

  /// The readable side is complete: the master said EIO, or the exit grace ran out.
  fn finish_output(&mut self) {
    if self.eof {
      return;
    }
    if !self.held.is_empty() {
      let held = std::mem::take(&mut self.held);
      self.deliver(held);
    }
    self.held_until = None;
    self.eof = true;
    self.grace = None;
    self.grace_max = None;
    self.unsent_eof = true;
  }

  fn flush_input(&mut self) {
    // Lock order, as in `PtyShared::write`: the master, then the pending input.
    let master = self.shared.master.read().unwrap();
    let mut pending = self.shared.pending_input.lock().unwrap();
    if pending.is_empty() {
      return;
    }
    let Some(fd) = master.as_ref().map(|f| f.as_raw_fd()) else {
      pending.clear();
      return;
    };
    match write_some(fd, &pending) {
      Ok(n) => {
        pending.drain(..n);
        if pending.is_empty() {
          self.emit(Event::Drained { id: self.shared.id });
        }
      }
      Err(e) => {
        pending.clear();
        self.emit(Event::WriteFailed {
          id: self.shared.id,
          errno: e.errno,
        });
      }
    }
  }

  fn read_output(&mut self, spare: &mut Vec<u8>) {
    if self.eof || !self.readable {
      return;
    }
    let shared = self.shared.clone();
    let guard = shared.master.read().unwrap();
    let Some(fd) = guard.as_ref().map(|f| f.as_raw_fd()) else {
      return;
    };
    loop {
      if !shared.reading.load(SeqCst) || shared.inflight.load(SeqCst) >= MAX_INFLIGHT {
        shared.stalled.store(true, SeqCst);
        // Credit may have come back between the check and the flag: look once more.
        let can = shared.reading.load(SeqCst) && shared.inflight.load(SeqCst) < MAX_INFLIGHT;
        if can && shared.stalled.swap(false, SeqCst) {
          continue;
        }
        return;
      }
      // A pty hands over at most a few KiB per read: gather what is there now into one chunk,
      // so JavaScript sees one event per batch rather than one per 4 KiB. While output keeps
      // coming, a part-filled chunk also waits (at most STREAM_HOLD) for what follows; output
      // after a pause (an echo, a prompt) goes at once.
      if !self.held.is_empty() {
        // `spare` is empty here: every chunk read is delivered or held before the loop turns.
        std::mem::swap(spare, &mut self.held);
      }
      spare.reserve_exact(DELIVERY_CHUNK - spare.len());
      let before = spare.len();
      // From the last bytes to this read's start: one read_available can itself last longer
      // than STREAM_HOLD in a flood, which is streaming all the same.
      let started = Instant::now();
      let streaming = self
        .last_read
        .is_some_and(|t| started.duration_since(t) < STREAM_HOLD);
      let stop = read_available(fd, spare).map(|e| e.errno);
      let now = Instant::now();
      if spare.len() > before {
        self.last_read = Some(now);
      }
      let due = self.held_until.is_some_and(|h| h <= now);
      if stop == Some(libc::EAGAIN) && streaming && !due && !spare.is_empty() {
        self.held = std::mem::take(spare);
        self.held_until.get_or_insert(now + STREAM_HOLD);
        self.readable = false;
        return;
      }
      self.held_until = None;
      if !spare.is_empty() {
        let mut bytes = std::mem::take(spare);
        // V8 is told of the bytes a Buffer shows (`chunk.rs`), not of the capacity behind it.
        bytes.shrink_to_fit();
        self.deliver(bytes);
      }
      let Some(errno) = stop else { continue };
      match errno {
        libc::EAGAIN => {
          self.readable = false;
          if self.exited && !self.hung_up && self.grace.is_none() {
            self.grace = Some(Instant::now() + EXIT_GRACE);
          }
        }
        // EIO: every slave fd is closed and everything written before has been read, but
        // for what the kernel may have stranded (see `collect_stranded`).
        _ => {
          self.readable = false;
          if errno == libc::EIO && sys::strandable(self.delivered) {
            let stranded = collect_stranded(&shared.pts_name, fd);
            if !stranded.is_empty() {
              self.deliver(stranded);
            }
          }
          drop(guard);
          self.finish_output();
        }
      }
      return;
    }
  }
}

/// Removes an fd from the poll set before it is closed (a duplicate would otherwise keep
/// reporting under a stale token).
pub fn forget_fd(fd: RawFd) {
  if let Some(reactor) = REACTOR.get() {
    let _ = reactor.registry.deregister(&mut SourceFd(&fd));
  }
}

/// The reactor's half of an Env going away.
pub fn drop_sink(sink_id: u32) {
  // An Env that never forked has nothing in the reactor (which may not even be running).
  if let Some(reactor) = REACTOR.get() {
    reactor.send(Command::DropSink(sink_id));
  }
}
