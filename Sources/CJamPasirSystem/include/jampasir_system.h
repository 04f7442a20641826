#ifndef JAMPASIR_SYSTEM_H
#define JAMPASIR_SYSTEM_H

#include <stdint.h>

/// CLOCK_MONOTONIC in nanoseconds: the time base of kernel GPIO edge timestamps.
int64_t jp_monotonic_ns(void);

/// 1 when the kernel says the wall clock is synchronised (adjtimex: not TIME_ERROR, STA_UNSYNC clear), else 0.
int jp_wall_clock_synchronized(void);

#endif
