//! The demo municipality: four departments with their officers and managers, an admin, and a
//! few hundred cases over the past two years with believable histories. Every case is made
//! through the case service with a clock set to each step's time, so the demo's histories obey
//! the same rules, and write the same events, as real use.

use std::fmt;
use std::sync::Arc;

use anyhow::bail;
use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};
use lots_cases::{
    AttachmentSettings, Attachments, BundleCaseInput, Cases, ConfidentialInput, Directory,
    NewAttachment, NewBundle, NewCase, NewDecisionRequest, NewDepartment, NewExtension, NewNote,
    NewParty, NewPremises, NewSupplementRequest, NewUser, ServiceError, TransitionInput,
};
use lots_core::org_number::luhn_check_digit;
use lots_core::{Actor, Area, Clock, ManualClock, Role, SystemClock, TIME_ZONE};
use lots_handoff::{HandoffReply, Handoffs, NewHandoff};
use lots_hooks::Surveys;
use lots_store::Db;
use lots_store::entity::{app_user, department};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{EntityTrait, PaginatorTrait};

struct DepartmentSpec {
    code: &'static str,
    name: &'static str,
    prefix: &'static str,
    areas: &'static [Area],
    /// (username, display name) of the officers, then the manager.
    officers: &'static [(&'static str, &'static str)],
    manager: (&'static str, &'static str),
    /// Typical days from in progress to decision.
    handling_days: (i64, i64),
    titles: &'static [&'static str],
}

const DEPARTMENTS: &[DepartmentSpec] = &[
    DepartmentSpec {
        code: "SBF",
        name: "Samhällsbyggnadsförvaltningen",
        prefix: "BN",
        areas: &[
            Area::BuildingPermit,
            Area::BuildingPermit,
            Area::BuildingPermit,
            Area::LandUse,
        ],
        officers: &[("anna", "Anna Lindqvist"), ("erik", "Erik Johansson")],
        manager: ("maria", "Maria Berg"),
        handling_days: (20, 75),
        titles: &[
            "Nybyggnad av restaurang",
            "Tillbyggnad av butikslokal",
            "Fasadskylt",
            "Ändrad användning till kafé",
            "Rivning av förrådsbyggnad",
            "Uteservering på allmän platsmark",
            "Förhandsbesked för verksamhetslokal",
        ],
    },
    DepartmentSpec {
        code: "MHF",
        name: "Miljö- och hälsoskyddsförvaltningen",
        prefix: "MHN",
        areas: &[
            Area::FoodControl,
            Area::FoodControl,
            Area::EnvironmentHealth,
        ],
        officers: &[("omar", "Omar Haddad"), ("sara", "Sara Nilsson")],
        manager: ("lars", "Lars Eriksson"),
        handling_days: (5, 30),
        titles: &[
            "Registrering av livsmedelsanläggning",
            "Ändring av livsmedelsverksamhet",
            "Anmälan om miljöfarlig verksamhet",
            "Anmälan om hygienisk verksamhet",
            "Klagomål på ventilation",
        ],
    },
    DepartmentSpec {
        code: "SOC",
        name: "Socialförvaltningen, tillståndsenheten",
        prefix: "SN",
        areas: &[Area::ServingLicence],
        officers: &[("fatima", "Fatima Ali"), ("johan", "Johan Andersson")],
        manager: ("karin", "Karin Svensson"),
        handling_days: (25, 65),
        titles: &[
            "Stadigvarande serveringstillstånd till allmänheten",
            "Tillfälligt serveringstillstånd, sommarservering",
            "Tillfälligt serveringstillstånd, slutet sällskap",
            "Utökad serveringstid",
        ],
    },
    DepartmentSpec {
        code: "RTJ",
        name: "Räddningstjänsten",
        prefix: "RTN",
        areas: &[Area::FireSafety],
        officers: &[("nils", "Nils Holm"), ("elin", "Elin Lund")],
        manager: ("peter", "Peter Ek"),
        handling_days: (8, 35),
        titles: &[
            "Tillstånd för brandfarlig vara",
            "Brandskyddskontroll",
            "Tillstånd för explosiv vara",
        ],
    },
];

const COMPANY_FIRST: &[&str] = &[
    "Söderby",
    "Haninge",
    "Norrmalms",
    "Sjöstadens",
    "Ekbackens",
    "Tallkrogens",
    "Björkhagens",
    "Lindens",
    "Strandvägens",
    "Kvarnens",
    "Ängsvikens",
    "Hamnens",
    "Torgets",
    "Stationens",
    "Bergets",
];
const COMPANY_SECOND: &[&str] = &[
    "Pizzeria",
    "Bageri",
    "Bistro",
    "Livs",
    "Bygg",
    "Café",
    "Sushi",
    "Fastigheter",
    "Kök & Bar",
    "Konditori",
    "Grill",
    "Vinbar",
];
const COMPANY_FORM: &[&str] = &["AB", "AB", "AB", "HB", "Ekonomisk förening"];

/// What `load` created.
#[derive(Debug)]
pub struct DemoReport {
    pub password: String,
    pub password_generated: bool,
    /// (username, display name, role, department code)
    pub logins: Vec<(String, String, Role, Option<String>)>,
    pub cases: usize,
    pub companies: usize,
    /// Survey answers for decided cases.
    pub answers: usize,
    /// The cases that show the full record: (diarienummer, what it shows).
    pub showcase: Vec<(String, String)>,
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Loaded the demo municipality: {} departments, {} companies, {} cases, {} survey answers.",
            DEPARTMENTS.len(),
            self.companies,
            self.cases,
            self.answers
        )?;
        for (reference, what) in &self.showcase {
            writeln!(f, "  {reference}: {what}")?;
        }
        writeln!(f, "Logins (every demo user has the same password):")?;
        for (username, name, role, dep) in &self.logins {
            writeln!(
                f,
                "  {username:<8} {:<8} {:<5} {name}",
                role.as_str(),
                dep.as_deref().unwrap_or("-")
            )?;
        }
        if self.password_generated {
            writeln!(
                f,
                "Password: {}   (generated now; set LOTS_DEMO_PASSWORD to choose it)",
                self.password
            )
        } else {
            writeln!(f, "Password: the one given in LOTS_DEMO_PASSWORD")
        }
    }
}

