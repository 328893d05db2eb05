//! The output of one pty as the reactor reads it: how it is gathered into chunks for
//! JavaScript, and where it is in its life (open, draining or in its grace after the exit,
//! ended).

use std::time::{Duration, Instant};

use super::handle::PtyShared;
#[cfg(doc)]
use crate::master;
use crate::master::{Stop, STREAM_HOLD};
use crate::protocol::{EXIT_GRACE_MAX_MS, EXIT_GRACE_MS};

/// The most output gathered into one `data` event. A pty master gives at most a few KiB per
/// read; gathering what is there into one chunk cuts the events, whose cost is mostly Node's
/// (a callback scope, the stream's bookkeeping), by an order of magnitude. What memory larger
/// chunks cost is kept down by reporting each one to V8 (see `chunk.rs`). Just under glibc's
/// default mmap threshold (128 KiB), so that each chunk's buffer comes from the heap rather
/// than from an mmap (and an mremap as it is shrunk to its bytes).
const DELIVERY_CHUNK: usize = 124 * 1024;

/// While output streams, full chunks go to JavaScript this many at a time, so that its event
/// loop wakes once for them: each wake-up of a thread that sat idle while the child, the
/// kernel's terminal work and the reactor ran costs more than handling a chunk. A full chunk
/// waits only while the ones after it fill up, each within [`STREAM_HOLD`] (so at most three
/// holds); output that pauses sends what waits at once.
pub(super) const DELIVERY_BATCH: usize = 4;

/// See [`EXIT_GRACE_MS`].
const EXIT_GRACE: Duration = Duration::from_millis(EXIT_GRACE_MS as u64);
/// See [`EXIT_GRACE_MAX_MS`].
const EXIT_GRACE_MAX: Duration = Duration::from_millis(EXIT_GRACE_MAX_MS as u64);

/// Where the output is in its life, as the child's exit and the terminal's hang-up decide it.
/// (Whether a part-filled chunk is held back is apart from this: it can be, in any but `Ended`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Life {
  /// The child has not been reaped: output is read as it comes. `hung_up`: the kernel already
  /// reported every slave fd closed.
  Open { hung_up: bool },
  /// The child has exited and every slave fd is closed: the output is read to its end (EIO).
  Draining,
  /// The child has exited but some other process (a grandchild) may still hold the terminal:
  /// the output ends at its end, after `silence`, or at `deadline`, whichever comes first.
  /// `silence` runs from the last time the master would block with nothing new.
  Grace {
    silence: Option<Instant>,
    deadline: Option<Instant>,
  },
  /// The output is complete.
  Ended,
}

/// A part-filled chunk waiting for more output (see [`STREAM_HOLD`]).
struct Held {
  bytes: Vec<u8>,
  /// When it goes to JavaScript at the latest.
  until: Instant,
}

/// The reactor's side of a pty's output.
pub(super) struct Output {
  pub(super) life: Life,
  /// The master may have more: an event or a deadline said so, and no read since met EAGAIN.
  pub(super) readable: bool,
  held: Option<Held>,
  /// When the master last gave bytes.
  last_read: Option<Instant>,
  /// Bytes read from the master so far.
  read: u64,
}

impl Output {
  pub(super) fn new() -> Self {
    Output {
      life: Life::Open { hung_up: false },
      readable: true,
      held: None,
      last_read: None,
      read: 0,
    }
  }

  /// The kernel reported every slave fd closed: the output will end with EIO, however long that
  /// takes, so no grace applies.
  pub(super) fn hung_up(&mut self) {
    self.life = match self.life {
      Life::Open { .. } => Life::Open { hung_up: true },
      Life::Grace { .. } => Life::Draining,
      life => life,
    };
  }

  /// The child has been reaped.
  pub(super) fn child_exited(&mut self, now: Instant) {
    // Try the master once more: the next EAGAIN starts the silence.
    self.readable = true;
    self.life = match self.life {
      Life::Open { hung_up: true } => Life::Draining,
      Life::Open { hung_up: false } => Life::Grace {
        silence: None,
        deadline: Some(now + EXIT_GRACE_MAX),
      },
      life => life,
    };
  }

  /// The master would block: after the exit, that starts the silence unless it runs already.
  /// `now` is only asked for then.
  pub(super) fn would_block(&mut self, now: impl FnOnce() -> Instant) {
    if let Life::Grace { silence, .. } = &mut self.life {
      silence.get_or_insert_with(|| now() + EXIT_GRACE);
    }
  }

