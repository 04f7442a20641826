/// The one place the version is written: both commands print it, the metrics carry it, and
/// `make deb` reads it from here.
public enum JamPasirVersion {
    public static let string = "0.1.0"
}
