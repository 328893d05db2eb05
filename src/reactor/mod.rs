//! The process-wide reactor: one thread, one `mio::Poll`, owning the I/O of every pty.
//!
//! For each child it watches three fds: the master (output to read, input to flush), the
//! child's exit watch (a pidfd on Linux, a kqueue on macOS: `crate::sys::watch_exit`) and,
//! until the exec has happened, the report pipe (exec result). It
//! reaps exactly its own children with `waitpid(pid)`, so libuv's SIGCHLD handling for
//! `child_process` is never disturbed and no SIGCHLD handler is installed.
//!
//! - [`handle`]: what the JS thread touches, [`PtyShared`], and the [`Command`]s that wake the
//!   reactor. Reading obeys a credit: a few chunks at most are on their way to JS, and none
//!   while the JS side has paused, so memory stays bounded whatever the child prints.
//! - [`entry`]: what the reactor alone knows of each pty.
//! - [`output`]: how a pty's output is gathered into chunks, and where it is in its life.
//! - [`uring`]: the io_uring read path, on Linux by default (`NAPI_PTY_READ=epoll` turns it off).
//! - this file: the loop.

mod entry;
mod handle;
mod output;
#[cfg(target_os = "linux")]
mod uring;
#[cfg(not(target_os = "linux"))]
#[path = "uring_off.rs"]
mod uring;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::error::{SysError, SysResult};
use crate::file_io;
use crate::sink::Sink;
use entry::Entry;
use handle::REACTOR;
pub(crate) use handle::{adopt, drop_sink, reactor, Command, NewChild, PtyShared, Reactor};
use uring::Uring;

const WAKER: Token = Token(usize::MAX);
/// The io_uring ring's fd: completions wait.
const RING: Token = Token(usize::MAX - 1);
const KIND_MASTER: usize = 0;
const KIND_EXIT: usize = 1;
const KIND_REPORT: usize = 2;
const KIND_STDIN: usize = 3;
const KIND_STDOUT: usize = 4;
const KIND_BITS: usize = 3;

fn token(id: u32, kind: usize) -> Token {
  Token(((id as usize) << KIND_BITS) | kind)
}

fn io_error(syscall: &'static str) -> impl Fn(std::io::Error) -> SysError {
  move |e| SysError::new(e.raw_os_error().unwrap_or(libc::EIO), syscall)
}

/// Starts the reactor if it is not running yet. Fallible (EMFILE, EAGAIN…): called before a
/// child is forked, so that a failure here leaves nothing behind.
pub(crate) fn start() -> SysResult<&'static Reactor> {
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
  // Chosen before the thread starts, so that whether the ring is used is known to the JS
  // thread (`PtyShared::close`) before any pty exists.
  let uring = uring::start().filter(|ring| {
    let fd = ring.fd();
    (poll.registry())
      .register(&mut SourceFd(&fd), RING, Interest::READABLE)
      .is_ok()
  });
  std::thread::Builder::new()
    .name("napi-pty-reactor".into())
    .spawn(move || Loop::new(poll, uring).run())
    .map_err(io_error("pthread_create"))?;
  let started = REACTOR.get_or_init(|| Reactor {
    registry,
    waker,
    commands: Mutex::new(Vec::new()),
  });
  // Best effort: without its thread, `spawn` uses its files from the reactor (`file_io.rs`).
  file_io::start(|id, done, bytes| reactor().send(Command::FileDone(id, done, bytes)));
  Ok(started)
}

/// Whether the running reactor reads through io_uring; `None` before it has started.
pub(crate) fn read_path() -> Option<bool> {
  REACTOR.get().map(|_| uring::active())
}

struct Loop {
  poll: Poll,
  entries: HashMap<u32, Entry>,
  timers: BinaryHeap<Reverse<(Instant, u32)>>,
  /// The buffer the next output chunk is read into; handed to JavaScript as it is.
  spare: Vec<u8>,
  /// The io_uring read path, when chosen at the start.
  uring: Option<Uring>,
}

