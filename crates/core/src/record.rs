//! The vocabulary of the full case record: parties and their roles, premises types, priority,
//! note visibility, attachment categories, and what a file's bytes say it is.

use serde::{Deserialize, Serialize};

/// What a party is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    /// Identified by organisationsnummer.
    Organisation,
    /// Identified by personnummer or samordningsnummer (personal data).
    Person,
}

crate::text_enum!(PartyKind, "party kind", { Organisation => "organisation", Person => "person" });

/// A party's role on a case (one party may hold several).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PartyRole {
    /// sökande
    Applicant,
    /// verksamhetsutövare
    Operator,
    /// fastighetsägare
    PropertyOwner,
    /// kontaktperson
    Contact,
    /// fakturamottagare
    InvoiceRecipient,
    /// ombud
    Agent,
    /// firmatecknare
    Signatory,
}

crate::text_enum!(PartyRole, "party role", {
    Applicant => "applicant",
    Operator => "operator",
    PropertyOwner => "property_owner",
    Contact => "contact",
    InvoiceRecipient => "invoice_recipient",
    Agent => "agent",
    Signatory => "signatory",
});

/// What kind of premises a case concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PremisesType {
    Restaurant,
    Cafe,
    Shop,
    FoodProduction,
    Industry,
    Office,
    Residential,
    School,
    Care,
    Hotel,
    Warehouse,
    Agriculture,
    Other,
}

crate::text_enum!(PremisesType, "premises type", {
    Restaurant => "restaurant",
    Cafe => "cafe",
    Shop => "shop",
    FoodProduction => "food_production",
    Industry => "industry",
    Office => "office",
    Residential => "residential",
    School => "school",
    Care => "care",
    Hotel => "hotel",
    Warehouse => "warehouse",
    Agriculture => "agriculture",
    Other => "other",
});

/// How urgent a case is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

crate::text_enum!(Priority, "priority", { Low => "low", Normal => "normal", High => "high", Urgent => "urgent" });

/// Who a note is for: the department only, or the company too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoteVisibility {
    Internal,
    Public,
}

crate::text_enum!(NoteVisibility, "visibility", { Internal => "internal", Public => "public" });

/// What a document on a case is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentCategory {
    Application,
    Drawing,
    Supplement,
    Consultation,
    Decision,
    Correspondence,
    Photo,
    Other,
}

crate::text_enum!(AttachmentCategory, "category", {
    Application => "application",
    Drawing => "drawing",
    Supplement => "supplement",
    Consultation => "consultation",
    Decision => "decision",
    Correspondence => "correspondence",
    Photo => "photo",
    Other => "other",
});

/// The content types an attachment may have, each with its file name extensions.
pub const ACCEPTED_TYPES: &[(&str, &[&str])] = &[
    ("application/pdf", &["pdf"]),
    ("image/png", &["png"]),
    ("image/jpeg", &["jpg", "jpeg"]),
    ("image/gif", &["gif"]),
    ("image/tiff", &["tif", "tiff"]),
    ("application/zip", &["zip"]),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &["docx"],
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &["xlsx"],
    ),
    ("application/vnd.oasis.opendocument.text", &["odt"]),
    ("image/vnd.dwg", &["dwg"]),
    ("text/plain", &["txt"]),
];

/// The content type the first bytes of a file show it to be, by magic number. Office and
/// OpenDocument files are zip archives: their bytes say `application/zip`.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"%PDF-") {
        Some("application/pdf")
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if starts(b"\xFF\xD8\xFF") {
        Some("image/jpeg")
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some("image/gif")
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        Some("image/tiff")
    } else if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        Some("application/zip")
    } else if starts(b"AC10") {
        Some("image/vnd.dwg")
    } else if !head.is_empty() && !head.contains(&0) && looks_like_utf8(head) {
        Some("text/plain")
    } else {
        None
    }
}

/// Valid UTF-8, allowing a multi-byte character cut off at the end of `head`.
fn looks_like_utf8(head: &[u8]) -> bool {
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

/// Whether bytes sniffed as `sniffed` may be stored under the declared type `declared`.
pub fn content_matches(declared: &str, sniffed: &str) -> bool {
    declared == sniffed
        || (sniffed == "application/zip"
            && matches!(
                declared,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                    | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                    | "application/vnd.oasis.opendocument.text"
            ))
}

/// The accepted content type a file name's extension names, if any.
pub fn type_of_extension(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    ACCEPTED_TYPES
        .iter()
        .find(|(_, exts)| exts.contains(&ext.as_str()))
        .map(|(t, _)| *t)
}

/// The declared content type in its plain form (`image/JPEG; x=y` → `image/jpeg`), with the
/// common aliases mapped to their registered names.
pub fn normalise_content_type(declared: &str) -> String {
    let essence = declared
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "image/jpg" | "image/pjpeg" => "image/jpeg".into(),
        "application/x-pdf" => "application/pdf".into(),
        "application/x-zip-compressed" => "application/zip".into(),
        "application/acad" | "image/x-dwg" => "image/vnd.dwg".into(),
        _ => essence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers_name_the_type() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0"), Some("image/png"));
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF"), Some("image/jpeg"));
        assert_eq!(sniff(b"GIF89a\x01\0"), Some("image/gif"));
        assert_eq!(sniff(b"PK\x03\x04\x14\0"), Some("application/zip"));
        assert_eq!(
            sniff("Ritning, fasad mot söder".as_bytes()),
            Some("text/plain")
        );
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0"), None);
        assert_eq!(sniff(b""), None);
        // a multi-byte character cut by the end of the sniffed head is still text
        assert_eq!(sniff(&"åäö".as_bytes()[..5]), Some("text/plain"));
    }

    #[test]
    fn office_files_are_zips_but_a_png_is_no_pdf() {
        let docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
        assert!(content_matches(docx, "application/zip"));
        assert!(!content_matches("application/pdf", "image/png"));
        assert_eq!(type_of_extension("Fasad.PDF"), Some("application/pdf"));
        assert_eq!(type_of_extension("ritning"), None);
        assert_eq!(normalise_content_type("image/JPG; q=1"), "image/jpeg");
    }

    #[test]
    fn enums_round_trip() {
        for r in PartyRole::ALL {
            assert_eq!(r.as_str().parse::<PartyRole>(), Ok(*r));
            assert_eq!(
                serde_json::to_value(r).unwrap(),
                serde_json::json!(r.as_str())
            );
        }
        for p in Priority::ALL {
            assert_eq!(
                serde_json::to_value(p).unwrap(),
                serde_json::json!(p.as_str())
            );
        }
        for t in PremisesType::ALL {
            assert_eq!(
                serde_json::to_value(t).unwrap(),
                serde_json::json!(t.as_str())
            );
        }
        for c in AttachmentCategory::ALL {
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                serde_json::json!(c.as_str())
            );
        }
    }
}
