//! Who may see and do what: the one place the rules of access live. Every service, page,
//! export and webhook asks here; none re-derives a rule. The store gathers the facts (which
//! department owns a case, whether it is confidential, how the caller's department is tied to
//! it); this module decides, without I/O, so the whole matrix is tested as a table below and
//! written out in docs/access.md.
//!
//! The rules, in one sitting:
//! - A case is *read* by its owning department, by a department that sent or received a handoff
//!   about it (while open and afterwards), by the coordinator of a bundle that holds it, and by
//!   an admin. Anyone else gets 404, as if it did not exist.
//! - A case is *changed* only by its owning department (and an admin, whose access is
//!   technical); a reader who may not change it gets 403.
//! - *Confidential content* (sekretess under OSL: a confidential case's title, description,
//!   labels, parties, premises, notes, attachments, decision text, handoff messages and answers;
//!   a confidential note or attachment of any case) is seen only by the owning department's
//!   officers and managers: never another department, never an admin, never an outside receiver.
//! - *Personal data* (personnummer, people's names and contact details) is seen by the owning
//!   department and admins; other readers get it masked.
//! - Only the owning department's officers and managers mark or lift secrecy; officers take an
//!   unassigned case or give up their own, managers (and admins) assign anyone.

use crate::actor::{Actor, Role};

/// What the store knows of a case that matters to access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseFacts {
    /// The owning department.
    pub department_id: i64,
    /// Whether the whole case is confidential (a statute is set).
    pub confidential: bool,
}

/// How the caller is tied to a case other than by owning it, gathered by the store in one
/// query per relation (never derived at a call site).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ties {
    /// The caller's department sent or received a handoff (transfer, consultation, contact)
    /// about the case, in any state.
    pub handoff: bool,
    /// The caller coordinates a bundle that holds the case.
    pub coordinator: bool,
}

/// The strongest relation between a caller and a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relation {
    /// The caller's department owns the case.
    Owner,
    /// The caller is an admin (technical access to every case, never to its secrets).
    Admin,
    /// The caller's department sent or received a handoff about the case.
    Handoff,
    /// The caller coordinates a bundle that holds the case.
    Coordinator,
    /// No tie: the case does not exist for the caller.
    None,
}

impl Relation {
    /// The relation of `actor` to a case of `facts` with `ties`.
    pub fn of(actor: &Actor, facts: CaseFacts, ties: Ties) -> Self {
        if actor.role == Role::Admin {
            Relation::Admin
        } else if actor.department_id == Some(facts.department_id) {
            Relation::Owner
        } else if ties.handoff {
            Relation::Handoff
        } else if ties.coordinator {
            Relation::Coordinator
        } else {
            Relation::None
        }
    }
}

/// Everything a caller may do with, and see of, one case: asked once, used everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseAccess {
    pub relation: Relation,
    /// May open the case at all; when false, the case answers 404.
    pub read: bool,
    /// May change the case (status, fields, notes, record, handoffs it sends, attachments).
    pub change: bool,
    /// May assign the case to anyone in its department (an officer only takes or gives up).
    pub assign_anyone: bool,
    /// May mark or lift secrecy.
    pub mark_confidential: bool,
    /// What of the protected content the caller sees.
    pub sight: Sight,
    /// Whether the whole case is confidential.
    pub case_confidential: bool,
}

/// What the caller may see of a case's protected content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sight {
    /// Confidential content (the owning department's officers and managers).
    pub confidential: bool,
    /// Personal data: personnummer, people's names and contact details (the owning department
    /// and admins).
    pub personal: bool,
}

impl Sight {
    /// What any outside reader (webhooks, exports) gets: nothing protected.
    pub const NONE: Sight = Sight {
        confidential: false,
        personal: false,
    };
}

impl CaseAccess {
    /// Decides every question about `actor` and one case at once.
    pub fn decide(actor: &Actor, facts: CaseFacts, ties: Ties) -> Self {
        let relation = Relation::of(actor, facts, ties);
        let owner = relation == Relation::Owner;
        let admin = relation == Relation::Admin;
        let handles = matches!(actor.role, Role::Officer | Role::Manager);
        Self {
            relation,
            read: relation != Relation::None,
            change: owner || admin,
            assign_anyone: admin || (owner && actor.role == Role::Manager),
            mark_confidential: owner && handles,
            sight: Sight {
                confidential: owner && handles,
                personal: owner || admin,
            },
            case_confidential: facts.confidential,
        }
    }

