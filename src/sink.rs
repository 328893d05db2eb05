//! How events reach JavaScript: one [`Sink`] per Env, a thread-safe function the reactor calls
//! from its thread. Each event becomes one call `(kind, id, data, a, b)` on the Env's thread;
//! the facade dispatches them in `lib/registry.ts`, and `lib/events.ts` says what each kind is.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::FnArgs;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;

use crate::chunk::Chunk;
use crate::protocol::Kind;
use crate::sys::Step;

/// Whoever sent a `Data` event and waits to hear that JavaScript has it (the reactor's flow
/// control: a chunk on its way holds one credit).
pub(crate) trait Credit: Send + Sync {
  /// Called on the Env's thread as the chunk is handed over.
  fn delivered(&self);
}

/// What the reactor tells an Env's JavaScript; see [`Kind`] for each.
pub(crate) enum Event {
  /// The child's exec succeeded.
  Spawned { id: u32 },
  /// A set-up step of the child failed; it will exit with 127.
  SpawnFailed { id: u32, step: Step, errno: i32 },
  /// Output read from the master; `credit` hears when it has been handed over.
  Data {
    id: u32,
    credit: Arc<dyn Credit>,
    bytes: Vec<u8>,
  },
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

/// The arguments of the Env's callback: `(kind, id, data, a, b)`.
pub(crate) type JsArgs = FnArgs<(u32, u32, Option<Chunk>, i32, i32)>;
/// The Env's callback, callable from the reactor's thread.
pub(crate) type EventFn = ThreadsafeFunction<Event, (), JsArgs, Status, false, true>;

impl Event {
  /// Runs on the Env's thread: turns the event into the callback's arguments.
  pub(crate) fn into_js_args(self) -> JsArgs {
    let (kind, id, data, a, b) = match self {
      Event::Spawned { id } => (Kind::Spawned, id, None, 0, 0),
      Event::SpawnFailed { id, step, errno } => (Kind::SpawnFailed, id, None, step as i32, errno),
      Event::Data { id, credit, bytes } => {
        credit.delivered();
        (Kind::Data, id, Some(Chunk(bytes)), 0, 0)
      }
      Event::Eof { id } => (Kind::Eof, id, None, 0, 0),
      Event::Exit { id, status } => (Kind::Exit, id, None, status, 0),
      Event::EofExit { id, status } => (Kind::EofExit, id, None, status, 0),
      Event::Drained { id } => (Kind::Drained, id, None, 0, 0),
      Event::WriteFailed { id, errno } => (Kind::WriteFailed, id, None, errno, 0),
      Event::RelayChunk { id, lane, bytes } => {
        (Kind::RelayChunk, id, Some(Chunk(bytes)), lane as i32, 0)
      }
      Event::RelayDone { id } => (Kind::RelayDone, id, None, 0, 0),
      Event::RelayFailed { id, errno } => (Kind::RelayFailed, id, None, errno, 0),
    };
    FnArgs::from((kind as u32, id, data, a, b))
  }
}

static NEXT_SINK: AtomicU32 = AtomicU32::new(1);

/// One Env's way in: its callback and the id its children and saved terminal modes go by.
pub(crate) struct Sink {
  pub(crate) id: u32,
  callback: EventFn,
}

impl Sink {
  pub(crate) fn new(callback: EventFn) -> Self {
    Sink {
      id: NEXT_SINK.fetch_add(1, Ordering::SeqCst),
      callback,
    }
  }

  /// Must be called on the Env's thread, while the Env is alive.
  pub(crate) fn set_ref(&self, env: &napi::Env, referenced: bool) -> napi::Result<()> {
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
  pub(crate) fn send(&self, event: Event) {
    let _ = self
      .callback
      .call(event, ThreadsafeFunctionCallMode::NonBlocking);
  }
}
