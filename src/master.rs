//! What reading and writing a pty master means beyond the bytes, for the reactor and `spawn`'s
//! relay alike: when the output has ended (and what the kernel may have stranded at that end),
//! and when input leaves a line open.

use std::os::fd::RawFd;
use std::time::Duration;

use crate::pty::read_available;
#[cfg(doc)]
use crate::sys::read_emptied;
use crate::sys::{collect_stranded, strandable};

/// Output streams while the master gives more within this long of its last bytes, and while it
/// streams what was read may wait this long for more: a part-filled chunk for JavaScript (the
/// reactor's output), bytes for a file (`spawn`'s relay), so that a flood goes on in a few
/// large pieces rather than one per read. Too short for a person to see; output after a pause
/// goes at once.
pub(crate) const STREAM_HOLD: Duration = Duration::from_millis(2);

/// Why [`read`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
  /// The buffer is full; the master may have more.
  Full,
  /// The master has nothing more now.
  WouldBlock,
  /// The output has ended: every slave fd is closed (EIO) or the master failed.
  End,
}

/// Reads what the master has now into `buf`'s spare capacity (a pty hands over a few KiB per
/// read, whatever was asked). `read_so_far` counts the master's bytes before this call and is
/// advanced by what it reads. At the end of the output (EIO), whatever the kernel stranded is
/// appended too (see [`collect_stranded`]), when enough was read for there to be any.
/// `short_is_empty`: a read that left the master empty stops with [`Stop::WouldBlock`],
/// sparing the read that would say `EAGAIN`; only for a reader woken by
/// an edge-triggered poll, before the terminal has hung up (see [`read_emptied`]).
pub(crate) fn read(
  fd: RawFd,
  pts_path: &str,
  buf: &mut Vec<u8>,
  read_so_far: &mut u64,
  short_is_empty: bool,
) -> Stop {
  let before = buf.len();
  let stop = read_available(fd, buf, short_is_empty).map(|e| e.errno);
  *read_so_far += (buf.len() - before) as u64;
  match stop {
    None => Stop::Full,
    Some(libc::EAGAIN) => Stop::WouldBlock,
    Some(errno) => ended(errno, fd, pts_path, buf, read_so_far),
  }
}

/// A read of the master failed with `errno` (or said end of file, 0): the output has ended.
/// After EIO, whatever the kernel stranded is appended to `buf` (see [`collect_stranded`]).
/// Shared by [`read`] and the io_uring read path, whose completions end the same way.
pub(crate) fn ended(
  errno: i32,
  fd: RawFd,
  pts_path: &str,
  buf: &mut Vec<u8>,
  read_so_far: &mut u64,
) -> Stop {
  // EIO: every slave fd is closed and everything written before has been read, but for what
  // the kernel may have stranded.
  if errno == libc::EIO && strandable(*read_so_far) {
    let stranded = collect_stranded(pts_path, fd);
    *read_so_far += stranded.len() as u64;
    buf.extend_from_slice(&stranded);
  }
  Stop::End
}

/// Whether input ending in `data` leaves a line open, so that an end-of-file then takes two
/// EOF characters (the first only ends the line); `None` for no input. A carriage return ends
/// a line too: the terminal turns it into a newline (`ICRNL`, on by default), and it is what
/// Enter sends from a terminal in raw mode.
pub(crate) fn leaves_line_open(data: &[u8]) -> Option<bool> {
  data.last().map(|last| !matches!(last, b'\n' | b'\r'))
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_line_is_open_until_a_newline_or_return() {
    assert_eq!(leaves_line_open(b""), None);
    assert_eq!(leaves_line_open(b"ab"), Some(true));
    assert_eq!(leaves_line_open(b"ab\n"), Some(false));
    assert_eq!(leaves_line_open(b"ab\r"), Some(false));
  }
}
