//! Timestamps: the instants the dump names ([`Timestamp`]) and the exact text its CSV files use
//! for them ([`DumpTime`]).
//!
//! Parsing is strict and by hand (no date library): the dump writes one shape,
//! `YYYY-MM-DD HH:MM:SS[.f{1,9}][offset]`, and `metadata.json` the RFC 3339 variant with `T`
//! and `Z`. Accepting exactly that keeps every malformed value a clear error.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// An instant in UTC, to the nanosecond: a dump's `timestamp`, a crate's `updated_at`, the
/// state's last dump.
///
/// It reads the forms the dump writes (`2017-11-30 03:33:14.186028`, with `T` or a space,
/// 0 to 9 fractional digits, and no offset, `Z`, `+00`, `+00:00` or another offset) and shows
/// itself as RFC 3339 in UTC with a `+00:00` offset, the fraction in 6 digits when microseconds
/// suffice and 9 otherwise (`2022-08-08T02:00:27.645191645+00:00`). That matches how Software
/// Heritage prints an origin's `last_update` for the dump's microsecond values.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    seconds: i64,
    nanos: u32,
}

/// Text that is not a timestamp of the accepted shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct TimestampError {
    reason: &'static str,
}

impl Timestamp {
    /// The instant `seconds` (plus `nanos`) after 1970-01-01 00:00:00 UTC; `None` when `nanos`
    /// is a second or more.
    pub fn from_unix(seconds: i64, nanos: u32) -> Option<Timestamp> {
        (nanos < 1_000_000_000).then_some(Timestamp { seconds, nanos })
    }

    /// Whole seconds since 1970-01-01 00:00:00 UTC.
    pub fn unix_seconds(&self) -> i64 {
        self.seconds
    }

    /// The nanoseconds past [`unix_seconds`](Self::unix_seconds).
    pub fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    /// Parses any form described on the type.
    pub fn parse(text: &str) -> Result<Timestamp, TimestampError> {
        Ok(DumpTime::parse(text)?.timestamp())
    }

    /// `self` minus `duration`, clamped at the earliest representable instant.
    pub fn saturating_sub(self, duration: Duration) -> Timestamp {
        Timestamp::from_total_nanos(self.total_nanos() - duration.as_nanos() as i128)
    }

    fn total_nanos(self) -> i128 {
        self.seconds as i128 * NANOS_PER_SECOND + self.nanos as i128
    }

    fn from_total_nanos(total: i128) -> Timestamp {
        let seconds = total.div_euclid(NANOS_PER_SECOND);
        let nanos = total.rem_euclid(NANOS_PER_SECOND) as u32;
        match i64::try_from(seconds) {
            Ok(seconds) => Timestamp { seconds, nanos },
            Err(_) => Timestamp {
                seconds: i64::MIN,
                nanos: 0,
            },
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.render().as_str())
    }
}

impl Timestamp {
    /// The [`Display`](fmt::Display) form in a stack buffer: the listing's JSON writer copies
    /// it straight into its output, with no formatting machinery per value.
    pub(crate) fn render(&self) -> Text {
        self.render_with(None)
    }

    /// [`render`](Self::render), with recently shown dates remembered in `dates`.
    pub(crate) fn render_with(&self, dates: Option<&mut Dates>) -> Text {
        let digits = if self.nanos == 0 {
            0
        } else if self.nanos.is_multiple_of(1000) {
            6
        } else {
            9
        };
        let mut text = Text::default();
        text.civil(self.seconds, self.nanos, digits, b'T', dates);
        text.push_str("+00:00");
        text
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(text: &str) -> Result<Timestamp, TimestampError> {
        Timestamp::parse(text)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(|error| {
            serde::de::Error::custom(format_args!("invalid timestamp {text:?}: {error}"))
        })
    }
}

/// A timestamp exactly as the dump wrote it: it shows (and serializes) as the same text, and
/// [`timestamp`](DumpTime::timestamp) gives the instant it names.
///
/// Kept in 16 bytes rather than as a string: a full listing holds one per version.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DumpTime {
    /// The instant, in UTC.
    seconds: i64,
    nanos: u32,
    /// The written offset, in minutes east of UTC.
    offset_minutes: i16,
    /// Fractional digits written (0 to 9).
    digits: u8,
    /// `T` separator, and how the offset was written.
    style: u8,
}

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z in seconds since the epoch: the instants
/// whose UTC date has four digits.
const FIRST_SECOND: i64 = -62_167_219_200;
const LAST_SECOND: i64 = 253_402_300_799;

