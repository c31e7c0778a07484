//! End-to-end tests: the real server on port 0, a fresh database per test. SQLite by default;
//! PostgreSQL when `TEST_DATABASE_URL` is set (each test in its own database).

#![allow(clippy::unwrap_used)]

mod access;
mod auth;
mod cases;
mod company_side;
mod deadlines;
mod demo;
mod e_services;
mod errors;
mod event_log;
mod handoffs;
mod helpers;
mod hooks;
mod identity;
mod import;
mod lifecycle;
mod mail;
mod metrics;
mod oidc;
mod ops;
mod oracle;
mod record;
mod rollups;
mod sign_in;
mod web;