/// Whether the database holds no departments and no users yet.
pub async fn is_empty(db: &Db) -> anyhow::Result<bool> {
    let deps = department::Entity::find().count(db.reader()).await?;
    let users = app_user::Entity::find().count(db.reader()).await?;
    Ok(deps == 0 && users == 0)
}

/// Loads the demo municipality into an empty database.
pub async fn load(
    db: &Db,
    password: Option<String>,
    surveys: &Surveys,
) -> anyhow::Result<DemoReport> {
    load_with(db, password, surveys, None).await
}

/// As `load`, keeping the demo's documents in `attachments` (without it, the demo has none).
pub async fn load_with(
    db: &Db,
    password: Option<String>,
    surveys: &Surveys,
    attachments: Option<AttachmentSettings>,
) -> anyhow::Result<DemoReport> {
    if !is_empty(db).await? {
        bail!(
            "the database already holds departments or users; the demo loads only into an empty database"
        );
    }
    let (password, password_generated) = match password {
        Some(p) => (p, false),
        None => {
            let p: String = rand::rng()
                .sample_iter(&rand::distr::Alphanumeric)
                .take(16)
                .map(char::from)
                .collect();
            (p, true)
        }
    };
    let now = SystemClock.now();
    let clock = ManualClock::new(now - Duration::days(800));
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let directory = Directory::new(db.clone(), shared.clone());
    let cases = Cases::new(
        db.clone(),
        shared.clone(),
        Arc::new(lots_core::deadline::DeadlineRules::default()),
    )
    .with_base_url(surveys.public_base_url());
    let handoffs = Handoffs::new(db.clone(), shared, cases.clone());
    let mut logins = Vec::new();

    let admin = directory
        .add_user(user(
            "admin",
            "Systemadministratör",
            &password,
            Role::Admin,
            None,
        ))
        .await
        .map_err(explain)?;
    let admin_actor = Actor {
        user_id: admin.id,
        username: admin.username.clone(),
        role: Role::Admin,
        department_id: None,
    };
    logins.push((
        admin.username.clone(),
        admin.display_name.clone(),
        Role::Admin,
        None,
    ));

    // Officers per department, as actors.
    let mut staff: Vec<(i64, Vec<Actor>, Actor)> = Vec::new();
    for spec in DEPARTMENTS {
        let dep = directory
            .add_department(NewDepartment {
                code: Some(spec.code.into()),
                name: Some(spec.name.into()),
                diary_prefix: Some(spec.prefix.into()),
            })
            .await
            .map_err(explain)?;
        let mut officers = Vec::new();
        for (username, name) in spec.officers {
            let u = directory
                .add_user(user(
                    username,
                    name,
                    &password,
                    Role::Officer,
                    Some(spec.code),
                ))
                .await
                .map_err(explain)?;
            logins.push((
                u.username.clone(),
                u.display_name.clone(),
                Role::Officer,
                Some(spec.code.to_string()),
            ));
            officers.push(Actor {
                user_id: u.id,
                username: u.username,
                role: Role::Officer,
                department_id: Some(dep.id),
            });
        }
        let (username, name) = spec.manager;
        let m = directory
            .add_user(user(
                username,
                name,
                &password,
                Role::Manager,
                Some(spec.code),
            ))
            .await
            .map_err(explain)?;
        logins.push((
            m.username.clone(),
            m.display_name.clone(),
            Role::Manager,
            Some(spec.code.to_string()),
        ));
        staff.push((
            dep.id,
            officers,
            Actor {
                user_id: m.id,
                username: m.username,
                role: Role::Manager,
                department_id: Some(dep.id),
            },
        ));
    }

    let mut rng = StdRng::seed_from_u64(20261127);
    let companies: Vec<(String, String)> = (0..60).map(|i| company(&mut rng, i)).collect();

    // Receipt times over the past two years, in office hours, oldest first so that diary serials
    // follow the order cases came in.
    let mut plans: Vec<(DateTime<Utc>, usize)> = (0..320)
        .map(|_| {
            // More recent cases than old ones, as in a growing e-service, so that open work shows.
            let days = (730.0 * rng.random::<f64>().powf(1.8)).max(1.0) as i64;
            let at = now - Duration::days(days);
            let at = at
                .with_hour(rng.random_range(7..15))
                .unwrap_or(at)
                .with_minute(rng.random_range(0..60))
                .unwrap_or(at);
            (at, rng.random_range(0..DEPARTMENTS.len()))
        })
        .collect();
    plans.sort();

    for (received_at, d) in &plans {
        let spec = &DEPARTMENTS[*d];
        let (_, officers, _) = &staff[*d];
        let officer = &officers[rng.random_range(0..officers.len())];
        let (org, name) = &companies[rng.random_range(0..companies.len())];
        let area = spec.areas[rng.random_range(0..spec.areas.len())];
        let case_type = (area == Area::BuildingPermit).then(|| {
            if rng.random_bool(0.25) {
                "notification"
            } else {
                "permit"
            }
        });
        let mut t = *received_at + Duration::hours(rng.random_range(1..48));
        if t > now {
            t = now;
        }
        clock.set(t);
        let unassigned = rng.random_bool(0.1);
        let case = cases
            .create(
                officer,
                NewCase {
                    org_number: Some(org.clone()),
                    company_name: Some(name.clone()),
                    area: Some(area.as_str().into()),
                    case_type: case_type.map(Into::into),
                    title: Some(spec.titles[rng.random_range(0..spec.titles.len())].into()),
                    description: Some(format!("Inkom via e-tjänst från {name}.")),
                    department: None,
                    assignee: (!unassigned).then(|| officer.username.clone()),
                    received_at: Some(received_at.to_rfc3339()),
                    ..Default::default()
                },
            )
            .await
            .map_err(explain)?;

        // The rest of the history; each step happens only if its time has come.
        let mut steps: Vec<(i64, Act)> = Vec::new();
        // Some recent cases still wait to be picked up.
        let untouched = now - *received_at < Duration::days(14) && rng.random_bool(0.4);
        let first = if untouched {
            24 * 365
        } else {
            rng.random_range(4..96)
        };
        steps.push((first, Act::Status("in_progress", None, None)));
        if rng.random_bool(0.35) {
            steps.push((
                rng.random_range(24..240),
                Act::Status(
                    "awaiting_supplement",
                    Some("Ritningar och situationsplan saknas"),
                    None,
                ),
            ));
            steps.push((
                rng.random_range(72..600),
                Act::Status("in_progress", Some("Kompletteringen har kommit in"), None),
            ));
        }
        // Consultations: environment and health answers building cases slowly (the demo's
        // bottleneck); fire safety answers quickly.
        let consults: &[(&str, f64, (i64, i64))] = match (spec.code, area) {
            ("SBF", Area::BuildingPermit) => &[("MHF", 0.4, (4, 15)), ("RTJ", 0.25, (1, 3))],
            ("SOC", _) => &[("RTJ", 0.5, (1, 4)), ("MHF", 0.2, (2, 8))],
            ("MHF", Area::FoodControl) => &[("SOC", 0.1, (1, 2))],
            _ => &[],
        };
        for (to, p, (lo, hi)) in consults {
            if rng.random_bool(*p) {
                let to_index = DEPARTMENTS.iter().position(|x| x.code == *to).unwrap_or(0);
                steps.push((
                    rng.random_range(2..24),
                    Act::Consult(to_index, Phase::Request),
                ));
                steps.push((
                    rng.random_range(lo * 24..hi * 24),
                    Act::Consult(to_index, Phase::Accept),
                ));
                steps.push((
                    rng.random_range(24..144),
                    Act::Consult(to_index, Phase::Complete),
                ));
            }
        }
        if rng.random_bool(0.05) {
            steps.push((
                rng.random_range(24..400),
                Act::Status("withdrawn", Some("Sökanden har återkallat ansökan"), None),
            ));
        } else {
            let (lo, hi) = spec.handling_days;
            let decision = match rng.random_range(0..100) {
                0..80 => "approved",
                80..90 => "rejected",
                90..95 => "dismissed",
                _ => "written_off",
            };
            steps.push((
                rng.random_range(lo * 24..hi * 24),
                Act::Status("decided", None, Some(decision)),
            ));
            steps.push((rng.random_range(24..480), Act::Status("closed", None, None)));
        }
        let mut open_handoff = None;
        for (hours, act) in steps {
            t += Duration::hours(hours);
            if t > now {
                break;
            }
            clock.set(t);
            match act {
                Act::Status(to, reason, decision) => {
                    if to == "in_progress" && rng.random_bool(0.3) {
                        let note = NewNote {
                            text: Some("Ringde sökanden och stämde av underlaget.".into()),
                            ..Default::default()
                        };
                        cases
                            .add_note(officer, case.id, note)
                            .await
                            .map_err(explain)?;
                    }
                    let input = TransitionInput {
                        to: Some(to.into()),
                        reason: reason.map(Into::into),
                        decision: decision.map(Into::into),
                        ..Default::default()
                    };
                    cases
                        .transition(officer, case.id, input, None)
                        .await
                        .map_err(explain)?;
                }
                Act::Consult(to, Phase::Request) => {
                    let input = NewHandoff {
                        to_department: Some(DEPARTMENTS[to].code.into()),
                        kind: Some("consultation".into()),
                        message: Some(format!(
                            "Remiss: yttrande önskas från {}.",
                            DEPARTMENTS[to].name
                        )),
                        due_date: None,
                    };
                    open_handoff = Some(
                        handoffs
                            .request(officer, case.id, input)
                            .await
                            .map_err(explain)?
                            .id,
                    );
                }
                Act::Consult(to, Phase::Accept) => {
                    if let Some(h) = open_handoff {
                        handoffs.accept(&staff[to].1[0], h).await.map_err(explain)?;
                    }
                }
                Act::Consult(to, Phase::Complete) => {
                    if let Some(h) = open_handoff.take() {
                        let reply = HandoffReply {
                            response: Some(
                                "Inga invändningar med de villkor som framgår av yttrandet.".into(),
                            ),
                            reason: None,
                        };
                        handoffs
                            .complete(&staff[to].1[0], h, reply)
                            .await
                            .map_err(explain)?;
                    }
                }
            }
        }
    }

    // Transfers between departments: two done, one waiting, one declined.
    let transfers: [(usize, usize, i64, Option<bool>); 4] = [
        (1, 3, 120, Some(true)),
        (0, 1, 60, Some(true)),
        (2, 0, 3, None),
        (3, 1, 20, Some(false)),
    ];
    for (i, (from, to, days_ago, outcome)) in transfers.iter().enumerate() {
        let officer = &staff[*from].1[0];
        let (org, name) = &companies[10 + i];
        let received_at = (now - Duration::days(*days_ago))
            .with_hour(9)
            .unwrap_or(now);
        clock.set(received_at + Duration::hours(1));
        let spec = &DEPARTMENTS[*from];
        let input = NewCase {
            org_number: Some(org.clone()),
            company_name: Some(name.clone()),
            area: Some(spec.areas[0].as_str().into()),
            case_type: (spec.areas[0] == Area::BuildingPermit).then(|| "permit".into()),
            title: Some(format!(
                "{} (hör till {})",
                spec.titles[0], DEPARTMENTS[*to].name
            )),
            description: Some("Ärendet kom in till fel förvaltning.".into()),
            department: None,
            assignee: Some(officer.username.clone()),
            received_at: Some(received_at.to_rfc3339()),
            ..Default::default()
        };
        let case = cases.create(officer, input).await.map_err(explain)?;
        clock.set(received_at + Duration::hours(3));
        let request = NewHandoff {
            to_department: Some(DEPARTMENTS[*to].code.into()),
            kind: Some("transfer".into()),
            message: Some(format!(
                "Överlämnas till {} som är rätt förvaltning.",
                DEPARTMENTS[*to].name
            )),
            due_date: None,
        };
        let h = handoffs
            .request(officer, case.id, request)
            .await
            .map_err(explain)?;
        clock.set(received_at + Duration::days(2));
        let receiver = &staff[*to].1[0];
        match outcome {
            Some(true) => {
                handoffs.accept(receiver, h.id).await.map_err(explain)?;
            }
            Some(false) => {
                let reply = HandoffReply {
                    response: None,
                    reason: Some("Ärendet hör inte till oss; kontakta miljöförvaltningen.".into()),
                };
                handoffs
                    .decline(receiver, h.id, reply)
                    .await
                    .map_err(explain)?;
            }
            None => {}
        }
    }

    // A bundle (samordnat ärende): the company with cases in the most departments, kept
    // together by a coordinator from the licensing unit.
    let bundles = lots_cases::Companies::new(cases.clone());
    let coordinator = &staff[2].1[1];
    let mut best: Option<(usize, &(String, String))> = None;
    for co in &companies {
        let view = bundles.company(&admin_actor, &co.0).await;
        if let Ok(view) = view {
            let mut deps: Vec<String> = view
                .cases
                .iter()
                .map(|c| match &c.case {
                    lots_cases::companies::CompanyCase::Full { case } => case.department.clone(),
                    lots_cases::companies::CompanyCase::Summary { summary } => {
                        summary.department.clone()
                    }
                })
                .collect();
            deps.sort();
            deps.dedup();
            if best.is_none_or(|(n, _)| deps.len() > n) {
                best = Some((deps.len(), co));
            }
        }
    }
    if let Some((_, (org, name))) = best {
        clock.set(now - Duration::days(20));
        let bundle = bundles
            .create_bundle(
                coordinator,
                NewBundle {
                    org_number: Some(org.clone()),
                    title: Some(format!("{name}: etablering av restaurang")),
                    coordinator: Some(coordinator.username.clone()),
                },
            )
            .await
            .map_err(explain)?;
        let view = bundles.company(&admin_actor, org).await.map_err(explain)?;
        let mut seen = Vec::new();
        for c in view.cases {
            if let lots_cases::companies::CompanyCase::Full { case } = c.case {
                if seen.contains(&case.department) {
                    continue;
                }
                seen.push(case.department.clone());
                let owner = DEPARTMENTS
                    .iter()
                    .position(|d| d.code == case.department)
                    .map(|i| &staff[i].2);
                if let Some(manager) = owner {
                    bundles
                        .add_to_bundle(
                            manager,
                            bundle.id,
                            BundleCaseInput {
                                case_id: Some(case.id),
                            },
                        )
                        .await
                        .map_err(explain)?;
                }
            }
        }
    }

    // Building cases that show the statutory clock at work.
    let (_, sbf_officers, _) = &staff[0];
    let showcase: [Showcase; 6] = [
        (
            "Nybyggnad av hotell, beslut inom kort",
            67,
            &[(2, Step::Start)],
        ),
        (
            "Tillbyggnad av restaurang, sista dagen närmast",
            70,
            &[(1, Step::Start)],
        ),
        (
            "Ändrad användning till pizzeria, försenat",
            86,
            &[(3, Step::Start)],
        ),
        (
            "Nybyggnad av livsmedelsbutik, förlängd handläggningstid",
            80,
            &[(2, Step::Start), (40, Step::Extend)],
        ),
        (
            "Fasadändring, väntar på komplettering",
            12,
            &[(1, Step::Start), (4, Step::Supplement)],
        ),
        (
            "Förhandsbesked för hotell, äldre än sex månader",
            200,
            &[(5, Step::Start), (190, Step::DecisionRequest)],
        ),
    ];
    for (i, (title, days_ago, steps)) in showcase.iter().enumerate() {
        let officer = &sbf_officers[i % sbf_officers.len()];
        let (org, name) = &companies[i];
        let received_at = stockholm_morning(now, *days_ago);
        clock.set(received_at + Duration::hours(1));
        let input = NewCase {
            org_number: Some(org.clone()),
            company_name: Some(name.clone()),
            area: Some(Area::BuildingPermit.as_str().into()),
            case_type: Some("permit".into()),
            title: Some((*title).into()),
            description: Some("Ansökan om lov enligt plan- och bygglagen.".into()),
            department: None,
            assignee: Some(officer.username.clone()),
            received_at: Some(received_at.to_rfc3339()),
            ..Default::default()
        };
        let case = cases.create(officer, input).await.map_err(explain)?;
        for (day, step) in *steps {
            clock.set(received_at + Duration::days(*day) + Duration::hours(2));
            match step {
                Step::Start => {
                    let input = TransitionInput {
                        to: Some("in_progress".into()),
                        ..Default::default()
                    };
                    cases
                        .transition(officer, case.id, input, None)
                        .await
                        .map_err(explain)?;
                }
                Step::Supplement => {
                    let input = NewSupplementRequest {
                        message: Some("Komplettera med fasadritningar i skala 1:100.".into()),
                    };
                    lots_cases::Supplements::new(cases.clone())
                        .request_supplement(officer, case.id, input, None)
                        .await
                        .map_err(explain)?;
                }
                Step::Extend => {
                    let input = NewExtension {
                        reason: Some("Ärendet kräver samråd med länsstyrelsen.".into()),
                        weeks: None,
                    };
                    lots_cases::Supplements::new(cases.clone())
                        .extend_deadline(officer, case.id, input, None)
                        .await
                        .map_err(explain)?;
                }
                Step::DecisionRequest => {
                    let input = NewDecisionRequest {
                        note: Some("Sökanden begärde skriftligen att ärendet avgörs.".into()),
                    };
                    lots_cases::Supplements::new(cases.clone())
                        .request_decision(officer, case.id, input)
                        .await
                        .map_err(explain)?;
                }
            }
        }
    }

    // The full case record: a restaurant's building permit with its parties, property,
    // drawings, a consultation and a decision with its legal basis; and a confidential case.
    clock.set(now - Duration::days(30));
    let files = attachments.map(|a| Attachments::new(cases.clone(), a));
    let showcase = record_showcase(
        &cases,
        &handoffs,
        files.as_ref(),
        &clock,
        (&staff[0].1[0], &staff[0].2),
        &staff[1].1[0],
        DEPARTMENTS[1].code,
        now,
    )
    .await?;

    let answered = answer_surveys(db, surveys, &admin_actor, &mut rng, now).await?;

    Ok(DemoReport {
        password,
        password_generated,
        logins,
        cases: plans.len() + 6 + 4 + showcase.len(),
        companies: companies.len(),
        answers: answered,
        showcase,
    })
}