const STYLE_T: u8 = 1;
const SUFFIX_SHIFT: u8 = 1;
const SUFFIX_NONE: u8 = 0;
const SUFFIX_Z: u8 = 1;
const SUFFIX_HOURS: u8 = 2; // +00
const SUFFIX_COLON: u8 = 3; // +00:00
const SUFFIX_COMPACT: u8 = 4; // +0000

impl DumpTime {
    /// Parses `YYYY-MM-DD HH:MM:SS` (or with `T`), then an optional `.` and 1 to 9 digits, then
    /// no offset (UTC), `Z`, or `±HH`, `±HH:MM` or `±HHMM`.
    pub fn parse(text: &str) -> Result<DumpTime, TimestampError> {
        DumpTime::parse_bytes(text.as_bytes())
    }

    /// [`parse`](Self::parse) on bytes, as the CSV reader has them: anything that is not the
    /// ASCII form is refused, so they need no UTF-8 check first.
    pub(crate) fn parse_bytes(bytes: &[u8]) -> Result<DumpTime, TimestampError> {
        let error = |reason| TimestampError { reason };
        if bytes.len() < 19 {
            return Err(error(
                "expected a timestamp like 2017-11-30 03:33:14.186028+00",
            ));
        }
        let number = |range: std::ops::Range<usize>| -> Result<u32, TimestampError> {
            let mut value = 0u32;
            for &byte in &bytes[range] {
                if !byte.is_ascii_digit() {
                    return Err(error(
                        "expected a timestamp like 2017-11-30 03:33:14.186028+00",
                    ));
                }
                value = value * 10 + u32::from(byte - b'0');
            }
            Ok(value)
        };
        let year = number(0..4)?;
        let month = number(5..7)?;
        let day = number(8..10)?;
        let hour = number(11..13)?;
        let minute = number(14..16)?;
        let second = number(17..19)?;
        let separator = bytes[10];
        if bytes[4] != b'-'
            || bytes[7] != b'-'
            || !matches!(separator, b' ' | b'T')
            || bytes[13] != b':'
            || bytes[16] != b':'
        {
            return Err(error(
                "expected a timestamp like 2017-11-30 03:33:14.186028+00",
            ));
        }
        if !(1..=12).contains(&month) {
            return Err(error("month out of range"));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(error("day out of range"));
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(error("time of day out of range"));
        }

        let mut at = 19;
        let mut nanos = 0u32;
        let mut digits = 0u8;
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            while let Some(byte) = bytes.get(at).filter(|byte| byte.is_ascii_digit()) {
                if digits == 9 {
                    return Err(error("more than 9 fractional digits"));
                }
                nanos = nanos * 10 + u32::from(byte - b'0');
                digits += 1;
                at += 1;
            }
            if digits == 0 {
                return Err(error("no digits after the decimal point"));
            }
            nanos *= 10u32.pow(u32::from(9 - digits));
        }

