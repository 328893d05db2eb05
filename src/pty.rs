//! Opening pseudo-terminal pairs and the terminal ioctls that act on either end.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::error::{SysError, SysResult};
use crate::sys;

pub(crate) use crate::protocol::WindowSize;

/// Both ends of a new pseudo-terminal. Both fds are close-on-exec from the moment they exist, so
/// no child started by any thread of this process (`child_process` included) inherits them.
pub struct PtyPair {
  pub master: OwnedFd,
  pub slave: OwnedFd,
  pub path: String,
}

/// Opens a new pair of the given size. Opened by hand rather than with `openpty`/`forkpty`:
/// those open both ends inheritable (and `forkpty` also forks, which rules out the clone path
/// and our child's set-up), while here each end is close-on-exec from the moment it exists.
pub fn open_pty(size: WindowSize) -> SysResult<PtyPair> {
  let master = sys::open_master()?;
  let fd = master.as_raw_fd();
  // SAFETY: grantpt/unlockpt only act on the fd passed, which is a valid master.
  if unsafe { libc::grantpt(fd) } != 0 {
    return Err(SysError::last("grantpt"));
  }
  // SAFETY: as above.
  if unsafe { libc::unlockpt(fd) } != 0 {
    return Err(SysError::last("unlockpt"));
  }
  let path = sys::pts_name(fd)?;
  let c_path = std::ffi::CString::new(path.clone()).expect("ptsname has no NUL");
  // SAFETY: c_path is a valid NUL-terminated string that outlives the call.
  let sfd = unsafe {
    libc::open(
      c_path.as_ptr(),
      libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
    )
  };
  if sfd < 0 {
    return Err(SysError::last("open").with_path(path));
  }
  // SAFETY: sfd was just returned by open and is owned by nobody else.
  let slave = unsafe { OwnedFd::from_raw_fd(sfd) };
  set_window_size(master.as_raw_fd(), size)?;
  Ok(PtyPair {
    master,
    slave,
    path,
  })
}

pub fn get_window_size(fd: RawFd) -> SysResult<WindowSize> {
  // SAFETY: winsize is plain data, filled in below.
  let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
  // SAFETY: TIOCGWINSZ writes one winsize into ws, which is valid for writes.
  if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } != 0 {
    return Err(SysError::last("ioctl"));
  }
  Ok(WindowSize {
    cols: ws.ws_col,
    rows: ws.ws_row,
  })
}

/// Sets the size; on a pty the kernel then sends SIGWINCH to the foreground process group.
pub fn set_window_size(fd: RawFd, size: WindowSize) -> SysResult<()> {
  let ws = libc::winsize {
    ws_row: size.rows,
    ws_col: size.cols,
    ws_xpixel: 0,
    ws_ypixel: 0,
  };
  // SAFETY: TIOCSWINSZ reads one winsize from ws, which is valid for reads.
  if unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &ws) } != 0 {
    return Err(SysError::last("ioctl"));
  }
  Ok(())
}

/// What to write to the master so that a child reading the terminal sees end-of-file: the
/// terminal's EOF character (twice when a partial line is pending, since the first one only
/// ends that line). Empty when the terminal is not in canonical mode, where no byte means EOF.
pub fn eof_sequence(master: RawFd, line_pending: bool) -> SysResult<Vec<u8>> {
  // SAFETY: termios is plain data, filled in below.
  let mut t: libc::termios = unsafe { std::mem::zeroed() };
  // SAFETY: tcgetattr writes one termios into t; on Linux a master reports its slave's settings.
  if unsafe { libc::tcgetattr(master, &mut t) } != 0 {
    return Err(SysError::last("tcgetattr"));
  }
  if t.c_lflag & libc::ICANON == 0 {
    return Ok(Vec::new());
  }
  let veof = t.c_cc[libc::VEOF];
  Ok(if line_pending {
    vec![veof, veof]
  } else {
    vec![veof]
  })
}

/// Turns the terminal's echo of input on or off (on a pty, either end may be given).
pub fn set_echo(fd: RawFd, on: bool) -> SysResult<()> {
  // SAFETY: termios is plain data, filled in below.
  let mut t: libc::termios = unsafe { std::mem::zeroed() };
  // SAFETY: tcgetattr writes one termios into t.
  if unsafe { libc::tcgetattr(fd, &mut t) } != 0 {
    return Err(SysError::last("tcgetattr"));
  }
  if on {
    t.c_lflag |= libc::ECHO;
  } else {
    t.c_lflag &= !libc::ECHO;
  }
  // SAFETY: t is a valid termios for reads.
  if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &t) } != 0 {
    return Err(SysError::last("tcsetattr"));
  }
  Ok(())
}

