//! How events reach JavaScript: one [`Sink`] per Env, a thread-safe function the reactor calls
//! from its thread. Each event becomes one call `(kind, id, data, a, b)` on the Env's thread.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::FnArgs;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;

use crate::child::Step;
use crate::chunk::Chunk;
use crate::reactor::PtyShared;

pub enum Event {
  /// The child's exec succeeded.
  Spawned { id: u32 },
  /// A set-up step of the child failed; it will exit with 127.
  SpawnFailed { id: u32, step: Step, errno: i32 },
  /// Output read from the master.
  Data { pty: Arc<PtyShared>, bytes: Vec<u8> },
  /// The output is complete.
  Eof { id: u32 },
  /// The child was reaped; `status` is the raw `waitpid` status.
  Exit { id: u32, status: i32 },
  /// `Eof` and `Exit` at once.
  EofExit { id: u32, status: i32 },
  /// Input that had to wait is now all written.
  Drained { id: u32 },
  /// Writing waiting input failed.
  WriteFailed { id: u32, errno: i32 },
  /// A chunk for a `spawn` hook (lane 0: output, 1: input).
  RelayChunk { id: u32, lane: u32, bytes: Vec<u8> },
  /// `spawn`'s output is complete and written.
  RelayDone { id: u32 },
  /// `spawn` could not write the output to its stdout.
  RelayFailed { id: u32, errno: i32 },
}

/// Event kinds as the facade sees them (`index.ts` mirrors these numbers).
pub mod kind {
  pub const SPAWNED: u32 = 1;
  pub const SPAWN_FAILED: u32 = 2;
  pub const DATA: u32 = 3;
  pub const EOF: u32 = 4;
  pub const EXIT: u32 = 5;
  pub const DRAINED: u32 = 6;
  pub const WRITE_FAILED: u32 = 7;
  pub const RELAY_CHUNK: u32 = 8;
  pub const RELAY_DONE: u32 = 9;
  pub const RELAY_FAILED: u32 = 10;
  pub const EOF_EXIT: u32 = 11;
}

pub type JsArgs = FnArgs<(u32, u32, Option<Chunk>, i32, i32)>;
pub type EventFn = ThreadsafeFunction<Event, (), JsArgs, Status, false, true>;

impl Event {
  /// Runs on the Env's thread: turns the event into the callback's arguments.
  pub fn into_js_args(self) -> JsArgs {
    let (kind, id, data, a, b) = match self {
      Event::Spawned { id } => (kind::SPAWNED, id, None, 0, 0),
      Event::SpawnFailed { id, step, errno } => (kind::SPAWN_FAILED, id, None, step as i32, errno),
      Event::Data { pty, bytes } => {
        pty.delivered();
        (kind::DATA, pty.id, Some(Chunk(bytes)), 0, 0)
      }
      Event::Eof { id } => (kind::EOF, id, None, 0, 0),
      Event::Exit { id, status } => (kind::EXIT, id, None, status, 0),
      Event::EofExit { id, status } => (kind::EOF_EXIT, id, None, status, 0),
      Event::Drained { id } => (kind::DRAINED, id, None, 0, 0),
      Event::WriteFailed { id, errno } => (kind::WRITE_FAILED, id, None, errno, 0),
      Event::RelayChunk { id, lane, bytes } => {
        (kind::RELAY_CHUNK, id, Some(Chunk(bytes)), lane as i32, 0)
      }
      Event::RelayDone { id } => (kind::RELAY_DONE, id, None, 0, 0),
      Event::RelayFailed { id, errno } => (kind::RELAY_FAILED, id, None, errno, 0),
    };
    FnArgs::from((kind, id, data, a, b))
  }
}

static NEXT_SINK: AtomicU32 = AtomicU32::new(1);

pub struct Sink {
  pub id: u32,
  callback: EventFn,
}

impl Sink {
  pub fn new(callback: EventFn) -> Self {
    Sink {
      id: NEXT_SINK.fetch_add(1, Ordering::SeqCst),
      callback,
    }
  }

  /// Must be called on the Env's thread, while the Env is alive.
  pub fn set_ref(&self, env: &napi::Env, referenced: bool) -> napi::Result<()> {
    let raw = self.callback.raw();
    // SAFETY: `raw` is this Env's live thread-safe function and we are on the Env's thread.
    let status = unsafe {
      if referenced {
        napi::sys::napi_ref_threadsafe_function(env.raw(), raw)
      } else {
        napi::sys::napi_unref_threadsafe_function(env.raw(), raw)
      }
    };
    if status != napi::sys::Status::napi_ok {
      return Err(napi::Error::new(
        Status::from(status),
        "napi_ref_threadsafe_function",
      ));
    }
    Ok(())
  }

  /// Queues the event; once the Env is closing the call is refused and the event dropped,
  /// which is what should happen to it.
  pub fn send(&self, event: Event) {
    let _ = self
      .callback
      .call(event, ThreadsafeFunctionCallMode::NonBlocking);
  }
}
