//! napi-pty's native core. This file is the Node-API surface, kept thin; with it at the edge
//! are `protocol` (what both sides must agree on), `sink` (events to each Env's
//! JavaScript) and `chunk` (output as Buffers). Below the edge, what can fail returns an
//! `error::SysResult` (but `child`, whose `ChildSpec::new` still reports bad arguments as napi
//! errors).
//!
//! - `pty`: opening pty pairs, window sizes, terminal modes.
//! - `child`: the child's specification and `PATH` lookup; the fork/exec hygiene is in `sys`.
//! - `reactor`: the single I/O thread that owns masters, reads, writes and reaps.
//! - `relay`: `spawn`'s copy loop between the pty and this process's stdin/stdout;
//!   `file_io`: its reads and writes of regular files, on threads of their own.
//! - `master`: where a master's output ends, and when its input leaves a line open.
//! - `session`: what runs in a terminal (its foreground process, its processes) and ending all
//!   of it.
//! - `terminal`: raw mode for this process's own terminal, and its restoration.
//! - `fd`: reading, writing and duplicating fds; `sys`: the platform layer (Linux, macOS);
//!   `error`: errors that name their syscall.

mod child;
mod chunk;
mod error;
mod fd;
mod file_io;
mod master;
mod protocol;
mod pty;
mod reactor;
mod relay;
mod session;
mod sink;
mod sys;
mod terminal;

use std::os::fd::{AsRawFd, IntoRawFd};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::child::{fork_pty, ChildSpec};
use crate::protocol::{WindowSize, SYS_ERROR_PREFIX};
use crate::pty::PtyPair;
use crate::reactor::{adopt, drop_sink, reactor, Command, NewChild, PtyShared};
use crate::relay::{Endpoint, Relay};
use crate::sink::{Event, EventFn, JsArgs, Sink};
use crate::sys::{read_report, Report, Step};

/// The syscall behind each child set-up step, indexed by the step's number (a `SpawnFailed`
/// event's `a`); index 0 is no step.
#[napi]
pub fn step_syscalls() -> Vec<&'static str> {
  (0..=Step::Execve as i32)
    .map(|n| Step::from_i32(n).map_or("", Step::syscall))
    .collect()
}

/// How the reactor reads the masters: `"uring"` (io_uring: the default on Linux where the kernel
/// accepts it) or `"epoll"` (`NAPI_PTY_READ=epoll`, `NAPI_PTY_PORTABLE=1`, a refused ring, or
/// not Linux); `"none"` until the first child has started it.
/// For tests and diagnostics: it says which path a run really took.
#[napi]
pub fn read_path() -> &'static str {
  match reactor::read_path() {
    None => "none",
    Some(true) => "uring",
    Some(false) => "epoll",
  }
}

/// A system error goes to JavaScript as an `Error` whose message is [`SYS_ERROR_PREFIX`] and
/// the error as JSON; the facade turns that into a Node-style error.
impl From<error::SysError> for Error {
  fn from(err: error::SysError) -> Self {
    Error::new(
      Status::GenericFailure,
      format!("{SYS_ERROR_PREFIX}{}", err.to_json()),
    )
  }
}

/// A pair goes to JavaScript as `{ master, slave, path }`, its fds then owned by the caller.
impl ToNapiValue for PtyPair {
  unsafe fn to_napi_value(env: napi::sys::napi_env, pair: Self) -> Result<napi::sys::napi_value> {
    let env = Env::from_raw(env);
    let mut object = Object::new(&env)?;
    object.set("master", pair.master.into_raw_fd())?;
    object.set("slave", pair.slave.into_raw_fd())?;
    object.set("path", pair.path)?;
    // SAFETY: converts the object just made in this Env, on its thread.
    unsafe { Object::to_napi_value(env.raw(), object) }
  }
}

/// Opens a new pseudo-terminal pair of the given size (validated by the facade: 1 to 65535).
/// The caller owns both fds.
#[napi(ts_return_type = "{ master: number; slave: number; path: string }")]
pub fn openpty(cols: u16, rows: u16) -> Result<PtyPair> {
  Ok(pty::open_pty(WindowSize { cols, rows })?)
}

/// The window size of any terminal fd.
#[napi]
pub fn get_window_size(fd: i32) -> Result<WindowSize> {
  Ok(pty::get_window_size(fd)?)
}

/// Sets the window size of any terminal fd (validated by the facade: 1 to 65535 each).
#[napi]
pub fn set_window_size(fd: i32, cols: u16, rows: u16) -> Result<()> {
  Ok(pty::set_window_size(fd, WindowSize { cols, rows })?)
}

