//! Configuration: defaults, then an optional TOML file (`LOTS_CONFIG`), then `LOTS_*`
//! environment variables (and `DATABASE_URL`), then command-line flags (applied by the caller).

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context;
use lots_core::Secret;
use lots_core::deadline::DeadlineRule;
use lots_core::nki::Instrument;
use serde::Deserialize;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://lots.db?mode=rwc";

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the HTTP server listens.
    pub addr: SocketAddr,
    pub database_url: String,
    /// The HS256 signing secret, at least 32 bytes. Without it, one is generated and kept in
    /// the database.
    pub jwt_secret: Option<Secret>,
    /// How long an access token lives.
    pub token_ttl_seconds: u64,
    /// The largest request body accepted.
    pub body_limit_bytes: usize,
    /// A request that takes longer is answered 503.
    pub request_timeout_seconds: u64,
    /// `iss` and `aud` of the tokens Lots issues and accepts.
    pub token_issuer: String,
    pub token_audience: String,
    /// Deadline rules that replace the defaults for the same area and case type.
    pub deadlines: Vec<DeadlineRule>,
    /// The address companies reach Lots at, for survey links; defaults to `http://{addr}`.
    pub public_base_url: Option<String>,
    /// The key survey tokens are derived with, at least 32 bytes. Without it, one is generated
    /// and kept in the database.
    pub survey_secret: Option<Secret>,
    /// How long a survey invitation stays open.
    pub survey_token_days: i64,
    /// The NKI instrument: scales and the weights of the three index questions.
    pub nki: Instrument,
    /// How often the worker looks for work, in milliseconds.
    pub worker_tick_ms: u64,
    /// A webhook receiver that has not answered by then has failed the attempt.
    pub webhook_timeout_seconds: u64,
    /// A delivery that keeps failing is dead-lettered this long after the event.
    pub webhook_dead_letter_hours: i64,
    /// Deliveries in flight at once to one subscription, per worker.
    pub webhook_concurrency: usize,
    /// The first retry waits this long; each next one twice as long (with jitter), up to an hour.
    pub webhook_backoff_seconds: u64,
    /// Let webhooks go to loopback, private and link-local addresses and `localhost`
    /// (`LOTS_WEBHOOK_ALLOW_PRIVATE_NETWORKS`). Off by default: a subscription must not turn
    /// Lots against its own network. For receivers on an internal network, and for tests.
    pub webhook_allow_private_networks: bool,
    /// `deadline.approaching` is sent this many working days before the due date.
    pub deadline_approaching_days: i64,
    /// The largest bulk import accepted over HTTP (`lots import` has no limit).
    pub import_limit_bytes: usize,
    /// Where attachments are kept (`LOTS_ATTACHMENTS_DIR`); by default `data/attachments` next
    /// to the SQLite database, or in the working directory with PostgreSQL.
    pub attachments_dir: Option<std::path::PathBuf>,
    /// The largest attachment accepted (`LOTS_ATTACHMENT_LIMIT_BYTES`).
    pub attachment_limit_bytes: u64,
    /// NKI groups with fewer answers are suppressed.
    pub nki_threshold: usize,
    /// The same, when areas are compared.
    pub nki_area_threshold: usize,
    /// This municipality's kommunkod in Kolada (`LOTS_MUNICIPALITY_CODE`, e.g. `0136`).
    pub municipality_code: Option<String>,
    /// The municipalities it compares itself with (`LOTS_PEER_GROUP`: codes separated by
    /// commas, or one SKR municipality group by code or name, e.g. `A2` or `Större stad`).
    pub peer_group: Vec<String>,
    /// Sign-in through identity providers (`[oidc.officers]`, `[oidc.companies]`).
    pub oidc: crate::oidc::config::OidcConfig,
    /// The SMTP relay mail is sent through (`LOTS_SMTP_URL`, e.g. `smtp://127.0.0.1:2525`,
    /// `smtp://user:pass@relay:587?tls=required`, `smtps://relay:465`); without it, mails are
    /// written as `.eml` files to `mail_dir`.
    pub smtp_url: Option<Secret>,
    /// The sender of Lots' mails (`LOTS_MAIL_FROM`).
    pub mail_from: String,
    /// Where mails go without SMTP (`LOTS_MAIL_DIR`); by default `data/mail` next to the SQLite
    /// database, or in the working directory.
    pub mail_dir: Option<std::path::PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: DEFAULT_DATABASE_URL.to_string(),
            jwt_secret: None,
            token_ttl_seconds: 3600,
            body_limit_bytes: 1024 * 1024,
            request_timeout_seconds: 30,
            token_issuer: "lots".to_string(),
            token_audience: "lots-api".to_string(),
            deadlines: Vec::new(),
            public_base_url: None,
            survey_secret: None,
            survey_token_days: 60,
            nki: Instrument::default(),
            worker_tick_ms: 1000,
            webhook_timeout_seconds: 10,
            webhook_dead_letter_hours: 24,
            webhook_concurrency: 4,
            webhook_backoff_seconds: 5,
            webhook_allow_private_networks: false,
            deadline_approaching_days: 5,
            import_limit_bytes: 256 * 1024 * 1024,
            attachments_dir: None,
            attachment_limit_bytes: 25 * 1024 * 1024,
            nki_threshold: 7,
            nki_area_threshold: 10,
            municipality_code: None,
            peer_group: Vec::new(),
            oidc: Default::default(),
            smtp_url: None,
            mail_from: "Lots <lots@localhost>".to_string(),
            mail_dir: None,
        }
    }
}

