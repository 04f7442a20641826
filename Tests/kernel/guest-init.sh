#!/bin/busybox sh
# /init of the test VM: real kernel GPIO (gpio-sim) under the real jampasird.
# Prints TAP-style "ok N - ..." / "not ok N - ..." lines; the host counts them.
/bin/busybox --install -s /bin
[ -f /ENV ] && export $(cat /ENV)
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mkdir -p /run/jampasir   # the daemon's runtime directory: status.json for jampasir doctor
insmod /lib/modules/configfs.ko
mount -t configfs none /sys/kernel/config
insmod /lib/modules/gpio-sim.ko

n=0
check() { # description, command...
    desc=$1; shift
    n=$((n + 1))
    if "$@"; then echo "ok $n - $desc"; else echo "not ok $n - $desc"; fi
}

sim=/sys/kernel/config/gpio-sim/jp
mkdir $sim $sim/bank0
echo 16 > $sim/bank0/num_lines
echo jampasir-sim > $sim/bank0/label
echo 1 > $sim/live
chip=$(cat $sim/bank0/chip_name)
dev=$(cat $sim/dev_name)
line() { echo /sys/devices/platform/$dev/$chip/sim_gpio$1; }
pull() { echo "$2" > "$(line $1)/pull"; }
value() { cat "$(line $1)/value"; }
is() { [ "$(value $1)" = "$2" ]; }
press() { pull 0 pull-down; }    # button to ground, active low
release() { pull 0 pull-up; }
wait_log() { # file, text[, seconds]: up to 20 s by default (TCG is slow)
    i=0
    while ! grep -q "$2" "$1" && [ $i -lt $((${3:-20} * 10)) ]; do sleep 0.1; i=$((i + 1)); done
    grep -q "$2" "$1"
}
echo "gpio-sim: $chip ($dev), libgpiod $(cat /VERSION)"

cat > /tmp/jp.toml <<TOML
[counter]
id = "vm"
[service]
limit_seconds = 2
[store]
path = "/tmp/s.sqlite"
[button]
chip = "jampasir-sim"
line = 0
call_line = 8
[display]
kind = "tm1637"
chip = "jampasir-sim"
clk_line = 1
dio_line = 2
[buzzer]
chip = "jampasir-sim"
line = 3
[lights]
chip = "jampasir-sim"
green_line = 4
amber_line = 5
red_line = 6
TOML

release
pull 8 pull-up     # the call button, released
pull 2 pull-down   # the TM1637 answers: DIO reads low at the ACK clock
jampasird --config /tmp/jp.toml --log-level debug 2> /tmp/daemon.log &
pid=$!
check "daemon ready" wait_log /tmp/daemon.log "ready after"
check "button line requested by label" wait_log /tmp/daemon.log "button on jampasir-sim line 0"

sleep 0.5
check "idle: green LED on, red off" sh -c "[ $(value 4) = 1 ] && [ $(value 6) = 0 ]"
check "call button line requested" wait_log /tmp/daemon.log "line 8 (button.call_line)"

# The call button on its own line: no hub configured here, so Err2 and a journal line that
# says what to set; the counter times on (the sessions below).
pull 8 pull-down; sleep 0.2; pull 8 pull-up
check "call button: an edge of the call line reaches the engine" wait_log /tmp/daemon.log "call pressed at"
check "call button without a hub: told what to set" wait_log /tmp/daemon.log "has no hub to call: set push.hub"
check "call button without a hub: Err2 shown" wait_log /tmp/daemon.log "call button: no answer from the hub"
sleep 5.2   # the call's answer shows for display.call_seconds

# Session 1: 1.5 s against the 2 s limit, with the wall clock set two hours ahead halfway (as
# `date -s`, NTP's first answer or a late RTC would): the session keeps its measured time
# (in time, check_store.py compares it with the edge timestamps), and the step is chained.
press; sleep 0.2; release
sleep 0.6
date -s "@$(( $(date +%s) + 7200 ))" > /dev/null   # whole seconds: the step is 7199.x s
sleep 0.7
press; sleep 0.2; release
check "clock step: said in the journal with its size" wait_log /tmp/daemon.log "the wall clock was set: +[12] h [05]"
check "clock step: recorded in the audit chain" wait_log /tmp/daemon.log "recorded in the audit chain (entry"
check "in-time result: green on, red off" sh -c "sleep 0.4; [ \$(cat $(line 4)/value) = 1 ] && [ \$(cat $(line 6)/value) = 0 ]"
sleep 1.5

# Session 2: 2.5 s, overtime.
press; sleep 0.2; release
sleep 2.1
check "limit passed: long tone on the buzzer line" is 3 1
check "overtime: red LED on" is 6 1
sleep 0.2
press; sleep 0.2; release
sleep 0.5
check "FrEE shown: red LED on" is 6 1
sleep 1.3
check "buzzer quiet after the tone" is 3 0