  /// Whether a short read of the master may stand for the `EAGAIN` read after it, where the
  /// system's terminal driver allows it ([`crate::sys::read_emptied`]): only while the child
  /// runs and no event has said the terminal hung up (no event follows that one). Once the
  /// child has exited, the master is read to `EAGAIN` or its end as before, so that an end
  /// already there is found in the same turn and goes to JavaScript with the exit, rather
  /// than with the hang-up's event after it (a child that exits before the reactor has even
  /// registered its master is reaped before that event comes).
  pub(super) fn short_read_empties(&self) -> bool {
    self.life == Life::Open { hung_up: false }
  }

  /// Whether a read of the master is wanted: the output goes on, and no read met EAGAIN since
  /// the master last said it had more.
  pub(super) fn wants_read(&self) -> bool {
    self.life != Life::Ended && self.readable
  }

  /// The master gave bytes: any silence is over.
  pub(super) fn heard(&mut self) {
    if let Life::Grace { silence, .. } = &mut self.life {
      *silence = None;
    }
  }

  /// Whether a grace deadline has passed; if so, both are dropped (the caller ends the output,
  /// or, while a hook holds a chunk, waits for a new silence).
  pub(super) fn grace_expired(&mut self, now: Instant) -> bool {
    let Life::Grace { silence, deadline } = self.life else {
      return false;
    };
    let expired = |d: Option<Instant>| d.is_some_and(|d| d <= now);
    if !expired(silence) && !expired(deadline) {
      return false;
    }
    self.life = Life::Grace {
      silence: None,
      deadline: None,
    };
    true
  }

  /// Whether a part-filled chunk waits for more.
  pub(super) fn holding(&self) -> bool {
    self.held.is_some()
  }

  /// Whether the held chunk is due (the reactor then reads once more, and delivers it).
  pub(super) fn held_due(&self, now: Instant) -> bool {
    self.held.as_ref().is_some_and(|h| h.until <= now)
  }

  /// The times at which this output wants to be looked at again.
  pub(super) fn deadlines(&self) -> [Option<Instant>; 3] {
    let (silence, deadline) = match self.life {
      Life::Grace { silence, deadline } => (silence, deadline),
      _ => (None, None),
    };
    [silence, deadline, self.held.as_ref().map(|h| h.until)]
  }

  /// Ends the output: what is held goes to `deliver` first. `false` when it had ended already.
  pub(super) fn finish(&mut self, deliver: &mut impl FnMut(Vec<u8>)) -> bool {
    if self.life == Life::Ended {
      return false;
    }
    if let Some(held) = self.held.take() {
      deliver(held.bytes);
    }
    self.life = Life::Ended;
    true
  }