/// Puts the fd into non-blocking mode (idempotent).
pub fn set_nonblocking(fd: RawFd) -> SysResult<()> {
  // SAFETY: F_GETFL/F_SETFL only read and change this fd's status flags.
  let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
  if flags < 0 {
    return Err(SysError::last("fcntl"));
  }
  if flags & libc::O_NONBLOCK == 0 {
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
      return Err(SysError::last("fcntl"));
    }
  }
  Ok(())
}

/// Reads a master into the spare capacity of `buf` until it is full or a read fails: a pty
/// hands over at most a few KiB per read, whatever was asked. Returns, unless the
/// buffer filled up, why reading stopped (end of file as `EIO`, as the master reports it).
/// With `short_is_empty`, a read that the system says left the master empty stops too, as if
/// the next one had said `EAGAIN`: only for a caller that will hear of whatever comes next
/// (see [`crate::sys::read_emptied`]).
pub fn read_available(fd: RawFd, buf: &mut Vec<u8>, short_is_empty: bool) -> Option<SysError> {
  while buf.len() < buf.capacity() {
    let rest = buf.spare_capacity_mut();
    let asked = rest.len();
    // SAFETY: the kernel writes at most `rest.len()` bytes into `rest`, which `buf` owns.
    let n = unsafe { libc::read(fd, rest.as_mut_ptr().cast(), asked) };
    if n > 0 {
      // SAFETY: the read initialised these `n` bytes, right after the initialised ones.
      unsafe { buf.set_len(buf.len() + n as usize) };
      if short_is_empty && crate::sys::read_emptied(asked, n as usize) {
        return Some(SysError::new(libc::EAGAIN, "read"));
      }
      continue;
    }
    let err = if n == 0 {
      SysError::new(libc::EIO, "read")
    } else {
      SysError::last("read")
    };
    if err.errno != libc::EINTR {
      return Some(err);
    }
  }
  None
}

#[cfg(test)]
mod tests {
  use super::*;

  fn fd_flags(fd: RawFd) -> i32 {
    // SAFETY: F_GETFD only reads the fd's flags.
    unsafe { libc::fcntl(fd, libc::F_GETFD) }
  }

  fn tty_name(fd: RawFd) -> String {
    let mut buf = [0 as libc::c_char; 256];
    // SAFETY: ttyname_r writes at most buf.len() bytes, NUL included, into buf.
    let rc = unsafe { libc::ttyname_r(fd, buf.as_mut_ptr(), buf.len()) };
    assert_eq!(rc, 0);
    // SAFETY: on success ttyname_r left a NUL-terminated string in buf.
    let name = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    name.to_string_lossy().into_owned()
  }

  #[test]
  fn pair_is_cloexec_and_sized() {
    let pair = open_pty(WindowSize {
      cols: 100,
      rows: 30,
    })
    .unwrap();
    assert_eq!(tty_name(pair.slave.as_raw_fd()), pair.path);
    assert_ne!(fd_flags(pair.master.as_raw_fd()) & libc::FD_CLOEXEC, 0);
    assert_ne!(fd_flags(pair.slave.as_raw_fd()) & libc::FD_CLOEXEC, 0);
    let size = get_window_size(pair.slave.as_raw_fd()).unwrap();
    assert_eq!(
      size,
      WindowSize {
        cols: 100,
        rows: 30
      }
    );
  }

  #[test]
  fn round_trip_translates_newlines() {
    let pair = open_pty(WindowSize { cols: 80, rows: 24 }).unwrap();
    let slave = pair.slave.as_raw_fd();
    nix::unistd::write(&pair.slave, b"hi\n").unwrap();
    // The terminal may hand the line over in more than one read.
    let read_exactly = |fd: &OwnedFd, len: usize| {
      let mut got = Vec::new();
      let mut buf = [0u8; 16];
      while got.len() < len {
        let n = nix::unistd::read(fd, &mut buf).unwrap();
        assert!(n > 0, "end of file after {got:?}");
        got.extend_from_slice(&buf[..n]);
      }
      got
    };
    assert_eq!(read_exactly(&pair.master, 4), b"hi\r\n");
    // Input is echoed back to the master; disable echo so only the slave sees it.
    set_echo(slave, false).unwrap();
    nix::unistd::write(&pair.master, b"yo\n").unwrap();
    assert_eq!(read_exactly(&pair.slave, 3), b"yo\n");
  }