    /// Whether the caller (`caller`, a user id) may move the case from assignee `from` to `to`:
    /// whoever may assign anyone; an officer of the department may take an unassigned case or
    /// give up their own.
    pub fn may_assign(&self, caller: i64, from: Option<i64>, to: Option<i64>) -> bool {
        let me = Some(caller);
        self.assign_anyone
            || (self.change && ((from.is_none() && to == me) || (from == me && to.is_none())))
    }

    /// Whether the case's own content (title, description, labels, parties, premises, notes,
    /// decision text, handoff texts) is hidden from the caller.
    pub fn hides_content(&self) -> bool {
        self.case_confidential && !self.sight.confidential
    }

    /// Whether a confidential part (note, attachment) of the case is hidden from the caller.
    pub fn hides_part(&self, part_confidential: bool) -> bool {
        (part_confidential || self.case_confidential) && !self.sight.confidential
    }
}

/// How a company representative is tied to a case, gathered by the store from the case's
/// parties (never derived at a call site).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompanyTies {
    /// Their personnummer is on the case as applicant, signatory, agent or contact.
    pub party: bool,
    /// They sign for the case's company (signatory on one of its cases): they follow every
    /// case of that company.
    pub signatory_for_company: bool,
}

/// What the company side (a signed-in representative, or whoever holds a case's follow link)
/// sees of a case: its status, dates and what is expected of the company always; its content
/// (title, description, public notes, the decision's text and legal basis, the documents it
/// sent) only when the case is not confidential; never an internal or confidential note, a
/// confidential attachment, other parties' personal data, a handoff, or who handles it inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompanyAccess {
    /// May open the case at all; when false, it does not exist for them (404).
    pub read: bool,
    /// Sees the case's content.
    pub content: bool,
}

impl CompanyAccess {
    /// For a representative with `ties` to a case of `facts`.
    pub fn representative(facts: CaseFacts, ties: CompanyTies) -> Self {
        Self::holder(facts, ties.party || ties.signatory_for_company)
    }

    /// For whoever holds a live follow link of the case (`live`), or a representative.
    pub fn holder(facts: CaseFacts, live: bool) -> Self {
        Self {
            read: live,
            content: live && !facts.confidential,
        }
    }

    /// Whether a note is shown: public, not confidential, and the content is.
    pub fn sees_note(&self, public: bool, confidential: bool) -> bool {
        self.content && public && !confidential
    }

    /// Whether an attachment is listed: the content is shown, it is not confidential, and it is
    /// one the company sent (an application document, drawing, supplement, photo).
    pub fn sees_attachment(&self, confidential: bool, sent_by_company: bool) -> bool {
        self.content && !confidential && sent_by_company
    }
}

/// Which cases a list, a search or an export may return, and whose content it may match.
/// Lists are narrower than reads: a department lists its own cases (a handoff's case is found
/// through the handoff inbox, a bundle's through the bundle).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListScope {
    /// `None`: every department; `Some(d)`: only cases owned by `d` (`-1` matches nothing).
    pub department: Option<i64>,
    /// The department whose confidential cases' content (title, labels, description) the
    /// caller may match with free text and labels; `None`: no confidential case's content.
    pub confidential_of: Option<i64>,
}

impl ListScope {
    pub fn of(actor: &Actor) -> Self {
        let handles = matches!(actor.role, Role::Officer | Role::Manager);
        Self {
            department: match actor.role {
                Role::Admin => None,
                // A non-admin without a department lists nothing; -1 matches no row.
                _ => Some(actor.department_id.unwrap_or(-1)),
            },
            confidential_of: actor.department_id.filter(|_| handles),
        }
    }
}

/// What a caller may do with a handoff, given its two departments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandoffAccess {
    /// May see the handoff (either department, or an admin); otherwise 404.
    pub read: bool,
    /// May accept, complete or decline it (the receiving department, or an admin).
    pub receive: bool,
    /// May cancel it (the requesting department, or an admin).
    pub request: bool,
}

impl HandoffAccess {
    pub fn decide(actor: &Actor, from_department: i64, to_department: i64) -> Self {
        let admin = actor.role == Role::Admin;
        let from = actor.department_id == Some(from_department);
        let to = actor.department_id == Some(to_department);
        Self {
            read: admin || from || to,
            receive: admin || to,
            request: admin || from,
        }
    }
}

/// Who may see a bundle (samordnat ärende): an admin, its coordinator, whoever created it, and a
/// department that owns a case of the bundle's company (it may add its case to the bundle).
/// Anyone else gets 404: a bundle's title says what a company is planning.
pub fn may_read_bundle(
    actor: &Actor,
    coordinator_id: i64,
    created_by: i64,
    deals_with_company: bool,
) -> bool {
    actor.role == Role::Admin
        || actor.user_id == coordinator_id
        || actor.user_id == created_by
        || deals_with_company
}