/// The showcase of the full case record; returns the cases it registered and what they show.
#[allow(clippy::too_many_arguments)]
async fn record_showcase(
    cases: &Cases,
    handoffs: &Handoffs,
    files: Option<&Attachments>,
    clock: &ManualClock,
    (officer, manager): (&Actor, &Actor),
    consulted: &Actor,
    consulted_department: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<(String, String)>> {
    let received_at = now - Duration::days(30);
    let case = cases
        .create(
            officer,
            NewCase {
                org_number: Some("556074-7569".into()),
                company_name: Some("Söderby Krog AB".into()),
                area: Some(Area::BuildingPermit.as_str().into()),
                case_type: Some("new_build".into()),
                title: Some("Nybyggnad av restaurang med uteservering, Söderby 1:23".into()),
                description: Some(
                    "Ansökan om bygglov för nybyggnad av restaurang (180 m²).".into(),
                ),
                assignee: Some(officer.username.clone()),
                received_at: Some(received_at.to_rfc3339()),
                priority: Some("high".into()),
                labels: Some(vec!["restaurang".into(), "företagslots".into()]),
                ..Default::default()
            },
        )
        .await
        .map_err(explain)?;
    let parties = [
        (
            "organisation",
            Some("556074-7569"),
            None,
            "Söderby Krog AB",
            &["applicant", "operator", "invoice_recipient"][..],
            Some("info@soderbykrog.se"),
            Some("08-500 123 45"),
        ),
        (
            "organisation",
            Some("556036-0793"),
            None,
            "Fastighets AB Söderby",
            &["property_owner"][..],
            Some("forvaltning@fastighetsoderby.se"),
            None,
        ),
        (
            "person",
            None,
            Some("19811218-9876"),
            "Karin Ombudsson",
            &["agent", "contact"][..],
            Some("karin@arkitektkontoret.se"),
            Some("070-123 45 67"),
        ),
        (
            "person",
            None,
            Some("19701063-2391"),
            "Sam Ordning",
            &["signatory"][..],
            None,
            None,
        ),
    ];
    for (kind, org, personal, name, roles, email, phone) in parties {
        lots_cases::Record::new(cases.clone())
            .add_party(
                officer,
                case.id,
                NewParty {
                    kind: Some(kind.into()),
                    org_number: org.map(Into::into),
                    personal_number: personal.map(Into::into),
                    name: Some(name.into()),
                    roles: Some(roles.iter().map(|r| r.to_string()).collect()),
                    email: email.map(Into::into),
                    phone: phone.map(Into::into),
                    address: None,
                },
            )
            .await
            .map_err(explain)?;
    }
    lots_cases::Record::new(cases.clone())
        .add_premises(
            officer,
            case.id,
            NewPremises {
                property_designation: Some("Haninge Söderby 1:23".into()),
                address: Some("Söderbyvägen 4, 136 91 Haninge".into()),
                sign_name: Some("Söderby Krog".into()),
                premises_type: Some("restaurant".into()),
                main: Some(true),
            },
        )
        .await
        .map_err(explain)?;
    if let Some(files) = files {
        for (name, category, body) in [
            ("situationsplan.pdf", "drawing", "Situationsplan 1:400"),
            (
                "fasadritningar.pdf",
                "drawing",
                "Fasader mot norr, söder, öster, väster 1:100",
            ),
            ("planritning.pdf", "drawing", "Planritning entréplan 1:100"),
        ] {
            let mut upload = files.begin().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let bytes = format!("%PDF-1.7\n% {body}\n%%EOF\n");
            upload
                .write(bytes.as_bytes())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            files
                .finish(
                    officer,
                    case.id,
                    NewAttachment {
                        name: Some(name.into()),
                        declared_type: Some("application/pdf".into()),
                        category: Some(category.into()),
                        confidential: None,
                    },
                    Some(upload),
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    clock.set(received_at + Duration::days(2));
    let start = TransitionInput {
        to: Some("in_progress".into()),
        ..Default::default()
    };
    cases
        .transition(officer, case.id, start, None)
        .await
        .map_err(explain)?;
    let h = handoffs
        .request(
            officer,
            case.id,
            NewHandoff {
                to_department: Some(consulted_department.into()),
                kind: Some("consultation".into()),
                message: Some("Yttrande om köksventilation och fettavskiljare önskas.".into()),
                due_date: None,
            },
        )
        .await
        .map_err(explain)?;
    clock.set(received_at + Duration::days(5));
    handoffs.accept(consulted, h.id).await.map_err(explain)?;
    clock.set(received_at + Duration::days(12));
    handoffs
        .complete(
            consulted,
            h.id,
            HandoffReply {
                response: Some("Inga synpunkter om fettavskiljare installeras.".into()),
                reason: None,
            },
        )
        .await
        .map_err(explain)?;
    clock.set(received_at + Duration::days(14));
    cases
        .add_note(
            officer,
            case.id,
            NewNote {
                text: Some("Sökanden har informerats om att beslut väntas inom två veckor.".into()),
                visibility: Some("public".into()),
                confidential: None,
            },
        )
        .await
        .map_err(explain)?;
    clock.set(received_at + Duration::days(20));
    let decide = TransitionInput {
        to: Some("decided".into()),
        decision: Some("approved".into()),
        legal_basis: Some(vec![
            serde_json::json!("PBL 9 kap. 31 §"),
            serde_json::json!("PBL 10 kap. 23 §"),
        ]),
        text: Some(
            "Bygglov beviljas för nybyggnad av restaurang. Åtgärden får påbörjas först när startbesked har getts."
                .into(),
        ),
        ..Default::default()
    };
    cases
        .transition(officer, case.id, decide, None)
        .await
        .map_err(explain)?;

    // A confidential case: an application that reveals a person's protected address.
    clock.set(now - Duration::days(10));
    let secret = cases
        .create(
            officer,
            NewCase {
                org_number: Some("811218-9876".into()),
                company_name: Some("Firma Karin Ombudsson".into()),
                area: Some(Area::BuildingPermit.as_str().into()),
                case_type: Some("attefall_notification".into()),
                title: Some("Attefallshus, sökande med skyddade personuppgifter".into()),
                description: Some("Sökandens adress omfattas av sekretess.".into()),
                assignee: Some(officer.username.clone()),
                received_at: Some((now - Duration::days(10)).to_rfc3339()),
                confidential: Some(ConfidentialInput {
                    statute: Some("OSL 21 kap. 3 §".into()),
                }),
                ..Default::default()
            },
        )
        .await
        .map_err(explain)?;
    cases
        .add_note(
            manager,
            secret.id,
            NewNote {
                text: Some("Skyddad adress enligt Skatteverket; post via Skatteverket.".into()),
                visibility: None,
                confidential: Some(ConfidentialInput {
                    statute: Some("OSL 21 kap. 3 §".into()),
                }),
            },
        )
        .await
        .map_err(explain)?;
    let with_files = if files.is_some() {
        ", drawings attached"
    } else {
        ""
    };
    Ok(vec![
        (
            case.reference,
            format!(
                "a restaurant's building permit with owner, operator, agent and signatory, the property Haninge Söderby 1:23{with_files}, a consultation and a decision with its legal basis"
            ),
        ),
        (
            secret.reference,
            "a confidential case (OSL 21 kap. 3 §) with a confidential note; log in as another department's officer to see it redacted".into(),
        ),
    ])
}

/// One step of a generated history.
/// Survey answers for about two thirds of the decided cases, as a survey provider would return
/// them. Satisfaction falls with lead time and with each consultation the case waited for, and
/// differs by area, so that the metrics have something to find.
async fn answer_surveys(
    db: &Db,
    surveys: &Surveys,
    admin: &Actor,
    rng: &mut StdRng,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    use lots_store::entity::{case_record, handoff};
    use sea_orm::{ColumnTrait, QueryFilter};
    let decided = case_record::Entity::find()
        .filter(case_record::Column::DecidedAt.is_not_null())
        .all(db.reader())
        .await?;
    let consulted = handoff::Entity::find()
        .filter(handoff::Column::Kind.eq("consultation"))
        .all(db.reader())
        .await?;
    let mut lines = String::new();
    let mut n = 0;
    for c in &decided {
        let Some(decided_at) = c.decided_at else {
            continue;
        };
        if !rng.random_bool(0.85) {
            continue;
        }
        let answered_at = decided_at + Duration::days(rng.random_range(3..25));
        if answered_at > now {
            continue;
        }
        let base = match c.area.parse::<Area>() {
            Ok(Area::BuildingPermit) => 70.0,
            Ok(Area::FoodControl) => 80.0,
            Ok(Area::EnvironmentHealth) => 74.0,
            Ok(Area::ServingLicence) => 76.0,
            Ok(Area::FireSafety) => 82.0,
            _ => 72.0,
        };
        let lead_weeks = (decided_at - c.received_at).num_days() as f64 / 7.0;
        let waits = consulted.iter().filter(|h| h.case_id == c.id).count() as f64;
        let noise: f64 = (0..4).map(|_| rng.random_range(-6.0..6.0)).sum::<f64>() / 2.0;
        let target = (base - 1.2 * lead_weeks - 3.0 * waits + noise).clamp(0.0, 100.0);
        let mut scale = |hi: f64| {
            ((1.0 + target / 100.0 * (hi - 1.0)) + rng.random_range(-0.7..0.7))
                .round()
                .clamp(1.0, hi) as i64
        };
        let row = serde_json::json!({
            "reference": c.reference,
            "q_overall": scale(10.0),
            "q_expectations": scale(10.0),
            "q_ideal": scale(10.0),
            "factors": {
                "information": scale(6.0),
                "accessibility": scale(6.0),
                "treatment": scale(6.0),
                "competence": scale(6.0),
                "legal_certainty": scale(6.0),
                "efficiency": scale(6.0),
            },
            "answered_at": answered_at.to_rfc3339(),
        });
        lines.push_str(&row.to_string());
        lines.push('\n');
        n += 1;
    }
    let report = surveys
        .import(admin, "application/x-ndjson", lines.as_bytes(), now)
        .await
        .map_err(explain)?;
    if !report.errors.is_empty() {
        bail!(
            "demo survey answers were refused: {:?}",
            report.errors.first()
        );
    }
    Ok(n)
}

#[derive(Debug, Clone, Copy)]
enum Act {
    /// A lifecycle transition: to, reason, decision.
    Status(&'static str, Option<&'static str>, Option<&'static str>),
    /// A consultation to the department at this index of `DEPARTMENTS`.
    Consult(usize, Phase),
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Request,
    Accept,
    Complete,
}

/// A showcase case: its title, how many days ago it came in, and its steps (day, step).
type Showcase = (&'static str, i64, &'static [(i64, Step)]);

/// A step in the life of a showcase case.
#[derive(Debug, Clone, Copy)]
enum Step {
    Start,
    Supplement,
    Extend,
    DecisionRequest,
}

fn user(
    username: &str,
    name: &str,
    password: &str,
    role: Role,
    department: Option<&str>,
) -> NewUser {
    NewUser {
        username: Some(username.into()),
        display_name: Some(name.into()),
        password: Some(password.into()),
        role: Some(role.as_str().into()),
        department: department.map(Into::into),
    }
}

/// A company with a valid organisation number (a few sole traders with a personnummer).
fn company(rng: &mut StdRng, i: usize) -> (String, String) {
    let first = COMPANY_FIRST[i % COMPANY_FIRST.len()];
    let second = COMPANY_SECOND[(i / COMPANY_FIRST.len() + i) % COMPANY_SECOND.len()];
    if i % 12 == 11 {
        // A sole trader: YYMMDD + three digits, Luhn.
        let mut d = vec![
            rng.random_range(5..9),
            rng.random_range(0..10),
            0,
            rng.random_range(1..10),
            rng.random_range(1..3),
            rng.random_range(0..9),
        ];
        d.extend((0..3).map(|_| rng.random_range(0..10)));
        return (
            digits_with_check(&d),
            format!("{first} {second} (enskild firma)"),
        );
    }
    let form = COMPANY_FORM[i % COMPANY_FORM.len()];
    let mut d: Vec<u32> = match form {
        "HB" => vec![9, 6, 9],
        "Ekonomisk förening" => vec![7, 6, 9],
        _ => vec![5, 5, 9],
    };
    d.extend((0..6).map(|_| rng.random_range(0..10)));
    (digits_with_check(&d), format!("{first} {second} {form}"))
}

fn digits_with_check(nine: &[u32]) -> String {
    let check = luhn_check_digit(nine);
    let s: String = nine
        .iter()
        .chain(std::iter::once(&check))
        .filter_map(|d| char::from_digit(*d, 10))
        .collect();
    format!("{}-{}", &s[..6], &s[6..])
}

fn explain(e: ServiceError) -> anyhow::Error {
    match e {
        ServiceError::Validation(errors) => {
            anyhow::anyhow!(
                "demo data invalid: {}",
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        }
        other => anyhow::Error::new(other).context("loading the demo"),
    }
}

/// The company side of the demo, on the present clock: on one of anna's open building cases the
/// contact person gets an e-mail address, anna writes to the company (the mail goes to the mail
/// folder, or through SMTP), the company answers, and a follow link is made. Returns the lines
/// to print (the link among them).
pub async fn company_side(cases: &Cases, db: &Db, base_url: &str) -> anyhow::Result<Vec<String>> {
    use lots_store::entity::case_record;
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    let Some(anna) = app_user::Entity::find()
        .filter(app_user::Column::Username.eq("anna"))
        .one(db.reader())
        .await?
    else {
        return Ok(Vec::new());
    };
    let actor = Actor {
        user_id: anna.id,
        username: anna.username.clone(),
        role: Role::Officer,
        department_id: anna.department_id,
    };
    let Some(case) = case_record::Entity::find()
        .filter(case_record::Column::AssigneeId.eq(anna.id))
        .filter(case_record::Column::Status.eq("in_progress"))
        .filter(case_record::Column::ConfidentialStatute.is_null())
        .order_by_desc(case_record::Column::Id)
        .one(db.reader())
        .await?
    else {
        return Ok(Vec::new());
    };
    lots_cases::Record::new(cases.clone())
        .add_party(
            &actor,
            case.id,
            lots_cases::NewParty {
                kind: Some("person".into()),
                personal_number: Some("19811218-9876".into()),
                name: Some("Kim Kontaktsson".into()),
                roles: Some(vec!["contact".into()]),
                email: Some("kim.kontaktsson@example.se".into()),
                ..Default::default()
            },
        )
        .await?;
    lots_cases::Messages::new(cases.clone())
        .send_message(
            &actor,
            case.id,
            lots_cases::messages::NewMessage {
                text: Some("Hej! Vi behöver en skalenlig situationsplan för att kunna gå vidare. Kan ni skicka den?".into()),
            },
        )
        .await?;
    lots_cases::Messages::new(cases.clone())
        .receive_message(
            &case,
            "Kim Kontaktsson (e-legitimation)",
            lots_cases::messages::NewMessage {
                text: Some("Hej! Arkitekten ritar den nu; ni har den på fredag.".into()),
            },
        )
        .await?;
    let link = lots_cases::CompanySide::new(cases.clone())
        .create_follow_link(&actor, case.id)
        .await?;
    Ok(vec![
        format!(
            "The company side: {} has messages with the company (anna's Mina ärenden shows the unread answer first; the mail is in the mail folder).",
            case.reference
        ),
        format!(
            "  Follow it as the company would: {}{}",
            base_url.trim_end_matches('/'),
            link.path
        ),
    ])
}

/// The e-services of the demo: each shipped form published to its department, and two
/// applications sent through them as a company would, one with drawings whose supplement the
/// company answered online. Returns the lines to print.
pub async fn e_services(
    cases: &Cases,
    files: &Attachments,
    db: &Db,
) -> anyhow::Result<Vec<String>> {
    use lots_cases::e_services::EServiceInput;
    use lots_core::e_service::builtin;
    use sea_orm::{ColumnTrait, QueryFilter};
    let user = |name: &'static str| async move {
        let u = app_user::Entity::find()
            .filter(app_user::Column::Username.eq(name))
            .one(db.reader())
            .await?;
        anyhow::Ok(u.map(|u| Actor {
            user_id: u.id,
            username: u.username,
            role: u.role.parse().unwrap_or(Role::Officer),
            department_id: u.department_id,
        }))
    };
    let (Some(admin), Some(anna)) = (user("admin").await?, user("anna").await?) else {
        return Ok(Vec::new());
    };
    for b in builtin()? {
        let department = match b.area {
            Area::BuildingPermit => "SBF",
            Area::ServingLicence => "SOC",
            Area::FireSafety => "RTJ",
            _ => "MHF",
        };
        let input = EServiceInput {
            area: Some(b.area.as_str().into()),
            case_type: b.case_type,
            department: Some(department.into()),
            title: Some(b.title),
            title_en: Some(b.title_en),
            summary: Some(b.summary),
            summary_en: Some(b.summary_en),
            form: Some(b.form),
            active: Some(true),
            position: None,
        };
        lots_cases::EServices::new(cases.clone())
            .put_e_service(&admin, &b.slug, input)
            .await
            .map_err(explain)?;
    }
    let today = SystemClock.now().with_timezone(&TIME_ZONE).date_naive();
    let answers = |pairs: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    // A building permit with its drawings.
    let bygglov = lots_cases::EServices::new(cases.clone())
        .published_e_service("bygglov")
        .await
        .map_err(explain)?;
    let sent = answers(&[
        ("org_number", "556074-7569"),
        ("company_name", "Söderby Krog AB"),
        ("contact_name", "Kim Kontaktsson"),
        ("contact_email", "kim.kontaktsson@example.se"),
        ("contact_phone", "08-123 456 78"),
        ("property", "Haninge Söderby 1:23"),
        ("address", "Söderbyvägen 4, 136 91 Haninge"),
        ("measure", "extension"),
        ("floor_area", "42"),
        (
            "description",
            "Tillbyggnad av matsalen med en inglasad veranda mot söder.",
        ),
    ]);
    let kept = lots_cases::applications::check_fields(
        bygglov.form.fields(),
        &lots_cases::applications::Answers {
            values: sent,
            files: [("drawings".to_string(), 1), ("site_plan".to_string(), 1)].into(),
        },
        today,
    )
    .map_err(|e| anyhow::anyhow!("the demo's building application: {e:?}"))?;
    let mut documents = Vec::new();
    for (field, name) in [
        ("drawings", "fasadritning.pdf"),
        ("site_plan", "situationsplan.pdf"),
    ] {
        let mut upload = files.begin().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        upload
            .write(format!("%PDF-1.4\n% Lots demo: {name}\n").as_bytes())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let doc = files
            .check_company_document(
                NewAttachment {
                    name: Some(name.into()),
                    ..Default::default()
                },
                upload,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        documents.push(
            files
                .keep_file(field, doc)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        );
    }
    let building = files
        .submit_application(&bygglov, None, &kept, &documents)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // The officer asks for a supplement, and the company answers it online.
    cases
        .transition(
            &anna,
            building.case_id,
            TransitionInput {
                to: Some("in_progress".into()),
                ..Default::default()
            },
            None,
        )
        .await
        .map_err(explain)?;
    let request = lots_cases::Supplements::new(cases.clone())
        .request_supplement(
            &anna,
            building.case_id,
            NewSupplementRequest {
                message: Some("Komplettera med en sektionsritning genom verandan.".into()),
            },
            None,
        )
        .await
        .map_err(explain)?;
    files
        .answer_supplement(
            building.case_id,
            request.id,
            "Kim Kontaktsson (via följlänk)",
            Some("Sektionsritningen kommer från arkitekten; här är hennes mått: takhöjd 2,7 m."),
            Vec::new(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // A food business, sent without documents.
    let food = lots_cases::EServices::new(cases.clone())
        .published_e_service("livsmedelsanlaggning")
        .await
        .map_err(explain)?;
    let start = (today + Duration::days(21)).to_string();
    let sent = answers(&[
        ("org_number", "559012-3450"),
        ("company_name", "Ängsvikens Café AB"),
        ("contact_name", "Lina Lund"),
        ("contact_email", "lina@angsvikenscafe.example.se"),
        ("property", "Haninge Ängsviken 2:4"),
        ("address", "Ängsviksvägen 12, 137 38 Västerhaninge"),
        ("sign_name", "Ängsvikens Café"),
        ("food_business", "restaurant"),
        ("start_date", &start),
        (
            "description",
            "Café med egen bakning och servering av lättare luncher, 30 platser.",
        ),
    ]);
    let kept = lots_cases::applications::check_fields(
        food.form.fields(),
        &lots_cases::applications::Answers {
            values: sent,
            files: Default::default(),
        },
        today,
    )
    .map_err(|e| anyhow::anyhow!("the demo's food application: {e:?}"))?;
    let cafe = files
        .submit_application(&food, None, &kept, &[])
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(vec![
        "E-services: five published at /e-tjanster.".to_string(),
        format!(
            "  {} came in through the e-service with drawings; its supplement was answered online.",
            building.reference
        ),
        format!(
            "  {} came in through the e-service (a café).",
            cafe.reference
        ),
    ])
}

/// The demo's comparison with other municipalities: a synthetic sample in the shape of Kolada's
/// Insikt values (four years, every NKI KPI and service factor, all 290 municipalities, a few
/// flagged as too few answers), Haninge's building permits going from 64 to 71 as in the seed's
/// story, and the municipality's code and its peers (its SKR group, A2) as settings. Returns
/// the lines to print.
pub async fn kolada_sample(db: &Db) -> anyhow::Result<Vec<String>> {
    use lots_core::kolada::{FACTOR_KPIS, KoladaValue, NKI_KPIS};
    let now = SystemClock.now();
    let kpis: Vec<&str> = NKI_KPIS
        .iter()
        .map(|(k, _)| *k)
        .chain(FACTOR_KPIS)
        .collect();
    let this_year = now.with_timezone(&TIME_ZONE).year();
    let mut rng = StdRng::seed_from_u64(20261205);
    let mut values = Vec::new();
    for year in this_year - 4..this_year {
        for (k, kpi) in kpis.iter().enumerate() {
            for m in lots_core::municipality::all().iter().map(|m| m.code) {
                let base = 62.0 + (k % 7) as f64 * 2.0 + f64::from(year - this_year + 4) * 0.6;
                let own = match (m, *kpi) {
                    ("0136", "U07447") => Some(if year == this_year - 1 { 71.0 } else { 64.0 }),
                    _ => None,
                };
                let flagged = own.is_none() && rng.random_bool(0.06);
                let value = own.unwrap_or_else(|| (base + rng.random_range(-9.0..9.0)).round());
                values.push(KoladaValue {
                    kpi: (*kpi).to_string(),
                    municipality: m.to_string(),
                    period: year,
                    gender: "T".into(),
                    value: (!flagged).then_some(value),
                    status: flagged.then(|| "Missing".to_string()),
                    count: Some(1),
                });
            }
        }
    }
    let n = lots_metrics::kolada::import(db, &values, now).await?;
    lots_store::settings::put(
        db.writer(),
        lots_metrics::kolada::MUNICIPALITY_SETTING,
        "0136",
        now,
    )
    .await?;
    lots_store::settings::put(
        db.writer(),
        lots_metrics::kolada::PEER_GROUP_SETTING,
        "A2",
        now,
    )
    .await?;
    Ok(vec![format!(
        "Comparison: {n} Insikt values of all 290 municipalities ({}–{}, a synthetic sample in Kolada's shape); the dashboard sets Haninge (0136) against them and its SKR group (A2).",
        this_year - 4,
        this_year - 1
    )])
}

/// 08:00 in Stockholm, `days` days before today's date there. The showcase cases are placed by
/// Stockholm dates, as the statutory clock counts them, so that "due today" holds whatever the
/// hour in UTC (between 22:00 and 24:00 UTC it is already tomorrow in Stockholm).
fn stockholm_morning(now: DateTime<Utc>, days: i64) -> DateTime<Utc> {
    let day = now.with_timezone(&TIME_ZONE).date_naive() - Duration::days(days);
    day.and_hms_opt(8, 0, 0)
        .and_then(|t| TIME_ZONE.from_local_datetime(&t).earliest())
        .map_or(now, |t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lots_core::OrgNumber;

    #[test]
    fn demo_companies_have_valid_org_numbers() {
        let mut rng = StdRng::seed_from_u64(1);
        for i in 0..200 {
            let (org, name) = company(&mut rng, i);
            OrgNumber::parse(&org).unwrap_or_else(|e| panic!("{org} ({name}): {e}"));
        }
    }
}
