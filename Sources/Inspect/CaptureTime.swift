/// Formats capture timestamps (nanoseconds since the Unix epoch) as UTC calendar text, the
/// way `tcpdump -tttt` does, without Foundation.
public enum CaptureTime {
    /// `2013-05-18 20:21:44.837063` (six fraction digits) or nine with `nanoseconds`.
    public static func format(_ epochNanoseconds: Int64, nanoseconds: Bool = false) -> String {
        let (seconds, fraction) = floorDivide(epochNanoseconds, 1_000_000_000)
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        let hour = secondOfDay / 3600, minute = secondOfDay / 60 % 60, second = secondOfDay % 60
        let digits = nanoseconds ? pad(fraction, 9) : pad(fraction / 1000, 6)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) \(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)).\(digits)"
    }

    /// `1575842394.599412000`, as Wireshark prints `frame.time_epoch`.
    public static func epoch(_ epochNanoseconds: Int64) -> String {
        let (seconds, fraction) = floorDivide(epochNanoseconds, 1_000_000_000)
        return "\(seconds).\(pad(fraction, 9))"
    }

    /// The proleptic Gregorian date of a day count from 1970-01-01 (H. Hinnant's
    /// `civil_from_days` algorithm).
    static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }

    static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
