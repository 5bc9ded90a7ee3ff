//! The black-box suite: one integration binary (one link instead of one per file) that starts
//! the real `tessera` binaries on each backend pair and drives them over HTTP and the admin CLI.
//! Shared fixtures live in the `tessera-tests` library (`tests/src`); each module is one area.

mod account_page;
mod admin_cli;
mod audit;
mod authorize_errors;
mod bearer;
mod bodies;
mod bounded_state;
mod client_credentials;
mod consent;
mod disabled_user;
mod hardening;
mod hostile_input;
mod login;
mod logout;
mod metadata;
mod outage;
mod passkeys_api;
mod passkeys_counter_policy;
mod passkeys_recent_auth;
mod passkeys_second_factor;
mod passkeys_step_up;
mod races;
mod resources;
mod revocation;
mod rp_flow;
mod sso_and_prompts;
mod token_errors;
mod two_processes;
