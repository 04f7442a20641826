import Foundation
import JamPasirLinux
import JamPasirTesting
import PropertyBased
import Testing

@testable import JamPasirMedia

@Suite("Which block devices can carry an export")
struct MediaClassifierTests {
    static let stickPartition: [String: String] = [
        "SUBSYSTEM": "block", "DEVTYPE": "partition", "DEVNAME": "/dev/sda1", "ID_BUS": "usb", "ID_FS_TYPE": "vfat",
        "ID_FS_LABEL": "SUPERVISOR", "ID_VENDOR": "SanDisk", "ID_MODEL": "Cruzer_Blade", "ID_SERIAL_SHORT": "4C530001",
    ]

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var properties: [String: String]
        var parents: [String] = ["scsi", "usb", "usb", "pci"]
        var accepted: Bool
        var reason: String? = nil
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "USB stick partition, FAT32", properties: stickPartition, accepted: true),
        Case(
            name: "USB SSD with ID_BUS=ata under a usb parent, exFAT",
            properties: stickPartition.merging(["ID_BUS": "ata", "ID_FS_TYPE": "exfat"]) { $1 }, accepted: true),
        Case(
            name: "unpartitioned stick (whole disk, ext4)",
            properties: stickPartition.merging(["DEVTYPE": "disk", "ID_FS_TYPE": "ext4", "DEVNAME": "/dev/sdb"]) { $1 },
            accepted: true),
        Case(
            name: "whole disk with a partition table",
            properties: stickPartition.merging(["DEVTYPE": "disk", "ID_PART_TABLE_TYPE": "dos"]) { $1 },
            accepted: false,
            reason: "whole disk with a partition table: its partitions are looked at"),
        Case(
            name: "SD card in the Pi's slot",
            properties: stickPartition.merging(["DEVNAME": "/dev/mmcblk0p1"]) { $1 }.filter { $0.key != "ID_BUS" },
            parents: ["mmc", "mmc_host", "platform"], accepted: false, reason: "not on USB (ID_BUS=none)"),
        Case(
            name: "USB CD drive",
            properties: stickPartition.merging(["ID_CDROM": "1", "ID_FS_TYPE": "iso9660", "DEVTYPE": "disk"]) { $1 },
            accepted: false, reason: "optical drive"),
        Case(
            name: "NTFS stick", properties: stickPartition.merging(["ID_FS_TYPE": "ntfs"]) { $1 }, accepted: false,
            reason: "unsupported filesystem ntfs: format the stick as FAT32, exFAT or ext4"),
        Case(
            name: "partition without a filesystem", properties: stickPartition.filter { $0.key != "ID_FS_TYPE" },
            accepted: false, reason: "no filesystem"),
        Case(
            name: "not a block device", properties: ["SUBSYSTEM": "usb", "DEVTYPE": "usb_device"], accepted: false,
            reason: "not a block device"),
    ]

    @Test(arguments: cases)
    func classify(_ c: Case) {
        let decision = MediaClassifier.classify(MediaDevice(properties: c.properties, parentSubsystems: c.parents))
        switch decision {
        case .stick(let stick):
            #expect(c.accepted)
            #expect(stick.devnode == c.properties["DEVNAME"])
        case .ignored(let reason):
            #expect(!c.accepted)
            #expect(reason == c.reason)
        }
    }

    @Test func stickDescribesItselfForTheLog() {
        guard
            case .stick(let stick) = MediaClassifier.classify(
                MediaDevice(properties: Self.stickPartition, parentSubsystems: ["usb"]))
        else {
            Issue.record("not accepted")
            return
        }
        #expect(stick.description == "SanDisk Cruzer_Blade serial 4C530001 (/dev/sda1, vfat)")
    }
}

@Suite("libudev enumeration")
struct MediaMonitorTests {
    @Test func thisMachinesOwnDisksAreNeverExportTargets() throws {
        // Real libudev on the build machine: its disks (virtio, NVMe…) are block devices, none on USB.
        let devices = try MediaMonitor.presentDevices()
        #expect(!devices.isEmpty, "libudev listed no block device at all (sysfs: /sys/class/block)")
        #expect(devices.allSatisfy { $0.properties["SUBSYSTEM"] == "block" })
        for device in devices {
            if case .stick(let stick) = MediaClassifier.classify(device) {
                Issue.record("a build machine disk was taken for a USB stick: \(stick)")
            }
        }
    }
}

@Suite("Classifier under generated udev property sets")
struct MediaClassifierFuzzTests {
    static let keys = ["SUBSYSTEM", "DEVTYPE", "ID_BUS", "ID_FS_TYPE", "ID_PART_TABLE_TYPE", "ID_CDROM", "DEVNAME"]
    static let values = [
        "block", "partition", "disk", "usb", "ata", "mmc", "vfat", "exfat", "ext4", "ntfs", "iso9660", "dos", "1",
        "", "/dev/sda1", "/dev/mmcblk0p2", "usb_device",
    ]
    static let devices = zip(
        zip(Gen.int(in: 0...(keys.count - 1)), Gen.int(in: 0...(values.count - 1))).array(of: 0...10),
        Gen.bool)

    @Test func onlyUSBPartitionsWithASupportedFilesystemAreSticks() async {
        await propertyCheck(count: propertyCases(2000), input: Self.devices) { pairs, usbParent in
            var properties: [String: String] = [:]
            for (key, value) in pairs { properties[Self.keys[key]] = Self.values[value] }
            let device = MediaDevice(properties: properties, parentSubsystems: usbParent ? ["scsi", "usb"] : ["ata"])
            switch MediaClassifier.classify(device) {
            case .stick(let stick):
                #expect(properties["SUBSYSTEM"] == "block")
                #expect(properties["ID_BUS"] == "usb" || usbParent)
                #expect(MediaClassifier.supportedFilesystems.contains(stick.filesystem))
                #expect(properties["ID_CDROM"] != "1")
                #expect(
                    properties["DEVTYPE"] == "partition"
                        || (properties["DEVTYPE"] == "disk" && properties["ID_PART_TABLE_TYPE"] == nil))
            case .ignored(let reason):
                #expect(!reason.isEmpty)
            }
        }
    }
}
