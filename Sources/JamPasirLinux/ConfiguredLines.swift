import JamPasirConfig
import JamPasirCore

/// The GPIO lines the configuration names, each with its key: the one mapping from `[button]`,
/// `[display]`, `[buzzer]` and `[lights]` to lines, for the daemon's parts and for
/// `jampasir doctor`'s checks alike.
public struct ConfiguredLines: Sendable, Equatable {
    public var button: GPIOLineSpec
    /// The call button ("Panggil"), where one is fitted.
    public var call: GPIOLineSpec?
    /// The ticket kiosk's button, on the hub, where one is fitted.
    public var kiosk: GPIOLineSpec?
    /// The TM1637's two wires; nil for the other displays.
    public var displayClock: GPIOLineSpec?
    public var displayData: GPIOLineSpec?
    /// An active buzzer's line; nil for a passive (PWM) buzzer or none.
    public var buzzer: GPIOLineSpec?
    public var green: GPIOLineSpec?
    public var amber: GPIOLineSpec?
    public var red: GPIOLineSpec?
    public var sand: [GPIOLineSpec]

    public init(_ hardware: HardwareConfiguration) {
        let (display, buzzer, lights) = (hardware.display, hardware.buzzer, hardware.lights)
        button = GPIOLineSpec(chip: hardware.button.chip, offset: hardware.button.line, key: "button.line")
        call = hardware.button.callLine.map { GPIOLineSpec(chip: hardware.button.chip, offset: $0, key: "button.call_line") }
        kiosk = hardware.button.kioskLine.map { GPIOLineSpec(chip: hardware.button.chip, offset: $0, key: "button.kiosk_line") }
        let tm1637 = display.kind == .tm1637
        displayClock = tm1637 ? GPIOLineSpec(chip: display.chip, offset: display.clockLine, key: "display.clk_line") : nil
        displayData = tm1637 ? GPIOLineSpec(chip: display.chip, offset: display.dataLine, key: "display.dio_line") : nil
        self.buzzer = buzzer.kind == .active ? GPIOLineSpec(chip: buzzer.chip, offset: buzzer.line, key: "buzzer.line") : nil
        let light = { (line: Int?, key: String) in line.map { GPIOLineSpec(chip: lights.chip, offset: $0, key: key) } }
        green = light(lights.greenLine, "lights.green_line")
        amber = light(lights.amberLine, "lights.amber_line")
        red = light(lights.redLine, "lights.red_line")
        sand = lights.sandLines.map { GPIOLineSpec(chip: lights.chip, offset: $0, key: "lights.sand_lines") }
    }

    /// Every line, button first.
    public var all: [GPIOLineSpec] {
        let optional: [GPIOLineSpec?] = [call, kiosk, displayClock, displayData, buzzer, green, amber, red]
        return [button] + optional.compactMap { $0 } + sand
    }
}

extension GPIOButton.Settings {
    /// A button on `line`, wired as `[button]` says (active low, bias, kernel debounce): the
    /// counter's two buttons and the kiosk's alike.
    public init(line: GPIOLineSpec, wiring: ButtonConfiguration, button: CounterButton = .service) {
        let bias: LineBiasSetting =
            switch wiring.bias {
            case .pullUp: .pullUp
            case .pullDown: .pullDown
            case .disabled: .disabled
            }
        self.init(line: line, activeLow: wiring.activeLow, bias: bias, kernelDebounce: wiring.kernelDebounce, button: button)
    }
}
