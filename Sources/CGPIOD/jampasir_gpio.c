#include "jampasir_gpio.h"

#include <errno.h>
#include <gpiod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy_text(char *to, size_t size, const char *from) {
    snprintf(to, size, "%s", from ? from : "");
}

#ifdef GPIOD_LINE_BULK_MAX_LINES /* ---------------------------------- libgpiod v1 */

struct jp_gpio_line {
    struct gpiod_chip *chip;
    struct gpiod_line *line;
    char consumer[32];
};

const char *jp_gpio_library_version(void) {
    static char text[32];
    snprintf(text, sizeof text, "v1 %s", gpiod_version_string());
    return text;
}

static int bias_flags(int bias) {
    switch (bias) {
    case JP_GPIO_BIAS_PULL_UP: return GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP;
    case JP_GPIO_BIAS_PULL_DOWN: return GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN;
    case JP_GPIO_BIAS_DISABLED: return GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE;
    default: return 0;
    }
}

static jp_gpio_line *request(const char *chip_name, unsigned offset, const char *consumer, int type,
                             int flags, int value, jp_gpio_status *status) {
    memset(status, 0, sizeof *status);
    struct gpiod_chip *chip = gpiod_chip_open_lookup(chip_name);
    if (!chip) {
        status->error = errno ? errno : ENOENT;
        return NULL;
    }
    copy_text(status->chip_name, sizeof status->chip_name, gpiod_chip_name(chip));
    copy_text(status->chip_label, sizeof status->chip_label, gpiod_chip_label(chip));
    status->num_lines = gpiod_chip_num_lines(chip);
    if (offset >= status->num_lines) {
        status->error = ERANGE;
        gpiod_chip_close(chip);
        return NULL;
    }
    struct gpiod_line *line = gpiod_chip_get_line(chip, offset);
    struct gpiod_line_request_config config = {consumer, type, flags};
    if (!line || gpiod_line_request(line, &config, value) != 0) {
        status->error = errno;
        if (line && gpiod_line_update(line) == 0 && gpiod_line_is_used(line))
            copy_text(status->consumer, sizeof status->consumer, gpiod_line_consumer(line));
        gpiod_chip_close(chip);
        return NULL;
    }
    jp_gpio_line *handle = calloc(1, sizeof *handle);
    handle->chip = chip;
    handle->line = line;
    copy_text(handle->consumer, sizeof handle->consumer, consumer);
    return handle;
}

jp_gpio_line *jp_gpio_request_input(const char *chip, unsigned offset, const char *consumer, int bias, int edges,
                                    unsigned debounce_us, jp_gpio_status *status) {
    (void)debounce_us; /* the v1 uAPI has no debounce */
    int type = edges ? GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES : GPIOD_LINE_REQUEST_DIRECTION_INPUT;
    return request(chip, offset, consumer, type, bias_flags(bias), 0, status);
}

jp_gpio_line *jp_gpio_request_output(const char *chip, unsigned offset, const char *consumer, int initial_value,
                                     jp_gpio_status *status) {
    return request(chip, offset, consumer, GPIOD_LINE_REQUEST_DIRECTION_OUTPUT, 0, initial_value, status);
}

int jp_gpio_event_fd(jp_gpio_line *line) { return gpiod_line_event_get_fd(line->line); }

int jp_gpio_read_event(jp_gpio_line *line, int64_t *timestamp_ns, int *rising) {
    struct gpiod_line_event event;
    if (gpiod_line_event_read(line->line, &event) != 0) return -1;
    *timestamp_ns = (int64_t)event.ts.tv_sec * 1000000000LL + event.ts.tv_nsec;
    *rising = event.event_type == GPIOD_LINE_EVENT_RISING_EDGE;
    return 0;
}

int jp_gpio_get_value(jp_gpio_line *line) { return gpiod_line_get_value(line->line); }
int jp_gpio_set_value(jp_gpio_line *line, int value) { return gpiod_line_set_value(line->line, value); }

static int rerequest(jp_gpio_line *line, int type, int flags, int value) {
    if (gpiod_line_is_requested(line->line)) gpiod_line_release(line->line);
    struct gpiod_line_request_config config = {line->consumer, type, flags};
    return gpiod_line_request(line->line, &config, value);
}

int jp_gpio_rerequest_input(jp_gpio_line *line, int bias) {
    return rerequest(line, GPIOD_LINE_REQUEST_DIRECTION_INPUT, bias_flags(bias), 0);
}

int jp_gpio_rerequest_output(jp_gpio_line *line, int value) {
    return rerequest(line, GPIOD_LINE_REQUEST_DIRECTION_OUTPUT, 0, value);
}