impl Config {
    /// The reporting thresholds and the "due soon" horizon the metrics are computed with.
    pub fn metric_settings(&self) -> lots_metrics::rollup::figures::Settings {
        lots_metrics::rollup::figures::Settings {
            nki_threshold: self.nki_threshold,
            nki_area_threshold: self.nki_area_threshold,
            near_days: self.deadline_approaching_days,
        }
    }

    /// Loads the configuration from the file named by `LOTS_CONFIG` and the environment.
    pub fn load() -> anyhow::Result<Self> {
        Self::load_from(|k| std::env::var(k).ok())
    }

    /// As `load`, with the environment given as a lookup (for tests).
    pub fn load_from(env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let mut config = match env("LOTS_CONFIG") {
            Some(path) => Self::from_file(Path::new(&path))?,
            None => Self::default(),
        };
        if let Some(v) = env("DATABASE_URL") {
            config.database_url = v;
        }
        if let Some(v) = env("LOTS_DATABASE_URL") {
            config.database_url = v;
        }
        if let Some(v) = env("LOTS_ADDR") {
            config.addr = v.parse().with_context(|| {
                format!("LOTS_ADDR `{v}` is not an address like 127.0.0.1:8080")
            })?;
        }
        if let Some(v) = env("LOTS_JWT_SECRET") {
            config.jwt_secret = Some(Secret::new(v));
        }
        if let Some(v) = env("LOTS_SURVEY_SECRET") {
            config.survey_secret = Some(Secret::new(v));
        }
        if let Some(v) = env("LOTS_PUBLIC_BASE_URL") {
            config.public_base_url = Some(v);
        }
        if let Some(v) = env("LOTS_MUNICIPALITY_CODE") {
            config.municipality_code = Some(v.trim().to_string());
        }
        if let Some(v) = env("LOTS_PEER_GROUP") {
            config.peer_group = v
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect();
        }
        let number = |name: &str| -> anyhow::Result<Option<u64>> {
            env(name)
                .map(|v| {
                    v.parse::<u64>()
                        .with_context(|| format!("{name} `{v}` is not a whole number"))
                })
                .transpose()
        };
        if let Some(v) = env("LOTS_SMTP_URL") {
            config.smtp_url = Some(Secret::new(v));
        }
        if let Some(v) = env("LOTS_MAIL_FROM") {
            config.mail_from = v;
        }
        if let Some(v) = env("LOTS_MAIL_DIR") {
            config.mail_dir = Some(v.into());
        }
        if let Some(v) = env("LOTS_ATTACHMENTS_DIR") {
            config.attachments_dir = Some(v.into());
        }
        if let Some(v) = number("LOTS_ATTACHMENT_LIMIT_BYTES")? {
            config.attachment_limit_bytes = v;
        }
        if let Some(v) = number("LOTS_TOKEN_TTL_SECONDS")? {
            config.token_ttl_seconds = v;
        }
        if let Some(v) = number("LOTS_BODY_LIMIT_BYTES")? {
            config.body_limit_bytes = usize::try_from(v)?;
        }
        if let Some(v) = number("LOTS_REQUEST_TIMEOUT_SECONDS")? {
            config.request_timeout_seconds = v;
        }
        if let Some(v) = number("LOTS_WORKER_TICK_MS")? {
            config.worker_tick_ms = v;
        }
        if let Some(v) = number("LOTS_WEBHOOK_TIMEOUT_SECONDS")? {
            config.webhook_timeout_seconds = v;
        }
        if let Some(v) = number("LOTS_WEBHOOK_DEAD_LETTER_HOURS")? {
            config.webhook_dead_letter_hours = i64::try_from(v)?;
        }
        if let Some(v) = env("LOTS_WEBHOOK_ALLOW_PRIVATE_NETWORKS") {
            config.webhook_allow_private_networks = match v.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => {
                    anyhow::bail!("LOTS_WEBHOOK_ALLOW_PRIVATE_NETWORKS `{v}` is not true or false")
                }
            };
        }
        if let Some(v) = number("LOTS_SURVEY_TOKEN_DAYS")? {
            config.survey_token_days = i64::try_from(v)?;
        }
        config.oidc.apply_env(&env);
        config.validate()?;
        Ok(config)
    }

    fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read LOTS_CONFIG {}", path.display()))?;
        toml::from_str(&text)
            .with_context(|| format!("invalid configuration in {}", path.display()))
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        if let Some(s) = &self.jwt_secret {
            anyhow::ensure!(
                s.expose().len() >= 32,
                "the JWT secret must be at least 32 bytes long"
            );
        }
        anyhow::ensure!(
            self.token_ttl_seconds >= 60,
            "token_ttl_seconds must be at least 60"
        );
        anyhow::ensure!(
            self.body_limit_bytes >= 1024,
            "body_limit_bytes must be at least 1024"
        );
        anyhow::ensure!(
            self.request_timeout_seconds >= 1,
            "request_timeout_seconds must be at least 1"
        );
        self.oidc.validate()?;
        if let Some(code) = self.municipality_code.as_deref() {
            anyhow::ensure!(
                lots_core::municipality::find(code).is_some(),
                "municipality_code (LOTS_MUNICIPALITY_CODE) must be one of the 290 kommunkoder, e.g. 0136; {code:?} is not"
            );
        }
        if let Err(bad) = lots_core::municipality::peer_group(&self.peer_group) {
            anyhow::bail!(
                "peer_group (LOTS_PEER_GROUP) must be kommunkoder (e.g. 0136,0138) or one SKR municipality group by code or name (e.g. B3 or \"Större stad\"); {bad:?} is neither"
            );
        }
        anyhow::ensure!(
            self.public_base_url.is_some()
                || (self.oidc.officers.is_none() && self.oidc.companies.is_none()),
            "public_base_url (LOTS_PUBLIC_BASE_URL) must be set with [oidc]: the identity providers send people back to it, and the redirect URI registered with them must match"
        );
        Ok(())
    }
}

