//! How a chunk of output becomes a JavaScript `Buffer`: over the bytes the reactor read, with no
//! copy, and with its size reported to V8 a second time.
//!
//! V8 counts the bytes behind an external Buffer itself. A flood allocates almost nothing in V8's
//! young generation, so garbage chunks are not freed by its frequent small collections but wait
//! for the full ones that this count starts as it grows. Counting each chunk twice makes those
//! come more than twice as often, so a stream read as it comes holds far less memory for a
//! little more of the collector's time (bench/README.md, "External memory", has the figures).

use std::ffi::c_void;
use std::ptr;
use std::sync::OnceLock;

use napi::bindgen_prelude::ToNapiValue;
use napi::{check_status, sys};

/// Bytes on their way to JavaScript, where they become a `Buffer`. Public only because the
/// event callback's type, part of `EventSink`'s napi constructor, names it.
pub struct Chunk(pub(crate) Vec<u8>);

impl ToNapiValue for Chunk {
  unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
    let bytes = val.0;
    let len = bytes.len();
    let mut result = ptr::null_mut();
    if len == 0 {
      // V8 wants no data pointer for an empty Buffer (a Vec's dangling one would be shared).
      // SAFETY: creates a new empty Buffer in this Env, which we are on.
      let status = unsafe { sys::napi_create_buffer(env, 0, ptr::null_mut(), &mut result) };
      return check_status!(status, "napi_create_buffer").map(|()| result);
    }
    if copy_output() {
      return copy(env, &bytes);
    }
    let mut owned = Box::new(bytes);
    let data = owned.as_mut_ptr();
    let hint = Box::into_raw(owned);
    // SAFETY: `data` points at `len` initialised bytes owned by the boxed Vec behind `hint`,
    // which stays alive, unmoved, until `release` frees it when the Buffer is collected.
    let status = unsafe {
      sys::napi_create_external_buffer(
        env,
        len,
        data.cast(),
        Some(release),
        hint.cast(),
        &mut result,
      )
    };
    if status != sys::Status::napi_ok {
      // SAFETY: on failure the Env did not take `hint`, which came from Box::into_raw above.
      let bytes = unsafe { Box::from_raw(hint) };
      if status == sys::Status::napi_no_external_buffers_allowed {
        // Electron refuses Buffers over outside memory: copy instead.
        return copy(env, &bytes);
      }
      return check_status!(status, "napi_create_external_buffer").map(|()| result);
    }
    adjust_external_memory(env, len as i64);
    Ok(result)
  }
}

/// Whether every chunk is copied into a Buffer V8 allocates, as it must be under Electron
/// (which refuses external Buffers). `NAPI_PTY_COPY_OUTPUT=1` asks for it anywhere, so that a
/// program or the tests can run in Node exactly as they would in Electron.
fn copy_output() -> bool {
  static COPY: OnceLock<bool> = OnceLock::new();
  *COPY.get_or_init(|| std::env::var_os("NAPI_PTY_COPY_OUTPUT").is_some_and(|v| v == "1"))
}

/// A new Buffer owned by V8 with a copy of `bytes` (V8 counts its memory itself).
fn copy(env: sys::napi_env, bytes: &[u8]) -> napi::Result<sys::napi_value> {
  let mut result = ptr::null_mut();
  // SAFETY: copies `bytes.len()` bytes from a live slice into a new Buffer, on the Env's thread;
  // the copy's address is not wanted (Node-API allows a null out-pointer for it).
  let status = unsafe {
    sys::napi_create_buffer_copy(
      env,
      bytes.len(),
      bytes.as_ptr().cast(),
      ptr::null_mut(),
      &mut result,
    )
  };
  check_status!(status, "napi_create_buffer_copy").map(|()| result)
}

/// The finalizer of a chunk's Buffer: runs on the Env's thread once the Buffer is collected.
unsafe extern "C" fn release(env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
  // SAFETY: `hint` is the Box::into_raw of the chunk's Vec, and V8 finalizes a Buffer once.
  let bytes = unsafe { Box::from_raw(hint.cast::<Vec<u8>>()) };
  adjust_external_memory(env, -(bytes.len() as i64));
}

fn adjust_external_memory(env: sys::napi_env, change: i64) {
  let mut total = 0;
  // SAFETY: only updates V8's count of external memory, on the Env's thread. A failure (the Env
  // being torn down) leaves a count that no longer matters.
  unsafe { sys::napi_adjust_external_memory(env, change, &mut total) };
}