/// What a caller may do beyond single cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// Manage departments, users, case types and webhooks; import histories and survey answers;
    /// read pending survey invitations.
    Administer,
    /// Read metrics and exports (the caller's department; admins every department).
    ReadMetrics,
}

/// Whether `actor` holds `capability`.
pub fn may(actor: &Actor, capability: Capability) -> bool {
    match capability {
        Capability::Administer => actor.role == Role::Admin,
        Capability::ReadMetrics => matches!(actor.role, Role::Manager | Role::Admin),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: i64 = 1;
    const OTHER: i64 = 2;

    fn actor(role: Role, department_id: Option<i64>) -> Actor {
        Actor {
            user_id: 10,
            username: "u".into(),
            role,
            department_id,
        }
    }

    fn ties(relation: &str) -> Ties {
        match relation {
            "handoff" => Ties {
                handoff: true,
                coordinator: false,
            },
            "coordinator" => Ties {
                handoff: false,
                coordinator: true,
            },
            _ => Ties::default(),
        }
    }

    /// The rules as a table, written from docs/access.md and not from the code: role, the
    /// caller's department, the tie, whether the case is confidential, then read, change,
    /// assign anyone, mark confidential, sees confidential content, sees personal data,
    /// content hidden.
    #[rustfmt::skip]
    const MATRIX: &[(Role, i64, &str, bool, [bool; 7])] = &[
        // role           dep    tie            conf     read  chg   asgn  mark  conf  pers  hide
        (Role::Officer, OWN,   "none",        false, [true, true, false, true, true, true, false]),
        (Role::Officer, OWN,   "none",        true,  [true, true, false, true, true, true, false]),
        (Role::Manager, OWN,   "none",        false, [true, true, true,  true, true, true, false]),
        (Role::Manager, OWN,   "none",        true,  [true, true, true,  true, true, true, false]),
        (Role::Officer, OTHER, "handoff",     false, [true, false, false, false, false, false, false]),
        (Role::Officer, OTHER, "handoff",     true,  [true, false, false, false, false, false, true]),
        (Role::Manager, OTHER, "handoff",     true,  [true, false, false, false, false, false, true]),
        (Role::Officer, OTHER, "coordinator", false, [true, false, false, false, false, false, false]),
        (Role::Officer, OTHER, "coordinator", true,  [true, false, false, false, false, false, true]),
        (Role::Officer, OTHER, "none",        false, [false, false, false, false, false, false, false]),
        (Role::Officer, OTHER, "none",        true,  [false, false, false, false, false, false, true]),
        (Role::Manager, OTHER, "none",        false, [false, false, false, false, false, false, false]),
        (Role::Admin,   0,     "none",        false, [true, true, true,  false, false, true, false]),
        (Role::Admin,   0,     "none",        true,  [true, true, true,  false, false, true, true]),
        // Owning beats any other tie.
        (Role::Officer, OWN,   "handoff",     true,  [true, true, false, true, true, true, false]),
    ];

    #[test]
    fn the_case_matrix_holds() {
        for (role, dep, tie, confidential, want) in MATRIX {
            let a = actor(*role, (*dep != 0).then_some(*dep));
            let facts = CaseFacts {
                department_id: OWN,
                confidential: *confidential,
            };
            let got = CaseAccess::decide(&a, facts, ties(tie));
            let got = [
                got.read,
                got.change,
                got.assign_anyone,
                got.mark_confidential,
                got.sight.confidential,
                got.sight.personal,
                got.hides_content(),
            ];
            assert_eq!(
                &got, want,
                "{role:?} of {dep} tied by {tie}, confidential {confidential}"
            );
        }
    }

    #[test]
    fn officers_may_take_or_leave_but_not_give_cases() {
        let facts = CaseFacts {
            department_id: OWN,
            confidential: false,
        };
        let officer = CaseAccess::decide(&actor(Role::Officer, Some(OWN)), facts, Ties::default());
        assert!(officer.may_assign(10, None, Some(10)));
        assert!(officer.may_assign(10, Some(10), None));
        assert!(!officer.may_assign(10, None, Some(8)));
        assert!(!officer.may_assign(10, Some(8), Some(10)));
        let manager = CaseAccess::decide(&actor(Role::Manager, Some(OWN)), facts, Ties::default());
        assert!(manager.may_assign(10, Some(8), Some(9)));
        let consulted =
            CaseAccess::decide(&actor(Role::Officer, Some(OTHER)), facts, ties("handoff"));
        assert!(!consulted.may_assign(10, None, Some(10)));
    }

    #[test]
    fn a_confidential_part_is_hidden_from_all_but_the_owner() {
        let facts = CaseFacts {
            department_id: OWN,
            confidential: false,
        };
        let owner = CaseAccess::decide(&actor(Role::Officer, Some(OWN)), facts, Ties::default());
        let admin = CaseAccess::decide(&actor(Role::Admin, None), facts, Ties::default());
        let consulted =
            CaseAccess::decide(&actor(Role::Officer, Some(OTHER)), facts, ties("handoff"));
        assert!(!owner.hides_part(true));
        assert!(admin.hides_part(true) && !admin.hides_part(false));
        assert!(consulted.hides_part(true) && !consulted.hides_part(false));
    }

    #[test]
    fn lists_are_scoped_to_the_department_and_search_only_visible_content() {
        let o = ListScope::of(&actor(Role::Officer, Some(OWN)));
        assert_eq!(o.department, Some(OWN));
        assert_eq!(o.confidential_of, Some(OWN));
        let a = ListScope::of(&actor(Role::Admin, None));
        assert_eq!(a.department, None);
        assert_eq!(a.confidential_of, None);
        let stray = ListScope::of(&actor(Role::Officer, None));
        assert_eq!(stray.department, Some(-1));
    }

    #[test]
    fn handoffs_are_acted_on_from_their_own_side() {
        let to = HandoffAccess::decide(&actor(Role::Officer, Some(OTHER)), OWN, OTHER);
        assert!(to.read && to.receive && !to.request);
        let from = HandoffAccess::decide(&actor(Role::Officer, Some(OWN)), OWN, OTHER);
        assert!(from.read && !from.receive && from.request);
        let third = HandoffAccess::decide(&actor(Role::Manager, Some(3)), OWN, OTHER);
        assert!(!third.read && !third.receive && !third.request);
        let admin = HandoffAccess::decide(&actor(Role::Admin, None), OWN, OTHER);
        assert!(admin.read && admin.receive && admin.request);
    }

    #[test]
    fn bundles_are_seen_by_those_tied_to_them() {
        let o = actor(Role::Officer, Some(OTHER));
        assert!(!may_read_bundle(&o, 1, 2, false));
        assert!(may_read_bundle(&o, 10, 2, false));
        assert!(may_read_bundle(&o, 1, 10, false));
        assert!(may_read_bundle(&o, 1, 2, true));
        assert!(may_read_bundle(&actor(Role::Admin, None), 1, 2, false));
    }

    #[test]
    fn capabilities_follow_the_role() {
        let officer = actor(Role::Officer, Some(OWN));
        let manager = actor(Role::Manager, Some(OWN));
        let admin = actor(Role::Admin, None);
        assert!(!may(&officer, Capability::Administer) && !may(&officer, Capability::ReadMetrics));
        assert!(may(&manager, Capability::ReadMetrics) && !may(&manager, Capability::Administer));
        assert!(may(&admin, Capability::Administer) && may(&admin, Capability::ReadMetrics));
    }

    #[test]
    fn the_company_side_sees_its_cases_but_never_a_secret() {
        let open = CaseFacts {
            department_id: 1,
            confidential: false,
        };
        let secret = CaseFacts {
            department_id: 1,
            confidential: true,
        };
        let party = CompanyTies {
            party: true,
            signatory_for_company: false,
        };
        let signs = CompanyTies {
            party: false,
            signatory_for_company: true,
        };
        // (facts, ties, read, content)
        let table = [
            (open, party, true, true),
            (open, signs, true, true),
            (open, CompanyTies::default(), false, false),
            (secret, party, true, false),
            (secret, CompanyTies::default(), false, false),
        ];
        for (facts, ties, read, content) in table {
            let a = CompanyAccess::representative(facts, ties);
            assert_eq!((a.read, a.content), (read, content), "{facts:?} {ties:?}");
        }
        let a = CompanyAccess::holder(open, true);
        assert!(a.sees_note(true, false));
        assert!(!a.sees_note(false, false), "an internal note");
        assert!(!a.sees_note(true, true), "a confidential note");
        assert!(a.sees_attachment(false, true));
        assert!(!a.sees_attachment(true, true));
        assert!(
            !a.sees_attachment(false, false),
            "the municipality's own documents"
        );
        let s = CompanyAccess::holder(secret, true);
        assert!(!s.sees_note(true, false) && !s.sees_attachment(false, true));
        assert!(!CompanyAccess::holder(open, false).read);
    }
}
