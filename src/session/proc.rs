//! A process as the session layer sees it, the same on every platform, and the table of them.

use std::collections::HashMap;

/// One process from a reading of the process table.
#[derive(Clone, Debug)]
pub(crate) struct Proc {
  pub(crate) pid: libc::pid_t,
  pub(crate) ppid: libc::pid_t,
  pub(crate) pgid: libc::pid_t,
  pub(crate) sid: libc::pid_t,
  /// When it started, in the platform's ticks: with the pid, what tells it from a later
  /// process that was given the same pid.
  pub(crate) start: u64,
  /// A zombie: it has exited and only waits to be reaped.
  pub(crate) gone: bool,
  /// Stopped by a signal (or a debugger).
  pub(crate) stopped: bool,
  /// The kernel's name for it (on Linux at most 15 bytes of the program's file name).
  pub(crate) name: String,
}

/// One reading of the process table, indexed for the questions the tracker asks of it.
pub(crate) struct Table {
  procs: Vec<Proc>,
  by_pid: HashMap<libc::pid_t, usize>,
  by_sid: HashMap<libc::pid_t, Vec<usize>>,
  by_ppid: HashMap<libc::pid_t, Vec<usize>>,
}

impl Table {
  pub(crate) fn new(procs: Vec<Proc>) -> Self {
    let mut by_pid = HashMap::with_capacity(procs.len());
    let mut by_sid: HashMap<libc::pid_t, Vec<usize>> = HashMap::new();
    let mut by_ppid: HashMap<libc::pid_t, Vec<usize>> = HashMap::new();
    for (i, p) in procs.iter().enumerate() {
      by_pid.insert(p.pid, i);
      by_sid.entry(p.sid).or_default().push(i);
      by_ppid.entry(p.ppid).or_default().push(i);
    }
    Table {
      procs,
      by_pid,
      by_sid,
      by_ppid,
    }
  }

  pub(crate) fn get(&self, pid: libc::pid_t) -> Option<&Proc> {
    self.by_pid.get(&pid).map(|&i| &self.procs[i])
  }

  /// Whether `pid` is there with that start time: the same process.
  pub(crate) fn has(&self, pid: libc::pid_t, start: u64) -> bool {
    self.get(pid).is_some_and(|p| p.start == start)
  }

  pub(crate) fn in_session(&self, sid: libc::pid_t) -> impl Iterator<Item = &Proc> {
    self.indexed(self.by_sid.get(&sid))
  }

  pub(crate) fn children_of(&self, pid: libc::pid_t) -> impl Iterator<Item = &Proc> {
    self.indexed(self.by_ppid.get(&pid))
  }

  fn indexed<'a>(&'a self, list: Option<&'a Vec<usize>>) -> impl Iterator<Item = &'a Proc> {
    list.into_iter().flatten().map(|&i| &self.procs[i])
  }
}
