#ifndef JAMPASIR_SYSTEM_H
#define JAMPASIR_SYSTEM_H

#include <stdint.h>

/// CLOCK_MONOTONIC in nanoseconds: the time base of kernel GPIO edge timestamps.
int64_t jp_monotonic_ns(void);

/// 1 when the kernel says the wall clock is synchronised (adjtimex: not TIME_ERROR, STA_UNSYNC clear), else 0.
int jp_wall_clock_synchronized(void);



/* ioctl(I2C_SLAVE): address the 7-bit device for the following reads and writes. */
int jp_i2c_set_address(int fd, int address);

/* ioctl(SPI_IOC_WR_MODE, SPI_IOC_WR_MAX_SPEED_HZ). */
int jp_spi_configure(int fd, unsigned char mode, unsigned int speed_hz);
#endif
