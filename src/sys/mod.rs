//! The platform layer: everything napi-pty asks of the operating system that is not the same
//! on every POSIX system, behind one set of names.
//!
//! [`posix`] is written once for every supported system, with no `cfg` inside it: opening the
//! master, the child's set-up between fork and exec, its report through a close-on-exec pipe,
//! the portable fallbacks. `os` is one file per system (`linux.rs`, `macos.rs`), chosen by
//! `#[cfg_attr(target_os = …, path = …)]` as mio does; each provides the same items:
//!
//! - **Creating the child**: `create_child(&ExecImage, slave, report) -> SysResult<pid>` runs
//!   [`posix::child_main`] in a new process and returns once that process exists (and, where the
//!   creation borrows the parent's memory, once it has exec'd or given up), with every signal
//!   blocked around it. `CREATED_BY` names the call for its error. A child is always made inside
//!   this process: no helper executable, whose loss or wrong path is the error users of other
//!   pty libraries meet most.
//! - **The child's raw calls**, async-signal-safe, made between fork and exec: `get_groups`,
//!   `set_groups`, `set_gid`, `set_uid` (Linux needs raw syscalls where libc's wrappers would
//!   talk to other threads) and `mark_cloexec_from(first, bound)`, which marks every fd from
//!   `first` up close-on-exec without allocating. `MAX_SIGNAL` is the highest signal number
//!   whose disposition the child resets.
//! - **Pipes**: `pipe_cloexec() -> SysResult<(OwnedFd, OwnedFd)>`, both ends close-on-exec.
//! - **The master**: `open_master() -> SysResult<OwnedFd>`, close-on-exec from the moment it
//!   exists, and `pts_name(master) -> SysResult<String>`, thread-safe.
//! - **Exit watching**: `watch_exit(pid) -> SysResult<OwnedFd>`, an fd that becomes readable
//!   once the child has exited (a pidfd, a kqueue), registered in the reactor's `mio::Poll`,
//!   readable even when the child exited before the watch existed; `try_reap(pid, watch) ->
//!   SysResult<Option<status>>` reaps that one child if it has exited, never any other.
//! - **Signals**: `signal_child(watch, pid, signal) -> SysResult<()>`, which can never reach a
//!   recycled pid, given that the caller stops signalling (drops the watch) under the same lock
//!   as it reaps (see each backend for how).
//! - **spawn's stdin and stdout**: `reopen_own(fd, for_write) -> Option<OwnedFd>`, a new
//!   non-blocking open file description of the same pipe or terminal, so that the flags that
//!   this process's stdin/stdout share with the user's shell are never changed; `None` when the
//!   system cannot give one (the caller then uses a duplicate, probed before each call).
//! - **Stranded output**: `collect_stranded(pts_name, master) -> Vec<u8>`, the output a
//!   terminal driver can leave behind at exit (Linux's `n_tty`; elsewhere nothing), and
//!   `strandable(delivered)`, whether anything can have been stranded after that much output.
//!
//! Every error is a [`SysError`](crate::error::SysError) naming the call that failed, the same
//! on every system.

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
compile_error!(
  "napi-pty supports Linux and macOS only (x86_64 and aarch64; glibc or musl on Linux): \
   this target's operating system has no backend in src/sys/"
);

#[cfg(any(target_os = "linux", target_os = "macos"))]
#[cfg_attr(target_os = "linux", path = "linux.rs")]
#[cfg_attr(target_os = "macos", path = "macos.rs")]
mod os;
pub(crate) mod posix;

#[cfg(any(target_os = "linux", target_os = "macos"))]
pub(crate) use os::{
  collect_stranded, create_child, open_master, pipe_cloexec, pts_name, reopen_own, signal_child,
  strandable, try_reap, watch_exit,
};
pub use posix::Step;
pub(crate) use posix::{read_report, ExecImage, Report};
