/*
 * The guest side of memspace's Linux system calls for picolibc programs: stdout and stderr
 * (buffered, flushed at newlines and at exit) and stdin over read/write ecalls, and _exit.
 * Linked into every RISC-V guest built by guests/build.sh; native builds use the host libc.
 * The POSIX file calls picolibc's stdio refers to are here too: there are no files, only
 * the three standard streams.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/types.h>
#include <unistd.h>

#define SYS_READ 63
#define SYS_WRITE 64
#define SYS_EXIT 93
#define SYS_GETTIMEOFDAY 169

static long syscall3(long number, long arg0, long arg1, long arg2) {
  register long a0 asm("a0") = arg0;
  register long a1 asm("a1") = arg1;
  register long a2 asm("a2") = arg2;
  register long a7 asm("a7") = number;
  asm volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
  return a0;
}

static char out_buffer[4096];
static int out_used;

static void flush_out(void) {
  if (out_used > 0) {
    syscall3(SYS_WRITE, 1, (long)out_buffer, out_used);
    out_used = 0;
  }
}

static int put_out(char c, FILE *file) {
  (void)file;
  out_buffer[out_used++] = c;
  if (c == '\n' || out_used == (int)sizeof out_buffer) flush_out();
  return (unsigned char)c;
}

static int put_err(char c, FILE *file) {
  (void)file;
  flush_out();
  syscall3(SYS_WRITE, 2, (long)&c, 1);
  return (unsigned char)c;
}

static int get_in(FILE *file) {
  (void)file;
  unsigned char c;
  return syscall3(SYS_READ, 0, (long)&c, 1) == 1 ? c : EOF;
}

static FILE out_stream = FDEV_SETUP_STREAM(put_out, NULL, NULL, _FDEV_SETUP_WRITE);
static FILE err_stream = FDEV_SETUP_STREAM(put_err, NULL, NULL, _FDEV_SETUP_WRITE);
static FILE in_stream = FDEV_SETUP_STREAM(NULL, get_in, NULL, _FDEV_SETUP_READ);
FILE *const stdout = &out_stream;
FILE *const stderr = &err_stream;
FILE *const stdin = &in_stream;

void _exit(int code) {
  flush_out();
  syscall3(SYS_EXIT, code, 0, 0);
  for (;;) {
  }
}

int open(const char *path, int flags, ...) {
  (void)path;
  (void)flags;
  errno = ENOENT;
  return -1;
}

int close(int fd) {
  (void)fd;
  return 0;
}

ssize_t read(int fd, void *buffer, size_t count) {
  return syscall3(SYS_READ, fd, (long)buffer, (long)count);
}

ssize_t write(int fd, const void *buffer, size_t count) {
  flush_out();
  return syscall3(SYS_WRITE, fd, (long)buffer, (long)count);
}

off_t lseek(int fd, off_t offset, int whence) {
  (void)fd;
  (void)offset;
  (void)whence;
  errno = ESPIPE;
  return -1;
}

pid_t getpid(void) {
  return 1;
}

int kill(pid_t pid, int signal) {
  (void)pid;
  _exit(128 + signal);
}

int gettimeofday(struct timeval *restrict time, void *restrict zone) {
  (void)zone;
  return (int)syscall3(SYS_GETTIMEOFDAY, (long)time, 0, 0);
}

clock_t times(struct tms *buffer) {
  struct timeval now;
  gettimeofday(&now, NULL);
  clock_t ticks = (clock_t)(now.tv_sec * 1000000 + now.tv_usec);
  if (buffer) {
    buffer->tms_utime = ticks;
    buffer->tms_stime = 0;
    buffer->tms_cutime = 0;
    buffer->tms_cstime = 0;
  }
  return ticks;
}
