//! What the reactor alone knows of a pty: its child (the exec report, the exit), its output
//! ([`Output`]), `spawn`'s relay when there is one, and the events still to send.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::handle::{reactor, PtyShared};
use super::output::{Life, Output, DELIVERY_BATCH};
use super::uring::Uring;
use crate::fd::{self, WriteMode};
use crate::master::{self, Stop};
use crate::protocol::LANE_OUTPUT;
use crate::relay::{Out, Relay};
use crate::sink::{Event, Sink};
use crate::sys::{self, read_report, Report, Step};

/// When an Env goes away, how long its children get after SIGHUP before SIGKILL.
const ORPHAN_GRACE: Duration = Duration::from_secs(2);

/// One pty in the reactor.
pub(super) struct Entry {
  pub(super) shared: Arc<PtyShared>,
  pub(super) sink: Arc<Sink>,
  pub(super) report: Option<OwnedFd>,
  pub(super) exited: bool,
  /// The end of the output and the exit, held until the entry has been serviced so that when
  /// both happen in one turn (the usual case) JavaScript hears of them in one call.
  unsent_eof: bool,
  unsent_exit: Option<i32>,
  /// Its Env has gone: nothing more is sent.
  orphaned: bool,
  /// When a child that ignored the hang-up of an orphaning gets SIGKILL.
  kill_at: Option<Instant>,
  pub(super) output: Output,
  pub(super) relay: Option<Box<Relay>>,
  /// Deadlines of this entry already in the timer heap.
  scheduled: Vec<Instant>,
  /// Full chunks read while the output streams, each holding a credit, not yet sent: they go
  /// together ([`DELIVERY_BATCH`]), and before the end of the output or the exit.
  batch: Vec<Vec<u8>>,
}

/// Sends `event` unless the Env has gone.
fn emit(sink: &Sink, orphaned: bool, event: Event) {
  if !orphaned {
    sink.send(event);
  }
}

impl Entry {
  pub(super) fn new(shared: Arc<PtyShared>, sink: Arc<Sink>, report: Option<OwnedFd>) -> Self {
    Entry {
      shared,
      sink,
      report,
      exited: false,
      unsent_eof: false,
      unsent_exit: None,
      orphaned: false,
      kill_at: None,
      output: Output::new(),
      relay: None,
      scheduled: Vec::new(),
      batch: Vec::new(),
    }
  }

  fn emit(&self, event: Event) {
    emit(&self.sink, self.orphaned, event);
  }

  /// Whether the entry has nothing left to watch.
  pub(super) fn done(&self) -> bool {
    self.exited && self.report.is_none() && self.shared.master_fd().is_none()
  }

  /// Hands each deadline not yet in the timer heap to `add`, which puts it there: each enters
  /// the heap once, and stale ones are skipped when they come up.
  pub(super) fn schedule(&mut self, mut add: impl FnMut(Instant)) {
    let relay = self.relay.as_ref().and_then(|r| r.deadline());
    let deadlines = self.output.deadlines().into_iter();
    for at in deadlines.chain([self.kill_at, relay]) {
      let Some(at) = at else { continue };
      if !self.scheduled.contains(&at) {
        self.scheduled.push(at);
        add(at);
      }
    }
  }

  /// A deadline of this entry, scheduled for `at`, has come.
  pub(super) fn timer(&mut self, at: Instant, now: Instant) {
    self.scheduled.retain(|s| *s != at);
    if self.output.grace_expired(now) {
      match self.relay.as_mut() {
        Some(relay) if !relay.output.awaiting => {
          relay.output.ended = true;
          self.output.life = Life::Ended;
        }
        Some(_) => {}
        None => self.finish_output(),
      }
    }
    if self.output.held_due(now) {
      self.output.readable = true;
    }
    if self.kill_at.is_some_and(|k| k <= now) {
      self.kill_at = None;
      if !self.exited {
        let _ = self.shared.kill(libc::SIGKILL);
      }
    }
  }

