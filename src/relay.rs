//! `spawn`'s copy loop: master → stdout and stdin → master, driven by the reactor, with bounded
//! buffers and no JavaScript on the data path unless a hook asks for each chunk.
//!
//! This process's stdin and stdout are never switched to non-blocking mode: their file status
//! flags belong to whoever else shares them (the user's shell, a parent process). A pipe or
//! terminal is reopened (`sys::reopen_own`) to get a description of our own that may be
//! non-blocking, else used through a probed duplicate; a socket is used with per-call
//! `MSG_DONTWAIT`; `/dev/null` and its kind never block; a regular file is read or written on
//! a file thread (`file_io.rs`), since that can.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;

use crate::error::{SysError, SysResult};
use crate::file_io::{self, FileDone, FileJob, FileOp};
use crate::pty::{eof_sequence, read_available};
use crate::reactor::READ_CHUNK;
use crate::sys::{collect_stranded, strandable};

/// The most output gathered for a file while a file thread writes the chunk before.
const FILE_BATCH: usize = 1024 * 1024;

/// How an endpoint is read and written without changing flags anyone else sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
  /// Our own non-blocking description of the same pipe or terminal.
  NonBlocking,
  /// A socket: `recv`/`send` with `MSG_DONTWAIT`.
  Socket,
  /// A duplicate of a blocking description (reopening was refused): each call is preceded by a
  /// zero-timeout `poll`, and writes stay within `PIPE_BUF`, so none blocks.
  Probe,
  /// Devices that are always ready (and cannot be polled), such as `/dev/null`.
  Always,
  /// A regular file or block device, read or written on a file thread: never "would block",
  /// but a call may take as long as the disk or a network filesystem does.
  File,
}

/// This process's stdin or stdout as the relay uses it.
pub struct Endpoint {
  /// Shared with a file thread while it reads or writes it.
  fd: Arc<OwnedFd>,
  access: Access,
  /// Readiness as last learned: set by an event (or always, for `Always`), cleared by EAGAIN.
  pub ready: bool,
  /// A chunk is with a file thread (`File` only).
  writing: bool,
  /// The last write failed with this errno (`File` only).
  failed: Option<i32>,
  /// Where the read of it stands (`File` stdin only).
  file_read: FileRead,
}

enum FileRead {
  Idle,
  InFlight,
  /// Done and not yet acted on: how it went, and the buffer it read into.
  Done(Result<usize, i32>, Vec<u8>),
}

impl Drop for Endpoint {
  fn drop(&mut self) {
    if self.pollable() {
      crate::reactor::forget_fd(self.raw());
    }
  }
}

impl Endpoint {
  /// `None` when `fd` is not open: for stdin that is an immediate end-of-file.
  pub fn open(fd: RawFd, for_write: bool) -> SysResult<Option<Endpoint>> {
    // SAFETY: stat is plain data that fstat fills in.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: st is valid for writes.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
      let err = SysError::last("fstat");
      return if err.errno == libc::EBADF {
        Ok(None)
      } else {
        Err(err)
      };
    }
    let kind = st.st_mode & libc::S_IFMT;
    let (fd, access) = match kind {
      libc::S_IFSOCK => (dup(fd)?, Access::Socket),
      libc::S_IFIFO | libc::S_IFCHR => match crate::sys::reopen_own(fd, for_write) {
        Some(own) => (own, Access::NonBlocking),
        None => (dup(fd)?, Access::Probe),
      },
      libc::S_IFREG | libc::S_IFBLK => (dup(fd)?, Access::File),
      _ => (dup(fd)?, Access::Always),
    };
    Ok(Some(Endpoint {
      fd: Arc::new(fd),
      access,
      ready: true,
      writing: false,
      failed: None,
      file_read: FileRead::Idle,
    }))
  }

  pub fn raw(&self) -> RawFd {
    self.fd.as_raw_fd()
  }

  /// Whether readiness events can be had for it; otherwise it is treated as always ready.
  pub fn pollable(&self) -> bool {
    !matches!(self.access, Access::Always | Access::File)
  }

  /// Called when it cannot be polled after all (epoll refuses some character devices).
  pub fn set_always_ready(&mut self) {
    self.access = Access::Always;
    self.ready = true;
  }

  fn probe(&self, events: libc::c_short) -> bool {
    let mut pfd = libc::pollfd {
      fd: self.raw(),
      events,
      revents: 0,
    };
    // SAFETY: polls one pollfd we own, without waiting.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    n > 0
  }

  /// Reads into `buf`'s spare capacity; `Ok(0)` is end-of-file.
  fn read_into(&mut self, buf: &mut Vec<u8>) -> Result<usize, i32> {
    if self.access == Access::Probe && !self.probe(libc::POLLIN) {
      return Err(libc::EAGAIN);
    }
    if self.access == Access::Socket {
      let spare = buf.spare_capacity_mut();
      // SAFETY: recv writes at most spare.len() bytes into the spare capacity.
      let n = unsafe {
        libc::recv(
          self.raw(),
          spare.as_mut_ptr().cast(),
          spare.len(),
          libc::MSG_DONTWAIT,
        )
      };
      return commit(buf, n);
    }
    read_fd(self.raw(), buf)
  }

  fn write(&mut self, data: &[u8]) -> Result<usize, i32> {
    let data = match self.access {
      Access::Probe if !self.probe(libc::POLLOUT) => return Err(libc::EAGAIN),
      Access::Probe => &data[..data.len().min(libc::PIPE_BUF)],
      _ => data,
    };
    // SAFETY (both arms): the kernel reads at most data.len() bytes from data.
    let n = if self.access == Access::Socket {
      unsafe {
        libc::send(
          self.raw(),
          data.as_ptr().cast(),
          data.len(),
          libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        )
      }
    } else {
      unsafe { libc::write(self.raw(), data.as_ptr().cast(), data.len()) }
    };
    if n < 0 {
      Err(nix::errno::Errno::last_raw())
    } else {
      Ok(n as usize)
    }
  }
}