/// One per Env: where the reactor delivers that Env's events. Created unreferenced; the facade
/// references it while any of its children is active, so Node stays alive for them.
#[napi]
pub struct EventSink {
  sink: Arc<Sink>,
}

#[napi]
impl EventSink {
  #[napi(
    constructor,
    ts_args_type = "callback: (kind: number, id: number, data: Buffer | null, a: number, b: number) => void"
  )]
  pub fn new(env: Env, callback: Function<'_, JsArgs, ()>) -> Result<Self> {
    let callback: EventFn = callback
      .build_threadsafe_function::<Event>()
      .callee_handled::<false>()
      .weak::<true>()
      .build_callback(|ctx| Ok(ctx.value.into_js_args()))?;
    let sink = Arc::new(Sink::new(callback));
    // When this Env (the main thread or a worker) is torn down, its children are hung up and
    // nothing more is delivered to it.
    env.add_env_cleanup_hook(sink.id, |id| {
      terminal::restore_all(id);
      drop_sink(id);
    })?;
    Ok(EventSink { sink })
  }

  /// Whether pending events keep the Env's event loop alive.
  #[napi]
  pub fn set_ref(&self, env: Env, referenced: bool) -> Result<()> {
    self.sink.set_ref(&env, referenced)
  }
}

/// What `fork` needs, validated by the facade.
#[napi(object)]
pub struct ForkSpec {
  /// The program's arguments; the first is looked up on `PATH` from `env`.
  pub argv: Vec<String>,
  /// The child's environment as `NAME=value` entries; this process's own when absent.
  pub env: Option<Vec<String>>,
  /// `TERM` for the child; else the environment's, else `xterm-256color`.
  pub term: Option<String>,
  pub cwd: Option<String>,
  pub uid: Option<u32>,
  pub gid: Option<u32>,
  /// Validated by the facade: 1 to 65535.
  pub cols: u16,
  pub rows: u16,
  /// Whether the terminal echoes input (default true).
  pub echo: Option<bool>,
}

/// Forks a child on a new pty and has it exec `spec.argv`. Whether the exec succeeded is in
/// `settled` when already known, else it arrives later as an event on `sink`.
#[napi]
pub fn fork(sink: &EventSink, spec: ForkSpec) -> Result<NativePty> {
  let size = WindowSize {
    cols: spec.cols,
    rows: spec.rows,
  };
  reactor::start()?;
  let env = child::environment(spec.env.as_deref(), spec.term.as_deref()).map_err(|_| {
    Error::new(
      Status::InvalidArg,
      "env and term must not contain NUL bytes",
    )
  })?;
  let child_spec = ChildSpec::new(&spec.argv, env, spec.cwd.as_deref(), spec.uid, spec.gid)?;
  let forked = fork_pty(&child_spec, size, spec.echo.unwrap_or(true))?;
  // After clone(CLONE_VFORK) the parent runs again only once the child has exec'd or given
  // up, so the report is normally complete already: reading it here spares the first event a
  // round trip through the reactor. Still open (the fork path, or another child that inherited
  // the pipe for a moment): the reactor watches it.
  let (report, settled) = match read_report(forked.report.as_raw_fd()) {
    Ok(Report::Pending) => (Some(forked.report), None),
    Ok(Report::Succeeded) => (None, Some(Vec::new())),
    Ok(Report::Failed { step, errno }) => (None, Some(vec![step as i32, errno])),
    Err(e) => (None, Some(vec![Step::Execve as i32, e.errno])),
  };
  let shared = adopt(
    NewChild {
      pid: forked.pid,
      master: forked.master,
      report,
      pts_name: forked.pts_name,
    },
    sink.sink.clone(),
  )?;
  if settled.as_ref().is_some_and(|s| !s.is_empty()) {
    // As the reactor does for a failed exec: nothing will come out of this terminal.
    shared.close();
  }
  Ok(NativePty {
    shared,
    program: child_spec.program(),
    cwd: child_spec.cwd(),
    settled,
  })
}

/// A child on a pty, as the reactor sees it.
#[napi]
pub struct NativePty {
  shared: Arc<PtyShared>,
  program: String,
  cwd: Option<String>,
  settled: Option<Vec<i32>>,
}

#[napi]
impl NativePty {
  #[napi(getter)]
  pub fn id(&self) -> u32 {
    self.shared.id
  }

