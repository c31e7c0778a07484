//! lots-core: the shared vocabulary of Lots. Identifiers, roles, the case lifecycle, who asks
//! (`Actor`) and the clock. No I/O lives here.

pub mod access;
pub mod actor;
pub mod area;
pub mod calendar;
pub mod case_event;
pub mod clock;
pub mod deadline;
pub mod e_service;
pub mod event;
pub mod kolada;
pub mod municipality;
pub mod nki;
pub mod org_number;
pub mod personal_number;
pub mod property;
pub mod record;
pub mod reference;
pub mod rfc3339;
pub mod secret;
pub mod status;
pub mod statute;

pub use actor::{Actor, Representative, Role};
pub use area::Area;
pub use case_event::CaseEvent;
pub use clock::{Clock, ManualClock, SystemClock};
pub use event::{EventKind, HandoffKind, HandoffStatus};
pub use org_number::{OrgNumber, OrgNumberError, OrgNumberKind};
pub use personal_number::{PersonalNumber, PersonalNumberError};
pub use property::{PropertyDesignation, PropertyDesignationError};
pub use record::{
    AttachmentCategory, NoteVisibility, PartyKind, PartyRole, PremisesType, Priority,
};
pub use reference::{Reference, ReferenceError};
pub use secret::Secret;
pub use status::{CaseStatus, Decision};
pub use statute::{StatuteError, StatuteReference};

/// The time zone every statutory date and every diary year is reckoned in.
pub const TIME_ZONE: chrono_tz::Tz = chrono_tz::Europe::Stockholm;

/// A value that could not be parsed from its text form; names what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`; expected one of: {expected}")]
pub struct UnknownVariant {
    pub kind: &'static str,
    pub value: String,
    pub expected: String,
}

/// Implements `as_str`, `FromStr`, `Display` and `ALL` for a fieldless enum whose text forms are
/// given once, so the database, the JSON and the error messages can never disagree.
#[macro_export]
macro_rules! text_enum {
    ($ty:ident, $kind:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::UnknownVariant;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($ty::$variant),)+
                    _ => Err($crate::UnknownVariant {
                        kind: $kind,
                        value: s.chars().take(64).collect(),
                        expected: [$($text),+].join(", "),
                    }),
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
