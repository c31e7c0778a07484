//! lots-cases: the case service. Departments and users, registration with a gap-free
//! diarienummer, the lifecycle, notes and the history.

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
pub use deadlines::{NewDecisionRequest, NewExtension, NewSupplementRequest, SupplementView};
pub use decisions::{DecisionCorrection, DecisionRecord, DecisionView, LegalBasisView};
pub use directory::{
    DepartmentView, Directory, LoggedIn, NewDepartment, NewUser, PasswordChange, UserPatch,
    UserView,
};
pub use error::{FieldError, ServiceError, ServiceResult};
pub use import::{CaseImportReport, ImportOptions};
pub use record::{
    ConfidentialInput, Confidentiality, NewParty, NewPremises, PartyPatch, PartyView,
    PremisesPatch, PremisesView, Record,
};
pub use search::CaseFilter;
pub use sessions::{LiveSession, NewSession, SessionView, Sessions};
pub use view::{CaseView, EventView, ListOrder, NoteView, Page};
