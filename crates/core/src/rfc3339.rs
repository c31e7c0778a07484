//! RFC 3339 timestamps, read and written without chrono's general formatting machinery, for
//! the paths that handle millions of them (a bulk import parses and stores ten a case). Each
//! function answers exactly what chrono answers: the common shape is handled here, anything else
//! is handed to chrono.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, SecondsFormat, TimeDelta, Timelike, Utc};

/// Parses an RFC 3339 timestamp as chrono's `DateTime<FixedOffset>` parser (and so serde's
/// `DateTime<Utc>`) does, converted to UTC.
pub fn parse(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    match common(s.as_bytes()) {
        Some(at) => Ok(at),
        None => s
            .parse::<DateTime<FixedOffset>>()
            .map(|at| at.with_timezone(&Utc)),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)`, the shape nearly every file has; `None` for
/// anything else (including what chrono would refuse), which chrono then decides.
fn common(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let digit = |i: usize| -> Option<u32> {
        let d = b.get(i)?.wrapping_sub(b'0');
        (d < 10).then_some(u32::from(d))
    };
    let two = |i: usize| Some(digit(i)? * 10 + digit(i + 1)?);
    let year = two(0)? * 100 + two(2)?;
    let (month, day) = (two(5)?, two(8)?);
    let (hour, minute, second) = (two(11)?, two(14)?, two(17)?);
    if second > 59 {
        return None; // A leap second: chrono's rules.
    }
    let mut i = 19;
    let mut nanos = 0;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while let Some(d) = digit(i) {
            if i - start == 9 {
                return None;
            }
            nanos = nanos * 10 + d;
            i += 1;
        }
        let digits = i - start;
        if digits == 0 {
            return None;
        }
        nanos *= 10u32.pow(9 - digits as u32);
    }
    let offset_seconds = match &b[i..] {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (two(i + 1)?, two(i + 4)?);
            if h > 23 || m > 59 {
                return None;
            }
            let s = i64::from(h * 3600 + m * 60);
            if *sign == b'-' { -s } else { s }
        }
        _ => return None,
    };
    let local = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?
        .and_hms_nano_opt(hour, minute, second, nanos)?;
    let utc = local.checked_sub_signed(TimeDelta::seconds(offset_seconds))?;
    Some(utc.and_utc())
}

/// Appends the timestamp as `to_rfc3339_opts(SecondsFormat::AutoSi, false)` writes it (which
/// is how the database driver stores one in SQLite): `2024-03-01T09:30:00+00:00`, with 3, 6 or 9
/// digits of fraction when there is one.
pub fn write(at: &DateTime<Utc>, out: &mut String) {
    let nanos = at.nanosecond();
    let year = at.year();
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        out.push_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, false));
        return;
    }
    let mut buf = [0u8; 35];
    let mut put = |at: usize, value: u32, width: usize| {
        let mut v = value;
        for k in (0..width).rev() {
            buf[at + k] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year as u32, 4);
    put(5, at.month(), 2);
    put(8, at.day(), 2);
    put(11, at.hour(), 2);
    put(14, at.minute(), 2);
    put(17, at.second(), 2);
    let (fraction, width) = if nanos == 0 {
        (0, 0)
    } else if nanos.is_multiple_of(1_000_000) {
        (nanos / 1_000_000, 3)
    } else if nanos.is_multiple_of(1_000) {
        (nanos / 1_000, 6)
    } else {
        (nanos, 9)
    };
    if width > 0 {
        put(20, fraction, width);
    }
    for (i, c) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')] {
        buf[i] = c;
    }
    let mut len = 19;
    if width > 0 {
        buf[19] = b'.';
        len = 20 + width;
    }
    buf[len..len + 6].copy_from_slice(b"+00:00");
    len += 6;
    // Every byte written is an ASCII digit or separator.
    out.push_str(std::str::from_utf8(&buf[..len]).unwrap_or_default());
}

/// `write` into a new string.
pub fn format(at: &DateTime<Utc>) -> String {
    let mut out = String::with_capacity(25);
    write(at, &mut out);
    out
}

/// For `#[serde(deserialize_with = "…")]`: a `DateTime<Utc>` read as serde reads one (same
/// errors), only faster.
pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    struct Visitor;
    impl serde::de::Visitor<'_> for Visitor {
        type Value = DateTime<Utc>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an RFC 3339 formatted date and time string")
        }
        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
            parse(s).map_err(E::custom)
        }
    }
    d.deserialize_str(Visitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_chrono_parses_and_refuses_what_it_refuses() {
        for s in [
            "2024-03-01T09:30:00Z",
            "2024-03-01T09:30:00+00:00",
            "2024-03-01T09:30:00-00:00",
            "2024-03-01T09:30:00+01:00",
            "2024-03-01T00:30:00+05:45",
            "2024-03-01T23:30:00-11:30",
            "2024-02-29T09:30:00.5Z",
            "2024-03-01T09:30:00.123Z",
            "2024-03-01T09:30:00.123456+02:00",
            "2024-03-01T09:30:00.123456789Z",
            "2024-03-01T09:30:00.1234567891Z",
            "0000-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "2024-03-01 09:30:00Z",
            "2024-03-01t09:30:00z",
            "2016-12-31T23:59:60Z",
            "2023-02-29T09:30:00Z",
            "2024-13-01T09:30:00Z",
            "2024-03-01T24:00:00Z",
            "2024-03-01T09:60:00Z",
            "2024-03-01T09:30:00",
            "2024-03-01T09:30:00.Z",
            "2024-03-01T09:30:00+24:00",
            "2024-03-01T09:30:00+0100",
            "2024-03-01T09:30:00Z ",
            "2024-03-01",
            "",
            "yesterday",
            "2024-03-01T09:30:0xZ",
            "2024-0３-01T09:30:00Z",
        ] {
            let chrono = s
                .parse::<DateTime<FixedOffset>>()
                .map(|at| at.with_timezone(&Utc));
            assert_eq!(parse(s), chrono, "{s}");
        }
        assert!(common(b"2024-03-01T09:30:00+01:00").is_some());
    }

    #[test]
    fn writes_what_the_driver_writes() {
        let base = "2024-03-01T09:30:00Z".parse::<DateTime<Utc>>().unwrap();
        for nanos in [0, 500_000_000, 123_000_000, 123_456_000, 123_456_789, 1_000] {
            let at = base + TimeDelta::nanoseconds(nanos);
            assert_eq!(
                format(&at),
                at.to_rfc3339_opts(SecondsFormat::AutoSi, false)
            );
        }
        for s in [
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "1969-07-20T20:17:40Z",
        ] {
            let at = s.parse::<DateTime<Utc>>().unwrap();
            assert_eq!(
                format(&at),
                at.to_rfc3339_opts(SecondsFormat::AutoSi, false)
            );
        }
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .unwrap()
            .and_utc();
        assert_eq!(
            format(&leap),
            leap.to_rfc3339_opts(SecondsFormat::AutoSi, false)
        );
    }
}
