// What io_uring would change on the read path (issue 26), measured apart from the library:
// forkpty, then one thread reads the master with a multishot read (IORING_OP_READ_MULTISHOT,
// Linux 6.7) into a ring of provided buffers consumed incrementally (IOU_PBUF_RING_INC, 6.12),
// so that each 124 KiB buffer fills over many reads with no copy and leaves the ring as one
// chunk, as napi-pty hands a chunk to JavaScript. 4 buffers, as napi-pty's credit of 4 chunks;
// each full buffer is freed and a new one takes its place (the best case: JavaScript drops each
// Buffer at once). Completions are reaped in batches, one io_uring_enter per wait: no read(2)
// and no epoll_wait at all. No liburing: the raw calls, so that it builds wherever cc does.
// With URING_RECEIVER=1 each full buffer goes instead to a second thread, which frees it and
// gives its slot back (an eventfd the ring polls): the ring's buffers are the credit, and a
// multishot read that runs out of them ends and is armed again when one comes back. That is
// napi-pty's design (a reader thread, a consumer thread) on io_uring, beside handoff.c's epoll.
// URING_RECEIVER_WORK_US=N makes that receiver spend N µs of its own CPU on each full buffer
// before it frees it: the bench sets N to what a napi-pty process of the same repetition spent
// beside its reader per chunk (its JS thread and V8's helpers), so that the row shows the
// two-thread design carrying Node's cost and nothing of napi-pty's.
// usage: uring PROGRAM [ARG...]; prints the lines forkpty.c prints for one child and one run
// (the run's with `readerCpu`, the reading thread's own CPU over the transfer), or exits 3
// with a line on stderr when this kernel refuses the ring or its flags.
#define _GNU_SOURCE  // RUSAGE_THREAD
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// Newer than the oldest headers this may be built with.
#define OP_READ_MULTISHOT 49
#define PBUF_RING_INC 2
#define CQE_F_BUF_MORE (1U << 4)
#define SETUP_SINGLE_ISSUER (1U << 12)
#define SETUP_DEFER_TASKRUN (1U << 13)

#define CHUNK (124 * 1024)
#define BUFS 4  // a power of two
#define GROUP 0

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static double cpu(void) {
  struct rusage r; getrusage(RUSAGE_SELF, &r);
  return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e3 + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e3;
}
// CPU of the calling thread alone: the reader's, which the bench sets beside napi-pty's reactor.
static double thread_cpu(void) {
  struct rusage r; getrusage(RUSAGE_THREAD, &r);
  return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e3 + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e3;
}
static int refused(const char *what) { fprintf(stderr, "uring: %s: %s\n", what, strerror(errno)); return 3; }

static int ring_fd;
static unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
static struct io_uring_sqe *sqes;
static struct io_uring_cqe *cqes;
static struct io_uring_buf_ring *bufs;
static char *owned[BUFS];
static unsigned short buf_tail;

// The receiver thread (URING_RECEIVER=1): full buffers one way, their slots back the other.
struct chunk { char *bytes; size_t len; unsigned short bid; };  // len 0: the output ended
static struct chunk queue[BUFS + 1];
static unsigned short returned[BUFS + 1];
static int q_head, q_tail, r_head, r_tail;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int receiver_waits;
static int to_receiver, to_reader;  // eventfds
static long long handed;
static double first_at, t0;
static double work_ms;  // URING_RECEIVER_WORK_US, in ms

// Spends `ms` of the calling thread's own CPU (not wall time: a thread preempted meanwhile
// still spends all of it).
static void work(double ms) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  double until = t.tv_sec * 1e3 + t.tv_nsec / 1e6 + ms;
  do clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); while (t.tv_sec * 1e3 + t.tv_nsec / 1e6 < until);
}

static void poke(int fd) { uint64_t one = 1; while (write(fd, &one, 8) < 0 && errno == EINTR) {} }
static void drain(int fd) { uint64_t n; while (read(fd, &n, 8) < 0 && errno == EINTR) {} }

