//! Wall-clock time types of the input format: `"08:30"`, `"mon"`, `"2025-03-03T07:00"`, and
//! an existing booking's start, which may carry its UTC offset (`"2025-03-03T07:00-05:00"`).

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Timelike,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Serde through the type's `Display` and `FromStr`, so that a value reads and writes as the
/// string the input format shows, and a parse error keeps its own message.
macro_rules! serde_as_string {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Minutes in a day.
pub const MINUTES_PER_DAY: u32 = 1440;

/// The longest run of local minutes a zone's clocks skip: a whole day (Apia's 2011-12-30,
/// when Samoa crossed the date line) and an hour.
pub const LONGEST_SKIP_MIN: u32 = 25 * 60;

/// A time of day in minutes from midnight, `0..=1440`, written `"HH:MM"` (`"24:00"` is the
/// end of the day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(pub u32);

impl ClockTime {
    /// Minutes from midnight.
    pub fn minutes(self) -> u32 {
        self.0
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl FromStr for ClockTime {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("invalid time of day {s:?}: expected \"HH:MM\" from 00:00 to 24:00");
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: u32 = h.parse().map_err(|_| bad())?;
        let m: u32 = m.parse().map_err(|_| bad())?;
        if m >= 60 || h > 24 || (h == 24 && m != 0) {
            return Err(bad());
        }
        Ok(ClockTime(h * 60 + m))
    }
}

serde_as_string!(ClockTime);

/// A weekday, written `"mon"` … `"sun"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DayOfWeek {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl DayOfWeek {
    /// All weekdays, Monday first.
    pub const ALL: [DayOfWeek; 7] = [
        DayOfWeek::Mon,
        DayOfWeek::Tue,
        DayOfWeek::Wed,
        DayOfWeek::Thu,
        DayOfWeek::Fri,
        DayOfWeek::Sat,
        DayOfWeek::Sun,
    ];

    /// 0 for Monday … 6 for Sunday.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The weekday of a date.
    pub fn of(date: NaiveDate) -> DayOfWeek {
        DayOfWeek::ALL[date.weekday().num_days_from_monday() as usize]
    }

    /// The key it is written as, "mon".
    pub fn key(self) -> &'static str {
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][self.index()]
    }

    /// Short English name, "Mon".
    pub fn short_name(self) -> &'static str {
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][self.index()]
    }
}

// Read through a string (not serde's enum derive) so that a weekday used as a map key shows in
// error paths ("hours.mon[0]") instead of an unknown segment.
impl<'de> Deserialize<'de> for DayOfWeek {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DayOfWeek::ALL
            .into_iter()
            .find(|w| w.key() == s)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "unknown weekday {s:?}: expected one of mon, tue, wed, thu, fri, sat, sun"
                ))
            })
    }
}

/// A local wall-clock date-time, written `"2025-03-03T07:00"` (`:00` seconds allowed, no
/// others; `T24:00` is midnight at the end of that date).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalDateTime(pub NaiveDateTime);

impl LocalDateTime {
    /// The local date.
    pub fn date(self) -> NaiveDate {
        self.0.date()
    }

    /// Minutes from midnight of its date.
    pub fn minute_of_day(self) -> u32 {
        self.0.hour() * 60 + self.0.minute()
    }
}

impl fmt::Display for LocalDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%dT%H:%M"))
    }
}

/// Why a wall-clock date-time did not parse.
enum WallClockError {
    /// Not `YYYY-MM-DDTHH:MM[:SS]`.
    Malformed,
    /// Seconds other than `00`.
    Seconds,
}