  #[napi(getter)]
  pub fn pid(&self) -> i32 {
    self.shared.pid
  }

  /// The exec's outcome if it was known when `fork` returned: `[]` when the program runs,
  /// `[step, errno]` when a step failed; `null` when it will arrive as an event.
  #[napi(getter)]
  pub fn settled(&self) -> Option<Vec<i32>> {
    self.settled.clone()
  }

  /// The master fd, or -1 once closed.
  #[napi(getter)]
  pub fn fd(&self) -> i32 {
    self.shared.master_fd().unwrap_or(-1)
  }

  #[napi(getter)]
  pub fn pts_name(&self) -> String {
    self.shared.pts_name.clone()
  }

  /// The program path that was executed (after the `PATH` lookup).
  #[napi(getter)]
  pub fn program(&self) -> String {
    self.program.clone()
  }

  #[napi(getter)]
  pub fn cwd(&self) -> Option<String> {
    self.cwd.clone()
  }

  #[napi]
  pub fn resume(&self) -> Result<()> {
    Ok(self.shared.resume()?)
  }

  #[napi]
  pub fn pause(&self) {
    self.shared.pause()
  }

  /// `true` when all of `data` was written; otherwise a `Drained` event follows.
  #[napi]
  pub fn write(&self, data: &[u8]) -> Result<bool> {
    Ok(self.shared.write(data)?)
  }

  /// Sends the terminal's end-of-file; same return as `write`.
  #[napi]
  pub fn send_eof(&self) -> Result<bool> {
    Ok(self.shared.send_eof()?)
  }

  /// Validated by the facade: 1 to 65535 each.
  #[napi]
  pub fn resize(&self, cols: u16, rows: u16) -> Result<()> {
    Ok(self.shared.resize(WindowSize { cols, rows })?)
  }

  /// `false` when the child is already gone.
  #[napi]
  pub fn kill(&self, signal: i32) -> Result<bool> {
    Ok(self.shared.kill(signal)?)
  }

  #[napi]
  pub fn close(&self) {
    self.shared.close()
  }

  /// Hands the pty's I/O to `spawn`'s native copy loop between `stdin_fd` (-1: none) and
  /// `stdout_fd`. With a hook flag set, each chunk of that lane goes to JavaScript first.
  #[napi]
  pub fn start_relay(
    &self,
    stdin_fd: i32,
    stdout_fd: i32,
    hook_output: bool,
    hook_input: bool,
  ) -> Result<()> {
    let stdin = if stdin_fd < 0 {
      None
    } else {
      Endpoint::open(stdin_fd, false)?
    };
    let stdout = Endpoint::open(stdout_fd, true)?;
    // The reactor must never block on the master.
    self.shared.ensure_nonblocking()?;
    let relay = Relay::new(self.shared.id, stdin, stdout, hook_output, hook_input);
    self.shared.relaying.store(true, Ordering::SeqCst);
    reactor().send(Command::StartRelay(self.shared.id, Box::new(relay)));
    Ok(())
  }

  /// A hook's answer for `lane` (`LANE_OUTPUT` or `LANE_INPUT`): the bytes to pass on, or
  /// `null` for end-of-file in that direction.
  #[napi]
  pub fn relay_answer(&self, lane: u32, data: Option<&[u8]>) {
    let data = data.map(<[u8]>::to_vec);
    reactor().send(Command::RelayAnswer(self.shared.id, lane, data));
  }
}

/// This process's terminal in raw mode; `restore()` puts the saved mode back exactly.
#[napi]
pub struct RawMode {
  saved: Option<terminal::SavedMode>,
}

#[napi]
impl RawMode {
  /// Saves `fd`'s terminal mode and switches it to raw mode (`cfmakeraw`).
  #[napi(constructor)]
  pub fn new(sink: &EventSink, fd: i32) -> Result<Self> {
    Ok(RawMode {
      saved: Some(terminal::make_raw(fd, sink.sink.id)?),
    })
  }

  /// Restores the saved mode (TCSAFLUSH). Later calls do nothing.
  #[napi]
  pub fn restore(&mut self) -> Result<()> {
    match self.saved.take() {
      Some(saved) => Ok(saved.restore()?),
      None => Ok(()),
    }
  }
}

/// Whether `fd` is a terminal.
#[napi]
pub fn is_terminal(fd: i32) -> bool {
  terminal::is_terminal(fd)
}

impl Drop for NativePty {
  fn drop(&mut self) {
    self.shared.close();
  }
}
