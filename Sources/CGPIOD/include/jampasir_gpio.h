#ifndef JAMPASIR_GPIO_H
#define JAMPASIR_GPIO_H

#include <stdint.h>

/*
 * One interface over libgpiod v1 (1.6: Debian 12, Ubuntu 24.04, Raspberry Pi OS bookworm)
 * and v2 (2.x: Debian 13, Raspberry Pi OS trixie). A jp_gpio_line is one requested line.
 *
 * Error rule, stated once: functions returning a pointer return NULL and fill *status on
 * failure; functions returning int return -1 and set errno on failure.
 */

typedef struct jp_gpio_line jp_gpio_line;

enum jp_gpio_bias {
    JP_GPIO_BIAS_AS_IS = 0,
    JP_GPIO_BIAS_PULL_UP,
    JP_GPIO_BIAS_PULL_DOWN,
    JP_GPIO_BIAS_DISABLED,
};

/* Why a request failed, for a message a technician can act on. */
typedef struct {
    int error;              /* errno: ENOENT no chip, ERANGE offset too large, EBUSY, EACCES... */
    unsigned num_lines;     /* lines on the chip, when it was opened */
    char chip_name[64];     /* e.g. "gpiochip0", when it was opened */
    char chip_label[64];    /* e.g. "pinctrl-bcm2711" */
    char consumer[64];      /* who holds the line, when EBUSY */
} jp_gpio_status;

/* "v1 1.6.3" or "v2 2.2.1". */
const char *jp_gpio_library_version(void);

/*
 * An input, with edge events on both edges when `edges` is 1 (such a line cannot later be
 * turned into an output: use edges = 0 for open-drain emulation). `chip` is a name
 * ("gpiochip0"), a path ("/dev/gpiochip0"), a label ("pinctrl-bcm2711") or a number ("0").
 * `debounce_us` is applied by the kernel where the API has it (v2); 0 = off.
 * Values and edges are physical (active-low is left to the caller).
 */
jp_gpio_line *jp_gpio_request_input(const char *chip, unsigned offset, const char *consumer,
                                    int bias, int edges, unsigned debounce_us, jp_gpio_status *status);

/* A push-pull output with an initial physical value. */
jp_gpio_line *jp_gpio_request_output(const char *chip, unsigned offset, const char *consumer,
                                     int initial_value, jp_gpio_status *status);

/* The fd to poll for edge events (input lines). */
int jp_gpio_event_fd(jp_gpio_line *line);

/* Reads one pending edge: 0 on success with *timestamp_ns (CLOCK_MONOTONIC) and
 * *rising (1 rising, 0 falling); -1 on error. Blocks if none is pending. */
int jp_gpio_read_event(jp_gpio_line *line, int64_t *timestamp_ns, int *rising);

int jp_gpio_get_value(jp_gpio_line *line);
int jp_gpio_set_value(jp_gpio_line *line, int value);

/*
 * Open-drain emulation: let go of the line, or drive it. Both give the line back to the kernel
 * and request it again (input with `bias`, or output with `value`), which is what makes an
 * input read its pull again: gpio-sim, for one, keeps the last driven value on a line that is
 * merely switched to input. The chip stays open, so this is two ioctls.
 */
int jp_gpio_rerequest_input(jp_gpio_line *line, int bias);
int jp_gpio_rerequest_output(jp_gpio_line *line, int value);

void jp_gpio_release(jp_gpio_line *line);

#endif
