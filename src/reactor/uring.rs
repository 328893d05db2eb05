//! The io_uring read path (Linux, the default where the kernel grants it; `NAPI_PTY_READ=epoll`
//! turns it off): each master is read by one multishot read (`IORING_OP_READ_MULTISHOT`) into
//! a small ring of provided buffers, and the reactor reaps the completions of every master in
//! batches, with no `read(2)` per chunk and no `EAGAIN` read to end a burst.
//!
//! The ring's own fd sits in the reactor's `mio::Poll` under a token of its own, so the
//! reactor stays one thread with one wait. A completion only queues the buffer it filled; the
//! bytes are copied out by [`Uring::fill`], which stands in for one `read()` of the master in
//! the output's gathering ([`super::output::Output::read`]) and in `spawn`'s copy loop, so
//! that the chunking, the credit, the end at EIO with the stranded-output recovery and the
//! exit grace are the epoll path's.
//!
//! Backpressure: a filled buffer goes back to the ring only once it has been copied out, and
//! that only happens while JavaScript has credit (or `spawn`'s stdout takes more). Otherwise
//! the ring runs dry, the kernel ends the multishot read (`ENOBUFS`), and it is armed again
//! once buffers have come back.
//!
//! Memory safety, the invariant: **a group's buffers and ring stay mapped and registered while
//! a read that may write into them is in flight** (`in_flight`: from the submission of the
//! read until its completion without `IORING_CQE_F_MORE`). A group is only unmapped when it is
//! retired (its master closed or its output ended) and no read is in flight; retiring a group
//! whose read is in flight cancels that read and waits for its final completion. The master fd
//! may be closed by JavaScript meanwhile: the kernel holds its own reference to the file for
//! the read's life, so the fd number's reuse cannot redirect it. The read is submitted under
//! the master's read lock, so the fd is the master's when the kernel looks it up.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};

use io_uring::types::{BufRingEntry, Fd};
use io_uring::{cqueue, opcode, squeue, IoUring, Probe};

use crate::master::Stop;

/// Buffers per master: 32 of 4 KiB. A pty master hands over at most one line-discipline buffer
/// (4 KiB) per read, and each completion takes one buffer whatever its size, so larger buffers
/// would only waste memory. 32 make the ring as deep as one delivery chunk (124 KiB): a ring
/// that runs dry ends the multishot read, and arming it again costs a call, so the ring should
/// not run dry while the reactor is still gathering the chunk in hand.
const BUFFERS: u16 = 32;
const BUFFER_SIZE: usize = 4096;
/// One page for the ring of buffer descriptors (16 bytes each), then the buffers.
const RING_BYTES: usize = 4096;
const MAP_BYTES: usize = RING_BYTES + BUFFERS as usize * BUFFER_SIZE;

const KIND_READ: u64 = 1;
const KIND_CANCEL: u64 = 2;

fn user_data(id: u32, kind: u64) -> u64 {
  (u64::from(id) << 8) | kind
}

/// Whether the reactor reads with io_uring (set once, at its start).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Whether this process's reactor reads its masters with io_uring.
pub(crate) fn active() -> bool {
  ACTIVE.load(Ordering::SeqCst)
}

/// The read path chosen at the reactor's start: the io_uring one unless `NAPI_PTY_READ=epoll`
/// asks for epoll or `NAPI_PTY_PORTABLE=1` for macOS's paths (macOS has no io_uring), and only
/// if the kernel accepts all it needs; else `None` (epoll), silently: seccomp filters, locked
/// memory limits and old kernels refuse io_uring in many ways (ENOSYS, EPERM, EINVAL, ENOMEM),
/// and the epoll path serves. In most paired runs the ring used less CPU per byte than epoll,
/// and never clearly more (`bench/README.md`), which is why it is the default.
pub(super) fn start() -> Option<Uring> {
  let setting = std::env::var("NAPI_PTY_READ").ok();
  let uring = choose(setting.as_deref(), crate::sys::portable(), Uring::probe);
  ACTIVE.store(uring.is_some(), Ordering::SeqCst);
  uring
}

/// `probe` is only called when io_uring is wanted: asked for (`uring`), or by default outside
/// the portable paths. Any error it gives means epoll.
fn choose<T>(
  setting: Option<&str>,
  portable: bool,
  probe: impl FnOnce() -> io::Result<T>,
) -> Option<T> {
  match setting {
    Some("epoll") => None,
    Some("uring") => probe().ok(),
    _ if portable => None,
    _ => probe().ok(),
  }
}

