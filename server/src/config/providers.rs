//! "Sign in with …" providers: `OIDC_PROVIDERS` names them (`google,work`),
//! and each has its own variables, `OIDC_<ID>_*` with the id in capitals
//! and `-` as `_`. Names that depend on a value do not fit [`super::Env`]'s
//! one field per variable, so they are read here, once, beside it.
//!
//! | variable | |
//! |---|---|
//! | `OIDC_<ID>_ISSUER` | the issuer URL (discovery is under it); required |
//! | `OIDC_<ID>_CLIENT_ID` | required |
//! | `OIDC_<ID>_CLIENT_SECRET` | a secret; unset for a public client |
//! | `OIDC_<ID>_NAME` | the button's "Sign in with …"; default the id |
//! | `OIDC_<ID>_SCOPES` | besides `openid`; default `email profile` |
//! | `OIDC_<ID>_TRUST_EMAIL` | take its verified addresses as verified; default `false` |

use engine::oidc::ProviderConfig;

use super::{invalid, ConfigError, Vars};

/// The providers `vars` configure, each checked; none when
/// `OIDC_PROVIDERS` is unset.
///
/// # Errors
/// The first variable that is missing or breaks a rule, named; a secret's
/// value is never shown.
pub fn providers(vars: &Vars, production: bool) -> Result<Vec<ProviderConfig>, ConfigError> {
    let get = |name: &str| vars.get(name).filter(|v| !v.trim().is_empty()).cloned();
    let Some(list) = get("OIDC_PROVIDERS") else {
        return Ok(Vec::new());
    };
    let mut configs = Vec::new();
    for id in list.split(',').map(str::trim).filter(|id| !id.is_empty()) {
        let prefix = format!("OIDC_{}_", id.to_ascii_uppercase().replace('-', "_"));
        let var = |suffix: &str| format!("{prefix}{suffix}");
        let required = |suffix: &str| {
            get(&var(suffix)).ok_or_else(|| {
                invalid(
                    &var(suffix),
                    "",
                    format!("required for provider {id:?} in OIDC_PROVIDERS"),
                )
            })
        };
        let trust = match get(&var("TRUST_EMAIL")).as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(invalid(
                    &var("TRUST_EMAIL"),
                    other,
                    "expected true or false",
                ))
            }
        };
        let config = ProviderConfig {
            id: id.to_owned(),
            name: get(&var("NAME")).unwrap_or_else(|| id.to_owned()),
            issuer: required("ISSUER")?,
            client_id: required("CLIENT_ID")?,
            client_secret: get(&var("CLIENT_SECRET")),
            scopes: get(&var("SCOPES"))
                .unwrap_or_else(|| "email profile".to_owned())
                .split([' ', ','])
                .filter(|s| !s.is_empty() && *s != "openid")
                .map(str::to_owned)
                .collect(),
            trust_email: trust,
        };
        if let Err(err) = config.validate(production) {
            let reason = err.to_string();
            return Err(invalid("OIDC_PROVIDERS", id, reason));
        }
        configs.push(config);
    }
    if configs
        .iter()
        .enumerate()
        .any(|(i, c)| configs[..i].iter().any(|o| o.id == c.id))
    {
        return Err(invalid("OIDC_PROVIDERS", list, "each provider once"));
    }
    Ok(configs)
}
