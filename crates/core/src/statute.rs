//! Statute references (lagrum): `SFS 2010:900 9 kap. 31 §`, the SFS number of the act, and
//! optionally its chapter and section. The common acts may be named by their abbreviation
//! (`PBL 9 kap. 31 §`, `OSL 26 kap. 1 §`); they are stored by SFS number.

use std::fmt;

use serde::Serialize;

/// Acts named by abbreviation, with their SFS numbers.
pub const ABBREVIATIONS: &[(&str, &str)] = &[
    ("OSL", "2009:400"),
    ("PBL", "2010:900"),
    ("PBF", "2011:338"),
    ("FL", "2017:900"),
    ("MB", "1998:808"),
    ("AL", "2010:1622"),
    ("LL", "2006:804"),
    ("LSO", "2003:778"),
];

/// The SFS number of the Public Access to Information and Secrecy Act (OSL).
pub const OSL: &str = "2009:400";

/// A valid statute reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
pub struct StatuteReference {
    /// The act's SFS number, `YYYY:N`.
    pub sfs: String,
    /// The chapter, for acts divided into chapters.
    pub chapter: Option<u32>,
    /// The section (paragraf), e.g. `31` or `8 a`.
    pub section: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatuteError {
    #[error(
        "must look like `SFS 2010:900 9 kap. 31 §` (the act's SFS number, then optionally chapter and section)"
    )]
    Format,
    #[error("the SFS number is `YYYY:N`, a year from 1734 to 2099 and a serial from 1")]
    Sfs,
    #[error("the chapter is a whole number from 1 to 99")]
    Chapter,
    #[error("the section is a whole number from 1 to 999, perhaps with a letter: `31` or `8 a`")]
    Section,
    #[error("a chapter needs a section")]
    ChapterWithoutSection,
}

impl StatuteReference {
    /// Parses the written form: `SFS 2010:900 9 kap. 31 §`, `2010:900 9 kap. 31 §`,
    /// `PBL 9 kap. 31 §`, `FL 12 §`, `SFS 2017:900`.
    pub fn parse(input: &str) -> Result<Self, StatuteError> {
        if input.chars().count() > 80 {
            return Err(StatuteError::Format);
        }
        let mut words: Vec<&str> = input.split_whitespace().collect();
        if words.is_empty() {
            return Err(StatuteError::Format);
        }
        let sfs = if words[0].eq_ignore_ascii_case("SFS") {
            words.remove(0);
            if words.is_empty() {
                return Err(StatuteError::Format);
            }
            words.remove(0).to_string()
        } else if let Some((_, n)) = ABBREVIATIONS
            .iter()
            .find(|(a, _)| a.eq_ignore_ascii_case(words[0]))
        {
            words.remove(0);
            n.to_string()
        } else if words[0].contains(':') {
            words.remove(0).to_string()
        } else {
            return Err(StatuteError::Format);
        };
        // What is left: `[N kap.] [S [a] §]`
        let mut chapter = None;
        let mut section = None;
        let mut rest = words.as_slice();
        if let [n, kap, tail @ ..] = rest
            && matches!(*kap, "kap." | "kap")
        {
            chapter = Some(n.to_string());
            rest = tail;
        }
        match rest {
            [] => {}
            [n, "§"] => section = Some(n.to_string()),
            [n, letter, "§"] => section = Some(format!("{n} {letter}")),
            _ => return Err(StatuteError::Format),
        }
        Self::new(&sfs, chapter.as_deref(), section.as_deref())
    }

