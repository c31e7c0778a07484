//! lots-cases: the case services. Departments and users, registration with a gap-free
//! diarienummer, the lifecycle, notes and the history.
//!
//! A service per aggregate, each a thin value the API holds: `Cases` (registration, the
//! lifecycle with its statutory clock, notes, the history, the lists and who may do what:
//! `access`), and over it `Supplements` (supplement requests, extensions, requests for a
//! decision), `Messages`, `Drafts`, `CompanySide` (what a company sees and the follow links),
//! `Record` (parties and premises), `Companies` (and bundles), `Attachments` and `EServices`.
//! They share the leaf modules `access`, `redact`, `view`, `stored` and `error`, and reach the
//! lifecycle through `Cases`' methods; the few that build on another say so where they do
//! (`CompanySide` shows `Messages`, `Attachments` answers through `CompanySide` and keeps
//! `Drafts`' documents).

pub mod access;
pub mod applications;
pub mod attachments;
pub mod case_types;
pub mod cases;
pub use cases::save;
pub mod companies;
pub mod company_mail;
pub mod company_side;
pub mod deadlines;
pub mod decisions;
pub mod directory;
pub mod drafts;
pub mod e_services;
pub use e_services::EServices;
pub mod error;
pub mod external;
pub mod import;
pub mod messages;
pub mod password;
pub mod record;
pub mod redact;
pub mod registrar;
pub mod representatives;
pub mod search;
pub mod sessions;
pub mod sign_in;
pub mod stored;
pub mod view;

pub use attachments::{AttachmentSettings, AttachmentView, Attachments, NewAttachment};
pub use case_types::{CaseTypePatch, CaseTypeView, CaseTypes, NewCaseType};
pub use cases::{CasePatch, Cases, NewCase, NewNote, TransitionInput};
pub use companies::{BundleCaseInput, BundleView, Companies, CompanyView, NewBundle};
pub use company_side::CompanySide;
pub use deadlines::{
    NewDecisionRequest, NewExtension, NewSupplementRequest, SupplementView, Supplements,
};
pub use decisions::{DecisionCorrection, DecisionRecord, DecisionView, LegalBasisView};
pub use directory::{
    DepartmentView, Directory, LoggedIn, NewDepartment, NewUser, PasswordChange, UserPatch,
    UserView,
};
pub use drafts::Drafts;
pub use error::{FieldError, ServiceError, ServiceResult};
pub use import::{CaseImportReport, ImportOptions, ImportSource};
pub use messages::Messages;
pub use record::{
    ConfidentialInput, Confidentiality, NewParty, NewPremises, PartyPatch, PartyView,
    PremisesPatch, PremisesView, Record,
};
pub use search::CaseFilter;
pub use sessions::{LiveSession, NewSession, SessionView, Sessions};
pub use view::{CaseView, EventView, ListOrder, NoteView, Page};
