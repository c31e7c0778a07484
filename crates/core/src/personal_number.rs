//! Personnummer and samordningsnummer: a person's identity. Personal data: it is stored
//! normalised, shown masked unless the caller may see it, and never written to a log.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::org_number::luhn_check_digit;

/// A valid personnummer or samordningsnummer, stored as `YYYYMMDD-NNNN` (twelve digits, the
/// century always written out). `Debug` masks the last four digits, so that a stray `{:?}`
/// never puts a whole number in a log.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonalNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonalNumberError {
    #[error("must be 10 or 12 digits, written YYMMDD-NNNN or YYYYMMDD-NNNN")]
    Format,
    #[error("the check digit does not match (Luhn)")]
    CheckDigit,
    #[error("the date part is not a real date (a samordningsnummer adds 60 to the day)")]
    Date,
    #[error("the date part lies in the future")]
    Future,
}

impl PersonalNumber {
    /// Parses a number given on `today`. Ten digits leave the century open: it is the latest
    /// one that puts the birth date no later than `today`, or a century earlier when the
    /// separator is `+` (someone aged 100 or more), as the Tax Agency writes it.
    pub fn parse_on(input: &str, today: NaiveDate) -> Result<Self, PersonalNumberError> {
        let s = input.trim();
        if s.len() > 13 || !s.is_ascii() {
            return Err(PersonalNumberError::Format);
        }
        let plus = s.len() == 11 && s.as_bytes()[6] == b'+';
        let digits: String = match s.len() {
            11 | 13 if matches!(s.as_bytes()[s.len() - 5], b'-' | b'+') => {
                let (head, tail) = s.split_at(s.len() - 5);
                format!("{head}{}", &tail[1..])
            }
            _ => s.to_string(),
        };
        if !digits.chars().all(|c| c.is_ascii_digit()) || !matches!(digits.len(), 10 | 12) {
            return Err(PersonalNumberError::Format);
        }
        let ten = &digits[digits.len() - 10..];
        let d: Vec<u32> = ten.chars().filter_map(|c| c.to_digit(10)).collect();
        if luhn_check_digit(&d[..9]) != d[9] {
            return Err(PersonalNumberError::CheckDigit);
        }
        let yy = (d[0] * 10 + d[1]) as i32;
        let month = d[2] * 10 + d[3];
        let mut day = d[4] * 10 + d[5];
        if day > 60 {
            day -= 60;
        }
        let year = if digits.len() == 12 {
            digits[..4]
                .parse::<i32>()
                .map_err(|_| PersonalNumberError::Format)?
        } else {
            let century = today.year() - today.year().rem_euclid(100);
            let mut y = century + yy;
            let not_after_today =
                |y: i32| NaiveDate::from_ymd_opt(y, month, day).is_none_or(|date| date <= today);
            if !not_after_today(y) {
                y -= 100;
            }
            if plus {
                y -= 100;
            }
            y
        };
        let date = NaiveDate::from_ymd_opt(year, month, day).ok_or(PersonalNumberError::Date)?;
        if date > today {
            return Err(PersonalNumberError::Future);
        }
        Ok(Self(format!("{year:04}{}-{}", &ten[2..6], &ten[6..])))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it is a samordningsnummer (the day raised by 60).
    pub fn is_coordination_number(&self) -> bool {
        self.0.as_bytes()[6] >= b'6'
    }

    /// The form shown to those who may not see the whole number: `19811218-****`.
    pub fn masked(&self) -> String {
        format!("{}-****", &self.0[..8])
    }
}

impl fmt::Debug for PersonalNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonalNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
    }

    /// The digits of `body` followed by `check`, as text.
    fn digits(body: &[u32], check: u32) -> String {
        body.iter()
            .chain(std::iter::once(&check))
            .map(|d| char::from_digit(*d, 10).unwrap())
            .collect()
    }

    /// `body` with its right check digit.
    fn with_check_digit(body: &[u32]) -> String {
        digits(body, luhn_check_digit(body))
    }

    #[test]
    fn accepts_ten_and_twelve_digits_and_normalises_to_twelve() {
        for input in ["811218-9876", "8112189876", "19811218-9876", "198112189876"] {
            let p = PersonalNumber::parse_on(input, today()).unwrap();
            assert_eq!(p.as_str(), "19811218-9876", "{input}");
            assert!(!p.is_coordination_number());
        }
        // born this century
        let p = PersonalNumber::parse_on("100101-0006", today()).unwrap();
        assert_eq!(p.as_str(), "20100101-0006");
        // over a hundred: `+`
        let p = PersonalNumber::parse_on("100101+0006", today()).unwrap();
        assert_eq!(p.as_str(), "19100101-0006");
    }

    #[test]
    fn accepts_a_samordningsnummer() {
        let p = PersonalNumber::parse_on("701063-2391", today()).unwrap();
        assert!(p.is_coordination_number());
        assert_eq!(p.as_str(), "19701063-2391");
    }

    #[test]
    fn refuses_bad_numbers_with_the_reason() {
        let t = today();
        assert_eq!(
            PersonalNumber::parse_on("811218-9875", t),
            Err(PersonalNumberError::CheckDigit)
        );
        // 13th month, valid check digit
        let s = with_check_digit(&[8, 1, 1, 3, 1, 8, 9, 8, 7]);
        assert_eq!(
            PersonalNumber::parse_on(&s, t),
            Err(PersonalNumberError::Date)
        );
        // 30 February
        let s = with_check_digit(&[8, 1, 0, 2, 3, 0, 9, 8, 7]);
        assert_eq!(
            PersonalNumber::parse_on(&s, t),
            Err(PersonalNumberError::Date)
        );
        assert_eq!(
            PersonalNumber::parse_on("20811218-9876", t),
            Err(PersonalNumberError::Future)
        );
        for bad in [
            "",
            "abc",
            "81121-89876",
            "5560125790x",
            "８１１２１８-９８７６",
        ] {
            assert!(PersonalNumber::parse_on(bad, t).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_never_shows_the_whole_number() {
        let p = PersonalNumber::parse_on("811218-9876", today()).unwrap();
        assert!(!format!("{p:?}").contains("9876"));
        assert_eq!(p.masked(), "19811218-****");
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,16}") {
            let _ = PersonalNumber::parse_on(&s, today());
        }

        #[test]
        fn a_wrong_check_digit_is_always_refused(body in proptest::collection::vec(0u32..10, 9)) {
            let s = digits(&body, (luhn_check_digit(&body) + 1) % 10);
            prop_assert!(PersonalNumber::parse_on(&s, today()).is_err());
        }

        #[test]
        fn every_real_date_with_its_check_digit_parses(days in 0i64..40_000, serial in 0u32..1000) {
            let date = NaiveDate::from_ymd_opt(1920, 1, 1).unwrap() + chrono::Duration::days(days);
            prop_assume!(date <= today());
            let s = format!("{}{serial:03}", date.format("%y%m%d"));
            let body: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
            let twelve = format!("{}{serial:03}{}", date.format("%Y%m%d"), luhn_check_digit(&body));
            let p = PersonalNumber::parse_on(&twelve, today()).unwrap();
            prop_assert_eq!(&p.as_str()[..8], date.format("%Y%m%d").to_string());
        }
    }
}