/// A local date `d` and time of day `t` (`HH:MM`, `HH:MM:00`, or `24:00` for the next
/// midnight), whole minutes only.
fn wall_clock(d: &str, t: &str) -> Result<LocalDateTime, WallClockError> {
    let date = NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| WallClockError::Malformed)?;
    if t == "24:00" || t == "24:00:00" {
        let next = date.succ_opt().ok_or(WallClockError::Malformed)?;
        return Ok(LocalDateTime(next.and_time(NaiveTime::MIN)));
    }
    let time = NaiveTime::parse_from_str(t, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M:%S"))
        .map_err(|_| WallClockError::Malformed)?;
    // Times are whole minutes: seconds would be dropped without a word.
    if time.second() != 0 {
        return Err(WallClockError::Seconds);
    }
    Ok(LocalDateTime(date.and_time(time)))
}

impl FromStr for LocalDateTime {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad =
            || format!("invalid local date-time {s:?}: expected \"YYYY-MM-DDTHH:MM\" (no offset)");
        let (d, t) = s.split_once('T').ok_or_else(bad)?;
        wall_clock(d, t).map_err(|e| match e {
            WallClockError::Malformed => bad(),
            WallClockError::Seconds => format!(
                "invalid local date-time {s:?}: seconds must be 00 (times are whole minutes)"
            ),
        })
    }
}

serde_as_string!(LocalDateTime);

/// The start of an existing booking: a [`LocalDateTime`] in the week's time zone, optionally
/// followed by its UTC offset as the schedule prints it: `"2026-11-01T01:30"`,
/// `"2026-11-01T01:30:00-05:00"`, `"2026-03-03T15:00Z"` (`Z` is `+00:00`).
///
/// Without an offset a local time the clocks repeat (when daylight saving ends) is its
/// earlier occurrence. With one, it names an instant: the offset must be the week zone's at
/// that local time, where it picks the occurrence in a repeated hour, or the booked
/// provider's site zone's, as the schedule prints an in-person start (validation refuses
/// another with E022).
/// It is printed back as written, with its offset (as `±HH:MM`) when it had one, and
/// without seconds.
///
/// # Example
/// ```
/// use careweek::time::BookingStart;
/// use chrono_tz::America::New_York;
/// // New York's clocks go back at 02:00 on 2026-11-01: 01:30 comes twice.
/// let second: BookingStart = "2026-11-01T01:30:00-05:00".parse().unwrap();
/// let unmarked: BookingStart = "2026-11-01T01:30".parse().unwrap();
/// assert_eq!(second.to_string(), "2026-11-01T01:30-05:00");
/// let (a, b) = (unmarked.instant(&New_York).unwrap(), second.instant(&New_York).unwrap());
/// assert_eq!((b - a).num_minutes(), 60); // without an offset, the earlier 01:30
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BookingStart {
    /// The wall-clock time as written: the week zone's, or the site zone's its offset is.
    pub local: LocalDateTime,
    /// The UTC offset written with it, in minutes east of UTC (`-300` for `-05:00`), if any.
    pub utc_offset_min: Option<i32>,
}

impl BookingStart {
    /// A start without offset.
    pub fn new(local: LocalDateTime) -> Self {
        BookingStart {
            local,
            utc_offset_min: None,
        }
    }

    /// A start with the UTC offset `minutes` east of UTC (`-300` for `-05:00`).
    pub fn with_offset(local: LocalDateTime, minutes: i32) -> Self {
        BookingStart {
            local,
            utc_offset_min: Some(minutes),
        }
    }

    /// The wall-clock date-time.
    pub fn naive(self) -> NaiveDateTime {
        self.local.0
    }

    /// The local date.
    pub fn date(self) -> NaiveDate {
        self.local.date()
    }

    /// Minutes from midnight of its date, on the wall clock.
    pub fn minute_of_day(self) -> u32 {
        self.local.minute_of_day()
    }

    /// The UTC offset written with it, if any (`None` as well for one beyond a day, which
    /// parsing never gives).
    pub fn offset(self) -> Option<FixedOffset> {
        self.utc_offset_min
            .and_then(|m| FixedOffset::east_opt(m.checked_mul(60)?))
    }