kill -TERM $pid
wait $pid
check "daemon stopped on SIGTERM" grep -q "stopped" /tmp/daemon.log
check "no TM1637 error while DIO answers" sh -c "! grep -q 'did not acknowledge' /tmp/daemon.log"
check "display frames written" grep -q "TM1637 frame written" /tmp/daemon.log
check "status file: display ok" grep -q '"display":"ok"' /run/jampasir/status.json

# A line held by another program: the message names that consumer.
gpioset --mode=signal jampasir-sim 7=1 &
holder=$!
sleep 0.5
sed -e 's/^line = 0$/line = 7/' -e 's#/tmp/s.sqlite#/tmp/busy.sqlite#' /tmp/jp.toml > /tmp/busy.toml
jampasird --config /tmp/busy.toml 2> /tmp/busy.log &
pid=$!
check "line busy names the consumer" wait_log /tmp/busy.log 'line busy, held by "gpioset"'
kill -TERM $pid; wait $pid
kill $holder; wait $holder

# A missing display: DIO stays high at the ACK clock.
pull 2 pull-up
sed 's#/tmp/s.sqlite#/tmp/nack.sqlite#' /tmp/jp.toml > /tmp/nack.toml
jampasird --config /tmp/nack.toml 2> /tmp/nack.log &
pid=$!
check "TM1637 without ACK reported missing" wait_log /tmp/nack.log "TM1637 did not acknowledge"
check "daemon keeps running without a display" kill -0 $pid
check "status file: display failing, with the reason" grep -q 'did not acknowledge' /run/jampasir/status.json
kill -TERM $pid; wait $pid