/// One master's provided buffers and the state of its multishot read.
struct Group {
  bgid: u16,
  /// The mapping: the ring of descriptors, then the buffers.
  map: NonNull<u8>,
  /// The ring's tail as this side last published it.
  tail: u16,
  /// A read that may still write into the buffers has been submitted and has not completed
  /// for the last time.
  in_flight: bool,
  cancelling: bool,
  /// Filled buffers not yet copied out, in order: (buffer id, first byte not copied, length).
  ready: VecDeque<(u16, usize, usize)>,
  /// The read ended the output: the error it ended with (EIO once every slave fd is closed),
  /// or 0 for an end of file.
  end: Option<i32>,
  /// Its master is gone or no longer read through the ring: unmapped once nothing is in flight.
  retired: bool,
}

impl Group {
  fn new(bgid: u16) -> io::Result<Self> {
    // SAFETY: a new private anonymous mapping; the arguments ask for nothing else.
    let map = unsafe {
      libc::mmap(
        std::ptr::null_mut(),
        MAP_BYTES,
        libc::PROT_READ | libc::PROT_WRITE,
        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
        -1,
        0,
      )
    };
    if map == libc::MAP_FAILED {
      return Err(io::Error::last_os_error());
    }
    let map =
      NonNull::new(map.cast::<u8>()).ok_or_else(|| io::Error::from_raw_os_error(libc::ENOMEM))?;
    let mut group = Group {
      bgid,
      map,
      tail: 0,
      in_flight: false,
      cancelling: false,
      ready: VecDeque::new(),
      end: None,
      retired: false,
    };
    for bid in 0..BUFFERS {
      group.provide(bid);
    }
    Ok(group)
  }

  fn ring(&self) -> *mut BufRingEntry {
    self.map.as_ptr().cast()
  }

  fn buffer(&self, bid: u16) -> *mut u8 {
    self
      .map
      .as_ptr()
      .wrapping_add(RING_BYTES + usize::from(bid) * BUFFER_SIZE)
  }

  /// Puts buffer `bid` in the ring's next slot; the kernel sees it once [`Self::publish`]ed.
  fn provide(&mut self, bid: u16) {
    let slot = self.ring().wrapping_add(usize::from(self.tail % BUFFERS));
    // SAFETY: the slot lies in the mapped ring page (BUFFERS descriptors of 16 bytes), which
    // the kernel only reads up to the published tail, and this slot is past it.
    let entry = unsafe { &mut *slot };
    entry.set_addr(self.buffer(bid) as u64);
    entry.set_len(BUFFER_SIZE as u32);
    entry.set_bid(bid);
    self.tail = self.tail.wrapping_add(1);
  }

  /// Hands the provided buffers to the kernel: a release store of the ring's tail.
  fn publish(&self) {
    // SAFETY: the tail field of the ring's first descriptor, in the mapped, initialised page.
    let tail = unsafe { BufRingEntry::tail(self.ring()) } as *const AtomicU16;
    // SAFETY: the field is a u16 the kernel only reads; AtomicU16 has its size and alignment.
    unsafe { &*tail }.store(self.tail, Ordering::Release);
  }
}

// SAFETY: the mapping is the group's alone (no other value points into it), and the group
// only moves to the reactor's thread once, with the ring, before any read is submitted.
unsafe impl Send for Group {}

impl Drop for Group {
  fn drop(&mut self) {
    // SAFETY: the mapping made in `new`; by the invariant above, nothing writes into it now.
    unsafe { libc::munmap(self.map.as_ptr().cast(), MAP_BYTES) };
  }
}

/// The ring and every master's group. Never dropped with a read in flight: the reactor's
/// thread owns it for the life of the process (a probe that fails has submitted nothing).
pub(crate) struct Uring {
  ring: IoUring,
  groups: HashMap<u32, Group>,
  next_bgid: u16,
  /// Completions taken from the queue, kept between reaps so that a wake-up allocates nothing.
  taken: Vec<cqueue::Entry>,
}