        let rest = &bytes[at..];
        let (suffix, offset_minutes) = match rest {
            [] => (SUFFIX_NONE, 0),
            [b'Z'] => (SUFFIX_Z, 0),
            [sign @ (b'+' | b'-'), ..] => {
                let sign: i16 = if *sign == b'+' { 1 } else { -1 };
                let two = |pair: &[u8]| -> Option<i16> {
                    match pair {
                        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
                            Some(i16::from(a - b'0') * 10 + i16::from(b - b'0'))
                        }
                        _ => None,
                    }
                };
                let (suffix, hours, minutes) = match &rest[1..] {
                    [h0, h1] => (SUFFIX_HOURS, two(&[*h0, *h1]), Some(0)),
                    [h0, h1, b':', m0, m1] => (SUFFIX_COLON, two(&[*h0, *h1]), two(&[*m0, *m1])),
                    [h0, h1, m0, m1] => (SUFFIX_COMPACT, two(&[*h0, *h1]), two(&[*m0, *m1])),
                    _ => (SUFFIX_NONE, None, None),
                };
                match (hours, minutes) {
                    (Some(hours), Some(minutes)) if hours < 24 && minutes < 60 => {
                        (suffix, sign * (hours * 60 + minutes))
                    }
                    _ => return Err(error("invalid UTC offset")),
                }
            }
            _ => return Err(error("unexpected text after the time")),
        };

        let local = days_from_civil(i64::from(year), month, day) * 86_400
            + i64::from(hour * 3600 + minute * 60 + second);
        let seconds = local - i64::from(offset_minutes) * 60;
        // An offset can move a date at either end of the four-digit years out of them
        // (`0000-01-01 00:00:00+01` is in year -1 in UTC); such an instant could not be shown
        // in the form it was read from.
        if !(FIRST_SECOND..=LAST_SECOND).contains(&seconds) {
            return Err(error("instant outside the years 0000 to 9999 in UTC"));
        }
        Ok(DumpTime {
            seconds,
            nanos,
            offset_minutes,
            digits,
            style: (suffix << SUFFIX_SHIFT) | if separator == b'T' { STYLE_T } else { 0 },
        })
    }

    /// The instant this text names.
    pub fn timestamp(&self) -> Timestamp {
        Timestamp {
            seconds: self.seconds,
            nanos: self.nanos,
        }
    }
}

impl fmt::Display for DumpTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.render().as_str())
    }
}

impl DumpTime {
    /// The text as read, rebuilt in a stack buffer (see [`Timestamp::render`]).
    pub(crate) fn render(&self) -> Text {
        self.render_with(None)
    }

    /// [`render`](Self::render), with recently shown dates remembered in `dates`.
    pub(crate) fn render_with(&self, dates: Option<&mut Dates>) -> Text {
        let separator = if self.style & STYLE_T != 0 {
            b'T'
        } else {
            b' '
        };
        let local = self.seconds + i64::from(self.offset_minutes) * 60;
        let mut text = Text::default();
        text.civil(local, self.nanos, self.digits, separator, dates);
        let sign = if self.offset_minutes < 0 { b'-' } else { b'+' };
        let hours = u64::from(self.offset_minutes.unsigned_abs() / 60);
        let minutes = u64::from(self.offset_minutes.unsigned_abs() % 60);
        match self.style >> SUFFIX_SHIFT {
            SUFFIX_Z => text.push(b'Z'),
            SUFFIX_HOURS => {
                text.push(sign);
                text.digits(hours, 2);
            }
            SUFFIX_COLON => {
                text.push(sign);
                text.digits(hours, 2);
                text.push(b':');
                text.digits(minutes, 2);
            }
            SUFFIX_COMPACT => {
                text.push(sign);
                text.digits(hours, 2);
                text.digits(minutes, 2);
            }
            _ => {}
        }
        text
    }
}

impl fmt::Debug for DumpTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DumpTime({self})")
    }
}

impl FromStr for DumpTime {
    type Err = TimestampError;

    fn from_str(text: &str) -> Result<DumpTime, TimestampError> {
        DumpTime::parse(text)
    }
}

impl Serialize for DumpTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A rendered timestamp: at most a sign, 19 year digits, `-MM-DDTHH:MM:SS`, 10 fraction
/// bytes and a 6-byte offset, all ASCII.
pub(crate) struct Text {
    bytes: [u8; 56],
    length: usize,
}