    /// The occurrences of the wall-clock time in `tz` that the start means: all of them
    /// without an offset (two in a repeated hour, where the earlier is meant), and with
    /// one only that whose offset it is: `LocalResult::None` when the clocks skip the
    /// time or the offset is not the zone's then.
    pub fn in_zone<Z: TimeZone>(self, tz: &Z) -> LocalResult<DateTime<Z>> {
        let found = tz.from_local_datetime(&self.local.0);
        let Some(want) = self.offset() else {
            return found;
        };
        let fits = |t: &DateTime<Z>| t.offset().fix() == want;
        match found {
            LocalResult::Single(a) if fits(&a) => LocalResult::Single(a),
            LocalResult::Ambiguous(a, b) => match (fits(&a), fits(&b)) {
                (true, _) => LocalResult::Single(a),
                (_, true) => LocalResult::Single(b),
                _ => LocalResult::None,
            },
            _ => LocalResult::None,
        }
    }

    /// The instant it names: with an offset, the wall-clock time less the offset (whatever
    /// the zone); without one, its earliest occurrence in `tz` (`None` when the clocks skip
    /// it).
    pub fn instant<Z: TimeZone>(self, tz: &Z) -> Option<DateTime<chrono::Utc>> {
        match self.offset() {
            Some(offset) => self
                .local
                .0
                .checked_sub_signed(chrono::Duration::seconds(offset.local_minus_utc().into()))
                .map(|utc| chrono::Utc.from_utc_datetime(&utc)),
            None => self
                .in_zone(tz)
                .earliest()
                .map(|t| t.with_timezone(&chrono::Utc)),
        }
    }

    /// The same instant on `tz`'s wall clock, with `tz`'s offset then, when the start has an
    /// offset that is `other`'s at the instant it names (a start the schedule gave in a site's
    /// zone, read in the week's); `None` otherwise.
    pub fn moved_from<Z: TimeZone, O: TimeZone>(self, other: &O, tz: &Z) -> Option<Self> {
        let given = self.offset()?;
        let utc = self.instant(tz)?.naive_utc();
        if other.offset_from_utc_datetime(&utc).fix() != given {
            return None;
        }
        let there = tz.from_utc_datetime(&utc);
        Some(BookingStart::with_offset(
            LocalDateTime(there.naive_local()),
            there.offset().fix().local_minus_utc() / 60,
        ))
    }
}

impl From<LocalDateTime> for BookingStart {
    fn from(local: LocalDateTime) -> Self {
        BookingStart::new(local)
    }
}

impl fmt::Display for BookingStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.local)?;
        if let Some(m) = self.utc_offset_min {
            let sign = if m < 0 { '-' } else { '+' };
            let m = m.unsigned_abs();
            write!(f, "{sign}{:02}:{:02}", m / 60, m % 60)?;
        }
        Ok(())
    }
}

/// A UTC offset `Z` or `±HH:MM` (hours up to 23) in minutes east of UTC.
fn utc_offset(s: &str) -> Option<i32> {
    if s == "Z" {
        return Some(0);
    }
    let b = s.as_bytes();
    if b.len() != 6 || b[3] != b':' || ![1, 2, 4, 5].iter().all(|&i| b[i].is_ascii_digit()) {
        return None;
    }
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let two = |i: usize| i32::from(b[i] - b'0') * 10 + i32::from(b[i + 1] - b'0');
    let (h, m) = (two(1), two(4));
    (h < 24 && m < 60).then_some(sign * (h * 60 + m))
}