  /// Takes `spawn`'s relay into use.
  pub(super) fn start_relay(&mut self, relay: Box<Relay>) {
    self.relay = Some(relay);
  }

  /// A hook's answer for `lane`.
  pub(super) fn relay_answer(&mut self, lane: u32, data: Option<Vec<u8>>) {
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

  /// Moves what is due: the relay's copy, or the input and output of a pty read by JavaScript.
  /// `uring`: the io_uring read path, when the reactor has one (it knows which ptys it reads).
  pub(super) fn service(&mut self, spare: &mut Vec<u8>, uring: Option<&mut Uring>) {
    if self.relay.is_some() {
      self.pump_relay(uring);
    } else {
      self.flush_input();
      self.read_output(spare, uring);
    }
    self.send_ends();
  }

  fn pump_relay(&mut self, uring: Option<&mut Uring>) {
    let id = self.shared.id;
    let (sink, orphaned) = (&self.sink, self.orphaned);
    let mut emit = |out: Out| {
      let event = match out {
        Out::Chunk(lane, bytes) => Event::RelayChunk { id, lane, bytes },
        Out::StdoutFailed(err) => Event::RelayFailed {
          id,
          errno: err.errno,
        },
      };
      emit(sink, orphaned, event);
    };
    let guard = self.shared.master.read().unwrap();
    let master = guard.as_ref().map(|f| f.as_raw_fd());
    let relay = self.relay.as_mut().expect("relay present");
    relay.pump_input(master, &mut emit);
    let read_before = relay.output_read;
    let short_is_empty = self.output.short_read_empties();
    let readable = &mut self.output.readable;
    let pts = &self.shared.pts_name;
    // The master is read through the ring when the ring reads it, as the stream's is.
    let would_block = match (master, uring.filter(|u| u.reads(id))) {
      (Some(fd), Some(uring)) => {
        let mut ring =
          |buf: &mut Vec<u8>, so_far: &mut u64, _| uring.fill(id, fd, pts, buf, so_far);
        relay.pump_output(true, readable, short_is_empty, &mut ring, &mut emit)
      }
      (Some(fd), None) => {
        let mut read =
          |buf: &mut Vec<u8>, so_far: &mut u64, short| master::read(fd, pts, buf, so_far, short);
        relay.pump_output(true, readable, short_is_empty, &mut read, &mut emit)
      }
      (None, _) => relay.pump_output(
        false,
        readable,
        short_is_empty,
        &mut |_, _, _| Stop::End,
        &mut emit,
      ),
    };
    if relay.output_read != read_before {
      self.output.heard();
    }
    if would_block {
      self.output.would_block(Instant::now);
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

  /// Reads the exec report, if it is there yet.
  pub(super) fn check_report(&mut self) {
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
      reactor().forget(report.as_raw_fd());
    }
  }

  /// Reaps the child if it has exited.
  pub(super) fn reap(&mut self) {
    if self.exited {
      return;
    }
    // The session layer must know when the child's session id could first be reused.
    let before = sys::now_ticks();
    // Reaped under the watch's write lock, which is dropped before the lock is released: a
    // signal (sent under the read lock, only while there is a watch) then never reaches the
    // pid once it can be recycled (macOS signals by pid; see `sys`).
    let mut watch = self.shared.exit_watch.write().unwrap();
    let status = match sys::try_reap(self.shared.pid, watch.as_ref().map(|w| w.as_raw_fd())) {
      Ok(None) => return,
      Ok(Some(status)) => status,
      Err(_) => -1,
    };
    if let Some(fd) = watch.take() {
      reactor().forget(fd.as_raw_fd());
    }
    drop(watch);
    // The exec result is settled by now (the child is gone); report it before the exit.
    self.check_report();
    self.exited = true;
    self.shared.reaped_at.store(before.max(1), SeqCst);
    self.shared.reaped.store(true, SeqCst);
    self.unsent_exit = Some(status);
    self.output.child_exited(Instant::now());
  }

  /// Its Env is going away: hang up, and end the child if it does not go by itself.
  pub(super) fn orphan(&mut self) {
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
      // often there already, ahead of its exit watch's event.
      self.reap();
    }
    let id = self.shared.id;
    // The end of the output sent what waited already (`finish_output`); the exit must too.
    if self.unsent_exit.is_some() {
      self.send_batch();
    }
    let eof = std::mem::take(&mut self.unsent_eof);
    match (eof, self.unsent_exit.take()) {
      (true, Some(status)) => self.emit(Event::EofExit { id, status }),
      (true, None) => self.emit(Event::Eof { id }),
      (false, Some(status)) => self.emit(Event::Exit { id, status }),
      (false, None) => {}
    }
  }

  /// The readable side is complete: the master said EIO, or the exit grace ran out.
  fn finish_output(&mut self) {
    self.send_batch();
    let mut deliver = deliverer(&self.shared, &self.sink, self.orphaned);
    if self.output.finish(&mut deliver) {
      self.unsent_eof = true;
    }
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
    match fd::write(fd, &pending, WriteMode::Write) {
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

  fn read_output(&mut self, spare: &mut Vec<u8>, uring: Option<&mut Uring>) {
    if !self.output.wants_read() {
      return;
    }
    let shared = self.shared.clone();
    // Held across the reads: the io_uring path submits its read under it, so that the fd is
    // still this master's when the kernel looks it up.
    let guard = shared.master.read().unwrap();
    let Some(fd) = guard.as_ref().map(|f| f.as_raw_fd()) else {
      return;
    };
    // Only while the child runs: after its exit or a hang-up each chunk goes at once, so that
    // the end of the output follows its last bytes in the same turn.
    let batching = self.output.short_read_empties();
    if !batching {
      self.send_batch();
    }
    let mut batch = std::mem::take(&mut self.batch);
    let pts = &shared.pts_name;
    let id = shared.id;
    let ended = {
      let mut send = deliverer(&shared, &self.sink, self.orphaned);
      let mut deliver = |bytes: Vec<u8>| {
        if batching {
          shared.take_credit();
          batch.push(bytes);
        } else {
          send(bytes);
        }
      };
      match uring.filter(|u| u.reads(id)) {
        Some(uring) => self
          .output
          .read(&shared, spare, &mut deliver, &mut |buf, so_far, _| {
            uring.fill(id, fd, pts, buf, so_far)
          }),
        None => self
          .output
          .read(&shared, spare, &mut deliver, &mut |buf, so_far, short| {
            master::read(fd, pts, buf, so_far, short)
          }),
      }
    };
    self.batch = batch;
    // A batch waits only while a part-filled chunk does, and while the reactor may read on.
    if ended || self.batch.len() >= DELIVERY_BATCH || !self.output.holding() || !shared.may_read() {
      self.send_batch();
    }
    drop(guard);
    if ended {
      self.finish_output();
    }
  }

  /// Sends the full chunks set aside, whose credit each has already taken.
  fn send_batch(&mut self) {
    for bytes in std::mem::take(&mut self.batch) {
      self.emit(data(&self.shared, bytes));
    }
  }
}

/// Hands each chunk of output to JavaScript, taking one credit for it.
fn deliverer<'a>(
  shared: &'a Arc<PtyShared>,
  sink: &'a Sink,
  orphaned: bool,
) -> impl FnMut(Vec<u8>) + 'a {
  move |bytes| {
    shared.take_credit();
    emit(sink, orphaned, data(shared, bytes));
  }
}

/// A chunk of output as the event JavaScript gets; the credit the caller took for it comes
/// back as the chunk is handed over.
fn data(shared: &Arc<PtyShared>, bytes: Vec<u8>) -> Event {
  Event::Data {
    id: shared.id,
    credit: shared.clone(),
    bytes,
  }
}
