//! One direction of `spawn`'s copy: a buffer of at most one chunk in flight.

/// Bytes asked of a source per read.
pub(super) const READ_CHUNK: usize = 64 * 1024;

/// One direction of the copy.
pub(crate) struct Lane {
  pub(super) buf: Vec<u8>,
  /// Where the part of `buf` not yet written begins.
  pub(super) start: usize,
  /// A JavaScript hook sees (and may replace) every chunk.
  pub(super) hooked: bool,
  /// A chunk is with the hook; nothing more is read until it answers.
  pub(crate) awaiting: bool,
  /// The source reached end-of-file (or the hook said so).
  pub(crate) ended: bool,
}

impl Lane {
  pub(super) fn new(hooked: bool) -> Self {
    Lane {
      buf: Vec::with_capacity(READ_CHUNK),
      start: 0,
      hooked,
      awaiting: false,
      ended: false,
    }
  }

  pub(super) fn pending(&self) -> &[u8] {
    &self.buf[self.start..]
  }

  pub(super) fn is_empty(&self) -> bool {
    self.start >= self.buf.len()
  }

  pub(super) fn clear(&mut self) {
    self.buf.clear();
    self.start = 0;
  }

  /// Replaces what the lane holds with `bytes` (its buffer keeps its capacity).
  pub(super) fn set(&mut self, bytes: &[u8]) {
    self.buf.clear();
    self.buf.extend_from_slice(bytes);
    self.start = 0;
  }

  /// The hook's answer: bytes to pass on, or `None` for end-of-file in this direction.
  pub(super) fn answer(&mut self, data: Option<Vec<u8>>) {
    self.awaiting = false;
    match data {
      // Into our own buffer: it keeps its READ_CHUNK capacity for the reads that follow.
      Some(bytes) => self.set(&bytes),
      None => self.ended = true,
    }
  }
}
