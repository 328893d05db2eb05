// The floor of a design that reads on one thread and consumes on another, as napi-pty's reactor
// hands chunks to the JS thread: forkpty, then a reader thread on epoll (edge-triggered) reads
// the master without blocking until EAGAIN, gathering up to 124 KiB per chunk, and queues each
// chunk for a second thread, waking it through an eventfd when it waits; that thread frees each
// chunk at once (the best case: JavaScript keeps a Buffer until the GC collects it). At most 4
// chunks are queued, as napi-pty's credit allows. With HANDOFF_KEEP=N the receiver frees each
// chunk only once N newer ones have come, as garbage Buffers wait for V8's collector.
// usage: handoff PROGRAM [ARG...]; prints the lines forkpty.c prints for one child and one run,
// the run's with `readerCpu`, the reading thread's own CPU over the transfer.
#define _GNU_SOURCE  // RUSAGE_THREAD
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pty.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (124 * 1024)
#define CREDIT 4

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

struct chunk { char *bytes; size_t len; };  // len 0: the output ended
static struct chunk queue[CREDIT + 1];
static int head, tail;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int queued, receiver_waits, reader_waits;
static int to_receiver, to_reader;  // eventfds
static long long received;
static double first_at, t0;

static void poke(int fd) { uint64_t one = 1; while (write(fd, &one, 8) < 0 && errno == EINTR) {} }
static void drain(int fd) { uint64_t n; while (read(fd, &n, 8) < 0 && errno == EINTR) {} }

static void *receiver(void *arg) {
  (void)arg;
  const char *keep_env = getenv("HANDOFF_KEEP");
  int keep = keep_env ? atoi(keep_env) : 0, kept = 0;
  char **kept_chunks = keep > 0 ? calloc(keep, sizeof *kept_chunks) : 0;
  for (;;) {
    pthread_mutex_lock(&lock);
    if (head == tail) {
      atomic_store(&receiver_waits, 1);
      pthread_mutex_unlock(&lock);
      drain(to_receiver);  // blocking: the reader pokes after queueing
      continue;
    }
    struct chunk c = queue[head++ % (CREDIT + 1)];
    pthread_mutex_unlock(&lock);
    if (!c.len) return 0;
    if (!received) first_at = now() - t0;
    received += c.len;
    if (kept_chunks) {
      free(kept_chunks[kept]);  // the chunk kept `keep` chunks ago (free(NULL) at first)
      kept_chunks[kept] = c.bytes;
      kept = (kept + 1) % keep;
    } else {
      free(c.bytes);
    }
    atomic_fetch_sub(&queued, 1);
    if (atomic_exchange(&reader_waits, 0)) poke(to_reader);
  }
}

static void hand_over(char *bytes, size_t len) {
  pthread_mutex_lock(&lock);
  queue[tail++ % (CREDIT + 1)] = (struct chunk){ bytes, len };
  pthread_mutex_unlock(&lock);
  if (atomic_exchange(&receiver_waits, 0)) poke(to_receiver);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  t0 = now();
  double c0 = cpu();
  int master;
  pid_t pid = forkpty(&master, 0, 0, 0);
  if (pid == 0) { execvp(argv[1], argv + 1); _exit(127); }
  if (pid < 0) { perror("forkpty"); return 1; }
  double t1 = now(), c1 = cpu(), r1 = thread_cpu();
  to_receiver = eventfd(0, EFD_CLOEXEC);
  to_reader = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event on_master = { .events = EPOLLIN | EPOLLET, .data.fd = master };
  struct epoll_event on_credit = { .events = EPOLLIN | EPOLLET, .data.fd = to_reader };
  epoll_ctl(ep, EPOLL_CTL_ADD, master, &on_master);
  epoll_ctl(ep, EPOLL_CTL_ADD, to_reader, &on_credit);
  pthread_t thread;
  pthread_create(&thread, 0, receiver, 0);
  int readable = 1, stalled = 0, ended = 0;
  while (!ended) {
    if (!readable || stalled) {
      struct epoll_event events[2];
      int n = epoll_wait(ep, events, 2, -1);
      for (int i = 0; i < n; i++) {
        if (events[i].data.fd == master) readable = 1;
        else { drain(to_reader); stalled = 0; }
      }
    }
    while (readable && !stalled && !ended) {
      if (atomic_load(&queued) >= CREDIT) {
        atomic_store(&reader_waits, 1);
        // The receiver may have freed one between the check and the flag: look once more.
        if (atomic_load(&queued) < CREDIT && atomic_exchange(&reader_waits, 0)) continue;
        stalled = 1;
        break;
      }
      char *bytes = malloc(CHUNK);
      size_t len = 0;
      for (;;) {
        ssize_t got = read(master, bytes + len, CHUNK - len);
        if (got > 0 && (len += got) < CHUNK) continue;
        if (got > 0) break;
        if (got < 0 && errno == EINTR) continue;
        if (got < 0 && errno == EAGAIN) readable = 0;
        else ended = 1;  // EIO: every slave fd is closed
        break;
      }
      if (len) { atomic_fetch_add(&queued, 1); hand_over(realloc(bytes, len), len); }
      else free(bytes);
    }
  }
  hand_over(0, 0);
  pthread_join(thread, 0);
  int status;
  waitpid(pid, &status, 0);
  struct rusage u; getrusage(RUSAGE_SELF, &u);
  printf("{\"child\":0,\"run\":0,\"first\":%.4f,\"exit\":%.4f,\"bytes\":%lld,\"status\":%d}\n", first_at, now() - t0, received, status);
  printf("{\"run\":0,\"spawned\":%.4f,\"wall\":%.4f,\"cpuSpawn\":%.4f,\"cpuWindow\":%.4f,\"readerCpu\":%.4f,\"maxRssKiB\":%ld}\n",
         t1 - t0, now() - t0, c1 - c0, cpu() - c1, thread_cpu() - r1, u.ru_maxrss);
  return 0;
}
