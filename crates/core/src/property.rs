//! Fastighetsbeteckning: a property's designation in the land register, e.g. `Haninge Söderby
//! 1:23`. The municipality, the block (trakt, which may be several words: `Norra Söderby`) and
//! the number `block:unit`.

use std::fmt;

/// A valid property designation, stored with single spaces: `{municipality} {block} {n}:{m}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PropertyDesignation {
    text: String,
    municipality_len: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PropertyDesignationError {
    #[error(
        "must be municipality, block and number, e.g. `Haninge Söderby 1:23` (the number is block:unit)"
    )]
    Format,
    #[error("the number must be two whole numbers from 1 to 99999 joined by a colon, e.g. `1:23`")]
    Number,
    #[error(
        "the municipality and block are words of letters (hyphens and apostrophes allowed) that begin with a capital"
    )]
    Name,
}

impl PropertyDesignation {
    pub fn parse(input: &str) -> Result<Self, PropertyDesignationError> {
        if input.chars().count() > 120 {
            return Err(PropertyDesignationError::Format);
        }
        let words: Vec<&str> = input.split_whitespace().collect();
        let Some((number, names)) = words.split_last() else {
            return Err(PropertyDesignationError::Format);
        };
        if names.len() < 2 {
            return Err(PropertyDesignationError::Format);
        }
        let (block_no, unit) = number
            .split_once(':')
            .ok_or(PropertyDesignationError::Number)?;
        for part in [block_no, unit] {
            let ok = !part.is_empty()
                && part.len() <= 5
                && part.chars().all(|c| c.is_ascii_digit())
                && !part.starts_with('0');
            if !ok {
                return Err(PropertyDesignationError::Number);
            }
        }
        for (i, w) in names.iter().enumerate() {
            let first = w.chars().next().unwrap_or(' ');
            // The municipality is capitalised; a block's later words may be lower case
            // (`Stora gården`) or a number (`Kvarnen 2`).
            let capital_ok = first.is_uppercase() || (i > 1 && first.is_lowercase());
            let word_ok = w
                .chars()
                .all(|c| c.is_alphabetic() || c == '-' || c == '\'' || c == '.');
            let numeric_block_word = i > 1 && w.chars().all(|c| c.is_ascii_digit());
            if !(numeric_block_word || (capital_ok && word_ok)) {
                return Err(PropertyDesignationError::Name);
            }
        }
        Ok(Self {
            municipality_len: names[0].len(),
            text: words.join(" "),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn municipality(&self) -> &str {
        &self.text[..self.municipality_len]
    }

    /// The block (trakt): every word between the municipality and the number.
    pub fn block(&self) -> &str {
        let end = self.text.rfind(' ').unwrap_or(self.text.len());
        &self.text[self.municipality_len + 1..end]
    }

    /// The number, `block:unit`.
    pub fn number(&self) -> &str {
        let start = self.text.rfind(' ').map_or(0, |i| i + 1);
        &self.text[start..]
    }
}

impl fmt::Display for PropertyDesignation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_municipality_block_and_number() {
        let p = PropertyDesignation::parse("  Haninge   Söderby 1:23 ").unwrap();
        assert_eq!(p.as_str(), "Haninge Söderby 1:23");
        assert_eq!(
            (p.municipality(), p.block(), p.number()),
            ("Haninge", "Söderby", "1:23")
        );
        let p = PropertyDesignation::parse("Sundsvall Norra Stadsberget 12:104").unwrap();
        assert_eq!(p.block(), "Norra Stadsberget");
        let p = PropertyDesignation::parse("Örebro Järnvägsgatan-Väst 3:1").unwrap();
        assert_eq!(p.municipality(), "Örebro");
    }

    #[test]
    fn refuses_what_is_no_designation() {
        use PropertyDesignationError::*;
        for (input, err) in [
            ("", Format),
            ("Söderby 1:23", Format),
            ("Haninge Söderby", Format),
            ("Haninge Söderby 1-23", Number),
            ("Haninge Söderby 1:", Number),
            ("Haninge Söderby 0:23", Number),
            ("Haninge Söderby 01:23", Number),
            ("Haninge Söderby 1:234567", Number),
            ("haninge Söderby 1:23", Name),
            ("Haninge S0derby 1:23", Name),
            ("Haninge <script> 1:2", Name),
        ] {
            assert_eq!(PropertyDesignation::parse(input), Err(err), "{input}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = PropertyDesignation::parse(&s);
        }

        #[test]
        fn valid_designations_round_trip(m in "[A-ZÅÄÖ][a-zåäö]{1,12}", b in "[A-ZÅÄÖ][a-zåäö]{1,12}", n in 1u32..99999, u in 1u32..99999) {
            let s = format!("{m} {b} {n}:{u}");
            let p = PropertyDesignation::parse(&s).unwrap();
            prop_assert_eq!(p.as_str(), s.as_str());
            prop_assert_eq!(p.municipality(), m.as_str());
            prop_assert_eq!(p.block(), b.as_str());
        }
    }
}
