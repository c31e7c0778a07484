//! Diarienummer: a case's registration number, `{prefix} {year}/{serial:04}` (`BN 2026/0042`).
//! One series per department and year; the store hands out serials gap-free.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    prefix: String,
    year: i32,
    serial: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("a diary prefix is 1 to 8 capital letters A–Z or Å, Ä, Ö")]
    Prefix,
    #[error("must look like `BN 2026/0042`: prefix, space, year, slash, serial")]
    Format,
    #[error("the year must lie between 1900 and 2999")]
    Year,
    #[error("the serial must be 1 or more")]
    Serial,
}

/// Checks a department's diary prefix (`BN`, `MHN`, `KS`).
pub fn validate_prefix(prefix: &str) -> Result<(), ReferenceError> {
    let n = prefix.chars().count();
    if (1..=8).contains(&n)
        && prefix
            .chars()
            .all(|c| c.is_ascii_uppercase() || "ÅÄÖ".contains(c))
    {
        Ok(())
    } else {
        Err(ReferenceError::Prefix)
    }
}

impl Reference {
    pub fn new(prefix: &str, year: i32, serial: u32) -> Result<Self, ReferenceError> {
        validate_prefix(prefix)?;
        if !(1900..=2999).contains(&year) {
            return Err(ReferenceError::Year);
        }
        if serial == 0 {
            return Err(ReferenceError::Serial);
        }
        Ok(Self {
            prefix: prefix.to_string(),
            year,
            serial,
        })
    }

    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        let (prefix, rest) = input.trim().split_once(' ').ok_or(ReferenceError::Format)?;
        let (year, serial) = rest.split_once('/').ok_or(ReferenceError::Format)?;
        let digits =
            |s: &str| !s.is_empty() && s.len() <= 6 && s.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || !digits(year) || !digits(serial) {
            return Err(ReferenceError::Format);
        }
        let year = year.parse().map_err(|_| ReferenceError::Format)?;
        let serial = serial.parse().map_err(|_| ReferenceError::Format)?;
        Self::new(prefix, year, serial)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }
    pub fn year(&self) -> i32 {
        self.year
    }
    pub fn serial(&self) -> u32 {
        self.serial
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{:04}", self.prefix, self.year, self.serial)
    }
}

impl Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Reference::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats_with_four_digit_serial() {
        assert_eq!(
            Reference::new("BN", 2026, 42).unwrap().to_string(),
            "BN 2026/0042"
        );
        assert_eq!(
            Reference::new("MHN", 2025, 12345).unwrap().to_string(),
            "MHN 2025/12345"
        );
    }

    #[test]
    fn parses_what_it_prints_and_rejects_the_rest() {
        let r = Reference::parse("BN 2026/0042").unwrap();
        assert_eq!((r.prefix(), r.year(), r.serial()), ("BN", 2026, 42));
        for bad in [
            "BN2026/0042",
            "bn 2026/0042",
            "BN 26/0042",
            "BN 2026-0042",
            "BN 2026/0000",
            "BN 2026/",
            "",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn round_trips(prefix in "[A-ZÅÄÖ]{1,8}", year in 1900i32..3000, serial in 1u32..1_000_000) {
            let r = Reference::new(&prefix, year, serial).unwrap();
            prop_assert_eq!(Reference::parse(&r.to_string()).unwrap(), r);
        }
    }
}
