//! Reusable components. The islands among them (the only code the browser
//! runs) are `nav::SiteNav`, `idle_prompt::IdlePrompt` and
//! `session_panel::SessionPanel`, in the main module with the home page's
//! two small ones, and the lazy ones, each a chunk that only its pages
//! load: `in_place_form::InPlace` (inside `InPlaceForm`),
//! `session_facts::LiveFacts` (inside `SessionFacts`) and the passkey
//! buttons in `passkey`.

pub mod idle_prompt;
pub mod in_place_form;
pub mod mail_forms;
pub mod nav;
pub mod other_sessions;
pub mod passkey;
pub mod password_field;
pub mod protected;
pub mod provider_links;
pub mod session_facts;
pub mod session_panel;
pub mod when;
