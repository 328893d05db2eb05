//! `spawn`'s copy loop: master → stdout and stdin → master, driven by the reactor, with bounded
//! buffers and no JavaScript on the data path unless a hook asks for each chunk.
//!
//! This process's stdin and stdout are never switched to non-blocking mode: their file status
//! flags belong to whoever else shares them (the user's shell, a parent process). A pipe or
//! terminal is reopened (`sys::reopen_own`) to get a description of our own that may be
//! non-blocking, else used through a probed duplicate; a socket is used with per-call
//! `MSG_DONTWAIT`; `/dev/null` and its kind never block; a regular file is read or written on
//! a file thread (`file_io.rs`), since that can.
//!
//! [`endpoint`] is how stdin and stdout are used; [`lane`] is one direction's buffer;
//! [`gather`] decides when output for a file has waited long enough; this file pumps the two
//! lanes.

mod endpoint;
mod gather;
mod lane;

use std::os::fd::RawFd;
use std::time::Instant;

use mio::{Interest, Registry, Token};

use crate::error::SysError;
use crate::fd::{self, WriteMode};
use crate::file_io::{self, FileDone, FileJob, FileOp};
use crate::master::{self, Stop};
use crate::protocol::{LANE_INPUT, LANE_OUTPUT};
use crate::pty::eof_sequence;

pub(crate) use endpoint::Endpoint;
use endpoint::{Access, FileRead};
use gather::Gather;
use lane::{Lane, READ_CHUNK};

/// The most output gathered for a file while a file thread writes the chunk before.
const FILE_BATCH: usize = 1024 * 1024;

/// What a pump wants the reactor to send to JavaScript.
pub(crate) enum Out {
  /// A chunk for the hook of the given lane.
  Chunk(u32, Vec<u8>),
  /// Writing to stdout failed, for a reason other than stdout going away.
  StdoutFailed(SysError),
}

/// The copy loop of one `spawn`.
pub(crate) struct Relay {
  /// The pty's id, which the file threads' reports carry.
  id: u32,
  pub(crate) stdin: Option<Endpoint>,
  pub(crate) stdout: Option<Endpoint>,
  pub(crate) output: Lane,
  input: Lane,
  /// The last input byte did not end a line (see [`master::leaves_line_open`]).
  line_pending: bool,
  /// `Done` has been reported.
  pub(crate) done: bool,
  /// Bytes read from the master so far.
  pub(crate) output_read: u64,
  /// The buffer a file thread gave back, for the output lane's next chunk.
  spare: Vec<u8>,
  /// Whether output for a file waits for more before it goes to a file thread.
  gather: Gather,
}

