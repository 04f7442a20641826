#ifndef JAMPASIR_SYSTEM_H
#define JAMPASIR_SYSTEM_H

#include <stdint.h>

/// CLOCK_MONOTONIC in nanoseconds: the time base of kernel GPIO edge timestamps.
int64_t jp_monotonic_ns(void);
/* CLOCK_REALTIME less CLOCK_MONOTONIC, in ns: what a step of the wall clock changes. */
int64_t jp_wall_clock_offset_ns(void);
/* A descriptor whose wait returns when CLOCK_REALTIME is set (settimeofday, date -s, NTP's or the
 * RTC's first step; not NTP's slewing): a timerfd armed far ahead with TFD_TIMER_CANCEL_ON_SET.
 * Close-on-exec, blocking. -1 with errno. */
int jp_clock_change_fd(void);
/* Blocks until the wall clock is set: 1, or -1 with errno (the watch has ended). */
int jp_clock_change_wait(int fd);

/// 1 when the kernel says the wall clock is synchronised (adjtimex: not TIME_ERROR, STA_UNSYNC clear), else 0.
int jp_wall_clock_synchronized(void);



/* ioctl(I2C_SLAVE): address the 7-bit device for the following reads and writes. */
int jp_i2c_set_address(int fd, int address);

/* ioctl(SPI_IOC_WR_MODE, SPI_IOC_WR_MAX_SPEED_HZ). */
int jp_spi_configure(int fd, unsigned char mode, unsigned int speed_hz);

/* mount(2) of a stick partition at target: always nosuid, nodev, noexec, nosymfollow; read-only
 * when read_only. */
int jp_mount_stick(const char *source, const char *target, const char *fstype, const char *data, int read_only);

/* syncfs(2) on the filesystem at path, then umount2(2); lazy (MNT_DETACH) when busy or when the
 * device is gone. Returns 0 when unmounted; 1 when only detached (errno says why the plain unmount
 * failed: the kernel may still be writing to the device); -1 with errno from the first failure. */
int jp_unmount(const char *path);

/* The uid of the process at the other end of a Unix socket (SO_PEERCRED), or -1. */
long jp_peer_uid(int fd);
/* The event loop's doorbell: fds[0] an eventfd that rings it, fds[1] a timerfd on CLOCK_MONOTONIC
 * for the wait's deadline (both close-on-exec, non-blocking). 0, or -1 with errno. */
int jp_doorbell_create(int fds[2]);
/* Rings it: the waiter returns now, or at once from its next wait. Safe from any thread. */
void jp_doorbell_ring(const int fds[2]);
/* Sleeps until the doorbell rings (1, the rings consumed), until other_fd (when >= 0) is
 * readable or fails (2), or until CLOCK_MONOTONIC reaches deadline_ns (0); deadline_ns < 0: no
 * deadline. -1 with errno on failure. One thread waits on a doorbell at a time. */
int jp_doorbell_wait(const int fds[2], int other_fd, int64_t deadline_ns);
/* pipe2(O_CLOEXEC): a pipe no other program inherits. 0, or -1 with errno. */
int jp_pipe_cloexec(int fds[2]);
/* posix_spawn(3) of path with argv: standard input from /dev/null, output and errors onto out_fd
 * and err_fd, an empty signal mask and every signal's default disposition (whatever the calling
 * thread blocks). 0 with *pid set, or an errno value. */
int jp_spawn(const char *path, char *const argv[], int out_fd, int err_fd, int *pid);
/* Names the calling thread for top -H and /proc/PID/task/TID/comm (first 15 bytes kept). */
void jp_set_thread_name(const char *name);
#endif
