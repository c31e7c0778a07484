//! sea-orm entities, one module per table. Relations are left out on purpose: services join
//! by explicit, batched lookups so that every query a request makes is visible where it is made.

pub mod app_user;
pub mod application_draft;
pub mod bundle;
pub mod bundle_case;
pub mod case_attachment;
pub mod case_decision;
pub mod case_event;
pub mod case_follow_link;
pub mod case_message;
pub mod case_note;
pub mod case_party;
pub mod case_premises;
pub mod case_record;
pub mod case_type;
pub mod company;
pub mod company_session;
pub mod deadline_notice;
pub mod department;
pub mod e_service;
pub mod handoff;
pub mod kolada_value;
pub mod mail_outbox;
pub mod outbox;
pub mod reference_series;
pub mod setting;
pub mod supplement_request;
pub mod survey_invitation;
pub mod survey_response;
pub mod web_session;
pub mod webhook_attempt;
pub mod webhook_delivery;
pub mod webhook_subscription;
