//! Which processes belong to a terminal: those in its session, and the child's descendants that
//! left it with `setsid` (and the sessions those lead). Pure bookkeeping over scans of the
//! process table, so that it can be tested without processes.
//!
//! A pid says nothing by itself once its process is gone: the kernel hands it out again. What
//! is trusted is a pid with the start time it had when it was seen, and a session id only
//! while the session is known to have lived all along:
//!
//! - while its leader (pid and start time) is still there, alive or a zombie, nobody else can
//!   hold that id, so every process in the session is in ours;
//! - so is every process in it once one process in it is proven ours: one that started before
//!   a moment the session was known to be ours (the last scan that found it, or the reap of
//!   the child that led it), or one the last scan found. Such a process was in the session
//!   then (a process can only leave a session, for one of its own), so the session has never
//!   been empty since and its id cannot have been handed out again. A session that emptied
//!   and was started anew under a recycled id holds only processes started after that;
//! - a process whose parent is a member is a member (it started after its parent), which is
//!   how processes forked since the last scan, and those that called `setsid`, are found.
//!
//! What cannot be found: a process whose parent exited, started after the last moment its
//! session was known, in a session of which nothing else is known (a daemon that forked twice
//! between two looks).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Mutex;

use crate::reactor::PtyShared;

use super::proc::{Proc, Table};

/// A session whose processes are the terminal's.
struct Tracked {
  sid: libc::pid_t,
  /// The start time of its leader (pid `sid`), when known.
  leader: Option<u64>,
  /// When it was last known to be in use by the terminal's processes (start-time ticks).
  seen_at: u64,
}

/// What one terminal knows about its processes between scans.
pub(crate) struct Tracker {
  sessions: Vec<Tracked>,
  /// Every member of the last scan, by pid, with its start time.
  known: HashMap<libc::pid_t, u64>,
  /// The child has been reaped: until then its session is surely still in use.
  reaped: bool,
  /// The start-time ticks of the newest table it has seen: an older one is ignored.
  newest: u64,
}

impl Tracker {
  /// The terminal whose child (the session leader) is `sid`, started at `leader` if known.
  pub(crate) fn new(sid: libc::pid_t, leader: Option<u64>) -> Self {
    Tracker {
      sessions: vec![Tracked {
        sid,
        leader,
        seen_at: 0,
      }],
      known: HashMap::new(),
      reaped: false,
      newest: 0,
    }
  }

  /// The child that leads the first session was reaped at `at` (start-time ticks, read just
  /// before the reap): its session was the terminal's until then.
  pub(crate) fn leader_reaped(&mut self, at: u64) {
    self.reaped = true;
    if let Some(first) = self.sessions.first_mut() {
      first.seen_at = first.seen_at.max(at);
    }
  }

  /// The terminal's processes in `table` (zombies included), sorted by pid. `now` is taken
  /// before the table was read.
  pub(crate) fn members(&mut self, table: &Table, now: u64) -> Vec<Proc> {
    let fresh = now >= self.newest;
    let mut member: HashSet<libc::pid_t> = HashSet::new();
    let mut live_sessions = Vec::new();
    for tracked in &self.sessions {
      let leader_there = tracked
        .leader
        .is_some_and(|start| table.has(tracked.sid, start));
      let anchored = leader_there
        || table
          .in_session(tracked.sid)
          .any(|p| p.start <= tracked.seen_at || self.known.get(&p.pid) == Some(&p.start));
      if leader_there {
        live_sessions.push(tracked.sid);
      }
      if anchored {
        member.extend(table.in_session(tracked.sid).map(|p| p.pid));
      }
    }
    for (&pid, &start) in &self.known {
      if table.has(pid, start) {
        member.insert(pid);
      }
    }
    // Descendants, however far down: children of members, started no earlier than them.
    let mut queue: Vec<libc::pid_t> = member.iter().copied().collect();
    while let Some(parent) = queue.pop() {
      let parent_start = table.get(parent).map_or(0, |p| p.start);
      for child in table.children_of(parent) {
        if child.start >= parent_start && member.insert(child.pid) {
          queue.push(child.pid);
        }
      }
    }
    let mut out: Vec<Proc> = member
      .iter()
      .filter_map(|&pid| table.get(pid).cloned())
      .collect();
    out.sort_by_key(|p| p.pid);
    // A table older than one already seen (shared by several terminals) still answers, but
    // must not make the tracker forget what the newer one showed.
    if fresh {
      self.newest = now;
      self.update(&out, &live_sessions, now);
    }
    out
  }

  fn update(&mut self, members: &[Proc], live_sessions: &[libc::pid_t], now: u64) {
    let in_use: HashSet<libc::pid_t> = members.iter().map(|p| p.sid).collect();
    // A session with none of ours in it and no leader left is over: its id may be reused.
    // The child's lasts at least until the child is reaped (the first, while it is not).
    let child_unreaped = !self.reaped;
    let mut first = true;
    self.sessions.retain(|t| {
      let keep = std::mem::take(&mut first) && child_unreaped;
      keep || in_use.contains(&t.sid) || live_sessions.contains(&t.sid)
    });
    for tracked in &mut self.sessions {
      if in_use.contains(&tracked.sid) {
        tracked.seen_at = now;
      }
    }
    for p in members {
      if p.sid == p.pid && !self.sessions.iter().any(|t| t.sid == p.sid) {
        self.sessions.push(Tracked {
          sid: p.sid,
          leader: Some(p.start),
          seen_at: now,
        });
      }
    }
    self.known = members.iter().map(|p| (p.pid, p.start)).collect();
  }
}