impl Uring {
  /// Sets a ring up and checks what the read path needs: the multishot read opcode, and the
  /// registration of a provided-buffer ring.
  fn probe() -> io::Result<Uring> {
    let ring = IoUring::builder().setup_cqsize(4096).build(256)?;
    let mut probe = Probe::new();
    ring.submitter().register_probe(&mut probe)?;
    if !probe.is_supported(opcode::ReadMulti::CODE) {
      return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let mut uring = Uring {
      ring,
      groups: HashMap::new(),
      next_bgid: 0,
      taken: Vec::new(),
    };
    let group = uring.register_group()?;
    uring.unregister(group);
    Ok(uring)
  }

  /// The ring's fd, registered in the reactor's poll set: readable when completions wait.
  pub(super) fn fd(&self) -> RawFd {
    self.ring.as_raw_fd()
  }

  /// Maps and registers a new group under a group id no other group has.
  fn register_group(&mut self) -> io::Result<Group> {
    let bgid = (0..=u16::MAX)
      .map(|i| self.next_bgid.wrapping_add(i))
      .find(|b| !self.groups.values().any(|g| g.bgid == *b))
      .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOSPC))?;
    self.next_bgid = bgid.wrapping_add(1);
    let group = Group::new(bgid)?;
    let submitter = self.ring.submitter();
    // SAFETY: the ring is page-aligned and mapped for BUFFERS descriptors; it stays mapped
    // until it is unregistered (`unregister`, before the group is dropped).
    unsafe { submitter.register_buf_ring_with_flags(group.ring() as u64, BUFFERS, bgid, 0) }?;
    group.publish();
    Ok(group)
  }

  /// Unregisters a group whose read is over, and unmaps it (dropped).
  fn unregister(&self, group: Group) {
    debug_assert!(!group.in_flight);
    let _ = self.ring.submitter().unregister_buf_ring(group.bgid);
  }

  /// Removes pty `id`'s group, when no read of it is in flight, and unregisters it.
  fn free(&mut self, id: u32) {
    if let Some(group) = self.groups.remove(&id) {
      self.unregister(group);
    }
  }

  /// Gives pty `id` a group of its own, so that its master is read through the ring.
  pub(super) fn adopt(&mut self, id: u32) -> io::Result<()> {
    let group = self.register_group()?;
    self.groups.insert(id, group);
    Ok(())
  }

  /// Whether pty `id` is read through the ring.
  pub(super) fn reads(&self, id: u32) -> bool {
    self.groups.get(&id).is_some_and(|g| !g.retired)
  }

  /// Takes every completion there is; the ids of the ptys that have news go to `touched`.
  pub(super) fn reap(&mut self, touched: &mut Vec<u32>) {
    let mut freed = Vec::new();
    let mut completions = std::mem::take(&mut self.taken);
    loop {
      completions.extend(self.ring.completion());
      // Completions that found the queue full wait in the kernel (IORING_FEAT_NODROP) until an
      // enter flushes them (the submit does, seeing the overflow flag); a multishot read that
      // overflowed has ended, and is armed again by `fill`.
      if !self.ring.submission().cq_overflow() || self.ring.submit().is_err() {
        break;
      }
    }
    for cqe in completions.drain(..) {
      let id = (cqe.user_data() >> 8) as u32;
      if cqe.user_data() & 0xff != KIND_READ {
        continue;
      }
      let Some(group) = self.groups.get_mut(&id) else {
        continue;
      };
      let res = cqe.result();
      if res > 0 {
        if let Some(bid) = cqueue::buffer_select(cqe.flags()) {
          group.ready.push_back((bid, 0, res as usize));
        }
      } else if res == 0 {
        group.end = Some(0);
      } else if res != -libc::ENOBUFS && res != -libc::ECANCELED {
        group.end = Some(-res);
      }
      if !cqueue::more(cqe.flags()) {
        group.in_flight = false;
        group.cancelling = false;
        if group.retired {
          freed.push(id);
        }
      }
      touched.push(id);
    }
    self.taken = completions;
    for id in freed {
      self.free(id);
    }
  }

  /// Stands in for one `read()` of master `fd` for pty `id` (see [`crate::master::read`]):
  /// copies the filled buffers into `buf`'s spare capacity, gives them back to the ring, and
  /// arms the multishot read again when it has ended for want of buffers. `read_so_far`
  /// counts the master's bytes. The end of the output, once every filled buffer has been
  /// copied out, is handled as a read's EIO is.
  pub(super) fn fill(
    &mut self,
    id: u32,
    fd: RawFd,
    pts_path: &str,
    buf: &mut Vec<u8>,
    read_so_far: &mut u64,
  ) -> Stop {
    let Some(group) = self.groups.get_mut(&id) else {
      return Stop::End;
    };
    // As a read fills its buffer to the last byte: a chunk that fills up goes to JavaScript
    // as it is, and the rest of the buffer begins the next one.
    while let Some(&(bid, start, end)) = group.ready.front() {
      let room = buf.capacity() - buf.len();
      if room == 0 {
        group.publish();
        return Stop::Full;
      }
      let take = room.min(end - start);
      // SAFETY: the buffer's bytes up to `end` were written by a completed read and the
      // buffer is not in the ring, so nothing writes into it now.
      let bytes =
        unsafe { std::slice::from_raw_parts(group.buffer(bid).wrapping_add(start), take) };
      buf.extend_from_slice(bytes);
      *read_so_far += take as u64;
      if start + take == end {
        group.ready.pop_front();
        group.provide(bid);
      } else if let Some(front) = group.ready.front_mut() {
        front.1 = start + take;
      }
    }
    group.publish();
    if let Some(errno) = group.end {
      return crate::master::ended(errno, fd, pts_path, buf, read_so_far);
    }
    if !group.in_flight && !group.retired {
      // Length 0: each read fills a whole provided buffer (the kernel refuses any other).
      let read = opcode::ReadMulti::new(Fd(fd), 0, group.bgid)
        .build()
        .user_data(user_data(id, KIND_READ));
      match self.submit(read) {
        Ok(()) => {
          if let Some(group) = self.groups.get_mut(&id) {
            group.in_flight = true;
          }
        }
        Err(e) => {
          let errno = e.raw_os_error().unwrap_or(libc::EIO);
          return crate::master::ended(errno, fd, pts_path, buf, read_so_far);
        }
      }
    }
    Stop::WouldBlock
  }

  /// Pty `id`'s master is no longer read through the ring (it was closed or its output
  /// ended): cancels its read, and unmaps its group once no read is in flight.
  pub(super) fn retire(&mut self, id: u32) {
    let Some(group) = self.groups.get_mut(&id) else {
      return;
    };
    group.retired = true;
    if !group.in_flight {
      self.free(id);
      return;
    }
    if !group.cancelling {
      group.cancelling = true;
      let cancel = opcode::AsyncCancel::new(user_data(id, KIND_READ))
        .build()
        .user_data(user_data(id, KIND_CANCEL))
        .flags(squeue::Flags::SKIP_SUCCESS);
      // Without a submitted cancel the read still ends with its master's end (EIO).
      let _ = self.submit(cancel);
    }
  }

  fn submit(&mut self, entry: squeue::Entry) -> io::Result<()> {
    loop {
      // SAFETY: the entry refers to no memory of ours but a group's buffers, which the
      // invariant above keeps mapped for as long as the read may use them.
      let pushed = unsafe { self.ring.submission().push(&entry) };
      if pushed.is_ok() {
        break;
      }
      self.ring.submit()?;
    }
    loop {
      match self.ring.submit() {
        Ok(_) => return Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
        Err(e) => return Err(e),
      }
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn the_ring_is_not_probed_when_epoll_is_asked_for_or_the_paths_are_portable() {
    let never = || -> io::Result<()> { panic!("probed without being wanted") };
    assert!(choose(Some("epoll"), false, never).is_none());
    assert!(choose(Some("epoll"), true, never).is_none());
    assert!(choose(None, true, never).is_none());
    assert!(choose(Some(""), true, never).is_none());
  }

  #[test]
  fn the_ring_is_the_default_and_may_be_asked_for_on_the_portable_paths() {
    assert_eq!(choose(None, false, || Ok(7)), Some(7));
    assert_eq!(choose(Some(""), false, || Ok(7)), Some(7));
    assert_eq!(choose(Some("uring"), true, || Ok(7)), Some(7));
  }

  #[test]
  fn a_refused_ring_falls_back_to_epoll() {
    for errno in [libc::ENOSYS, libc::EPERM, libc::EINVAL, libc::ENOMEM] {
      let refused = || -> io::Result<()> { Err(io::Error::from_raw_os_error(errno)) };
      assert!(
        choose(Some("uring"), false, refused).is_none(),
        "errno {errno}"
      );
      assert!(choose(None, false, refused).is_none(), "errno {errno}");
    }
  }
}