impl Default for Text {
    fn default() -> Text {
        Text {
            bytes: [0; 56],
            length: 0,
        }
    }
}

impl Text {
    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII is ever pushed.
        std::str::from_utf8(&self.bytes[..self.length]).unwrap_or_default()
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.length]
    }

    fn push(&mut self, byte: u8) {
        self.bytes[self.length] = byte;
        self.length += 1;
    }

    fn push_str(&mut self, text: &str) {
        self.bytes[self.length..self.length + text.len()].copy_from_slice(text.as_bytes());
        self.length += text.len();
    }

    /// `value` in decimal, zero-padded to at least `width` digits.
    fn digits(&mut self, mut value: u64, width: usize) {
        let mut reversed = [0u8; 20];
        let mut count = 0;
        while value > 0 || count < width {
            reversed[count] = b'0' + (value % 10) as u8;
            value /= 10;
            count += 1;
        }
        for &digit in reversed[..count].iter().rev() {
            self.push(digit);
        }
    }

    /// Two decimal digits of `value`, which is below 100.
    fn pair(&mut self, value: u64) {
        let at = value as usize % 100 * 2;
        self.bytes[self.length..self.length + 2].copy_from_slice(&PAIRS[at..at + 2]);
        self.length += 2;
    }

    /// `YYYY-MM-DD?HH:MM:SS[.fraction]` for `seconds` since the epoch, with `digits`
    /// fractional digits. Two million versions are shown twice each in a full listing, so
    /// digits go in pairs.
    fn civil(
        &mut self,
        seconds: i64,
        nanos: u32,
        digits: u8,
        separator: u8,
        dates: Option<&mut Dates>,
    ) {
        let days = seconds.div_euclid(86_400);
        let of_day = seconds.rem_euclid(86_400) as u64;
        match dates {
            Some(dates) if Dates::DAYS.contains(&days) => {
                let date = dates.date(days);
                self.bytes[self.length..self.length + date.len()].copy_from_slice(&date);
                self.length += date.len();
            }
            _ => self.date(days),
        }
        self.push(separator);
        self.pair(of_day / 3600);
        self.push(b':');
        self.pair(of_day / 60 % 60);
        self.push(b':');
        self.pair(of_day % 60);
        if digits > 0 {
            // All nine digits, then the shown ones kept: the fraction is cut, not rounded.
            self.push(b'.');
            let start = self.length;
            let nanos = u64::from(nanos);
            self.pair(nanos / 10_000_000);
            self.pair(nanos / 100_000 % 100);
            self.pair(nanos / 1_000 % 100);
            self.pair(nanos / 10 % 100);
            self.push(b'0' + (nanos % 10) as u8);
            self.length = start + usize::from(digits.min(9));
        }
    }
}

impl Text {
    /// `YYYY-MM-DD` of a day count since 1970-01-01.
    fn date(&mut self, days: i64) {
        let (year, month, day) = civil_from_days(days);
        // Years outside 0000..=9999 (reachable only through `from_unix` or subtraction) take
        // ISO 8601's expanded form, with a sign, rather than a misleading four-digit field.
        if (0..=9999).contains(&year) {
            self.pair(year as u64 / 100);
            self.pair(year as u64 % 100);
        } else {
            self.push(if year < 0 { b'-' } else { b'+' });
            self.digits(year.unsigned_abs(), 4);
        }
        self.push(b'-');
        self.pair(u64::from(month));
        self.push(b'-');
        self.pair(u64::from(day));
    }
}

/// Dates shown recently, by day. A full listing shows four million timestamps from a few
/// thousand days, and the calendar arithmetic was most of the work of showing one.
pub(crate) struct Dates {
    /// Direct-mapped by day: consecutive days never collide.
    slots: Box<[(i64, [u8; 10])]>,
}