void jp_gpio_release(jp_gpio_line *line) {
    if (!line) return;
    if (gpiod_line_is_requested(line->line)) gpiod_line_release(line->line);
    gpiod_chip_close(line->chip);
    free(line);
}

#else /* ------------------------------------------------------------ libgpiod v2 */

#include <dirent.h>

struct jp_gpio_line {
    struct gpiod_chip *chip; /* kept open for re-requests */
    struct gpiod_line_request *request;
    struct gpiod_edge_event_buffer *events;
    unsigned offset;
    char consumer[32];
};

const char *jp_gpio_library_version(void) {
    static char text[32];
    snprintf(text, sizeof text, "v2 %s", gpiod_api_version());
    return text;
}

static enum gpiod_line_bias bias_value(int bias) {
    switch (bias) {
    case JP_GPIO_BIAS_PULL_UP: return GPIOD_LINE_BIAS_PULL_UP;
    case JP_GPIO_BIAS_PULL_DOWN: return GPIOD_LINE_BIAS_PULL_DOWN;
    case JP_GPIO_BIAS_DISABLED: return GPIOD_LINE_BIAS_DISABLED;
    default: return GPIOD_LINE_BIAS_AS_IS;
    }
}

static int chip_matches(struct gpiod_chip *chip, const char *wanted) {
    struct gpiod_chip_info *info = gpiod_chip_get_info(chip);
    if (!info) return 0;
    int match = strcmp(gpiod_chip_info_get_name(info), wanted) == 0 ||
                strcmp(gpiod_chip_info_get_label(info), wanted) == 0;
    gpiod_chip_info_free(info);
    return match;
}

/* v2 opens chips by path only: accept a path, a name, a number or a label as v1 did. */
static struct gpiod_chip *open_lookup(const char *wanted) {
    char path[300];
    if (wanted[0] == '/') return gpiod_chip_open(wanted);
    if (strspn(wanted, "0123456789") == strlen(wanted) && wanted[0]) {
        snprintf(path, sizeof path, "/dev/gpiochip%s", wanted);
        return gpiod_chip_open(path);
    }
    snprintf(path, sizeof path, "/dev/%s", wanted);
    if (strncmp(wanted, "gpiochip", 8) == 0) return gpiod_chip_open(path);
    DIR *dir = opendir("/dev");
    if (!dir) return NULL;
    struct dirent *entry;
    struct gpiod_chip *found = NULL;
    while (!found && (entry = readdir(dir))) {
        if (strncmp(entry->d_name, "gpiochip", 8) != 0) continue;
        snprintf(path, sizeof path, "/dev/%s", entry->d_name);
        struct gpiod_chip *chip = gpiod_chip_open(path);
        if (chip && chip_matches(chip, wanted)) found = chip;
        else if (chip) gpiod_chip_close(chip);
    }
    closedir(dir);
    if (!found) errno = ENOENT;
    return found;
}

static jp_gpio_line *request(const char *chip_name, unsigned offset, const char *consumer,
                             struct gpiod_line_settings *settings, jp_gpio_status *status) {
    memset(status, 0, sizeof *status);
    jp_gpio_line *handle = NULL;
    struct gpiod_line_config *line_config = NULL;
    struct gpiod_request_config *request_config = NULL;
    struct gpiod_chip *chip = open_lookup(chip_name);
    if (!chip) {
        status->error = errno ? errno : ENOENT;
        goto done;
    }
    struct gpiod_chip_info *info = gpiod_chip_get_info(chip);
    if (info) {
        copy_text(status->chip_name, sizeof status->chip_name, gpiod_chip_info_get_name(info));
        copy_text(status->chip_label, sizeof status->chip_label, gpiod_chip_info_get_label(info));
        status->num_lines = gpiod_chip_info_get_num_lines(info);
        gpiod_chip_info_free(info);
    }
    if (offset >= status->num_lines) {
        status->error = ERANGE;
        goto done;
    }
    line_config = gpiod_line_config_new();
    request_config = gpiod_request_config_new();
    if (!line_config || !request_config ||
        gpiod_line_config_add_line_settings(line_config, &offset, 1, settings) != 0) {
        status->error = errno;
        goto done;
    }
    gpiod_request_config_set_consumer(request_config, consumer);
    struct gpiod_line_request *request = gpiod_chip_request_lines(chip, request_config, line_config);
    if (!request) {
        status->error = errno;
        struct gpiod_line_info *line_info = gpiod_chip_get_line_info(chip, offset);
        if (line_info) {
            if (gpiod_line_info_is_used(line_info))
                copy_text(status->consumer, sizeof status->consumer, gpiod_line_info_get_consumer(line_info));
            gpiod_line_info_free(line_info);
        }
        goto done;
    }
    handle = calloc(1, sizeof *handle);
    handle->chip = chip;
    handle->request = request;
    handle->offset = offset;
    handle->events = gpiod_edge_event_buffer_new(16);
    copy_text(handle->consumer, sizeof handle->consumer, consumer);
done:
    gpiod_line_config_free(line_config);
    gpiod_request_config_free(request_config);
    gpiod_line_settings_free(settings);
    if (chip && !handle) gpiod_chip_close(chip);
    return handle;
}

