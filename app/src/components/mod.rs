//! Reusable components. The islands among them (the only code the browser
//! runs) are `nav::SiteNav`, `idle_prompt::IdlePrompt`,
//! `session_panel::SessionPanel`, `in_place_form::InPlaceForm`,
//! `session_facts::SessionFacts` and the lazy passkey buttons in `passkey`.

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