fn dup(fd: RawFd) -> SysResult<OwnedFd> {
  // SAFETY: F_DUPFD_CLOEXEC returns a new fd or -1.
  let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
  if new < 0 {
    return Err(SysError::last("fcntl"));
  }
  // SAFETY: new was just created and is owned by nobody else.
  Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// `read(2)` into `buf`'s spare capacity, which it then commits.
pub fn read_fd(fd: RawFd, buf: &mut Vec<u8>) -> Result<usize, i32> {
  let spare = buf.spare_capacity_mut();
  // SAFETY: read writes at most spare.len() bytes into the spare capacity.
  let n = unsafe { libc::read(fd, spare.as_mut_ptr().cast(), spare.len()) };
  commit(buf, n)
}

fn commit(buf: &mut Vec<u8>, n: isize) -> Result<usize, i32> {
  if n < 0 {
    return Err(nix::errno::Errno::last_raw());
  }
  let n = n as usize;
  // SAFETY: the kernel initialised the first n bytes of the spare capacity.
  unsafe { buf.set_len(buf.len() + n) };
  Ok(n)
}

fn write_fd(fd: RawFd, data: &[u8]) -> Result<usize, i32> {
  // SAFETY: the kernel reads at most data.len() bytes from data.
  let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
  if n < 0 {
    Err(nix::errno::Errno::last_raw())
  } else {
    Ok(n as usize)
  }
}

/// One direction of the copy: a buffer of at most one chunk in flight.
pub struct Lane {
  buf: Vec<u8>,
  start: usize,
  /// A JavaScript hook sees (and may replace) every chunk.
  hooked: bool,
  /// A chunk is with the hook; nothing more is read until it answers.
  pub awaiting: bool,
  /// The source reached end-of-file (or the hook said so).
  pub ended: bool,
}

impl Lane {
  fn new(hooked: bool) -> Self {
    Lane {
      buf: Vec::with_capacity(READ_CHUNK),
      start: 0,
      hooked,
      awaiting: false,
      ended: false,
    }
  }

  fn pending(&self) -> &[u8] {
    &self.buf[self.start..]
  }

  fn is_empty(&self) -> bool {
    self.start >= self.buf.len()
  }

  fn clear(&mut self) {
    self.buf.clear();
    self.start = 0;
  }

  /// The hook's answer: bytes to pass on, or `None` for end-of-file in this direction.
  fn answer(&mut self, data: Option<Vec<u8>>) {
    self.awaiting = false;
    match data {
      Some(bytes) => {
        // Into our own buffer: it keeps its READ_CHUNK capacity for the reads that follow.
        self.buf.clear();
        self.buf.extend_from_slice(&bytes);
        self.start = 0;
      }
      None => self.ended = true,
    }
  }
}

/// What a pump wants the reactor to send to JavaScript.
pub enum Out {
  /// A chunk for the hook of the given lane (0 output, 1 input).
  Chunk(u32, Vec<u8>),
  /// Writing to stdout failed with this errno, for a reason other than stdout going away.
  StdoutFailed(i32),
}

pub const LANE_OUTPUT: u32 = 0;
pub const LANE_INPUT: u32 = 1;

pub struct Relay {
  /// The pty's id, which the writer thread's reports carry.
  id: u32,
  pub stdin: Option<Endpoint>,
  pub stdout: Option<Endpoint>,
  pub output: Lane,
  pub input: Lane,
  /// The last input byte did not end a line (EOF then takes two EOF characters).
  line_pending: bool,
  /// `Done` has been reported.
  pub done: bool,
  /// Bytes read from the master so far.
  pub output_read: u64,
  /// The buffer a file thread gave back, for the output lane's next chunk.
  spare: Vec<u8>,
}

impl Relay {
  pub fn new(
    id: u32,
    stdin: Option<Endpoint>,
    stdout: Option<Endpoint>,
    hook_output: bool,
    hook_input: bool,
  ) -> Self {
    Relay {
      id,
      stdin,
      stdout,
      output: Lane::new(hook_output),
      input: Lane::new(hook_input),
      line_pending: false,
      done: false,
      output_read: 0,
      spare: Vec::new(),
    }
  }

  /// master → stdout. `readable` is the master's readiness; `pts_path` names the slave, for
  /// [`collect_stranded`]. Returns true when the master would block (the caller then starts
  /// the exit grace if the child is gone).
  pub fn pump_output(
    &mut self,
    master: Option<RawFd>,
    pts_path: &str,
    readable: &mut bool,
    out: &mut impl FnMut(Out),
  ) -> bool {
    if let Some(errno) = self.stdout.as_mut().and_then(|s| s.failed.take()) {
      Self::fail_stdout(&mut self.stdout, errno, out);
    }
    let lane = &mut self.output;
    loop {
      if lane.is_empty() {
        lane.clear();
      } else {
        let Some(stdout) = self.stdout.as_mut() else {
          // stdout is gone or failed: keep draining the child, drop what it says.
          lane.clear();
          continue;
        };
        if stdout.access != Access::File {
          match stdout.write(lane.pending()) {
            Ok(n) => lane.start += n,
            Err(libc::EINTR) => {}
            Err(libc::EAGAIN) => {
              stdout.ready = false;
              return false;
            }
            Err(errno) => Self::fail_stdout(&mut self.stdout, errno, out),
          }
          continue;
        }
        if !stdout.writing {
          // The whole chunk goes to a file thread; the lane reads on into the buffer
          // that came back last.
          let mut bytes = std::mem::replace(&mut lane.buf, std::mem::take(&mut self.spare));
          bytes.drain(..lane.start);
          lane.start = 0;
          file_io::submit(FileJob {
            id: self.id,
            fd: stdout.fd.clone(),
            bytes,
            op: FileOp::Write,
          });
          stdout.writing = true;
          continue;
        }
        // A file thread has the chunk before: gather the next one, up to a limit (a hooked lane
        // hands each chunk to JavaScript as it is read, so it waits instead).
        if lane.hooked || lane.buf.len() >= FILE_BATCH {
          return false;
        }
      }
      if lane.awaiting || lane.ended {
        return false;
      }
      let Some(master) = master else {
        lane.ended = true;
        return false;
      };
      // Not readable only once a read met EAGAIN: the master would block.
      if !*readable {
        return true;
      }
      // As much as the master has now, in one buffer: one write (or one hook call) for it.
      lane.buf.reserve(READ_CHUNK);
      let before = lane.buf.len();
      let stop = read_available(master, &mut lane.buf).map(|e| e.errno);
      self.output_read += (lane.buf.len() - before) as u64;
      // EIO: every slave fd is closed and everything before has been read, but for what the
      // kernel may have stranded.
      if stop == Some(libc::EIO) && strandable(self.output_read) {
        let stranded = collect_stranded(pts_path, master);
        self.output_read += stranded.len() as u64;
        lane.buf.extend_from_slice(&stranded);
      }
      if !lane.buf.is_empty() && lane.hooked {
        out(Out::Chunk(LANE_OUTPUT, lane.buf.clone()));
        lane.clear();
        lane.awaiting = true;
      }
      match stop {
        None => {}
        // Would block: what was read is written first; the next turn returns.
        Some(libc::EAGAIN) => *readable = false,
        Some(_) => lane.ended = true,
      }
    }
  }

  /// A file job of this relay is done; `bytes` is its buffer back.
  pub fn file_done(&mut self, done: FileDone, bytes: Vec<u8>) {
    match done {
      FileDone::Written(errno) => self.written(errno, bytes),
      FileDone::Read(result) => self.file_read(result, bytes),
    }
  }

  /// A file thread is done with a chunk: `errno` if its write failed, and its buffer back.
  fn written(&mut self, errno: Option<i32>, mut bytes: Vec<u8>) {
    if let Some(stdout) = self.stdout.as_mut() {
      stdout.writing = false;
      stdout.failed = errno;
    }
    bytes.clear();
    self.spare = bytes;
  }

  /// Writing to stdout failed. The reader went away (`cmd | head`): not an error, as for any
  /// filter. Anything else (a full disk, a file over RLIMIT_FSIZE, an I/O error) would lose
  /// output silently: `spawn` rejects with it instead, as Python's would raise. Either way the
  /// child is drained from then on and what it says dropped.
  fn fail_stdout(stdout: &mut Option<Endpoint>, errno: i32, out: &mut impl FnMut(Out)) {
    *stdout = None;
    if !matches!(errno, libc::EPIPE | libc::ECONNRESET) {
      out(Out::StdoutFailed(errno));
    }
  }

  /// stdin → master.
  pub fn pump_input(&mut self, master: Option<RawFd>, out: &mut impl FnMut(Out)) {
    let Some(master) = master else {
      self.end_input(None);
      return;
    };
    loop {
      if !self.input.is_empty() {
        match write_fd(master, self.input.pending()) {
          Ok(n) => self.input.start += n,
          Err(libc::EINTR) => {}
          Err(libc::EAGAIN) => return,
          Err(_) => {
            // The child's side is gone: nothing more can be delivered.
            self.input.clear();
            self.end_input(None);
            return;
          }
        }
        continue;
      }
      self.input.clear();
      if self.input.awaiting || self.input.ended {
        return;
      }
      let Some(stdin) = self.stdin.as_mut() else {
        self.end_input(Some(master));
        continue;
      };
      if !stdin.ready {
        return;
      }
      let read = if stdin.access == Access::File {
        match std::mem::replace(&mut stdin.file_read, FileRead::InFlight) {
          FileRead::InFlight => return,
          FileRead::Done(result, bytes) => {
            stdin.file_read = FileRead::Idle;
            self.input.buf = bytes;
            result
          }
          FileRead::Idle => {
            // The lane is empty: its buffer goes to a file thread and comes back filled.
            let mut bytes = std::mem::take(&mut self.input.buf);
            bytes.reserve(READ_CHUNK);
            file_io::submit(FileJob {
              id: self.id,
              fd: stdin.fd.clone(),
              bytes,
              op: FileOp::Read,
            });
            return;
          }
        }
      } else {
        self.input.buf.reserve(READ_CHUNK);
        stdin.read_into(&mut self.input.buf)
      };
      match read {
        Ok(0) => self.end_input(Some(master)),
        Ok(_) if self.input.hooked => {
          out(Out::Chunk(LANE_INPUT, self.input.buf.clone()));
          self.input.clear();
          self.input.awaiting = true;
        }
        Ok(_) => self.note_input(),
        Err(libc::EINTR) => {}
        Err(libc::EAGAIN) => {
          stdin.ready = false;
          return;
        }
        Err(_) => self.end_input(Some(master)),
      }
    }
  }

  fn note_input(&mut self) {
    if let Some(last) = self.input.buf.last() {
      self.line_pending = *last != b'\n' && *last != b'\r';
    }
  }

  /// stdin is done: stop reading it and queue the terminal's EOF for the child, so that a
  /// child waiting for input ends (Python's spawn loops forever here).
  fn end_input(&mut self, master: Option<RawFd>) {
    self.stdin = None;
    if self.input.ended {
      return;
    }
    self.input.ended = true;
    if let Some(master) = master {
      if let Ok(seq) = eof_sequence(master, self.line_pending) {
        self.input.buf.clear();
        self.input.buf.extend_from_slice(&seq);
        self.input.start = 0;
      }
    }
  }

  /// A file thread read stdin: how it went, and the lane's buffer back with what it read;
  /// `pump_input` takes it from there.
  fn file_read(&mut self, result: Result<usize, i32>, bytes: Vec<u8>) {
    // Input may have ended meanwhile (the child hung up): then the bytes are of no use.
    if let Some(stdin) = self.stdin.as_mut() {
      if matches!(stdin.file_read, FileRead::InFlight) {
        stdin.file_read = FileRead::Done(result, bytes);
      }
    }
  }

  /// A hook answered for `lane`.
  pub fn answer(&mut self, lane: u32, data: Option<Vec<u8>>, master: Option<RawFd>) {
    if lane == LANE_OUTPUT {
      self.output.answer(data);
    } else {
      let eof = data.is_none();
      self.input.answer(data);
      if eof {
        self.input.ended = false;
        self.end_input(master);
      } else {
        self.note_input();
      }
    }
  }

  /// All output has been read and written: `spawn` may resolve once the child is reaped.
  pub fn output_complete(&self) -> bool {
    let writing = self.stdout.as_ref().is_some_and(|s| s.writing);
    self.output.ended && self.output.is_empty() && !self.output.awaiting && !writing
  }
}