# --- USB sticks, hot-plugged by the host through QEMU's monitor (flavour with /USB only) ------
# udevd probes each stick (ID_BUS, ID_FS_TYPE); jampasir-mountd (root) mounts it; jampasird runs
# as the unprivileged user jampasir and exports a 50,000-session store onto it.
if [ -f /USB ]; then
    for module in $(cat /usb/order); do insmod /usb/$module 2>/dev/null; done
    mkdir -p /run/udev
    /lib/systemd/systemd-udevd --daemon --resolve-names=never 2> /tmp/udevd.log
    udevadm trigger --action=add
    udevadm settle
    check "udevd running" pidof systemd-udevd
    chmod 0666 /dev/gpiochip*
    mkdir -p /tmp/usb
    cp /usb/store.sqlite /tmp/usb/s.sqlite
    cp /usb/device.key /tmp/usb/device.key   # jampasird refuses a store with history and no key
    chown -R 999:999 /tmp/usb /run/jampasir
    jampasir-mountd --user jampasir --socket /run/jampasir-mountd.sock --media-dir /run/jampasir-media 2> /tmp/mountd.log &
    mountd=$!
    sed 's#/tmp/s.sqlite#/tmp/usb/s.sqlite#' /tmp/jp.toml > /tmp/usb.toml
    printf '[export]\nauthorized_keys = ["%s"]\n' "$(cat /usb/authorized)" >> /tmp/usb.toml
    su -s /bin/sh jampasir -c "jampasird --config /tmp/usb.toml --log-level debug 2> /tmp/usb.log" &
    check "daemon ready as user jampasir" wait_log /tmp/usb.log "ready after" 60
    check "daemon runs unprivileged (uid 999)" sh -c "grep -q '^Uid:[[:space:]]*999' /proc/\$(pidof jampasird)/status"
    mounted() { grep -q " /run/jampasir-media/" /proc/mounts; }

    # A crafted ext4 stick that asks for a kernel panic on error, plugged in mid-session: the
    # kernel stays up (mounted errors=remount-ro), the daemon refuses it and keeps timing.
    check "button line requested" wait_log /tmp/usb.log "button on jampasir-sim line 0"
    sleep 0.5
    press; sleep 0.2; release
    check "session running before the crafted stick" wait_log /tmp/usb.log "session .* started"
    echo "=== PLUG s0 crafted CRAFTED01"
    check "crafted ext4 stick refused as damaged, with its serial" wait_log /tmp/usb.log "USB: refused .*serial CRAFTED01.*may be damaged" 60
    check "crafted ext4 stick: the kernel met the corrupt folder and stayed up" sh -c "dmesg | grep -q 'EXT4-fs error'"
    check "crafted ext4 stick unmounted" sh -c "sleep 1; ! grep -q ' /run/jampasir-media/' /proc/mounts"
    press; sleep 0.2; release
    check "the session went on and ended normally" wait_log /tmp/usb.log "session .* ended"
    check "daemon still running after the crafted stick" sh -c "kill -0 \$(pidof jampasird)"
    echo "=== UNPLUG s0"
    sleep 2

    echo "=== PLUG s1 other FOREIGN01"
    check "foreign stick refused, with its serial" wait_log /tmp/usb.log "USB: refused .*serial FOREIGN01" 60
    check "refused stick unmounted" sh -c "sleep 1; ! grep -q ' /run/jampasir-media/' /proc/mounts"
    echo "=== UNPLUG s1"
    sleep 2

    echo "=== PLUG s2 auth SUPERVISOR1"
    i=0
    # The export is written in a hidden staging folder (.<time>.partial) until it is complete.
    while ! ls -a /run/jampasir-media/*/JAMPASIR/vm/.*.partial/ 2>/dev/null | grep -q '^\.sessions' && [ $i -lt 600 ]; do
        sleep 0.1; i=$((i + 1))
    done
    check "export under way: stick mounted nosuid,nodev,noexec,nosymfollow" \
        sh -c "grep ' /run/jampasir-media/' /proc/mounts | grep rw, | grep nosuid | grep nodev | grep noexec | grep -q nosymfollow"
    echo "=== UNPLUG s2"
    check "pulled out mid-export: the export fails with a USb code" wait_log /tmp/usb.log "export failed (USb" 60
    check "no export recorded for it" sh -c "! grep -q 'safe to remove' /tmp/usb.log"
    sleep 2

    echo "=== PLUG s3 auth SUPERVISOR1"
    check "authorised stick: whole store exported, safe to remove" wait_log /tmp/usb.log "sessions to .*safe to remove" 300
    check "stick unmounted before donE" sh -c "! grep -q ' /run/jampasir-media/' /proc/mounts"
    check "export recorded in the store" grep -q "USB: exported 5000[0-9] sessions" /tmp/usb.log
    echo "=== UNPLUG s3"
    sleep 2
    kill -TERM $(pidof jampasird)
    sleep 2
    kill $mountd
    echo "=== USB LOG BEGIN"
    grep -E "USB|export|mount|button|session" /tmp/usb.log | tail -n 30
    cat /tmp/mountd.log
    echo "=== USB LOG END"
fi
# --- Power cut below the process (flavour with /POWERCUT): the store on ext4 over dm-flakey.
# Each round: sessions, then the device starts dropping every write (like the power failing:
# nothing issued after that instant reaches the disk), the daemon is SIGKILLed, the filesystem
# unmounted (its dirty pages are dropped too), the device restored and ext4 mounted again with
# journal recovery; the next round's daemon must start on the recovered store.
if [ -f /POWERCUT ]; then
    rounds=$(cat /POWERCUT)
    losetup /dev/loop0 /powercut/disk.img
    size=$(blockdev --getsz /dev/loop0)
    linear="0 $size linear /dev/loop0 0"
    dmsetup --noudevsync create flaky --table "$linear"
    check "dm-flakey device over loop" test -b /dev/dm-0
    mkdir -p /mnt
    sed -e 's#/tmp/s.sqlite#/mnt/s.sqlite#' -e 's/^limit_seconds = 2$/limit_seconds = 1/' /tmp/jp.toml > /tmp/pc.toml
    r=1
    while [ $r -le $rounds ]; do
        mount -t ext4 /dev/dm-0 /mnt
        jampasird --config /tmp/pc.toml 2> /tmp/pc-$r.log &
        pid=$!
        check "round $r: daemon ready on the store that survived the last cut" wait_log /tmp/pc-$r.log "ready after" 60
        i=0
        while [ $i -lt $((2 + r)) ]; do
            press; sleep 0.1; release; sleep 0.$((RANDOM % 7 + 2)); i=$((i + 1))
        done
        cp /tmp/pc-$r.log /tmp/pc-ack-$r.log   # acknowledged before the cut
        dmsetup --noudevsync suspend flaky
        dmsetup --noudevsync load flaky --table "0 $size flakey /dev/loop0 0 0 3600 1 drop_writes"
        dmsetup --noudevsync resume flaky
        press; sleep 0.1; release; sleep 0.4     # a press after the cut: its writes are lost
        kill -9 $pid; wait $pid 2>/dev/null
        umount /mnt
        dmsetup --noudevsync suspend flaky
        dmsetup --noudevsync load flaky --table "$linear"
        dmsetup --noudevsync resume flaky
        r=$((r + 1))
    done
    mount -t ext4 /dev/dm-0 /mnt
    cp /tmp/pc-*.log /mnt/
    echo "=== POWERCUT BEGIN"
    tar -C /mnt -cf - . 2>/dev/null | base64
    echo "=== POWERCUT END"
    umount /mnt
fi
echo "1..$n"
echo "=== DAEMON LOG BEGIN"
cat /tmp/daemon.log
echo "=== DAEMON LOG END"
echo "=== STORE BEGIN"
tar -C /tmp -cf - s.sqlite s.sqlite-wal s.sqlite-shm 2>/dev/null | base64
echo "=== STORE END"
echo "KERNEL-SUITE-DONE"
poweroff -f
