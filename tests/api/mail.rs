//! E-mail to companies: written to the outbox with its cause, sent by the worker through a real
//! SMTP server (Python's `aiosmtpd`, its Maildir handler: nothing written here), retried while
//! the relay is down, never sent twice; without SMTP, written as `.eml` files.
//!
//! Without Python's `aiosmtpd` (installed with pip on first use) these tests say so and pass,
//! unless `LOTS_REQUIRE_SMTP_TESTS` is set (as `.ci/run` sets it).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use lots_core::Secret;
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::{TestApp, assert_contains, spawn_app_with};

/// An `aiosmtpd` server keeping what it receives in a Maildir; ended when dropped.
struct SmtpServer {
    child: tokio::process::Child,
    port: u16,
    maildir: PathBuf,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn aiosmtpd_installed() -> bool {
    static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *INSTALLED.get_or_init(|| {
        let has = || {
            std::process::Command::new("python3")
                .args(["-c", "import aiosmtpd"])
                .output()
                .is_ok_and(|o| o.status.success())
        };
        has()
            || (std::process::Command::new("python3")
                .args(["-m", "pip", "install", "--quiet", "aiosmtpd"])
                .status()
                .is_ok_and(|s| s.success())
                && has())
    })
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

impl SmtpServer {
    async fn start_on(port: u16) -> Option<Self> {
        if !aiosmtpd_installed() {
            assert!(
                std::env::var_os("LOTS_REQUIRE_SMTP_TESTS").is_none(),
                "aiosmtpd is not installed: python3 -m pip install aiosmtpd"
            );
            eprintln!("skipped: no aiosmtpd (python3 -m pip install aiosmtpd)");
            return None;
        }
        let maildir =
            std::env::temp_dir().join(format!("lots-maildir-{}", uuid::Uuid::new_v4().simple()));
        let child = tokio::process::Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start aiosmtpd");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Some(Self {
                    child,
                    port,
                    maildir,
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("aiosmtpd did not listen on {port}");
    }

    /// The mails received so far, parsed.
    fn received(&self) -> Vec<Vec<u8>> {
        read_dir_files(&self.maildir.join("new"))
    }
}

fn read_dir_files(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

struct Mail {
    to: String,
    subject: String,
    message_id: String,
    body: String,
}

fn parse(raw: &[u8]) -> Mail {
    use mailparse::MailHeaderMap;
    let m = mailparse::parse_mail(raw).expect("a mail");
    let h = |name: &str| m.headers.get_first_value(name).unwrap_or_default();
    Mail {
        to: h("To"),
        subject: h("Subject"),
        message_id: h("Message-ID"),
        body: m.get_body().expect("a body"),
    }
}

/// A case of Exempel AB with a contact person who has an e-mail address.
async fn case_with_contact(app: &TestApp, token: &str, fields: serde_json::Value) -> i64 {
    let id = app.case_id(token, fields).await;
    let r = app
        .post(
            &format!("/api/v1/cases/{id}/parties"),
            Some(token),
            &json!({"kind": "person", "personal_number": "19811218-9876", "name": "Kim Kontakt",
                "roles": ["contact"], "email": "kim@foretag.example"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    id
}

#[tokio::test]
async fn a_message_to_the_company_is_mailed_once_through_a_real_smtp_server() {
    let port = free_port();
    let Some(smtp) = SmtpServer::start_on(port).await else {
        return;
    };
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(Secret::new(format!("smtp://127.0.0.1:{}", smtp.port)));
        c.mail_from = "Lots Haninge <lots@haninge.example>".into();
    })
    .await;
    let anna = app.token("anna").await;
    let id = case_with_contact(&app, &anna, json!({"title": "Uteservering på torget"})).await;
    let r = app
        .post(
            &format!("/api/v1/cases/{id}/messages"),
            Some(&anna),
            &json!({"text": "Har ni en situationsplan? Skicka den gärna."}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // Written with its cause, not yet sent.
    assert_eq!(
        app.count_where("mail_outbox", "sent_at is null and kind = 'message'")
            .await,
        1
    );
    assert!(smtp.received().is_empty());
    let worker = app.state.worker().unwrap();
    worker.drain().await.unwrap();
    let mails = smtp.received();
    assert_eq!(mails.len(), 1);
    let mail = parse(&mails[0]);
    assert_eq!(mail.to, "kim@foretag.example");
    assert!(
        mail.subject.starts_with("Nytt meddelande i ärende BN "),
        "{}",
        mail.subject
    );
    assert_contains(&mail.message_id, "@haninge.example");
    assert_contains(&mail.body, "Har ni en situationsplan? Skicka den gärna.");
    assert!(mail.body.contains("Uteservering på torget"));
    // The link in it opens the case, and answering through it reaches the officer.
    let url = mail
        .body
        .lines()
        .find(|l| l.contains("/folj/"))
        .expect("a follow link")
        .trim()
        .to_string();
    assert!(
        url.starts_with(&format!("{}/folj/", app.config.base_url())),
        "{url}"
    );
    let token = url.rsplit('/').next().unwrap();
    let follow = app
        .get(&format!("/api/v1/public/follow/{token}"), None)
        .await;
    assert_eq!(follow.status, 200, "{}", follow.text);
    assert_eq!(follow.body["id"], id);
    // Sent once: another round sends nothing more.
    worker.drain().await.unwrap();
    assert_eq!(smtp.received().len(), 1);
    assert_eq!(
        app.count_where("mail_outbox", "sent_at is not null and attempts = 1")
            .await,
        1
    );
}

#[tokio::test]
async fn a_relay_that_is_down_is_retried_and_the_mail_goes_once_it_is_up() {
    let port = free_port();
    if !aiosmtpd_installed() {
        assert!(std::env::var_os("LOTS_REQUIRE_SMTP_TESTS").is_none());
        return;
    }
    let app = spawn_app_with(|c| {
        c.smtp_url = Some(Secret::new(format!("smtp://127.0.0.1:{port}")));
    })
    .await;
    let anna = app.token("anna").await;
    let id = case_with_contact(&app, &anna, json!({})).await;
    app.post_expecting(
        201,
        &format!("/api/v1/cases/{id}/messages"),
        Some(&anna),
        &json!({"text": "Hej!"}),
    )
    .await;
    let worker = app.state.worker().unwrap();
    worker.drain().await.unwrap();
    let row = app
        .count_where(
            "mail_outbox",
            "sent_at is null and attempts = 1 and last_error is not null and failed_at is null",
        )
        .await;
    assert_eq!(row, 1, "the failure is noted and the mail waits");
    // Not due yet: nothing is tried.
    worker.drain().await.unwrap();
    assert_eq!(app.count_where("mail_outbox", "attempts = 1").await, 1);
    // The relay comes up and the wait is over: the mail goes, once.
    let smtp = SmtpServer::start_on(port).await.unwrap();
    app.db
        .writer()
        .execute_unprepared("UPDATE mail_outbox SET next_attempt_at = created_at")
        .await
        .unwrap();
    worker.drain().await.unwrap();
    worker.drain().await.unwrap();
    assert_eq!(smtp.received().len(), 1);
    assert_eq!(
        app.count_where(
            "mail_outbox",
            "sent_at is not null and attempts = 2 and last_error is null"
        )
        .await,
        1
    );
}

/// Lots without SMTP (mails into a folder of its own), anna's token, and a case in handling
/// whose contact person has an e-mail address.
async fn handled_case_mailed_to_a_folder() -> (TestApp, PathBuf, String, i64) {
    let dir = std::env::temp_dir().join(format!("lots-mail-{}", uuid::Uuid::new_v4().simple()));
    let d = dir.clone();
    let app = spawn_app_with(move |c| c.mail_dir = Some(d)).await;
    let anna = app.token("anna").await;
    let id = case_with_contact(&app, &anna, json!({"title": "Skylt"})).await;
    let r = app
        .transition(&anna, id, json!({"to": "in_progress"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    (app, dir, anna, id)
}

#[tokio::test]
async fn without_smtp_mails_are_eml_files_and_a_confidential_case_tells_nothing() {
    // A supplement request is mailed too.
    let (app, dir, anna, id) = handled_case_mailed_to_a_folder().await;
    app.post_expecting(
        201,
        &format!("/api/v1/cases/{id}/supplement-requests"),
        Some(&anna),
        &json!({"message": "Komplettera med en ritning av skylten."}),
    )
    .await;
    let secret = case_with_contact(
        &app,
        &anna,
        json!({"title": "Skyddat ärende", "confidential": {"statute": "OSL 26 kap. 1 §"}}),
    )
    .await;
    app.post_expecting(
        201,
        &format!("/api/v1/cases/{secret}/messages"),
        Some(&anna),
        &json!({"text": "Uppgift om skyddad adress"}),
    )
    .await;
    // A case without any e-mail address gets no mail.
    let silent = app.case_id(&anna, json!({})).await;
    app.post_expecting(
        201,
        &format!("/api/v1/cases/{silent}/messages"),
        Some(&anna),
        &json!({"text": "Ingen adress"}),
    )
    .await;
    assert_eq!(app.count("mail_outbox").await, 2);
    app.state.worker().unwrap().drain().await.unwrap();
    let files = read_dir_files(&dir);
    assert_eq!(files.len(), 2);
    let supplement = parse(&files[0]);
    assert!(
        supplement
            .subject
            .starts_with("Begäran om komplettering i ärende"),
        "{}",
        supplement.subject
    );
    assert!(
        supplement
            .body
            .contains("Komplettera med en ritning av skylten.")
    );
    let confidential = parse(&files[1]);
    assert!(confidential.body.contains("sekretess") && confidential.body.contains("/folj/"));
    for never in ["Skyddat ärende", "skyddad adress"] {
        assert!(
            !confidential.body.contains(never),
            "{never}: {}",
            confidential.body
        );
    }
}

#[tokio::test]
async fn the_decision_and_the_survey_invitation_are_mailed() {
    let (app, dir, anna, id) = handled_case_mailed_to_a_folder().await;
    let r = app
        .transition(
            &anna,
            id,
            json!({"to": "decided", "decision": "approved", "reason": "Uppfyller kraven"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.state.worker().unwrap().drain().await.unwrap();
    let mails: Vec<Mail> = read_dir_files(&dir).iter().map(|m| parse(m)).collect();
    let subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(mails.len(), 2, "{subjects:?}");
    assert!(
        subjects[0].starts_with("Beslut i ärende BN "),
        "{subjects:?}"
    );
    assert_contains(&mails[0].body, "ansökan beviljas");
    assert!(
        subjects[1].starts_with("Hur upplevde ni kommunens service?"),
        "{subjects:?}"
    );
    assert_eq!(mails[1].to, "kim@foretag.example");
    // The survey link in it is the invitation's.
    let url = mails[1]
        .body
        .lines()
        .find(|l| l.contains("/survey/"))
        .expect("a survey link");
    let token = url.trim().rsplit('/').next().unwrap();
    let page = app.get(&format!("/survey/{token}"), None).await;
    assert_eq!(page.status, 200);
}
