#ifndef JAMPASIR_UDEV_H
#define JAMPASIR_UDEV_H

/*
 * The few libudev calls the media monitor needs: block devices from udev's netlink source
 * (after udevd has added its properties: ID_BUS, ID_FS_TYPE...), and an enumeration of the
 * block devices already present. Pointers return NULL, ints -1, on failure (errno set).
 */

typedef struct jp_udev_monitor jp_udev_monitor;

/* One device: its action ("add", "remove", "change"; "add" when enumerated), its properties as
 * parallel key/value arrays, and the subsystems of its ancestors, nearest first. The arrays
 * live only during the call. */
typedef void (*jp_udev_device_callback)(void *context, const char *action, const char *const *keys,
                                        const char *const *values, int count, const char *const *parents,
                                        int parent_count);

jp_udev_monitor *jp_udev_monitor_new(void);
int jp_udev_monitor_fd(jp_udev_monitor *monitor);

/* Calls back once per block device already present (monitor may be NULL: no netlink socket
 * is needed to enumerate). Returns the number of devices. */
int jp_udev_enumerate_block(jp_udev_monitor *monitor, jp_udev_device_callback callback, void *context);

/* Reads one pending event (poll the fd first) and calls back with it. 0 on success. */
int jp_udev_receive(jp_udev_monitor *monitor, jp_udev_device_callback callback, void *context);

/* Calls back once with the block device behind a device node (e.g. /dev/sdb1), as udev
 * describes it now. 0 on success; -1 when it is not a block device udev knows. */
int jp_udev_describe_devnode(const char *devnode, jp_udev_device_callback callback, void *context);

void jp_udev_monitor_free(jp_udev_monitor *monitor);

#endif