impl Dates {
    const SLOTS: usize = 1 << 12;
    /// The days of the years 0000 to 9999, whose dates are ten bytes.
    const DAYS: std::ops::RangeInclusive<i64> =
        FIRST_SECOND.div_euclid(86_400)..=LAST_SECOND.div_euclid(86_400);

    pub(crate) fn new() -> Dates {
        Dates {
            slots: vec![(i64::MIN, [0; 10]); Self::SLOTS].into_boxed_slice(),
        }
    }

    /// `YYYY-MM-DD` of a day in [`Dates::DAYS`].
    fn date(&mut self, days: i64) -> [u8; 10] {
        let slot = &mut self.slots[days.rem_euclid(Self::SLOTS as i64) as usize];
        if slot.0 != days {
            let mut text = Text::default();
            text.date(days);
            slot.1.copy_from_slice(&text.bytes[..10]);
            slot.0 = days;
        }
        slot.1
    }
}

/// `00` to `99`.
const PAIRS: [u8; 200] = {
    let mut pairs = [0u8; 200];
    let mut value = 0;
    while value < 100 {
        pairs[value * 2] = b'0' + (value / 10) as u8;
        pairs[value * 2 + 1] = b'0' + (value % 10) as u8;
        value += 1;
    }
    pairs
};

