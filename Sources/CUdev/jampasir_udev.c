#include "jampasir_udev.h"

#include <errno.h>
#include <libudev.h>
#include <stdlib.h>
#include <sys/stat.h>

struct jp_udev_monitor {
    struct udev *udev;
    struct udev_monitor *monitor;
};

enum { MAX_PROPERTIES = 128, MAX_PARENTS = 16 };

static void report(struct udev_device *device, const char *action, jp_udev_device_callback callback, void *context) {
    const char *keys[MAX_PROPERTIES], *values[MAX_PROPERTIES], *parents[MAX_PARENTS];
    int count = 0, parent_count = 0;
    struct udev_list_entry *entry;
    udev_list_entry_foreach(entry, udev_device_get_properties_list_entry(device)) {
        if (count == MAX_PROPERTIES) break;
        keys[count] = udev_list_entry_get_name(entry);
        values[count] = udev_list_entry_get_value(entry);
        count++;
    }
    for (struct udev_device *parent = udev_device_get_parent(device); parent && parent_count < MAX_PARENTS;
         parent = udev_device_get_parent(parent)) {
        const char *subsystem = udev_device_get_subsystem(parent);
        parents[parent_count++] = subsystem ? subsystem : "";
    }
    callback(context, action ? action : "add", keys, values, count, parents, parent_count);
}

jp_udev_monitor *jp_udev_monitor_new(void) {
    jp_udev_monitor *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->udev = udev_new();
    if (m->udev) m->monitor = udev_monitor_new_from_netlink(m->udev, "udev");
    if (!m->monitor || udev_monitor_filter_add_match_subsystem_devtype(m->monitor, "block", NULL) < 0 ||
        udev_monitor_enable_receiving(m->monitor) < 0) {
        int error = errno;
        jp_udev_monitor_free(m);
        errno = error ? error : EIO;
        return NULL;
    }
    return m;
}

int jp_udev_monitor_fd(jp_udev_monitor *m) { return udev_monitor_get_fd(m->monitor); }

int jp_udev_enumerate_block(jp_udev_monitor *m, jp_udev_device_callback callback, void *context) {
    struct udev *udev = m ? udev_ref(m->udev) : udev_new();
    if (!udev) return -1;
    struct udev_enumerate *enumerate = udev_enumerate_new(udev);
    if (!enumerate) {
        udev_unref(udev);
        return -1;
    }
    int devices = 0;
    if (udev_enumerate_add_match_subsystem(enumerate, "block") >= 0 && udev_enumerate_scan_devices(enumerate) >= 0) {
        struct udev_list_entry *entry;
        udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(enumerate)) {
            struct udev_device *device = udev_device_new_from_syspath(udev, udev_list_entry_get_name(entry));
            if (!device) continue;
            report(device, "add", callback, context);
            udev_device_unref(device);
            devices++;
        }
    }
    udev_enumerate_unref(enumerate);
    udev_unref(udev);
    return devices;
}

int jp_udev_receive(jp_udev_monitor *m, jp_udev_device_callback callback, void *context) {
    struct udev_device *device = udev_monitor_receive_device(m->monitor);
    if (!device) return -1;
    report(device, udev_device_get_action(device), callback, context);
    udev_device_unref(device);
    return 0;
}

void jp_udev_monitor_free(jp_udev_monitor *m) {
    if (!m) return;
    if (m->monitor) udev_monitor_unref(m->monitor);
    if (m->udev) udev_unref(m->udev);
    free(m);
}

int jp_udev_describe_devnode(const char *devnode, jp_udev_device_callback callback, void *context) {
    struct stat info;
    if (stat(devnode, &info) != 0) return -1;
    if (!S_ISBLK(info.st_mode)) {
        errno = ENOTBLK;
        return -1;
    }
    struct udev *udev = udev_new();
    if (!udev) return -1;
    struct udev_device *device = udev_device_new_from_devnum(udev, 'b', info.st_rdev);
    if (!device) {
        udev_unref(udev);
        errno = ENODEV;
        return -1;
    }
    report(device, "add", callback, context);
    udev_device_unref(device);
    udev_unref(udev);
    return 0;
}
