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
wait_log() { # file, text: up to 20 s (TCG is slow)
    i=0
    while ! grep -q "$2" "$1" && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
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
pull 2 pull-down   # the TM1637 answers: DIO reads low at the ACK clock
jampasird --config /tmp/jp.toml --log-level debug 2> /tmp/daemon.log &
pid=$!
check "daemon ready" wait_log /tmp/daemon.log "ready after"
check "button line requested by label" wait_log /tmp/daemon.log "button on jampasir-sim line 0"

sleep 0.5
check "idle: green LED on, red off" sh -c "[ $(value 4) = 1 ] && [ $(value 6) = 0 ]"

# Session 1: 1.5 s against the 2 s limit.
press; sleep 0.2; release
sleep 1.3
press; sleep 0.2; release
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

echo "1..$n"
echo "=== DAEMON LOG BEGIN"
cat /tmp/daemon.log
echo "=== DAEMON LOG END"
echo "=== STORE BEGIN"
tar -C /tmp -cf - s.sqlite s.sqlite-wal s.sqlite-shm 2>/dev/null | base64
echo "=== STORE END"
echo "KERNEL-SUITE-DONE"
poweroff -f