    /// Builds a reference from its parts, each checked.
    pub fn new(
        sfs: &str,
        chapter: Option<&str>,
        section: Option<&str>,
    ) -> Result<Self, StatuteError> {
        let sfs = sfs.trim();
        let sfs = sfs
            .strip_prefix("SFS ")
            .or_else(|| sfs.strip_prefix("sfs "))
            .unwrap_or(sfs)
            .trim();
        let (year, serial) = sfs.split_once(':').ok_or(StatuteError::Sfs)?;
        let year: u32 = digits(year, 4).ok_or(StatuteError::Sfs)?;
        let serial: u32 = digits(serial, 5).ok_or(StatuteError::Sfs)?;
        if !(1734..=2099).contains(&year) || serial == 0 {
            return Err(StatuteError::Sfs);
        }
        let chapter = match chapter.map(str::trim) {
            None => None,
            Some(c) => match digits(c, 2) {
                Some(n) if n >= 1 => Some(n),
                _ => return Err(StatuteError::Chapter),
            },
        };
        let section = match section.map(str::trim) {
            None => None,
            Some(s) => {
                let mut parts = s.split_whitespace();
                let n = parts.next().and_then(|n| digits(n, 3));
                let letter = parts.next();
                let ok_letter = letter.is_none_or(|l| {
                    l.chars().count() == 1 && l.chars().all(|c| c.is_ascii_lowercase())
                });
                match n {
                    Some(n) if n >= 1 && ok_letter && parts.next().is_none() => {
                        Some(match letter {
                            Some(l) => format!("{n} {l}"),
                            None => n.to_string(),
                        })
                    }
                    _ => return Err(StatuteError::Section),
                }
            }
        };
        if chapter.is_some() && section.is_none() {
            return Err(StatuteError::ChapterWithoutSection);
        }
        Ok(Self {
            sfs: format!("{year}:{serial}"),
            chapter,
            section,
        })
    }

    /// Whether it rests on the Public Access to Information and Secrecy Act.
    pub fn is_osl(&self) -> bool {
        self.sfs == OSL
    }
}

/// A number of at most `max_len` ASCII digits without a leading zero.
fn digits(s: &str, max_len: usize) -> Option<u32> {
    (!s.is_empty()
        && s.len() <= max_len
        && s.chars().all(|c| c.is_ascii_digit())
        && !(s.len() > 1 && s.starts_with('0')))
    .then(|| s.parse().ok())
    .flatten()
}

impl fmt::Display for StatuteReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SFS {}", self.sfs)?;
        if let Some(c) = self.chapter {
            write!(f, " {c} kap.")?;
        }
        if let Some(s) = &self.section {
            write!(f, " {s} §")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_written_forms() {
        let r = StatuteReference::parse("SFS 2010:900 9 kap. 31 §").unwrap();
        assert_eq!(
            r,
            StatuteReference {
                sfs: "2010:900".into(),
                chapter: Some(9),
                section: Some("31".into())
            }
        );
        assert_eq!(r.to_string(), "SFS 2010:900 9 kap. 31 §");
        assert_eq!(StatuteReference::parse("PBL 9 kap. 31 §").unwrap(), r);
        assert_eq!(StatuteReference::parse("2010:900 9 kap 31 §").unwrap(), r);
        let r = StatuteReference::parse("OSL 26 kap. 1 §").unwrap();
        assert!(r.is_osl());
        assert_eq!(r.to_string(), "SFS 2009:400 26 kap. 1 §");
        let r = StatuteReference::parse("PBL 12 kap. 8 a §").unwrap();
        assert_eq!(r.section.as_deref(), Some("8 a"));
        let r = StatuteReference::parse("FL 12 §").unwrap();
        assert_eq!(r.to_string(), "SFS 2017:900 12 §");
        assert_eq!(
            StatuteReference::parse("SFS 2017:900").unwrap().to_string(),
            "SFS 2017:900"
        );
    }

    #[test]
    fn refuses_malformed_references() {
        use StatuteError::*;
        for (input, err) in [
            ("", Format),
            ("Bygglagen 9 kap.", Format),
            ("SFS", Format),
            ("SFS 2010-900 9 kap. 31 §", Sfs),
            ("SFS 1066:1", Sfs),
            ("SFS 2010:0", Sfs),
            ("SFS 2010:900 0 kap. 31 §", Chapter),
            ("SFS 2010:900 9 kap. 0 §", Section),
            ("SFS 2010:900 9 kap. 31", Format),
            ("SFS 2010:900 9 kap. 31 AB §", Section),
            ("SFS 2010:900 9 kap. 31 § extra", Format),
        ] {
            assert_eq!(StatuteReference::parse(input), Err(err), "{input}");
        }
        assert_eq!(
            StatuteReference::new("2010:900", Some("9"), None),
            Err(ChapterWithoutSection)
        );
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = StatuteReference::parse(&s);
        }

        #[test]
        fn display_parses_back(year in 1734u32..2099, serial in 1u32..99999, chapter in proptest::option::of(1u32..99), section in 1u32..999) {
            let r = StatuteReference::new(&format!("{year}:{serial}"), chapter.map(|c| c.to_string()).as_deref(), Some(&section.to_string())).unwrap();
            prop_assert_eq!(StatuteReference::parse(&r.to_string()).unwrap(), r);
        }
    }
}