  #[test]
  fn collecting_after_eio_adds_nothing_when_nothing_was_left() {
    let pair = open_pty(WindowSize { cols: 80, rows: 24 }).unwrap();
    let master = pair.master.as_raw_fd();
    set_nonblocking(master).unwrap();
    nix::unistd::write(&pair.slave, b"hi").unwrap();
    drop(pair.slave);
    let mut got = Vec::with_capacity(64);
    let eio = Some(SysError::new(libc::EIO, "read"));
    assert_eq!(read_available(master, &mut got, false), eio);
    assert_eq!(got, b"hi");
    // The marker is pushed, read and dropped; the master is back at EIO.
    assert!(sys::collect_stranded(&pair.path, master).is_empty());
    let mut after = Vec::with_capacity(64);
    assert_eq!(read_available(master, &mut after, false), eio);
    assert!(after.is_empty());
  }

  /// The ground under `sys::read_emptied`: a reader woken by an edge-triggered poll that stops
  /// at a short read still hears of every byte a writer adds meanwhile, and of the hang-up.
  /// Racy by nature, so a writer thread races the reader over many small writes.
  #[cfg(target_os = "linux")]
  #[test]
  fn stopping_at_a_short_read_misses_no_output_nor_the_hang_up() {
    use mio::unix::SourceFd;
    use mio::{Events, Interest, Poll, Token};
    const TOTAL: usize = 200_000;
    let pair = open_pty(WindowSize { cols: 80, rows: 24 }).unwrap();
    let master = pair.master.as_raw_fd();
    set_nonblocking(master).unwrap();
    let mut poll = Poll::new().unwrap();
    let interest = Interest::READABLE;
    poll
      .registry()
      .register(&mut SourceFd(&master), Token(0), interest)
      .unwrap();
    let (slave, path) = (pair.slave, pair.path);
    let writer = std::thread::spawn(move || {
      let mut sent = 0;
      let mut size = 1;
      while sent < TOTAL {
        let n = size.min(TOTAL - sent);
        nix::unistd::write(&slave, &vec![b'x'; n]).unwrap();
        sent += n;
        // Sizes from 1 byte to past the discipline's buffer, so that both sides lead in turn.
        size = size * 7 % 5003;
      }
      // The slave closes here: the hang-up must raise an event of its own.
    });
    let mut events = Events::with_capacity(4);
    let (mut got, mut hung_up) = (0, false);
    let stop = loop {
      // A generous bound, only so that a missed edge fails the test rather than hanging it.
      poll
        .poll(&mut events, Some(std::time::Duration::from_secs(60)))
        .unwrap();
      assert!(!events.is_empty(), "no edge after {got} of {TOTAL} bytes");
      hung_up |= events.iter().any(|e| e.is_read_closed());
      let mut buf = Vec::with_capacity(1024);
      let stop = loop {
        buf.clear();
        // Once hung up, read to the end as the reactor does (with what the kernel may strand).
        let stop = crate::master::read(master, &path, &mut buf, &mut got, !hung_up);
        if stop != crate::master::Stop::Full {
          break stop;
        }
      };
      if stop != crate::master::Stop::WouldBlock {
        break stop;
      }
    };
    writer.join().unwrap();
    assert_eq!(stop, crate::master::Stop::End);
    assert_eq!(got, TOTAL as u64);
  }

  #[test]
  fn window_size_of_non_terminal_is_enotty() {
    let file = std::fs::File::open("/dev/null").unwrap();
    let err = get_window_size(file.as_raw_fd()).unwrap_err();
    assert_eq!(err.errno, libc::ENOTTY);
    assert_eq!(err.syscall, "ioctl");
  }

  #[test]
  fn eof_sequence_follows_canonical_mode() {
    let pair = open_pty(WindowSize { cols: 80, rows: 24 }).unwrap();
    let seq = eof_sequence(pair.master.as_raw_fd(), false).unwrap();
    assert_eq!(seq, vec![4]);
    let seq = eof_sequence(pair.master.as_raw_fd(), true).unwrap();
    assert_eq!(seq, vec![4, 4]);
  }
}
