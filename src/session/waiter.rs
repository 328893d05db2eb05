//! `terminate()`'s worker: one thread, started on first use, that carries every termination in
//! progress to its end.
//!
//! A termination signals each of the terminal's processes through a [`Handle`] and watches
//! the handles that can be watched: a pidfd becomes readable when its process exits, which
//! wakes this thread to look again; so does a kqueue on macOS (a handle without an fd to watch
//! has its exit seen by the regular reading below). Looking again means reading the process
//! table, because exits are not the only news: a process may have forked since the last look
//! (its children must be signalled too) and only the table says when nothing is left. So the
//! table is also read every [`RESCAN`] while a termination is in progress (a process that
//! ignores the signal may keep forking), and once more when the grace time runs out and
//! `SIGKILL` takes over. One reading serves every termination due at that moment.

use std::collections::{HashMap, HashSet};
use std::os::fd::RawFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token, Waker};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;

use crate::error::{SysError, SysResult};

use super::platform::{self, Handle};
use super::proc::{Proc, Table};
use super::tracker::{scan, Tracker};
use crate::reactor::PtyShared;

/// How often the process table is read again while a termination waits.
const RESCAN: Duration = Duration::from_millis(50);
const WAKE: Token = Token(usize::MAX);

/// Told the outcome: 0 when nothing is left, else the errno that stopped it.
pub(crate) type DoneFn = ThreadsafeFunction<i32, (), i32, Status, false>;

/// One termination in progress.
pub(crate) struct Job {
  pub(crate) shared: Arc<PtyShared>,
  pub(crate) tracker: Arc<Mutex<Tracker>>,
  pub(crate) signal: i32,
  pub(crate) kill_at: Instant,
  pub(crate) done: DoneFn,
}

/// A process by pid and start time.
type Key = (libc::pid_t, u64);

struct Running {
  id: u64,
  job: Job,
  killing: bool,
  /// Who has had this phase's signal, by pid and start time.
  signalled: HashSet<Key>,
  /// Every handle opened, with the token of its fd when it has one that is watched.
  watched: HashMap<Key, (Option<Token>, Handle)>,
  /// How many of `watched` have a watched fd that has not fired yet.
  pending: usize,
  look_at: Instant,
}

/// The worker while it runs: how to wake it, and what it has yet to take.
struct Waiter {
  waker: Waker,
  queue: Vec<Job>,
}

/// `None` while no termination is in progress: the worker ends when it has nothing left to do
/// and lets its thread and its poller's fds (epoll and eventfd; a kqueue) go with it, so that a
/// process that terminated terminals holds nothing more afterwards than before.
static WAITER: Mutex<Option<Waiter>> = Mutex::new(None);

fn io_error(syscall: &'static str) -> impl Fn(std::io::Error) -> SysError {
  move |e| SysError::new(e.raw_os_error().unwrap_or(libc::EIO), syscall)
}

/// Hands a termination to the worker, starting it if need be.
pub(crate) fn submit(job: Job) -> SysResult<()> {
  let mut waiter = WAITER.lock().unwrap();
  if waiter.is_none() {
    let [poll_call, waker_call, _] = platform::POLL_CALLS;
    let poll = Poll::new().map_err(io_error(poll_call))?;
    let waker = Waker::new(poll.registry(), WAKE).map_err(io_error(waker_call))?;
    std::thread::Builder::new()
      .name("napi-pty-terminate".into())
      .spawn(move || run(poll))
      .map_err(io_error("pthread_create"))?;
    *waiter = Some(Waiter {
      waker,
      queue: Vec::new(),
    });
  }
  let waiter = waiter.as_mut().expect("just started");
  waiter.queue.push(job);
  waiter
    .waker
    .wake()
    .map_err(io_error(platform::POLL_CALLS[2]))
}

/// Takes what was submitted; `None` (and the worker is over) when that is nothing and nothing
/// runs either. Decided under the lock that `submit` takes, so no job is left behind.
fn take_jobs(running: &HashMap<u64, Running>) -> Option<Vec<Job>> {
  let mut waiter = WAITER.lock().unwrap();
  let queue = &mut waiter.as_mut().expect("the worker's own").queue;
  if queue.is_empty() && running.is_empty() {
    *waiter = None;
    return None;
  }
  Some(std::mem::take(queue))
}

