//! `[oidc.officers]` and `[oidc.companies]`: the identity providers Lots signs people in with.

use lots_core::{Role, Secret};
use serde::Deserialize;

/// Both providers; either may be absent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OidcConfig {
    /// The municipality's provider, for officers, managers and admins.
    pub officers: Option<OfficersProvider>,
    /// The e-ID broker, for company representatives.
    pub companies: Option<CompaniesProvider>,
}

/// What both kinds of provider need.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    /// The issuer URL; discovery is read from `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// Or `LOTS_OIDC_OFFICERS_CLIENT_SECRET` / `LOTS_OIDC_COMPANIES_CLIENT_SECRET`.
    #[serde(default)]
    pub client_secret: Option<Secret>,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
}

fn default_scopes() -> Vec<String> {
    ["openid", "profile", "email"].map(String::from).to_vec()
}

/// One rule of the mapping from an officer's groups to Lots: the first rule whose group the
/// person has decides; a person no rule matches is refused.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MapRule {
    pub group: String,
    pub role: Role,
    /// Required for officers and managers.
    #[serde(default)]
    pub department: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficersProvider {
    #[serde(flatten)]
    pub client: Client,
    #[serde(default = "default_username_claim")]
    pub username_claim: String,
    #[serde(default = "default_name_claim")]
    pub name_claim: String,
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// Whether the password form stays offered (the default until an admin decides).
    #[serde(default = "yes")]
    pub local_login: bool,
    /// The `aud` of access tokens other systems send to the API; by default the client id.
    #[serde(default)]
    pub api_audience: Option<String>,
    #[serde(default)]
    pub map: Vec<MapRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompaniesProvider {
    #[serde(flatten)]
    pub client: Client,
    /// The claim that carries the person's personnummer.
    #[serde(default = "default_personal_number_claim")]
    pub personal_number_claim: String,
    #[serde(default = "default_name_claim")]
    pub name_claim: String,
}

fn default_username_claim() -> String {
    "preferred_username".into()
}
fn default_name_claim() -> String {
    "name".into()
}
fn default_groups_claim() -> String {
    "groups".into()
}
fn default_personal_number_claim() -> String {
    "personal_number".into()
}
fn yes() -> bool {
    true
}

impl OfficersProvider {
    pub fn api_audience(&self) -> &str {
        self.api_audience
            .as_deref()
            .unwrap_or(&self.client.client_id)
    }
}

impl OidcConfig {
    /// Takes the client secrets from the environment where given.
    pub fn apply_env(&mut self, env: &impl Fn(&str) -> Option<String>) {
        if let (Some(p), Some(v)) = (
            self.officers.as_mut(),
            env("LOTS_OIDC_OFFICERS_CLIENT_SECRET"),
        ) {
            p.client.client_secret = Some(Secret::new(v));
        }
        if let (Some(p), Some(v)) = (
            self.companies.as_mut(),
            env("LOTS_OIDC_COMPANIES_CLIENT_SECRET"),
        ) {
            p.client.client_secret = Some(Secret::new(v));
        }
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        for (name, client) in [
            ("officers", self.officers.as_ref().map(|p| &p.client)),
            ("companies", self.companies.as_ref().map(|p| &p.client)),
        ] {
            let Some(c) = client else { continue };
            let url = url_of(&c.issuer);
            anyhow::ensure!(
                url.is_some(),
                "oidc.{name}.issuer `{}` is not an http(s) URL",
                c.issuer
            );
            anyhow::ensure!(
                !c.client_id.trim().is_empty(),
                "oidc.{name}.client_id is empty"
            );
            anyhow::ensure!(
                c.client_secret.is_some(),
                "oidc.{name}.client_secret is not set (or LOTS_OIDC_{}_CLIENT_SECRET)",
                name.to_uppercase()
            );
            anyhow::ensure!(
                c.scopes.iter().any(|s| s == "openid"),
                "oidc.{name}.scopes must include `openid`"
            );
        }
        if let Some(p) = &self.officers {
            anyhow::ensure!(
                !p.map.is_empty(),
                "oidc.officers has no [[oidc.officers.map]] rule: nobody could sign in"
            );
            for (i, rule) in p.map.iter().enumerate() {
                anyhow::ensure!(
                    rule.role == Role::Admin || rule.department.is_some(),
                    "oidc.officers.map[{i}] (group `{}`) maps to {} without a department",
                    rule.group,
                    rule.role.as_str()
                );
            }
        }
        Ok(())
    }
}

fn url_of(s: &str) -> Option<()> {
    (s.starts_with("https://") || s.starts_with("http://")).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[officers]
issuer = "https://login.example.se/realms/kommun"
client_id = "lots"
client_secret = "s3cret-s3cret"
username_claim = "preferred_username"
groups_claim = "groups"
local_login = true
api_audience = "lots"
[[officers.map]]
group = "lots-sbf-handlaggare"
role = "officer"
department = "SBF"
[[officers.map]]
group = "lots-admin"
role = "admin"

[companies]
issuer = "https://eid.example.se"
client_id = "lots-foretag"
personal_number_claim = "personal_number"
"#;

    #[test]
    fn the_documented_example_reads_and_secrets_come_from_the_environment() {
        let mut c: OidcConfig = toml::from_str(EXAMPLE).unwrap();
        assert!(c.validate().is_err(), "the companies' secret is missing");
        c.apply_env(&|k| (k == "LOTS_OIDC_COMPANIES_CLIENT_SECRET").then(|| "x".repeat(20)));
        c.validate().unwrap();
        let o = c.officers.as_ref().unwrap();
        assert_eq!(o.map[0].role, Role::Officer);
        assert_eq!(o.map[1].department, None);
        assert_eq!(o.client.scopes, ["openid", "profile", "email"]);
        assert_eq!(o.api_audience(), "lots");
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn an_officer_rule_without_a_department_is_refused() {
        let c: OidcConfig = toml::from_str(
            "[officers]\nissuer = \"https://x\"\nclient_id = \"a\"\nclient_secret = \"b\"\n[[officers.map]]\ngroup = \"g\"\nrole = \"officer\"\n",
        )
        .unwrap();
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("without a department"), "{e}");
    }
}