  /// Reads the master while JavaScript has credit for more, handing each chunk to
  /// `deliver`, until the master would block, the credit runs out or the output ends. `spare`
  /// is the buffer the next chunk is read into; it is handed over as it is. Returns whether the
  /// output ended (the caller then [`finish`](Self::finish)es it).
  ///
  /// `source` makes one read into a buffer's spare capacity, counting the bytes in the
  /// `u64` it is given; its `bool` says whether a short read may stand for `EAGAIN` (see
  /// [`master::read`], which it is for the epoll path; the io_uring path copies out what its
  /// completions have gathered instead).
  pub(super) fn read(
    &mut self,
    shared: &PtyShared,
    spare: &mut Vec<u8>,
    deliver: &mut impl FnMut(Vec<u8>),
    source: &mut impl FnMut(&mut Vec<u8>, &mut u64, bool) -> Stop,
  ) -> bool {
    if !self.wants_read() {
      return false;
    }
    loop {
      if !shared.may_read() {
        return false;
      }
      // A pty hands over at most a few KiB per read: gather what is there now into one chunk,
      // so JavaScript sees one event per batch rather than one per 4 KiB. While output keeps
      // coming, a part-filled chunk also waits (at most STREAM_HOLD) for what follows; output
      // after a pause (an echo, a prompt) goes at once.
      let until = self.held.take().map(|held| {
        // `spare` is empty here: every chunk read is delivered or held before the loop turns.
        *spare = held.bytes;
        held.until
      });
      spare.reserve_exact(DELIVERY_CHUNK - spare.len());
      let before = spare.len();
      // From the last bytes to this read's start: one read can itself last longer than
      // STREAM_HOLD in a flood, which is streaming all the same.
      let started = Instant::now();
      let streaming = self
        .last_read
        .is_some_and(|t| started.duration_since(t) < STREAM_HOLD);
      let short_is_empty = self.short_read_empties();
      let stop = source(spare, &mut self.read, short_is_empty);
      let now = Instant::now();
      if spare.len() > before {
        self.last_read = Some(now);
      }
      let due = until.is_some_and(|h| h <= now);
      if stop == Stop::WouldBlock && streaming && !due && !spare.is_empty() {
        self.held = Some(Held {
          bytes: std::mem::take(spare),
          until: until.unwrap_or(now + STREAM_HOLD),
        });
        self.readable = false;
        return false;
      }
      if !spare.is_empty() {
        let mut bytes = std::mem::take(spare);
        // V8 is told of the bytes a Buffer shows (`chunk.rs`), not of the capacity behind it.
        bytes.shrink_to_fit();
        self.heard();
        deliver(bytes);
      }
      match stop {
        Stop::Full => continue,
        Stop::WouldBlock => {
          self.readable = false;
          self.would_block(|| now);
          return false;
        }
        Stop::End => {
          self.readable = false;
          return true;
        }
      }
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn grace(output: &Output) -> (Option<Instant>, Option<Instant>) {
    match output.life {
      Life::Grace { silence, deadline } => (silence, deadline),
      life => panic!("not in its grace: {life:?}"),
    }
  }

  #[test]
  fn an_exit_with_the_terminal_held_starts_the_grace_and_silence_ends_it() {
    let t0 = Instant::now();
    let mut output = Output::new();
    output.readable = false;
    output.child_exited(t0);
    assert!(
      output.readable,
      "the master is tried once more after the exit"
    );
    assert_eq!(grace(&output), (None, Some(t0 + EXIT_GRACE_MAX)));
    output.would_block(|| t0);
    output.would_block(|| t0 + EXIT_GRACE);
    assert_eq!(
      grace(&output).0,
      Some(t0 + EXIT_GRACE),
      "the first silence counts"
    );
    output.heard();
    assert_eq!(grace(&output).0, None);
    output.would_block(|| t0 + STREAM_HOLD);
    assert!(!output.grace_expired(t0 + STREAM_HOLD));
    assert!(output.grace_expired(t0 + STREAM_HOLD + EXIT_GRACE));
    assert_eq!(grace(&output), (None, None));
  }

  #[test]
  fn the_deadline_ends_the_grace_however_much_is_heard() {
    let t0 = Instant::now();
    let mut output = Output::new();
    output.child_exited(t0);
    output.heard();
    assert!(!output.grace_expired(t0 + EXIT_GRACE));
    assert!(output.grace_expired(t0 + EXIT_GRACE_MAX));
  }

  #[test]
  fn a_hang_up_before_or_after_the_exit_means_reading_to_the_end() {
    let t0 = Instant::now();
    let mut before = Output::new();
    before.hung_up();
    before.child_exited(t0);
    assert_eq!(before.life, Life::Draining);
    let mut after = Output::new();
    after.child_exited(t0);
    after.would_block(|| t0);
    after.hung_up();
    assert_eq!(after.life, Life::Draining);
    assert!(!after.grace_expired(t0 + EXIT_GRACE_MAX));
    assert_eq!(after.deadlines(), [None, None, None]);
  }

  #[test]
  fn a_short_read_stands_for_eagain_only_while_the_child_runs_and_no_hang_up_was_seen() {
    let t0 = Instant::now();
    let mut output = Output::new();
    assert!(output.short_read_empties());
    output.hung_up();
    assert!(!output.short_read_empties(), "no event follows a hang-up");
    let mut exited = Output::new();
    exited.child_exited(t0);
    assert!(
      !exited.short_read_empties(),
      "after the exit the end is looked for at once, to go with the exit"
    );
  }

  #[test]
  fn finishing_hands_over_what_is_held_once() {
    let mut output = Output::new();
    output.held = Some(Held {
      bytes: b"held".to_vec(),
      until: Instant::now(),
    });
    let mut got = Vec::new();
    assert!(output.finish(&mut |bytes| got.push(bytes)));
    assert!(!output.finish(&mut |bytes| got.push(bytes)));
    assert_eq!(got, [b"held".to_vec()]);
    assert_eq!(output.life, Life::Ended);
    assert!(!output.wants_read());
    output.child_exited(Instant::now());
    assert_eq!(output.life, Life::Ended, "an ended output stays ended");
  }
}