/// The terminal's processes in `table`, the tracker told first whether its child was reaped.
pub(crate) fn scan(
  shared: &PtyShared,
  tracker: &Mutex<Tracker>,
  table: &Table,
  now: u64,
) -> Vec<Proc> {
  let mut tracker = tracker.lock().unwrap();
  match shared.reaped_at.load(SeqCst) {
    0 => {}
    at => tracker.leader_reaped(at),
  }
  tracker.members(table, now)
}

#[cfg(test)]
mod tests {
  use super::*;

  fn proc(pid: i32, ppid: i32, sid: i32, start: u64) -> Proc {
    Proc {
      pid,
      ppid,
      pgid: pid,
      sid,
      start,
      gone: false,
      stopped: false,
      name: format!("p{pid}"),
    }
  }

  fn table(procs: &[Proc]) -> Table {
    Table::new(procs.to_vec())
  }

  fn pids(members: &[Proc]) -> Vec<i32> {
    members.iter().map(|p| p.pid).collect()
  }

  #[test]
  fn session_and_escaped_descendants() {
    let mut t = Tracker::new(100, Some(10));
    let all = [
      proc(1, 0, 1, 0),
      proc(100, 1, 100, 10),
      proc(101, 100, 100, 11),
      // setsid, then forked again: both found through their parents.
      proc(102, 101, 102, 12),
      proc(103, 102, 102, 13),
      proc(200, 1, 200, 5),
    ];
    assert_eq!(pids(&t.members(&table(&all), 20)), [100, 101, 102, 103]);
  }

  #[test]
  fn escaped_ones_are_remembered_after_their_parents_go() {
    let mut t = Tracker::new(100, Some(10));
    let first = [
      proc(100, 1, 100, 10),
      proc(101, 100, 100, 11),
      proc(102, 101, 102, 12),
    ];
    t.members(&table(&first), 20);
    // The leader and its child are gone; 102 was reparented and forked 104 before its
    // parent went: still ours. 105 is in 102's session but started since: ours through 104.
    let later = [
      proc(1, 0, 1, 0),
      proc(102, 1, 102, 12),
      proc(104, 1, 102, 15),
      proc(105, 104, 102, 25),
    ];
    assert_eq!(pids(&t.members(&table(&later), 30)), [102, 104, 105]);
  }

  #[test]
  fn a_recycled_session_id_is_not_ours() {
    let mut t = Tracker::new(100, Some(10));
    t.members(
      &table(&[proc(100, 1, 100, 10), proc(101, 100, 100, 11)]),
      20,
    );
    // Everything of the session went (the child was reaped at 25), and its id was given to
    // an unrelated new session leader, which forked: none of it is ours.
    t.leader_reaped(25);
    let later = [proc(100, 1, 100, 40), proc(106, 100, 100, 41)];
    assert!(t.members(&table(&later), 50).is_empty());
    // The id is dropped for good: even a process that claims an early start is not taken.
    assert!(t
      .members(
        &table(&[proc(100, 1, 100, 40), proc(107, 100, 100, 11)]),
        60
      )
      .is_empty());
  }

  #[test]
  fn a_recycled_pid_is_not_remembered() {
    let mut t = Tracker::new(100, Some(10));
    t.members(
      &table(&[proc(100, 1, 100, 10), proc(101, 100, 100, 11)]),
      20,
    );
    assert!(t.members(&table(&[proc(101, 1, 300, 35)]), 40).is_empty());
  }

  #[test]
  fn a_session_is_kept_by_any_process_known_to_be_in_it() {
    let mut t = Tracker::new(100, Some(10));
    t.members(&table(&[proc(100, 1, 100, 10)]), 20);
    // Forked (start 25) and orphaned before anyone looked: the reap at 30 vouches for it,
    // and it for 107, whose parent is gone too.
    t.leader_reaped(30);
    let later = [proc(106, 1, 100, 25), proc(107, 1, 100, 45)];
    assert_eq!(pids(&t.members(&table(&later), 50)), [106, 107]);
    // 106 is gone; 107 was found last time, so the session is still known.
    let later = [proc(107, 1, 100, 45), proc(108, 1, 100, 55)];
    assert_eq!(pids(&t.members(&table(&later), 60)), [107, 108]);
  }

  #[test]
  fn the_reap_vouches_even_when_the_leaders_start_was_never_read() {
    let mut t = Tracker::new(100, None);
    assert!(t.members(&table(&[proc(106, 1, 100, 25)]), 26).is_empty());
    t.leader_reaped(30);
    assert_eq!(
      pids(&t.members(&table(&[proc(106, 1, 100, 25)]), 50)),
      [106]
    );
  }
}
