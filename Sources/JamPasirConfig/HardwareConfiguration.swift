/// Which parts are wired to the counter computer and where. Real backends read these keys;
/// the simulator ignores them.
public struct HardwareConfiguration: Equatable, Sendable {
    public var button = ButtonConfiguration()
    public var display = DisplayConfiguration()
    public var buzzer = BuzzerConfiguration()
    public var lights = LightsConfiguration()

    public init() {}
}

public enum LineBias: String, CaseIterable, Sendable {
    case pullUp = "pull-up"
    case pullDown = "pull-down"
    case disabled
}

public struct ButtonConfiguration: Equatable, Sendable {
    /// GPIO chip by name (`gpiochip0`), path (`/dev/gpiochip0`) or label (`pinctrl-bcm2711`).
    public var chip = "gpiochip0"
    public var line = 17
    /// A button to ground with a pull-up reads low when pressed.
    public var activeLow = true
    public var bias = LineBias.pullUp
    /// Debounce asked of the kernel (libgpiod v2 only). Off by default: the kernel reports a
    /// debounced edge late, and software debounce (`button.debounce_ms`) already handles bounce.
    public var kernelDebounce: Duration = .zero
    /// The second button, "Panggil" (call the next ticket), on the same chip and wired the same
    /// way; nil when not fitted.
    public var callLine: Int?
    /// On the hub: the ticket kiosk's big button, on the same chip and wired the same way; each
    /// press prints a ticket on `queue.printer`. nil when not fitted.
    public var kioskLine: Int?
}

public enum DisplayKind: String, CaseIterable, Sendable {
    case tm1637, ht16k33, max7219, none
}

public struct DisplayConfiguration: Equatable, Sendable {
    public var kind = DisplayKind.tm1637
    /// 0...7 while a session runs or its result shows.
    public var brightness = 7
    /// 0...7 while idle.
    public var idleBrightness = 2
    public var chip = "gpiochip0"
    /// TM1637 CLK and DIO lines.
    public var clockLine = 23
    public var dataLine = 24
    /// TM1637 half-bit delay; modules have ~10 µs rise time on their pull-ups.
    public var bitDelayMicroseconds = 50
    /// HT16K33: `/dev/i2c-<bus>`, 7-bit address.
    public var i2cBus = 1
    public var i2cAddress = 0x70
    /// MAX7219: SPI device and how many chips are chained (this display is the first).
    public var spiDevice = "/dev/spidev0.0"
    public var chainLength = 1
}

public enum BuzzerKind: String, CaseIterable, Sendable {
    /// On/off buzzer on a GPIO line (through a transistor).
    case active
    /// Passive buzzer driven by a kernel PWM channel at its resonant frequency.
    case passive
    case none
}

public struct BuzzerConfiguration: Equatable, Sendable {
    public var kind = BuzzerKind.active
    public var chip = "gpiochip0"
    public var line = 18
    /// `/sys/class/pwm/pwmchip<pwm_chip>/pwm<pwm_channel>`.
    public var pwmChip = 0
    public var pwmChannel = 0
    public var frequencyHz = 2700
}

public struct LightsConfiguration: Equatable, Sendable {
    public var chip = "gpiochip0"
    /// Status LED lines; `-1` in the file means not fitted.
    public var greenLine: Int? = 5
    public var amberLine: Int? = 6
    public var redLine: Int? = 13
    /// LED bar lines, first = the last to go out. Empty: no bar.
    public var sandLines: [Int] = []
}
