//! How `spawn`'s output to a regular file is gathered into larger writes while it streams.
//!
//! A pty master gives a few KiB per read. Written to a file as it is read, a flood costs one
//! file-thread job per read: a wake-up of that thread, a `write`, and a report that wakes the
//! reactor again. While output keeps coming, what was read waits for more instead, up to
//! [`FILE_GATHER`] bytes and for at most [`STREAM_HOLD`], so that a flood reaches the file in
//! writes of a few hundred KiB. Output after a pause (a prompt, a line now and then) goes at
//! once, and so does everything once the child has exited or the terminal hung up.

use std::time::Instant;

use crate::master::STREAM_HOLD;

/// The most bytes that wait for more before they go to a file thread. Per byte, a write this
/// large costs the same as a larger one; most of what a smaller one saves is the job per read.
const FILE_GATHER: usize = 256 * 1024;

/// Whether the output for a file is streaming, and until when what was read may wait.
#[derive(Debug, Default)]
pub(super) struct Gather {
  /// When the master last gave bytes.
  last_bytes: Option<Instant>,
  /// The last read that gave bytes started within [`STREAM_HOLD`] of the one before it.
  streaming: bool,
  /// While bytes wait: when they go at the latest.
  until: Option<Instant>,
}

impl Gather {
  /// A read of the master that started at `started` gave bytes; `now` is after it. Streaming
  /// is judged from the last bytes to the start of a read, as the stream's hold judges it.
  pub(super) fn gave(&mut self, started: Instant, now: Instant) {
    self.streaming = self
      .last_bytes
      .is_some_and(|t| started.saturating_duration_since(t) < STREAM_HOLD);
    self.last_bytes = Some(now);
  }

  /// Whether `pending` bytes wait for more rather than go to a file thread at `now`.
  /// `may_wait`: the child runs, the terminal is up, and no hook sees the output.
  pub(super) fn wait(&mut self, pending: usize, may_wait: bool, now: Instant) -> bool {
    let wait = may_wait
      && self.streaming
      && pending < FILE_GATHER
      && self.until.is_none_or(|until| now < until);
    if wait {
      self.until.get_or_insert(now + STREAM_HOLD);
    } else {
      self.until = None;
    }
    wait
  }

  /// When the bytes that wait must go, if any wait.
  pub(super) fn deadline(&self) -> Option<Instant> {
    self.until
  }
}

#[cfg(test)]
mod tests {
  use std::time::Duration;

  use super::*;

  const MS: Duration = Duration::from_millis(1);

  #[test]
  fn output_after_a_pause_goes_at_once() {
    let t0 = Instant::now();
    let mut gather = Gather::default();
    gather.gave(t0, t0);
    assert!(!gather.wait(10, true, t0), "the first bytes go at once");
    gather.gave(t0 + 5 * MS, t0 + 5 * MS);
    assert!(
      !gather.wait(10, true, t0 + 5 * MS),
      "after 5 ms of silence too"
    );
    assert_eq!(gather.deadline(), None);
  }

  #[test]
  fn a_flood_waits_until_the_hold_ends_or_enough_is_gathered() {
    let t0 = Instant::now();
    let mut gather = Gather::default();
    gather.gave(t0, t0);
    assert!(!gather.wait(4096, true, t0));
    gather.gave(t0 + MS / 10, t0 + MS / 10);
    assert!(gather.wait(4096, true, t0 + MS / 10));
    assert_eq!(gather.deadline(), Some(t0 + MS / 10 + STREAM_HOLD));
    gather.gave(t0 + MS, t0 + MS);
    assert!(gather.wait(8192, true, t0 + MS), "within the hold");
    assert_eq!(
      gather.deadline(),
      Some(t0 + MS / 10 + STREAM_HOLD),
      "the hold does not move"
    );
    assert!(
      !gather.wait(8192, true, t0 + MS / 10 + STREAM_HOLD),
      "the hold is over"
    );
    assert_eq!(gather.deadline(), None);
    gather.gave(t0 + 3 * MS, t0 + 3 * MS);
    assert!(
      !gather.wait(FILE_GATHER, true, t0 + 3 * MS),
      "enough is gathered"
    );
  }

  #[test]
  fn nothing_waits_once_it_may_not() {
    let t0 = Instant::now();
    let mut gather = Gather::default();
    gather.gave(t0, t0);
    gather.gave(t0 + MS / 10, t0 + MS / 10);
    assert!(gather.wait(4096, true, t0 + MS / 10));
    assert!(!gather.wait(4096, false, t0 + MS / 5));
    assert_eq!(gather.deadline(), None);
  }
}
