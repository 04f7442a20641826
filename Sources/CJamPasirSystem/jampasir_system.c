#define _GNU_SOURCE /* struct ucred */
#include "jampasir_system.h"

#include <sys/timex.h>
#include <time.h>

int64_t jp_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t jp_wall_clock_offset_ns(void) {
    struct timespec wall = {0}, monotonic = {0};
    (void)clock_gettime(CLOCK_REALTIME, &wall);  // cannot fail for these clocks
    (void)clock_gettime(CLOCK_MONOTONIC, &monotonic);
    return ((int64_t)wall.tv_sec - monotonic.tv_sec) * 1000000000LL + (wall.tv_nsec - monotonic.tv_nsec);
}

int jp_wall_clock_synchronized(void) {
    // A Raspberry Pi has no RTC: until NTP (timesyncd, chrony) disciplines the clock,
    // the kernel reports TIME_ERROR and STA_UNSYNC, and wall-clock times are guesses.
    struct timex tx = {0};
    int state = adjtimex(&tx);
    if (state == -1 || state == TIME_ERROR) return 0;
    return (tx.status & STA_UNSYNC) ? 0 : 1;
}

#include <linux/i2c-dev.h>
#include <linux/spi/spidev.h>
#include <sys/ioctl.h>

int jp_i2c_set_address(int fd, int address) {
    return ioctl(fd, I2C_SLAVE, address);
}

int jp_spi_configure(int fd, unsigned char mode, unsigned int speed_hz) {
    if (ioctl(fd, SPI_IOC_WR_MODE, &mode) != 0) return -1;
    return ioctl(fd, SPI_IOC_WR_MAX_SPEED_HZ, &speed_hz);
}

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

int jp_mount_stick(const char *source, const char *target, const char *fstype, const char *data, int read_only) {
    unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOSYMFOLLOW;
    if (read_only) flags |= MS_RDONLY;
    return mount(source, target, fstype, flags, data);
}

int jp_unmount(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        syncfs(fd);
        close(fd);
    }
    if (umount2(path, UMOUNT_NOFOLLOW) == 0) return 0;
    int error = errno;
    if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) == 0) {
        errno = error;
        return 1;
    }
    errno = error;
    return -1;
}

long jp_peer_uid(int fd) {
    struct ucred credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -1;
    return (long)credentials.uid;
}

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>

/* Far ahead (year 2255, within the kernel's 64-bit nanoseconds): the timer never fires, it is
 * only cancelled. A 32-bit time_t would put it in the past, and the wait would spin. */
_Static_assert(sizeof(time_t) == 8, "the clock-change timer needs a 64-bit time_t");

int jp_clock_change_fd(void) {
    int fd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC);
    if (fd < 0) return -1;
    struct itimerspec far = {.it_value = {.tv_sec = 9000000000LL}};
    if (timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &far, NULL) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int jp_clock_change_wait(int fd) {
    // Each set of the clock cancels the timer once; it stays armed for the next.
    for (;;) {
        uint64_t expirations;
        ssize_t got = read(fd, &expirations, sizeof expirations);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0 && errno == ECANCELED) return 1;
        if (got < 0) return -1;
    }
}

int jp_doorbell_create(int fds[2]) {
    fds[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fds[0] < 0) return -1;
    fds[1] = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (fds[1] < 0) {
        int saved = errno;
        close(fds[0]);
        errno = saved;
        return -1;
    }
    return 0;
}

void jp_doorbell_ring(const int fds[2]) {
    uint64_t one = 1;
    ssize_t written;
    do { written = write(fds[0], &one, sizeof one); } while (written < 0 && errno == EINTR);
    // EAGAIN: the counter is at its maximum, so the doorbell is rung already.
}

int jp_doorbell_wait(const int fds[2], int other_fd, int64_t deadline_ns) {
    // An absolute timer rather than poll's timeout: the kernel lets a poll timeout of one second
    // run up to 1 ms late (0.1 % slack); a timerfd fires within the thread's timer slack (50 µs).
    struct itimerspec when = {0};
    if (deadline_ns >= 0) {
        if (deadline_ns <= jp_monotonic_ns()) return 0;
        when.it_value.tv_sec = deadline_ns / 1000000000LL;
        when.it_value.tv_nsec = deadline_ns % 1000000000LL;
    }
    if (timerfd_settime(fds[1], TFD_TIMER_ABSTIME, &when, NULL) < 0) return -1;  // all zero: disarmed
    struct pollfd ready[3] = {
        {.fd = fds[0], .events = POLLIN}, {.fd = fds[1], .events = POLLIN}, {.fd = other_fd, .events = POLLIN}};
    int count;
    do { count = poll(ready, other_fd >= 0 ? 3 : 2, -1); } while (count < 0 && errno == EINTR);
    if (count < 0) return -1;
    uint64_t drained;
    if (ready[1].revents & POLLIN) (void)!read(fds[1], &drained, sizeof drained);
    if (ready[0].revents & POLLIN) {
        (void)!read(fds[0], &drained, sizeof drained);
        return 1;
    }
    if (other_fd >= 0 && ready[2].revents) return 2;
    return 0;
}

#include <sys/prctl.h>

void jp_set_thread_name(const char *name) {
    (void)prctl(PR_SET_NAME, name, 0, 0, 0);  // the kernel keeps the first 15 bytes
}

#include <signal.h>
#include <spawn.h>
#include <unistd.h>

int jp_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

extern char **environ;

int jp_spawn(const char *path, char *const argv[], int out_fd, int err_fd, int *pid) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    sigset_t none, defaults;
    int error = posix_spawn_file_actions_init(&actions);
    if (error != 0) return error;
    error = posix_spawnattr_init(&attributes);
    if (error != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return error;
    }
    sigemptyset(&none);
    sigfillset(&defaults);
    sigdelset(&defaults, SIGKILL);
    sigdelset(&defaults, SIGSTOP);
    if ((error = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)) == 0
        && (error = posix_spawn_file_actions_adddup2(&actions, out_fd, 1)) == 0
        && (error = posix_spawn_file_actions_adddup2(&actions, err_fd, 2)) == 0
        && (error = posix_spawnattr_setsigmask(&attributes, &none)) == 0
        && (error = posix_spawnattr_setsigdefault(&attributes, &defaults)) == 0
        && (error = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) == 0) {
        pid_t child = 0;
        error = posix_spawn(&child, path, &actions, &attributes, argv, environ);
        if (error == 0) *pid = child;
    }
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    return error;
}