static void *receiver(void *arg) {
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&lock);
    if (q_head == q_tail) {
      atomic_store(&receiver_waits, 1);
      pthread_mutex_unlock(&lock);
      drain(to_receiver);  // blocking: the reader pokes after queueing
      continue;
    }
    struct chunk c = queue[q_head++ % (BUFS + 1)];
    pthread_mutex_unlock(&lock);
    if (!c.len) return 0;
    if (!handed) first_at = now() - t0;
    handed += c.len;
    if (work_ms > 0 && c.len == CHUNK) work(work_ms);
    free(c.bytes);
    pthread_mutex_lock(&lock);
    returned[r_tail++ % (BUFS + 1)] = c.bid;
    pthread_mutex_unlock(&lock);
    poke(to_reader);
  }
}

static void hand_over(char *bytes, size_t len, unsigned short bid) {
  pthread_mutex_lock(&lock);
  queue[q_tail++ % (BUFS + 1)] = (struct chunk){ bytes, len, bid };
  pthread_mutex_unlock(&lock);
  if (atomic_exchange(&receiver_waits, 0)) poke(to_receiver);
}

static void provide(unsigned short bid) {
  owned[bid] = malloc(CHUNK);
  struct io_uring_buf *b = &bufs->bufs[buf_tail & (BUFS - 1)];
  b->addr = (uintptr_t)owned[bid];
  b->len = CHUNK;
  b->bid = bid;
  buf_tail++;
}
static void publish(void) { atomic_store_explicit((_Atomic unsigned short *)&bufs->tail, buf_tail, memory_order_release); }

static struct io_uring_sqe *next_sqe(void) {
  unsigned tail = *sq_tail, idx = tail & *sq_mask;
  struct io_uring_sqe *sqe = &sqes[idx];
  memset(sqe, 0, sizeof *sqe);
  sq_array[idx] = idx;
  atomic_store_explicit((_Atomic unsigned *)sq_tail, tail + 1, memory_order_release);
  return sqe;
}

#define READ_DATA 1
#define CREDIT_DATA 2

static void arm(int master) {
  struct io_uring_sqe *sqe = next_sqe();
  sqe->opcode = OP_READ_MULTISHOT;
  sqe->fd = master;
  sqe->flags = IOSQE_BUFFER_SELECT;
  sqe->buf_group = GROUP;
  sqe->user_data = READ_DATA;
}

