//! Organisationsnummer: the identity of a company. Ten digits, the third at least 2, the last a
//! Luhn check digit over the first nine. A sole trader is identified by the owner's personnummer
//! (or samordningsnummer, whose day is raised by 60), which is accepted too.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A valid organisationsnummer or personnummer, stored as `NNNNNN-NNNN`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgNumber(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgNumberKind {
    /// A legal person (aktiebolag, handelsbolag, förening, ...).
    Organisation,
    /// A sole trader, identified by the owner's personnummer or samordningsnummer.
    Personal,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgNumberError {
    #[error("must be 10 digits, written NNNNNN-NNNN or NNNNNNNNNN")]
    Format,
    #[error("the check digit does not match (Luhn)")]
    CheckDigit,
    #[error("is neither an organisation number (third digit 2 or more) nor a valid personnummer")]
    NotAnIdentity,
}

impl OrgNumber {
    pub fn parse(input: &str) -> Result<Self, OrgNumberError> {
        let trimmed = input.trim();
        if trimmed.len() > 13 {
            return Err(OrgNumberError::Format);
        }
        let digits = strip_separator(trimmed).ok_or(OrgNumberError::Format)?;
        let ten = match digits.len() {
            10 => digits.clone(),
            // A 12-digit form carries a century (personnummer) or the prefix 16 (organisation).
            12 => digits[2..].to_string(),
            _ => return Err(OrgNumberError::Format),
        };
        let d: Vec<u32> = ten.chars().filter_map(|c| c.to_digit(10)).collect();
        if luhn_check_digit(&d[..9]) != d[9] {
            return Err(OrgNumberError::CheckDigit);
        }
        if digits.len() == 12 && digits.starts_with("16") && d[2] < 2 {
            return Err(OrgNumberError::NotAnIdentity);
        }
        if d[2] < 2 && !is_birth_date(&d) {
            return Err(OrgNumberError::NotAnIdentity);
        }
        Ok(Self(format!("{}-{}", &ten[..6], &ten[6..])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> OrgNumberKind {
        if self.0.as_bytes()[2] >= b'2' {
            OrgNumberKind::Organisation
        } else {
            OrgNumberKind::Personal
        }
    }
}

/// Removes one separator (`-`, or `+` for a personnummer of someone over 100) between the date
/// part and the last four digits; everything else must be digits.
fn strip_separator(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let body: String = match bytes.len() {
        11 | 13 if matches!(bytes[bytes.len() - 5], b'-' | b'+') => {
            let (head, tail) = s.split_at(s.len() - 5);
            format!("{head}{}", &tail[1..])
        }
        _ => s.to_string(),
    };
    body.chars().all(|c| c.is_ascii_digit()).then_some(body)
}

/// The Luhn check digit of `digits`, weighting them 2, 1, 2, 1, ... from the left.
pub fn luhn_check_digit(digits: &[u32]) -> u32 {
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let p = if i % 2 == 0 { d * 2 } else { d };
            p / 10 + p % 10
        })
        .sum();
    (10 - sum % 10) % 10
}

fn is_birth_date(d: &[u32]) -> bool {
    let month = d[2] * 10 + d[3];
    let mut day = d[4] * 10 + d[5];
    if day > 60 {
        day -= 60; // samordningsnummer
    }
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

impl fmt::Display for OrgNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for OrgNumber {
    type Err = OrgNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for OrgNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for OrgNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        OrgNumber::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_real_organisation_numbers_with_or_without_hyphen() {
        // Volvo, IKEA of Sweden, Stockholms kommun
        for (input, normalised) in [
            ("556012-5790", "556012-5790"),
            ("5560125790", "556012-5790"),
            ("556074-7569", "556074-7569"),
            ("212000-0142", "212000-0142"),
            (" 16556012-5790 ", "556012-5790"),
        ] {
            let o = OrgNumber::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(o.as_str(), normalised);
            assert_eq!(o.kind(), OrgNumberKind::Organisation);
        }
    }

    #[test]
    fn accepts_a_sole_traders_personnummer_and_samordningsnummer() {
        let p = OrgNumber::parse("811218-9876").unwrap();
        assert_eq!(p.kind(), OrgNumberKind::Personal);
        assert_eq!(OrgNumber::parse("19811218-9876").unwrap(), p);
        assert_eq!(
            OrgNumber::parse("701063-2391").unwrap().kind(),
            OrgNumberKind::Personal
        );
    }

    #[test]
    fn rejects_bad_input_with_the_reason() {
        assert_eq!(
            OrgNumber::parse("556012-5791"),
            Err(OrgNumberError::CheckDigit)
        );
        assert_eq!(OrgNumber::parse("55601-25790"), Err(OrgNumberError::Format));
        assert_eq!(OrgNumber::parse("556012579"), Err(OrgNumberError::Format));
        assert_eq!(OrgNumber::parse("55601257900"), Err(OrgNumberError::Format));
        assert_eq!(OrgNumber::parse("abcdef-ghij"), Err(OrgNumberError::Format));
        assert_eq!(OrgNumber::parse(""), Err(OrgNumberError::Format));
        assert_eq!(
            OrgNumber::parse("５５６０１２-５７９０"),
            Err(OrgNumberError::Format)
        );
        // month 13 is no birth date, and the third digit makes it no organisation either
        assert_eq!(
            OrgNumber::parse("811318-9875"),
            Err(OrgNumberError::NotAnIdentity)
        );
    }

    proptest! {
        #[test]
        fn every_nine_digits_with_their_check_digit_parse_iff_valid(body in proptest::collection::vec(0u32..10, 9)) {
            let check = luhn_check_digit(&body);
            let s: String = body.iter().chain(std::iter::once(&check)).map(|d| char::from_digit(*d, 10).unwrap()).collect();
            let parsed = OrgNumber::parse(&s);
            if body[2] >= 2 {
                prop_assert_eq!(parsed.unwrap().to_string(), format!("{}-{}", &s[..6], &s[6..]));
            } else {
                prop_assert!(parsed.is_ok() == is_birth_date(&body));
            }
            // changing the check digit always breaks it
            let wrong = (check + 1) % 10;
            let w: String = body.iter().chain(std::iter::once(&wrong)).map(|d| char::from_digit(*d, 10).unwrap()).collect();
            prop_assert!(OrgNumber::parse(&w).is_err());
        }

        #[test]
        fn never_panics(s in "\\PC{0,20}") {
            let _ = OrgNumber::parse(&s);
        }
    }
}