impl Relay {
  pub(crate) fn new(
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
      gather: Gather::default(),
    }
  }

  /// Puts stdin and stdout in `registry`'s poll set under the given tokens.
  pub(crate) fn register(&mut self, registry: &'static Registry, stdin: Token, stdout: Token) {
    if let Some(end) = self.stdin.as_mut() {
      end.register(registry, stdin, Interest::READABLE);
    }
    if let Some(end) = self.stdout.as_mut() {
      end.register(registry, stdout, Interest::WRITABLE);
    }
  }

  /// master → stdout. `master_open`: the master is not closed yet; `readable` is its readiness;
  /// `short_is_empty`: the child runs and the terminal is up. `source` makes one read of the
  /// master into a buffer's spare capacity, as [`master::read`] does (the reactor's io_uring
  /// path copies out what its completions gathered instead); it is given `short_is_empty`.
  /// Returns true when the master would block (the caller then starts the exit grace if the
  /// child is gone).
  pub(crate) fn pump_output(
    &mut self,
    master_open: bool,
    readable: &mut bool,
    short_is_empty: bool,
    source: &mut impl FnMut(&mut Vec<u8>, &mut u64, bool) -> Stop,
    out: &mut impl FnMut(Out),
  ) -> bool {
    if let Some(err) = self.stdout.as_mut().and_then(|s| s.failed.take()) {
      Self::fail_stdout(&mut self.stdout, err, out);
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
            Ok(n) if n < lane.pending().len() => {
              lane.start += n;
              stdout.ready = false;
              return false;
            }
            Ok(n) => lane.start += n,
            Err(err) => Self::fail_stdout(&mut self.stdout, err, out),
          }
          continue;
        }
        // While output streams, what was read waits to go in one larger write (`gather`).
        let may_wait = short_is_empty && !lane.hooked && !lane.ended;
        if !stdout.writing
          && !self
            .gather
            .wait(lane.pending().len(), may_wait, Instant::now())
        {
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
        // A file thread has the chunk before, or this one waits for more: read on, up to a
        // limit while a write is out (a hooked lane hands each chunk to JavaScript as it is
        // read, so it waits instead).
        if stdout.writing && (lane.hooked || lane.buf.len() >= FILE_BATCH) {
          return false;
        }
      }
      if lane.awaiting || lane.ended {
        return false;
      }
      if !master_open {
        lane.ended = true;
        return false;
      }
      // Not readable only once a read met EAGAIN: the master would block.
      if !*readable {
        return true;
      }
      // As much as the master has now, in one buffer: one write (or one hook call) for it.
      lane.buf.reserve(READ_CHUNK);
      // Only output for a file waits for more, so only its reads are timed.
      let to_file = self
        .stdout
        .as_ref()
        .is_some_and(|s| s.access == Access::File);
      let (before, started) = (lane.buf.len(), to_file.then(Instant::now));
      let stop = source(&mut lane.buf, &mut self.output_read, short_is_empty);
      if let Some(started) = started.filter(|_| lane.buf.len() > before) {
        self.gather.gave(started, Instant::now());
      }
      if !lane.buf.is_empty() && lane.hooked {
        out(Out::Chunk(LANE_OUTPUT, lane.buf.clone()));
        lane.clear();
        lane.awaiting = true;
      }
      match stop {
        Stop::Full => {}
        // What was read is written first; the next turn returns.
        Stop::WouldBlock => *readable = false,
        Stop::End => lane.ended = true,
      }
    }
  }

  /// A file job of this relay is done; `bytes` is its buffer back.
  pub(crate) fn file_done(&mut self, done: FileDone, bytes: Vec<u8>) {
    match done {
      FileDone::Written(result) => self.written(result.err(), bytes),
      FileDone::Read(result) => self.file_read(result, bytes),
    }
  }

  /// A file thread is done with a chunk: how its write failed if it did, and its buffer back.
  fn written(&mut self, failed: Option<SysError>, mut bytes: Vec<u8>) {
    if let Some(stdout) = self.stdout.as_mut() {
      stdout.writing = false;
      stdout.failed = failed;
    }
    bytes.clear();
    self.spare = bytes;
  }

  /// Writing to stdout failed. The reader went away (`cmd | head`): not an error, as for any
  /// filter. Anything else (a full disk, a file over RLIMIT_FSIZE, an I/O error) would lose
  /// output silently: `spawn` rejects with it instead, as Python's would raise. Either way the
  /// child is drained from then on and what it says dropped.
  fn fail_stdout(stdout: &mut Option<Endpoint>, err: SysError, out: &mut impl FnMut(Out)) {
    *stdout = None;
    if !matches!(err.errno, libc::EPIPE | libc::ECONNRESET) {
      out(Out::StdoutFailed(err));
    }
  }

  /// stdin → master.
  pub(crate) fn pump_input(&mut self, master: Option<RawFd>, out: &mut impl FnMut(Out)) {
    let Some(master) = master else {
      self.end_input(None);
      return;
    };
    loop {
      if !self.input.is_empty() {
        match fd::write(master, self.input.pending(), WriteMode::Write) {
          Ok(n) if n < self.input.pending().len() => {
            self.input.start += n;
            return;
          }
          Ok(n) => self.input.start += n,
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
        stdin.read(&mut self.input.buf)
      };
      match read {
        Ok(0) => self.end_input(Some(master)),
        Ok(_) if self.input.hooked => {
          out(Out::Chunk(LANE_INPUT, self.input.buf.clone()));
          self.input.clear();
          self.input.awaiting = true;
        }
        Ok(_) => self.note_input(),
        Err(e) if e.errno == libc::EINTR => {}
        Err(e) if e.errno == libc::EAGAIN => {
          stdin.ready = false;
          return;
        }
        Err(_) => self.end_input(Some(master)),
      }
    }
  }

  fn note_input(&mut self) {
    if let Some(open) = master::leaves_line_open(&self.input.buf) {
      self.line_pending = open;
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
        self.input.set(&seq);
      }
    }
  }

  /// A file thread read stdin: how it went, and the lane's buffer back with what it read;
  /// `pump_input` takes it from there.
  fn file_read(&mut self, result: crate::error::SysResult<usize>, bytes: Vec<u8>) {
    // Input may have ended meanwhile (the child hung up): then the bytes are of no use.
    if let Some(stdin) = self.stdin.as_mut() {
      if matches!(stdin.file_read, FileRead::InFlight) {
        stdin.file_read = FileRead::Done(result, bytes);
      }
    }
  }

  /// A hook answered for `lane`.
  pub(crate) fn answer(&mut self, lane: u32, data: Option<Vec<u8>>, master: Option<RawFd>) {
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

  /// When output waiting for a file must go to it (the reactor pumps the relay then).
  pub(crate) fn deadline(&self) -> Option<Instant> {
    self.gather.deadline()
  }

  /// All output has been read and written: `spawn` may resolve once the child is reaped.
  pub(crate) fn output_complete(&self) -> bool {
    let writing = self.stdout.as_ref().is_some_and(|s| s.writing);
    self.output.ended && self.output.is_empty() && !self.output.awaiting && !writing
  }
}