// A multishot poll of the eventfd the receiver pokes as it gives slots back.
static void watch_credit(void) {
  struct io_uring_sqe *sqe = next_sqe();
  sqe->opcode = IORING_OP_POLL_ADD;
  sqe->fd = to_reader;
  sqe->poll32_events = POLLIN;
  sqe->len = IORING_POLL_ADD_MULTI;
  sqe->user_data = CREDIT_DATA;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  t0 = now();
  double c0 = cpu();
  const char *receiver_env = getenv("URING_RECEIVER");
  int with_receiver = receiver_env && !strcmp(receiver_env, "1");
  const char *work_env = getenv("URING_RECEIVER_WORK_US");
  work_ms = work_env ? atof(work_env) / 1e3 : 0;
  int master;
  pid_t pid = forkpty(&master, 0, 0, 0);
  if (pid == 0) { execvp(argv[1], argv + 1); _exit(127); }
  if (pid < 0) { perror("forkpty"); return 1; }
  double t1 = now(), c1 = cpu(), r1 = thread_cpu();
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);

  struct io_uring_params p = { .flags = SETUP_SINGLE_ISSUER | SETUP_DEFER_TASKRUN };
  ring_fd = (int)syscall(SYS_io_uring_setup, 8, &p);
  if (ring_fd < 0) return refused("io_uring_setup");
  size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  size_t size = sq_size > cq_size ? sq_size : cq_size;  // one mapping (IORING_FEAT_SINGLE_MMAP)
  char *sq = mmap(0, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQ_RING);
  sqes = mmap(0, p.sq_entries * sizeof *sqes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQES);
  if (sq == MAP_FAILED || sqes == MAP_FAILED) return refused("mmap");
  sq_tail = (unsigned *)(sq + p.sq_off.tail); sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
  sq_array = (unsigned *)(sq + p.sq_off.array);
  cq_head = (unsigned *)(sq + p.cq_off.head); cq_tail = (unsigned *)(sq + p.cq_off.tail);
  cq_mask = (unsigned *)(sq + p.cq_off.ring_mask);
  cqes = (struct io_uring_cqe *)(sq + p.cq_off.cqes);

  bufs = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  struct io_uring_buf_reg reg = { .ring_addr = (uintptr_t)bufs, .ring_entries = BUFS, .bgid = GROUP };
  reg.pad = PBUF_RING_INC;  // `flags` in newer headers
  if (syscall(SYS_io_uring_register, ring_fd, IORING_REGISTER_PBUF_RING, &reg, 1) < 0) return refused("IORING_REGISTER_PBUF_RING");
  for (unsigned short bid = 0; bid < BUFS; bid++) provide(bid);
  publish();
  arm(master);
  int submit = 1, in_ring = BUFS, armed = 1;
  pthread_t thread;
  if (with_receiver) {
    to_receiver = eventfd(0, EFD_CLOEXEC);
    to_reader = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_create(&thread, 0, receiver, 0);
    watch_credit();
    submit++;
  }

  long long received = 0, waits = 0, completions = 0;
  size_t filled[BUFS] = { 0 };
  int ended = 0;
  while (!ended) {
    if (syscall(SYS_io_uring_enter, ring_fd, submit, 1, IORING_ENTER_GETEVENTS, 0, 0) < 0) {
      if (errno == EINTR) continue;
      return refused("io_uring_enter");
    }
    waits++;
    submit = 0;
    unsigned head = *cq_head, tail = atomic_load_explicit((_Atomic unsigned *)cq_tail, memory_order_acquire);
    for (; head != tail; head++) {
      struct io_uring_cqe *c = &cqes[head & *cq_mask];
      completions++;
      if (c->user_data == CREDIT_DATA) {  // slots came back: provide new buffers in them
        uint64_t n;
        while (read(to_reader, &n, 8) < 0 && errno == EINTR) {}
        pthread_mutex_lock(&lock);
        while (r_head != r_tail) { provide(returned[r_head++ % (BUFS + 1)]); in_ring++; }
        pthread_mutex_unlock(&lock);
        if (!(c->flags & IORING_CQE_F_MORE)) { watch_credit(); submit++; }
        continue;
      }
      if (c->res > 0) {
        unsigned short bid = c->flags >> IORING_CQE_BUFFER_SHIFT;
        if (!received && !with_receiver) first_at = now() - t0;
        received += c->res;
        filled[bid] += c->res;
        if (!(c->flags & CQE_F_BUF_MORE)) {  // the buffer is done with: the chunk leaves
          if (with_receiver) {
            in_ring--;
            hand_over(owned[bid], filled[bid], bid);
          } else {
            free(owned[bid]);
            provide(bid);
          }
          filled[bid] = 0;
        }
      } else if (c->res != -ENOBUFS) {
        ended = 1;  // -EIO: every slave fd is closed
      }
      if (!(c->flags & IORING_CQE_F_MORE)) armed = 0;
    }
    atomic_store_explicit((_Atomic unsigned *)cq_head, head, memory_order_release);
    publish();
    // Out of buffers, the multishot read ended: armed again once a slot has come back.
    if (!ended && !armed && in_ring > 0) { arm(master); armed = 1; submit++; }
  }
  if (with_receiver) {
    for (unsigned short bid = 0; bid < BUFS; bid++)
      if (filled[bid]) hand_over(owned[bid], filled[bid], bid);  // part-filled at the end
    hand_over(0, 0, 0);
    pthread_join(thread, 0);
    received = handed;
  }
  int status;
  waitpid(pid, &status, 0);
  struct rusage u; getrusage(RUSAGE_SELF, &u);
  fprintf(stderr, "uring: %lld completions in %lld waits\n", completions, waits);
  printf("{\"child\":0,\"run\":0,\"first\":%.4f,\"exit\":%.4f,\"bytes\":%lld,\"status\":%d}\n", first_at, now() - t0, received, status);
  printf("{\"run\":0,\"spawned\":%.4f,\"wall\":%.4f,\"cpuSpawn\":%.4f,\"cpuWindow\":%.4f,\"readerCpu\":%.4f,\"maxRssKiB\":%ld}\n",
         t1 - t0, now() - t0, c1 - c0, cpu() - c1, thread_cpu() - r1, u.ru_maxrss);
  return 0;
}
