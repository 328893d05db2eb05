//! What runs in a terminal: its foreground process, every process of its session (and the
//! child's descendants that left it), and `terminate()`, which ends all of them and confirms
//! that they are gone.
//!
//! - `proc`: a process as a reading of the process table gives it.
//! - `tracker`: which processes belong to the terminal, scan after scan, without trusting a
//!   pid that may have been reused.
//! - `platform`: what differs per system, `linux.rs` (`/proc`, pidfd handles that signal one
//!   process only) or `macos.rs` (`proc_listpids`, `proc_pidinfo`, `KERN_PROCARGS2`, handles
//!   by pid), behind one set of names.
//! - `by_pid`: signalling by pid with the start time checked before each signal, where there
//!   is no pidfd (macOS; Linux under `NAPI_PTY_PORTABLE=1`).
//! - `waiter`: the thread that carries terminations to their end.

mod by_pid;
mod platform;
mod proc;
mod tracker;
mod waiter;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::reactor::PtyShared;
use crate::NativePty;

use self::proc::{Proc, Table};
use self::tracker::Tracker;
use self::waiter::Job;

/// One reading of the process table, for `observe()` on several terminals at once.
#[napi]
pub struct ProcessTable {
  /// Start-time ticks taken before the reading.
  ticks: u64,
  table: Table,
}

#[napi]
impl ProcessTable {
  /// Reads the process table.
  #[napi(factory)]
  pub fn read() -> Result<Self> {
    let ticks = platform::now_ticks();
    Ok(ProcessTable {
      ticks,
      table: Table::new(platform::all()?),
    })
  }
}

/// The leader of the terminal's foreground process group.
#[napi(object)]
pub struct ForegroundProcess {
  pub pid: i32,
  pub pgid: i32,
  pub name: String,
  /// `null` when the system will not tell (another user's process, a zombie).
  pub argv: Option<Vec<String>>,
  /// `null` when the system will not tell (another user's process).
  pub cwd: Option<String>,
}

/// One process of the terminal.
#[napi(object)]
pub struct SessionProcess {
  pub pid: i32,
  pub ppid: i32,
  pub pgid: i32,
  pub sid: i32,
  pub name: String,
  /// `null` when the system will not tell.
  pub argv: Option<Vec<String>>,
}

/// The processes of one terminal.
#[napi]
pub struct NativeSession {
  shared: Arc<PtyShared>,
  tracker: Arc<Mutex<Tracker>>,
}

#[napi]
impl NativePty {
  /// The child's session. Made as the child is adopted, while its pid is surely its own.
  #[napi]
  pub fn session(&self) -> NativeSession {
    let pid = self.shared.pid;
    // The start time read is the child's only if the child was not reaped yet after the
    // read: a signal 0 through the reactor's exit watch says so (a pidfd; on macOS a `kill`
    // that the reaping excludes). `EPERM` says so too: the child is there but another user's
    // now (fork's `uid` option, a set-user-id program such as `sudo`); taking it for gone
    // would hide the child from `processes()`, and `terminate()` would wait for its exit
    // without ever signalling it. Otherwise the leader is unknown, and the session is taken
    // only through what was seen of it.
    let leader = platform::stat(pid)
      .filter(|p| p.sid == pid)
      .map(|p| p.start)
      .filter(|_| match self.shared.kill(0) {
        Ok(there) => there,
        Err(e) => e.errno == libc::EPERM,
      });
    NativeSession {
      shared: self.shared.clone(),
      tracker: Arc::new(Mutex::new(Tracker::new(pid, leader))),
    }
  }
}

#[napi]
impl NativeSession {
  /// The foreground group's leader, or `null` when there is none (the master is closed, the
  /// group is empty).
  #[napi]
  pub fn foreground(&self) -> Option<ForegroundProcess> {
    let pgid = platform::foreground_group(self.shared.master_fd()?)?;
    let leader = match platform::stat(pgid) {
      Some(p) if p.pgid == pgid && !p.gone => p,
      // The leader has gone while others of its group run on (the first command of a
      // pipeline ended): the group's lowest pid stands for it. Rare, so the scan is fine.
      _ => platform::all()
        .ok()?
        .into_iter()
        .find(|p| p.pgid == pgid && !p.gone)?,
    };
    Some(ForegroundProcess {
      pid: leader.pid,
      pgid,
      argv: platform::argv(leader.pid),
      cwd: platform::cwd(leader.pid),
      name: leader.name,
    })
  }

  /// Takes note of the terminal's processes in `table`, so that those that leave the session
  /// later are still known once the parent that tied them to it is gone. `terminate()`'s
  /// facade calls it before it hangs up (the hang-up kills shells, and with them that tie),
  /// with a table read after the call: one reading serves all the terminals terminated at
  /// the same time (an application quitting).
  #[napi]
  pub fn observe(&self, table: &ProcessTable) {
    tracker::scan(&self.shared, &self.tracker, &table.table, table.ticks);
  }

  /// Every live process of the terminal, by pid.
  #[napi]
  pub fn processes(&self) -> Result<Vec<SessionProcess>> {
    let ticks = platform::now_ticks();
    let table = Table::new(platform::all()?);
    let members = tracker::scan(&self.shared, &self.tracker, &table, ticks);
    Ok(
      members
        .into_iter()
        .filter(|p| !p.gone)
        .map(|p: Proc| SessionProcess {
          pid: p.pid,
          ppid: p.ppid,
          pgid: p.pgid,
          sid: p.sid,
          argv: platform::argv(p.pid),
          name: p.name,
        })
        .collect(),
    )
  }

  /// The system call that signals the terminal's processes, which a failed `terminate()`
  /// names.
  #[napi(getter)]
  pub fn signal_syscall(&self) -> &'static str {
    platform::signal_syscall()
  }

  /// Sends `signal` to every process of the terminal, `SIGKILL` to what is left after
  /// `grace_ms`, and calls `done` with 0 once none is left (or an errno if one cannot be
  /// signalled). The facade hangs up first.
  #[napi(ts_args_type = "signal: number, graceMs: number, done: (errno: number) => void")]
  pub fn terminate(&self, signal: i32, grace_ms: u32, done: Function<'_, i32, ()>) -> Result<()> {
    let done = done
      .build_threadsafe_function::<i32>()
      .callee_handled::<false>()
      .build()?;
    waiter::submit(Job {
      shared: self.shared.clone(),
      tracker: self.tracker.clone(),
      signal,
      kill_at: Instant::now() + Duration::from_millis(grace_ms.into()),
      done,
    })?;
    Ok(())
  }
}
