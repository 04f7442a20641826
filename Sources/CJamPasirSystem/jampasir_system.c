#define _GNU_SOURCE /* struct ucred */
#include "jampasir_system.h"

#include <sys/timex.h>
#include <time.h>

int64_t jp_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
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
