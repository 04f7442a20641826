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
