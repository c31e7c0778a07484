//! From a provider's verified claims to who the person is in Lots: for officers, the configured
//! rules (first match wins; no match, no entry); for company representatives, the personnummer.

use chrono::NaiveDate;
use lots_cases::external::{ExternalIdentity, external_username};
use lots_core::{PersonalNumber, Representative};
use serde_json::{Map, Value};

use super::config::{CompaniesProvider, OfficersProvider};

/// Why claims map to nobody.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unmapped {
    #[error("the claim `{0}` is missing or not text")]
    Missing(String),
    #[error("the claim `{0}` is not a usable value")]
    Unusable(String),
    #[error("no [[oidc.officers.map]] rule matches the person's groups")]
    NoRule,
}

fn text<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// The person's groups: an array of strings, or one string (some providers send one group so).
fn groups(claims: &Map<String, Value>, name: &str) -> Vec<String> {
    match claims.get(name) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// An officer, manager or admin, by the configured rules.
pub fn officer(
    p: &OfficersProvider,
    claims: &Map<String, Value>,
) -> Result<ExternalIdentity, Unmapped> {
    let sub = text(claims, "sub").ok_or_else(|| Unmapped::Missing("sub".into()))?;
    let raw = text(claims, &p.username_claim)
        .ok_or_else(|| Unmapped::Missing(p.username_claim.clone()))?;
    let username =
        external_username(raw).ok_or_else(|| Unmapped::Unusable(p.username_claim.clone()))?;
    let has = groups(claims, &p.groups_claim);
    let rule = p
        .map
        .iter()
        .find(|r| has.contains(&r.group))
        .ok_or(Unmapped::NoRule)?;
    let display_name = text(claims, &p.name_claim)
        .map(|n| n.trim().chars().take(200).collect())
        .unwrap_or_else(|| username.clone());
    Ok(ExternalIdentity {
        subject: format!("{} {sub}", p.client.issuer),
        username,
        display_name,
        role: rule.role,
        department: rule.department.clone(),
    })
}

/// A company representative: the personnummer must be valid (`PersonalNumber`).
pub fn representative(
    p: &CompaniesProvider,
    claims: &Map<String, Value>,
    today: NaiveDate,
) -> Result<Representative, Unmapped> {
    let raw = text(claims, &p.personal_number_claim)
        .ok_or_else(|| Unmapped::Missing(p.personal_number_claim.clone()))?;
    let personal_number = PersonalNumber::parse_on(raw, today)
        .map_err(|_| Unmapped::Unusable(p.personal_number_claim.clone()))?;
    Ok(Representative {
        personal_number,
        name: text(claims, &p.name_claim).map(|n| n.trim().chars().take(200).collect()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::config::OidcConfig;
    use lots_core::Role;
    use serde_json::json;

    fn config() -> OidcConfig {
        toml::from_str(
            r#"
[officers]
issuer = "https://idp.example.se"
client_id = "lots"
client_secret = "secret"
[[officers.map]]
group = "lots-admin"
role = "admin"
[[officers.map]]
group = "lots-sbf-chef"
role = "manager"
department = "SBF"
[[officers.map]]
group = "lots-sbf-handlaggare"
role = "officer"
department = "SBF"
[companies]
issuer = "https://eid.example.se"
client_id = "lots-foretag"
client_secret = "secret"
"#,
        )
        .unwrap()
    }

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn the_first_matching_rule_decides_and_no_rule_means_no_entry() {
        let c = config();
        let p = c.officers.as_ref().unwrap();
        let who = officer(
            p,
            &claims(
                json!({"sub": "u1", "preferred_username": "Sara.Berg", "name": "Sara Berg",
                "groups": ["other", "lots-sbf-handlaggare", "lots-sbf-chef"]}),
            ),
        )
        .unwrap();
        assert_eq!(who.role, Role::Manager);
        assert_eq!(who.department.as_deref(), Some("SBF"));
        assert_eq!(who.username, "sara.berg");
        assert_eq!(who.subject, "https://idp.example.se u1");
        let one = officer(
            p,
            &claims(json!({"sub": "u2", "preferred_username": "root", "groups": "lots-admin"})),
        )
        .unwrap();
        assert_eq!(
            (one.role, one.department, one.display_name.as_str()),
            (Role::Admin, None, "root")
        );
        assert_eq!(
            officer(
                p,
                &claims(json!({"sub": "u3", "preferred_username": "x1", "groups": ["other"]}))
            ),
            Err(Unmapped::NoRule)
        );
        assert_eq!(
            officer(p, &claims(json!({"sub": "u3", "groups": ["lots-admin"]}))),
            Err(Unmapped::Missing("preferred_username".into()))
        );
    }

    #[test]
    fn a_representative_needs_a_valid_personnummer() {
        let c = config();
        let p = c.companies.as_ref().unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let r = representative(
            p,
            &claims(json!({"sub": "x", "personal_number": "198112189876", "name": "Kim"})),
            today,
        )
        .unwrap();
        assert_eq!(r.personal_number.as_str(), "19811218-9876");
        assert_eq!(
            representative(
                p,
                &claims(json!({"sub": "x", "personal_number": "198112189877"})),
                today
            ),
            Err(Unmapped::Unusable("personal_number".into()))
        );
    }
}