fn run(mut poll: Poll) {
  let mut events = Events::with_capacity(256);
  let mut running: HashMap<u64, Running> = HashMap::new();
  // Which termination, and which of its processes, each watched pidfd belongs to.
  let mut tokens: HashMap<Token, (u64, Key)> = HashMap::new();
  let mut next_job = 0u64;
  let mut next_token = 0usize;
  while let Some(jobs) = take_jobs(&running) {
    let now = Instant::now();
    for job in jobs {
      next_job += 1;
      running.insert(
        next_job,
        Running {
          id: next_job,
          job,
          killing: false,
          signalled: HashSet::new(),
          watched: HashMap::new(),
          pending: 0,
          look_at: now,
        },
      );
    }
    let due = running.values().map(Running::next_deadline).min();
    let timeout = due.map(|at| at.saturating_duration_since(now));
    if timeout.is_none_or(|t| !t.is_zero()) {
      if let Err(e) = poll.poll(&mut events, timeout) {
        if e.kind() != std::io::ErrorKind::Interrupted {
          // The poller is ours alone: this does not happen. Should it, every termination
          // is told, and the next one starts a new worker.
          let errno = e.raw_os_error().unwrap_or(libc::EIO);
          let queued = WAITER
            .lock()
            .unwrap()
            .take()
            .map_or(Vec::new(), |w| w.queue);
          for job in running.into_values().map(|r| r.job).chain(queued) {
            job
              .done
              .call(errno, ThreadsafeFunctionCallMode::NonBlocking);
          }
          return;
        }
      }
      for event in events.iter() {
        if event.token() == WAKE {
          continue;
        }
        let Some((id, key)) = tokens.remove(&event.token()) else {
          continue;
        };
        if let Some(r) = running.get_mut(&id) {
          if let Some((token, handle)) = r.watched.get_mut(&key) {
            if let (Some(_), Some(fd)) = (token.take(), handle.raw_fd()) {
              let _ = poll.registry().deregister(&mut SourceFd(&fd));
              r.pending -= 1;
            }
          }
          // The last one it waited for has exited: see whether anything is left (forked or
          // unseen meanwhile). Before that, the regular look does; one read of the table per
          // exit would cost most of the work when many processes go at once.
          if r.pending == 0 {
            r.look_at = Instant::now();
          }
        }
      }
    }
    let now = Instant::now();
    if !running.values().any(|r| r.next_deadline() <= now) {
      continue;
    }
    // One reading of the table for all that are due.
    let ticks = platform::now_ticks();
    let table = platform::all().map(Table::new);
    let mut finished = Vec::new();
    for r in running.values_mut() {
      if r.next_deadline() > now {
        continue;
      }
      let outcome = match &table {
        Ok(table) => r.step(
          table,
          ticks,
          now,
          poll.registry(),
          &mut next_token,
          &mut tokens,
        ),
        Err(e) => Some(e.errno),
      };
      if let Some(errno) = outcome {
        finished.push((r.id, errno));
      }
    }
    for (id, errno) in finished {
      let r = running.remove(&id).expect("just stepped");
      for (token, handle) in r.watched.values() {
        if let (Some(token), Some(fd)) = (token, handle.raw_fd()) {
          tokens.remove(token);
          let _ = poll.registry().deregister(&mut SourceFd(&fd));
        }
      }
      r.job
        .done
        .call(errno, ThreadsafeFunctionCallMode::NonBlocking);
    }
  }
}

impl Running {
  fn next_deadline(&self) -> Instant {
    if self.killing {
      self.look_at
    } else {
      self.look_at.min(self.job.kill_at)
    }
  }

  /// Signals whoever is left and has not had this phase's signal. `Some(errno)` when the
  /// termination is over: 0 when nothing is left.
  fn step(
    &mut self,
    table: &Table,
    ticks: u64,
    now: Instant,
    registry: &Registry,
    next_token: &mut usize,
    tokens: &mut HashMap<Token, (u64, Key)>,
  ) -> Option<i32> {
    let members = scan(&self.job.shared, &self.job.tracker, table, ticks);
    let live: Vec<&Proc> = members.iter().filter(|p| !p.gone).collect();
    if live.is_empty() {
      return Some(0);
    }
    let mut watch = Watch {
      id: self.id,
      registry,
      next_token,
      tokens,
    };
    if !self.killing {
      // Every process has `signal` before any `SIGKILL`, even with no grace at all: what ends
      // the child is then the signal asked for, not a race between the kernel's hang-up and
      // our `SIGKILL` (the hang-up comes only with the master's last close, which a fork on
      // another thread, holding a copy until its exec, can delay).
      self.signal_each(&live, self.job.signal, &mut watch);
      if now >= self.job.kill_at {
        self.killing = true;
        self.signalled.clear();
      }
    }
    if self.killing {
      if let Some(errno) = self.signal_each(&live, libc::SIGKILL, &mut watch) {
        return Some(errno);
      }
    }
    self.look_at = now + RESCAN;
    None
  }

  /// Sends `signal` to each of `live` that has not had this phase's signal, opening (and
  /// watching) a handle on it first. `Some(errno)` when one cannot be sent `SIGKILL`.
  fn signal_each(&mut self, live: &[&Proc], signal: i32, watch: &mut Watch<'_>) -> Option<i32> {
    for proc in live {
      let key = (proc.pid, proc.start);
      if self.signalled.contains(&key) {
        continue;
      }
      if !self.watched.contains_key(&key) {
        // Gone, or its pid is someone else's now: nothing to signal or wait for.
        let Some(handle) = Handle::open(proc) else {
          continue;
        };
        // Without an fd, or if it cannot be watched, the next reading of the table still sees
        // whether it is there.
        let token = handle.raw_fd().and_then(|fd| watch.add(fd, key));
        if token.is_some() {
          self.pending += 1;
        }
        self.watched.insert(key, (token, handle));
      }
      let (_, handle) = &self.watched[&key];
      match handle.signal(signal) {
        Ok(()) => {
          // A stopped process would not act on the signal until continued; the kernel's own
          // hang-up continues the groups it signals for the same reason.
          if proc.stopped && signal != libc::SIGKILL {
            let _ = handle.signal(libc::SIGCONT);
          }
        }
        // Not ours to signal (it changed user): it would never go.
        Err(errno) if signal == libc::SIGKILL => return Some(errno),
        Err(_) => {}
      }
      self.signalled.insert(key);
    }
    None
  }
}

/// Where a termination's handles are watched.
struct Watch<'a> {
  id: u64,
  registry: &'a Registry,
  next_token: &'a mut usize,
  tokens: &'a mut HashMap<Token, (u64, Key)>,
}

impl Watch<'_> {
  /// Watches `fd` for the exit of the process `key`; its token, or `None` if it cannot be.
  fn add(&mut self, fd: RawFd, key: Key) -> Option<Token> {
    let token = Token(*self.next_token);
    *self.next_token = self.next_token.wrapping_add(1) % (usize::MAX - 1);
    let mut source = SourceFd(&fd);
    self
      .registry
      .register(&mut source, token, Interest::READABLE)
      .ok()?;
    self.tokens.insert(token, (self.id, key));
    Some(token)
  }
}