impl FromStr for BookingStart {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "invalid booking start {s:?}: expected \"YYYY-MM-DDTHH:MM\", optionally followed \
                 by the UTC offset the schedule prints (\"Z\" or \"±HH:MM\", e.g. \
                 \"2026-03-03T10:00:00-05:00\")"
            )
        };
        let (d, t) = s.split_once('T').ok_or_else(bad)?;
        let (t, utc_offset_min) = match t.find(['+', '-', 'Z']) {
            Some(i) => (
                &t[..i],
                Some(utc_offset(&t[i..]).ok_or_else(|| {
                    format!(
                        "invalid booking start {s:?}: the UTC offset {:?} is not \"Z\" or \
                         \"±HH:MM\" (hours 00 to 23)",
                        &t[i..]
                    )
                })?),
            ),
            None => (t, None),
        };
        let local = wall_clock(d, t).map_err(|e| match e {
            WallClockError::Malformed => bad(),
            WallClockError::Seconds => {
                format!("invalid booking start {s:?}: seconds must be 00 (times are whole minutes)")
            }
        })?;
        Ok(BookingStart {
            local,
            utc_offset_min,
        })
    }
}

serde_as_string!(BookingStart);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times_parse_and_print() {
        assert_eq!("08:30".parse::<ClockTime>(), Ok(ClockTime(510)));
        assert_eq!("24:00".parse::<ClockTime>(), Ok(ClockTime(1440)));
        assert!("24:01".parse::<ClockTime>().is_err());
        assert!("8:30".parse::<ClockTime>().is_err());
        assert!("08:60".parse::<ClockTime>().is_err());
        assert_eq!(ClockTime(75).to_string(), "01:15");
    }

    #[test]
    fn local_date_times_parse_with_or_without_seconds() {
        let a: LocalDateTime = "2025-03-03T07:00".parse().unwrap();
        let b: LocalDateTime = "2025-03-03T07:00:00".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.minute_of_day(), 420);
        let end: LocalDateTime = "2025-03-03T24:00".parse().unwrap();
        assert_eq!(end.to_string(), "2025-03-04T00:00");
        assert!("2025-03-03 07:00".parse::<LocalDateTime>().is_err());
        let seconds = "2025-03-03T07:00:30".parse::<LocalDateTime>().unwrap_err();
        assert!(seconds.contains("seconds must be 00"), "{seconds}");
        assert!("2025-03-03T07:00+01:00".parse::<LocalDateTime>().is_err());
    }

    #[test]
    fn booking_starts_parse_with_or_without_offset() {
        let at = |s: &str| s.parse::<BookingStart>();
        let local: LocalDateTime = "2026-03-03T10:00".parse().unwrap();
        assert_eq!(at("2026-03-03T10:00"), Ok(BookingStart::new(local)));
        assert_eq!(at("2026-03-03T10:00:00"), Ok(BookingStart::new(local)));
        for (written, east) in [
            ("2026-03-03T10:00:00-05:00", -300),
            ("2026-03-03T10:00-05:00", -300),
            ("2026-03-03T10:00+05:30", 330),
            ("2026-03-03T10:00Z", 0),
            ("2026-03-03T10:00:00Z", 0),
            ("2026-03-03T10:00-00:00", 0),
        ] {
            assert_eq!(
                at(written),
                Ok(BookingStart::with_offset(local, east)),
                "{written}"
            );
        }
        let b = at("2026-03-03T10:00-05:00").unwrap();
        assert_eq!(b.offset(), FixedOffset::west_opt(5 * 3600));
        assert_eq!((b.date(), b.minute_of_day()), (local.date(), 600));
        assert_eq!(at("2026-03-03T10:00").unwrap().offset(), None);
        // The end of the day, as for other local times.
        assert_eq!(
            at("2026-03-03T24:00+01:00").unwrap().to_string(),
            "2026-03-04T00:00+01:00"
        );
    }

    #[test]
    fn malformed_booking_starts_are_refused() {
        for s in [
            "2026-03-03T10:00+5",
            "2026-03-03T10:00+05",
            "2026-03-03T10:00+0500",
            "2026-03-03T10:00+25:00",
            "2026-03-03T10:00+24:00",
            "2026-03-03T10:00+05:60",
            "2026-03-03T10:00+05:00:30",
            "2026-03-03T10:00-05:00Z",
            "2026-03-03T10:00z",
            "2026-03-03T10:00 -05:00",
            "2026-03-03T10:00+",
            "2026-03-03T10:00+-5:00",
            "2026-03-03T10:00+05:3x",
        ] {
            let e = s.parse::<BookingStart>().unwrap_err();
            assert!(e.contains("UTC offset"), "{s}: {e}");
        }
        for s in [
            "2026-03-03 10:00-05:00",
            "2026-03-03T10-05:00",
            "-05:00",
            "",
        ] {
            assert!(s.parse::<BookingStart>().is_err(), "{s}");
        }
        for s in [
            "2026-03-03T10:00:30-05:00",
            "2026-03-03T10:00:30Z",
            "2026-03-03T10:00:30",
        ] {
            let e = s.parse::<BookingStart>().unwrap_err();
            assert!(e.contains("seconds must be 00"), "{s}: {e}");
        }
    }

    #[test]
    fn booking_starts_print_their_offset_only_when_given() {
        for (text, printed) in [
            ("2026-03-03T10:00", "2026-03-03T10:00"),
            ("2026-03-03T10:00:00", "2026-03-03T10:00"),
            ("2026-03-03T10:00:00-05:00", "2026-03-03T10:00-05:00"),
            ("2026-03-03T10:00+05:30", "2026-03-03T10:00+05:30"),
            ("2026-03-03T10:00-00:30", "2026-03-03T10:00-00:30"),
            ("2026-03-03T10:00Z", "2026-03-03T10:00+00:00"),
        ] {
            let b: BookingStart = text.parse().unwrap();
            assert_eq!(b.to_string(), printed);
            let json = serde_json::to_string(&b).unwrap();
            assert_eq!(json, format!("\"{printed}\""));
            assert_eq!(serde_json::from_str::<BookingStart>(&json).unwrap(), b);
        }
    }

    /// New York repeats 01:00-02:00 on 2026-11-01 and skips 02:00-03:00 on 2026-03-08.
    #[test]
    fn an_offset_picks_the_occurrence_in_the_zone() {
        let tz = chrono_tz::America::New_York;
        let utc = |b: &str| {
            b.parse::<BookingStart>()
                .unwrap()
                .in_zone(&tz)
                .map(|t| t.to_utc().to_rfc3339())
        };
        assert_eq!(
            utc("2026-11-01T01:30"),
            LocalResult::Ambiguous(
                "2026-11-01T05:30:00+00:00".into(),
                "2026-11-01T06:30:00+00:00".into()
            )
        );
        assert_eq!(
            utc("2026-11-01T01:30-04:00"),
            LocalResult::Single("2026-11-01T05:30:00+00:00".into())
        );
        assert_eq!(
            utc("2026-11-01T01:30-05:00"),
            LocalResult::Single("2026-11-01T06:30:00+00:00".into())
        );
        assert_eq!(utc("2026-11-01T01:30-03:00"), LocalResult::None);
        assert_eq!(
            utc("2026-03-03T10:00-05:00"),
            LocalResult::Single("2026-03-03T15:00:00+00:00".into())
        );
        assert_eq!(utc("2026-03-03T10:00-04:00"), LocalResult::None);
        assert_eq!(utc("2026-03-03T10:00Z"), LocalResult::None);
        assert_eq!(utc("2026-03-08T02:30-05:00"), LocalResult::None);
        assert_eq!(utc("2026-03-08T02:30"), LocalResult::None);
    }

    #[test]
    fn weekday_of_a_date() {
        let monday = NaiveDate::from_ymd_opt(2025, 3, 3).unwrap();
        assert_eq!(DayOfWeek::of(monday), DayOfWeek::Mon);
        assert_eq!(DayOfWeek::of(monday.succ_opt().unwrap()), DayOfWeek::Tue);
    }
}