fn is_leap(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count since 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `input` and shows what came out: the instant and the text it shows as.
    #[track_caller]
    fn check(input: &str, expected: &str) {
        let actual = match DumpTime::parse(input) {
            Ok(time) => format!("{} | {}", time.timestamp(), time),
            Err(error) => format!("error: {error}"),
        };
        assert_eq!(actual, expected, "input {input:?}");
    }

    #[test]
    fn dump_forms_round_trip() {
        check(
            "2017-11-30 03:33:14.186028",
            "2017-11-30T03:33:14.186028+00:00 | 2017-11-30 03:33:14.186028",
        );
        check(
            "2017-11-30 02:29:20.01125",
            "2017-11-30T02:29:20.011250+00:00 | 2017-11-30 02:29:20.01125",
        );
        check(
            "2017-11-30 02:29:20",
            "2017-11-30T02:29:20+00:00 | 2017-11-30 02:29:20",
        );
        check(
            "2017-01-17 19:13:05.112025+00",
            "2017-01-17T19:13:05.112025+00:00 | 2017-01-17 19:13:05.112025+00",
        );
        check(
            "2022-08-08T02:00:27.645191645Z",
            "2022-08-08T02:00:27.645191645+00:00 | 2022-08-08T02:00:27.645191645Z",
        );
        check(
            "2022-08-08T02:00:27.1+00:00",
            "2022-08-08T02:00:27.100000+00:00 | 2022-08-08T02:00:27.1+00:00",
        );
        check(
            "2022-08-08 02:00:27.000+0000",
            "2022-08-08T02:00:27+00:00 | 2022-08-08 02:00:27.000+0000",
        );
        check(
            "2024-02-29 00:30:00+02",
            "2024-02-28T22:30:00+00:00 | 2024-02-29 00:30:00+02",
        );
        check(
            "1969-12-31 23:59:59.5-01:30",
            "1970-01-01T01:29:59.500000+00:00 | 1969-12-31 23:59:59.5-01:30",
        );
    }

    #[test]
    fn malformed_timestamps_say_why() {
        check(
            "2017-11-30",
            "error: expected a timestamp like 2017-11-30 03:33:14.186028+00",
        );
        check(
            "2017/11/30 03:33:14",
            "error: expected a timestamp like 2017-11-30 03:33:14.186028+00",
        );
        check("2017-13-30 03:33:14", "error: month out of range");
        check("2023-02-29 03:33:14", "error: day out of range");
        check("2017-11-30 24:00:00", "error: time of day out of range");
        check(
            "2017-11-30 03:33:14.1234567891",
            "error: more than 9 fractional digits",
        );
        check(
            "2017-11-30 03:33:14.",
            "error: no digits after the decimal point",
        );
        check("2017-11-30 03:33:14+0", "error: invalid UTC offset");
        check("2017-11-30 03:33:14+25", "error: invalid UTC offset");
        check(
            "0000-01-01 00:00:00.6+20",
            "error: instant outside the years 0000 to 9999 in UTC",
        );
        check(
            "9999-12-31 23:00:00-02",
            "error: instant outside the years 0000 to 9999 in UTC",
        );
        check(
            "0000-01-01 00:00:00-00:30",
            "0000-01-01T00:30:00+00:00 | 0000-01-01 00:00:00-00:30",
        );
        check(
            "2017-11-30 03:33:14 UTC",
            "error: unexpected text after the time",
        );
        check(
            "２017-11-30 03:33:14",
            "error: expected a timestamp like 2017-11-30 03:33:14.186028+00",
        );
    }

    #[test]
    fn civil_conversion_round_trips_over_centuries() {
        for days in (-800_000..800_000).step_by(97) {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(
                days_from_civil(year, month, day),
                days,
                "{year}-{month}-{day}"
            );
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(0, 1, 1) * 86_400, FIRST_SECOND);
        assert_eq!(days_from_civil(10_000, 1, 1) * 86_400 - 1, LAST_SECOND);
        assert_eq!(
            Timestamp::from_unix(FIRST_SECOND - 1, 0)
                .unwrap()
                .to_string(),
            "-0001-12-31T23:59:59+00:00"
        );
    }

    #[test]
    fn remembered_dates_show_as_computed_ones() {
        let mut dates = Dates::new();
        // Days 4096 apart share a slot; the years around 0000 and 9999 bypass the slots.
        for days in (-800_000i64..800_000).step_by(4093).chain([
            0,
            Dates::SLOTS as i64,
            0,
            *Dates::DAYS.start() - 1,
            *Dates::DAYS.start(),
            *Dates::DAYS.end(),
            *Dates::DAYS.end() + 1,
        ]) {
            let at = Timestamp::from_unix(days * 86_400 + 45_296, 7_000).unwrap();
            assert_eq!(
                at.render_with(Some(&mut dates)).as_str(),
                at.render().as_str(),
                "{days}"
            );
        }
        let dump = DumpTime::parse("2017-11-30 23:33:14.186028-05").unwrap();
        assert_eq!(
            dump.render_with(Some(&mut dates)).as_str(),
            "2017-11-30 23:33:14.186028-05"
        );
    }

    #[test]
    fn subtraction_and_order() {
        let at = Timestamp::parse("2022-08-08T02:00:27.645191645Z").unwrap();
        let earlier = at.saturating_sub(Duration::from_secs(3600));
        assert_eq!(earlier.to_string(), "2022-08-08T01:00:27.645191645+00:00");
        assert!(earlier < at);
        let before_epoch = Timestamp::parse("1970-01-01 00:00:00.25")
            .unwrap()
            .saturating_sub(Duration::from_millis(500));
        assert_eq!(before_epoch.to_string(), "1969-12-31T23:59:59.750000+00:00");
        assert_eq!(
            Timestamp::from_unix(i64::MIN, 0)
                .unwrap()
                .saturating_sub(Duration::from_secs(1)),
            Timestamp::from_unix(i64::MIN, 0).unwrap()
        );
    }

    #[test]
    fn serde_uses_the_display_form() {
        let at = Timestamp::parse("2022-09-05T02:00:27.687167108Z").unwrap();
        let json = serde_json::to_string(&at).unwrap();
        assert_eq!(json, "\"2022-09-05T02:00:27.687167108+00:00\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), at);
        let error = serde_json::from_str::<Timestamp>("\"yesterday\"").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("invalid timestamp \"yesterday\": expected"),
            "{error}"
        );
    }
}