impl Config {
    /// Where attachments are kept: the configured directory, else `data/attachments` beside
    /// a SQLite database file, else `data/attachments` in the working directory.
    pub fn attachments_path(&self) -> std::path::PathBuf {
        if let Some(d) = &self.attachments_dir {
            return d.clone();
        }
        self.data_path().join("attachments")
    }

    /// `data` beside a SQLite database file, else in the working directory.
    fn data_path(&self) -> std::path::PathBuf {
        let file = self
            .database_url
            .strip_prefix("sqlite://")
            .or_else(|| self.database_url.strip_prefix("sqlite:"))
            .map(|rest| rest.split('?').next().unwrap_or_default())
            .filter(|f| !f.is_empty() && !f.contains(":memory:"));
        let base = file
            .and_then(|f| Path::new(f).parent().map(Path::to_path_buf))
            .unwrap_or_default();
        base.join("data")
    }

    /// Where mails are written without SMTP: the configured folder, else `data/mail` beside a
    /// SQLite database file (or in the working directory).
    pub fn mail_path(&self) -> std::path::PathBuf {
        if let Some(d) = &self.mail_dir {
            return d.clone();
        }
        self.data_path().join("mail")
    }

    /// Where companies reach Lots.
    pub fn base_url(&self) -> String {
        self.public_base_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.addr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_then_file_then_environment() {
        let dir = std::env::temp_dir().join(format!("lots-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("lots.toml");
        std::fs::write(&file, "addr = \"0.0.0.0:9000\"\ntoken_ttl_seconds = 600\ndatabase_url = \"sqlite://file.db\"\n").unwrap();
        let c = Config::load_from(env(&[
            ("LOTS_CONFIG", file.to_str().unwrap()),
            ("DATABASE_URL", "postgres://a/b"),
            ("LOTS_TOKEN_TTL_SECONDS", "900"),
        ]))
        .unwrap();
        assert_eq!(c.addr.to_string(), "0.0.0.0:9000");
        assert_eq!(c.token_ttl_seconds, 900);
        assert_eq!(c.database_url, "postgres://a/b");
        assert_eq!(c.body_limit_bytes, Config::default().body_limit_bytes);
        let c = Config::load_from(env(&[
            ("DATABASE_URL", "postgres://a/b"),
            ("LOTS_DATABASE_URL", "sqlite://x.db"),
        ]))
        .unwrap();
        assert_eq!(c.database_url, "sqlite://x.db");
    }

    #[test]
    fn attachments_live_next_to_the_sqlite_database_unless_configured() {
        let c = Config::load_from(env(&[(
            "LOTS_DATABASE_URL",
            "sqlite:///var/lib/lots/lots.db?mode=rwc",
        )]))
        .unwrap();
        assert_eq!(
            c.attachments_path(),
            Path::new("/var/lib/lots/data/attachments")
        );
        let c =
            Config::load_from(env(&[("LOTS_DATABASE_URL", "sqlite://lots.db?mode=rwc")])).unwrap();
        assert_eq!(c.attachments_path(), Path::new("data/attachments"));
        let c = Config::load_from(env(&[
            ("LOTS_ATTACHMENTS_DIR", "/srv/files"),
            ("LOTS_ATTACHMENT_LIMIT_BYTES", "1000"),
        ]))
        .unwrap();
        assert_eq!(c.attachments_path(), Path::new("/srv/files"));
        assert_eq!(c.attachment_limit_bytes, 1000);
    }

    #[test]
    fn deadline_rules_can_be_overridden_in_the_file() {
        let dir = std::env::temp_dir().join(format!("lots-config-dl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("lots.toml");
        std::fs::write(&file, "[[deadlines]]\narea = \"serving_licence\"\nkind = \"target\"\nweeks = 6\nsource = \"Vårt löfte\"\n").unwrap();
        let c = Config::load_from(env(&[("LOTS_CONFIG", file.to_str().unwrap())])).unwrap();
        let rules = lots_core::deadline::DeadlineRules::with_overrides(&c.deadlines);
        let rule = rules
            .for_case(lots_core::Area::ServingLicence, None)
            .unwrap();
        assert_eq!((rule.weeks, rule.source.as_str()), (6, "Vårt löfte"));
    }

    #[test]
    fn bad_values_are_refused_with_their_name() {
        let e = Config::load_from(env(&[("LOTS_ADDR", "nowhere")])).unwrap_err();
        assert!(e.to_string().contains("LOTS_ADDR"), "{e}");
        let e = Config::load_from(env(&[("LOTS_JWT_SECRET", "short")])).unwrap_err();
        assert!(e.to_string().contains("32 bytes"), "{e}");
    }

    #[test]
    fn webhooks_stay_off_private_networks_unless_allowed() {
        assert!(
            !Config::load_from(env(&[]))
                .unwrap()
                .webhook_allow_private_networks
        );
        for (v, allowed) in [("true", true), ("1", true), ("false", false), ("0", false)] {
            let c = Config::load_from(env(&[("LOTS_WEBHOOK_ALLOW_PRIVATE_NETWORKS", v)])).unwrap();
            assert_eq!(c.webhook_allow_private_networks, allowed, "{v}");
        }
        let e = Config::load_from(env(&[("LOTS_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "maybe")]))
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("LOTS_WEBHOOK_ALLOW_PRIVATE_NETWORKS"),
            "{e}"
        );
        let c: Config = toml::from_str("webhook_allow_private_networks = true").unwrap();
        assert!(c.webhook_allow_private_networks);
    }

    #[test]
    fn an_identity_provider_needs_the_public_address() {
        let dir = std::env::temp_dir().join(format!("lots-config-oidc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("lots.toml");
        std::fs::write(
            &file,
            "[oidc.companies]\nissuer = \"https://eid.example.se\"\nclient_id = \"lots\"\nclient_secret = \"s\"\n",
        )
        .unwrap();
        let path = file.to_str().unwrap();
        let e = Config::load_from(env(&[("LOTS_CONFIG", path)])).unwrap_err();
        assert!(e.to_string().contains("public_base_url"), "{e}");
        let c = Config::load_from(env(&[
            ("LOTS_CONFIG", path),
            ("LOTS_PUBLIC_BASE_URL", "https://lots.kommun.se"),
        ]))
        .unwrap();
        assert!(c.oidc.companies.is_some());
    }

    #[test]
    fn the_secret_never_shows_in_debug_output() {
        let c = Config::load_from(env(&[(
            "LOTS_JWT_SECRET",
            "0123456789abcdef0123456789abcdef",
        )]))
        .unwrap();
        assert!(!format!("{c:?}").contains("0123456789abcdef"));
    }
}