jp_gpio_line *jp_gpio_request_input(const char *chip, unsigned offset, const char *consumer, int bias, int edges,
                                    unsigned debounce_us, jp_gpio_status *status) {
    struct gpiod_line_settings *settings = gpiod_line_settings_new();
    gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_INPUT);
    gpiod_line_settings_set_bias(settings, bias_value(bias));
    if (edges) {
        gpiod_line_settings_set_edge_detection(settings, GPIOD_LINE_EDGE_BOTH);
        gpiod_line_settings_set_debounce_period_us(settings, debounce_us);
        gpiod_line_settings_set_event_clock(settings, GPIOD_LINE_CLOCK_MONOTONIC);
    }
    return request(chip, offset, consumer, settings, status);
}

jp_gpio_line *jp_gpio_request_output(const char *chip, unsigned offset, const char *consumer, int initial_value,
                                     jp_gpio_status *status) {
    struct gpiod_line_settings *settings = gpiod_line_settings_new();
    gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_OUTPUT);
    gpiod_line_settings_set_output_value(settings, initial_value ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE);
    return request(chip, offset, consumer, settings, status);
}

int jp_gpio_event_fd(jp_gpio_line *line) { return line->request ? gpiod_line_request_get_fd(line->request) : -1; }

int jp_gpio_read_event(jp_gpio_line *line, int64_t *timestamp_ns, int *rising) {
    if (!line->request) { errno = ENODEV; return -1; }
    if (gpiod_line_request_read_edge_events(line->request, line->events, 1) != 1) return -1;
    struct gpiod_edge_event *event = gpiod_edge_event_buffer_get_event(line->events, 0);
    *timestamp_ns = (int64_t)gpiod_edge_event_get_timestamp_ns(event);
    *rising = gpiod_edge_event_get_event_type(event) == GPIOD_EDGE_EVENT_RISING_EDGE;
    return 0;
}

int jp_gpio_get_value(jp_gpio_line *line) {
    if (!line->request) { errno = ENODEV; return -1; }
    enum gpiod_line_value value = gpiod_line_request_get_value(line->request, line->offset);
    return value == GPIOD_LINE_VALUE_ERROR ? -1 : value == GPIOD_LINE_VALUE_ACTIVE;
}

int jp_gpio_set_value(jp_gpio_line *line, int value) {
    if (!line->request) { errno = ENODEV; return -1; }
    return gpiod_line_request_set_value(line->request, line->offset,
                                        value ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE);
}

static int rerequest(jp_gpio_line *line, struct gpiod_line_settings *settings) {
    if (line->request) gpiod_line_request_release(line->request);
    line->request = NULL;
    struct gpiod_line_config *line_config = gpiod_line_config_new();
    struct gpiod_request_config *request_config = gpiod_request_config_new();
    if (line_config && request_config &&
        gpiod_line_config_add_line_settings(line_config, &line->offset, 1, settings) == 0) {
        gpiod_request_config_set_consumer(request_config, line->consumer);
        line->request = gpiod_chip_request_lines(line->chip, request_config, line_config);
    }
    gpiod_line_config_free(line_config);
    gpiod_request_config_free(request_config);
    gpiod_line_settings_free(settings);
    return line->request ? 0 : -1;
}

int jp_gpio_rerequest_input(jp_gpio_line *line, int bias) {
    struct gpiod_line_settings *settings = gpiod_line_settings_new();
    gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_INPUT);
    gpiod_line_settings_set_bias(settings, bias_value(bias));
    return rerequest(line, settings);
}

int jp_gpio_rerequest_output(jp_gpio_line *line, int value) {
    struct gpiod_line_settings *settings = gpiod_line_settings_new();
    gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_OUTPUT);
    gpiod_line_settings_set_output_value(settings, value ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE);
    return rerequest(line, settings);
}

void jp_gpio_release(jp_gpio_line *line) {
    if (!line) return;
    if (line->request) gpiod_line_request_release(line->request);
    gpiod_edge_event_buffer_free(line->events);
    gpiod_chip_close(line->chip);
    free(line);
}

#endif
