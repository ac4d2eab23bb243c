//! Wall-clock time types of the input format: `"08:30"`, `"mon"`, `"2025-03-03T07:00"`.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Minutes in a day.
pub const MINUTES_PER_DAY: u32 = 1440;

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

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

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

impl FromStr for LocalDateTime {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad =
            || format!("invalid local date-time {s:?}: expected \"YYYY-MM-DDTHH:MM\" (no offset)");
        let (d, t) = s.split_once('T').ok_or_else(bad)?;
        let date = NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| bad())?;
        if t == "24:00" || t == "24:00:00" {
            let next = date.succ_opt().ok_or_else(bad)?;
            return Ok(LocalDateTime(next.and_time(NaiveTime::MIN)));
        }
        let time = NaiveTime::parse_from_str(t, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M:%S"))
            .map_err(|_| bad())?;
        // Times are whole minutes: seconds would be dropped without a word.
        if time.second() != 0 {
            return Err(format!(
                "invalid local date-time {s:?}: seconds must be 00 (times are whole minutes)"
            ));
        }
        Ok(LocalDateTime(date.and_time(time)))
    }
}

impl Serialize for LocalDateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LocalDateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

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
    fn weekday_of_a_date() {
        let monday = NaiveDate::from_ymd_opt(2025, 3, 3).unwrap();
        assert_eq!(DayOfWeek::of(monday), DayOfWeek::Mon);
        assert_eq!(DayOfWeek::of(monday.succ_opt().unwrap()), DayOfWeek::Tue);
    }
}