impl Loop {
  fn new(poll: Poll, uring: Option<Uring>) -> Self {
    Loop {
      poll,
      entries: HashMap::new(),
      timers: BinaryHeap::new(),
      spare: Vec::new(),
      uring,
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
          // The io_uring path's completions interrupt the wait: the kernel posts them as task
          // work on this thread, which a sleeping wait leaves for. They are there now, to be
          // reaped below, rather than found by a second wait.
          events.clear();
        } else {
          // Only closing the reactor's epoll fd behind its back gets here. Without its poll
          // set the reactor can neither read nor reap, and every child and Promise would hang
          // with no word: stop loudly instead, as libuv does when its own epoll_wait fails.
          eprintln!("napi-pty: epoll_wait failed: {e}");
          std::process::abort();
        }
      }
      // Every completion there is, whichever event woke the loop: the ring's fd is
      // edge-triggered, and reaping costs no call.
      if let Some(uring) = self.uring.as_mut() {
        uring.reap(&mut touched);
        for id in &touched {
          if let Some(entry) = self.entries.get_mut(id) {
            entry.output.readable = true;
          }
        }
      }
      for event in events.iter() {
        if event.token() == WAKER || event.token() == RING {
          continue;
        }
        let id = (event.token().0 >> KIND_BITS) as u32;
        let Some(entry) = self.entries.get_mut(&id) else {
          continue;
        };
        match event.token().0 & ((1 << KIND_BITS) - 1) {
          KIND_MASTER => {
            entry.output.readable = true;
            if event.is_read_closed() || event.is_error() {
              entry.output.hung_up();
            }
          }
          KIND_EXIT => entry.reap(),
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
          Command::Add(shared, sink, report) => touched.push(self.add(shared, sink, report)),
          Command::Poke(id) | Command::Closed(id) => touched.push(id),
          Command::StartRelay(id, mut relay) => {
            if let Some(entry) = self.entries.get_mut(&id) {
              let registry = &reactor().registry;
              relay.register(registry, token(id, KIND_STDIN), token(id, KIND_STDOUT));
              // The relay reads the master as the stream would have: through the ring where
              // the ring reads it (what the ring took already is the relay's first read).
              entry.output.readable = true;
              entry.start_relay(relay);
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

  fn add(&mut self, shared: Arc<PtyShared>, sink: Arc<Sink>, report: Option<OwnedFd>) -> u32 {
    let mut entry = Entry::new(shared, sink, report);
    let id = entry.shared.id;
    let registry = self.poll.registry();
    if let Some(fd) = entry.shared.master_fd() {
      // Read through the ring, the master is watched for input room (and its hang-up, which
      // every registration reports) only: its readiness to read would wake the loop for
      // output the ring takes anyway. Where the ring cannot take one more master, epoll.
      let ring = self.uring.as_mut().is_some_and(|u| u.adopt(id).is_ok());
      let interest = if ring {
        Interest::WRITABLE
      } else {
        Interest::READABLE | Interest::WRITABLE
      };
      let _ = registry.register(&mut SourceFd(&fd), token(id, KIND_MASTER), interest);
    }
    if let Some(fd) = entry.shared.exit_watch.read().unwrap().as_ref() {
      let _ = registry.register(
        &mut SourceFd(&fd.as_raw_fd()),
        token(id, KIND_EXIT),
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
      entry.timer(at, now);
      touched.push(id);
    }
  }

  fn service(&mut self, id: u32) {
    let Some(entry) = self.entries.get_mut(&id) else {
      return;
    };
    entry.service(&mut self.spare, self.uring.as_mut());
    let timers = &mut self.timers;
    entry.schedule(|at| timers.push(Reverse((at, id))));
    if let Some(uring) = self.uring.as_mut().filter(|u| u.reads(id)) {
      // The ring's read ends with the output, or with the master closed by JavaScript (the
      // kernel would otherwise hold the terminal open through the read).
      if entry.output.life == output::Life::Ended || entry.shared.master_fd().is_none() {
        uring.retire(id);
      }
    }
    if entry.done() {
      self.entries.remove(&id);
    }
  }
}
