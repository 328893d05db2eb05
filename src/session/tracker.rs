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
//! - otherwise only processes that started before the last scan that found the session in use
//!   are taken by their session id: a session that emptied and was started again under the
//!   same id (a recycled pid) holds only processes started after that;
//! - a process whose parent is a member is a member (it started after its parent), which is
//!   how processes forked since the last scan, and those that called `setsid`, are found.

use std::collections::{HashMap, HashSet};

use super::proc::Proc;

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
    }
  }

  /// The terminal's processes among `all` (one scan, zombies included), sorted by pid.
  /// `now` is taken before the scan was read.
  pub(crate) fn members(&mut self, all: &[Proc], now: u64) -> Vec<Proc> {
    let by_pid: HashMap<libc::pid_t, &Proc> = all.iter().map(|p| (p.pid, p)).collect();
    let is = |pid: libc::pid_t, start: u64| by_pid.get(&pid).is_some_and(|p| p.start == start);
    let mut member: HashSet<libc::pid_t> = HashSet::new();
    let mut live_sessions = Vec::new();
    for tracked in &self.sessions {
      let leader_there = tracked.leader.is_some_and(|start| is(tracked.sid, start));
      if leader_there {
        live_sessions.push(tracked.sid);
      }
      for p in all {
        if p.sid == tracked.sid && (leader_there || p.start <= tracked.seen_at) {
          member.insert(p.pid);
        }
      }
    }
    for (&pid, &start) in &self.known {
      if is(pid, start) {
        member.insert(pid);
      }
    }
    // Descendants, however far down: children of members, started no earlier than them.
    let mut children: HashMap<libc::pid_t, Vec<&Proc>> = HashMap::new();
    for p in all {
      children.entry(p.ppid).or_default().push(p);
    }
    let mut queue: Vec<libc::pid_t> = member.iter().copied().collect();
    while let Some(parent) = queue.pop() {
      let parent_start = by_pid.get(&parent).map_or(0, |p| p.start);
      for child in children.get(&parent).into_iter().flatten() {
        if child.start >= parent_start && member.insert(child.pid) {
          queue.push(child.pid);
        }
      }
    }
    let mut out: Vec<Proc> = all
      .iter()
      .filter(|p| member.contains(&p.pid))
      .cloned()
      .collect();
    out.sort_by_key(|p| p.pid);
    self.update(&out, &live_sessions, now);
    out
  }

  fn update(&mut self, members: &[Proc], live_sessions: &[libc::pid_t], now: u64) {
    let in_use: HashSet<libc::pid_t> = members.iter().map(|p| p.sid).collect();
    // A session with none of ours in it and no leader left is over: its id may be reused.
    self
      .sessions
      .retain(|t| in_use.contains(&t.sid) || live_sessions.contains(&t.sid));
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
    assert_eq!(pids(&t.members(&all, 20)), [100, 101, 102, 103]);
  }

  #[test]
  fn escaped_ones_are_remembered_after_their_parents_go() {
    let mut t = Tracker::new(100, Some(10));
    let first = [
      proc(100, 1, 100, 10),
      proc(101, 100, 100, 11),
      proc(102, 101, 102, 12),
    ];
    t.members(&first, 20);
    // The leader and its child are gone; 102 was reparented and forked 104 before its
    // parent went: still ours. 105 is in 102's session but started since: ours through 104.
    let later = [
      proc(1, 0, 1, 0),
      proc(102, 1, 102, 12),
      proc(104, 1, 102, 15),
      proc(105, 104, 102, 25),
    ];
    assert_eq!(pids(&t.members(&later, 30)), [102, 104, 105]);
  }

  #[test]
  fn a_recycled_session_id_is_not_ours() {
    let mut t = Tracker::new(100, Some(10));
    t.members(&[proc(100, 1, 100, 10), proc(101, 100, 100, 11)], 20);
    // Everything of the session went, and its id was given to an unrelated new session
    // leader, which forked: none of it is ours.
    let later = [proc(100, 1, 100, 40), proc(106, 100, 100, 41)];
    assert!(t.members(&later, 50).is_empty());
    // The id is dropped for good: even a process that claims an early start is not taken.
    assert!(t
      .members(&[proc(100, 1, 100, 40), proc(107, 100, 100, 11)], 60)
      .is_empty());
  }

  #[test]
  fn a_recycled_pid_is_not_remembered() {
    let mut t = Tracker::new(100, Some(10));
    t.members(&[proc(100, 1, 100, 10), proc(101, 100, 100, 11)], 20);
    assert!(t.members(&[proc(101, 1, 300, 35)], 40).is_empty());
  }
}
