//! Where io_uring does not exist (macOS): the reactor always reads with `read(2)`; this gives
//! the names of `uring.rs` with nothing behind them.

use std::io;
use std::os::fd::RawFd;

use crate::master::Stop;

/// Never: the reactor reads its masters with `read(2)`.
pub(crate) fn active() -> bool {
  false
}

/// Always the `read(2)` path.
pub(super) fn start() -> Option<Uring> {
  None
}

/// Has no values.
pub(crate) enum Uring {}

impl Uring {
  pub(super) fn fd(&self) -> RawFd {
    match *self {}
  }

  pub(super) fn adopt(&mut self, _id: u32) -> io::Result<()> {
    match *self {}
  }

  pub(super) fn reads(&self, _id: u32) -> bool {
    match *self {}
  }

  pub(super) fn reap(&mut self, _touched: &mut Vec<u32>) {
    match *self {}
  }

  pub(super) fn fill(
    &mut self,
    _id: u32,
    _fd: RawFd,
    _pts_path: &str,
    _buf: &mut Vec<u8>,
    _read_so_far: &mut u64,
  ) -> Stop {
    match *self {}
  }

  pub(super) fn retire(&mut self, _id: u32) {
    match *self {}
  }
}
