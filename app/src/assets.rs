//! The bundle's file names, and the `<head>` tags that load them.
//!
//! A release build made with `LEPTOS_HASH_FILES=true` names the JS, WASM and
//! CSS after their content (`leptos-sessions.<hash>.wasm`) and lists the
//! hashes in `hash.txt` beside the server binary. Such names never change
//! meaning, so the server lets browsers cache them for a year
//! (`immutable`), and a new release is fetched at once because its names
//! are new. Without hashes (development, tests) the plain names are used.
//!
//! The server reads the names once at start-up ([`AssetNames::load`]);
//! Leptos' own `HydrationScripts` would read `hash.txt` on every render.

/// Where the bundle's three files are served, under `/{pkg}/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetNames {
    /// The site's package directory (`pkg`).
    pub pkg: String,
    /// The JS glue, e.g. `leptos-sessions.js`.
    pub js: String,
    /// The WebAssembly module.
    pub wasm: String,
    /// The stylesheet.
    pub css: String,
    /// Whether the names carry content hashes (and may be cached forever).
    pub hashed: bool,
}

impl AssetNames {
    /// The plain names cargo-leptos writes without hashing.
    #[must_use]
    pub fn plain(output_name: &str, pkg: &str) -> Self {
        Self {
            pkg: pkg.to_owned(),
            js: format!("{output_name}.js"),
            wasm: format!("{output_name}.wasm"),
            css: format!("{output_name}.css"),
            hashed: false,
        }
    }

    /// The names for a `hash.txt` (`js: <hash>` lines, as cargo-leptos
    /// writes it), each kept only if `exists` says that file was built;
    /// otherwise the plain names (a stale `hash.txt` must not break pages).
    #[must_use]
    pub fn from_hashes(
        output_name: &str,
        pkg: &str,
        hashes: &str,
        exists: impl Fn(&str) -> bool,
    ) -> Self {
        let hash = |ext: &str| {
            hashes.lines().find_map(|line| {
                let (kind, hash) = line.split_once(':')?;
                (kind.trim() == ext).then(|| hash.trim().to_owned())
            })
        };
        let named = |ext: &str| {
            let hash = hash(ext).filter(|h| {
                !h.is_empty()
                    && h.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            })?;
            let name = format!("{output_name}.{hash}.{ext}");
            exists(&name).then_some(name)
        };
        match (named("js"), named("wasm"), named("css")) {
            (Some(js), Some(wasm), Some(css)) => Self {
                pkg: pkg.to_owned(),
                js,
                wasm,
                css,
                hashed: true,
            },
            _ => Self::plain(output_name, pkg),
        }
    }

    /// The URL path of `name` (one of the three).
    #[must_use]
    pub fn path(&self, name: &str) -> String {
        format!("/{}/{name}", self.pkg)
    }

    /// Whether `path` is one of the hashed files (or its precompressed
    /// variant, served under the same path).
    #[must_use]
    pub fn is_hashed_path(&self, path: &str) -> bool {
        self.hashed
            && path
                .strip_prefix('/')
                .and_then(|p| p.strip_prefix(self.pkg.as_str()))
                .and_then(|p| p.strip_prefix('/'))
                .is_some_and(|name| [&self.js, &self.wasm, &self.css].iter().any(|n| *n == name))
    }
}

/// Reading the names from disk: server-only (the browser never needs them).
#[cfg(feature = "ssr")]
impl AssetNames {
    /// The names for the site at `site_root`, given the `hash.txt` at
    /// `hash_file` if there is one.
    #[must_use]
    pub fn load(
        output_name: &str,
        site_root: &std::path::Path,
        pkg: &str,
        hash_file: &std::path::Path,
    ) -> Self {
        match std::fs::read_to_string(hash_file) {
            Ok(hashes) => Self::from_hashes(output_name, pkg, &hashes, |name| {
                site_root.join(pkg).join(name).is_file()
            }),
            Err(_) => Self::plain(output_name, pkg),
        }
    }
}

/// Leptos' hydration loader (from `leptos` 0.8, MIT): imports the JS glue,
/// instantiates the WASM, then hydrates.
const HYDRATION_SCRIPT: &str = r#"(function (root, pkg_path, output_name, wasm_output_name) {
	import(`${root}/${pkg_path}/${output_name}.js`)
		.then(mod => {
			mod.default({module_or_path: `${root}/${pkg_path}/${wasm_output_name}.wasm`}).then(() => {
				mod.hydrate();
			});
		});
})"#;

/// The stylesheet and the hydration loader, with preloads, for `<head>`.
/// The names are shared (`Arc`): every SSR render links them.
/// The inline script carries this response's CSP nonce (prerendered pages
/// are allowed by the hash of its text instead).
#[leptos::component]
pub fn BundleTags(names: std::sync::Arc<AssetNames>) -> impl leptos::IntoView {
    use leptos::prelude::*;
    let nonce = leptos::nonce::use_nonce();
    let stem = |name: &str, ext: &str| name.strip_suffix(ext).unwrap_or(name).to_owned();
    let loader = format!(
        "{HYDRATION_SCRIPT}(\"\", {:?}, {:?}, {:?});",
        names.pkg,
        stem(&names.js, ".js"),
        stem(&names.wasm, ".wasm"),
    );
    view! {
        <link rel="stylesheet" id="leptos" href=names.path(&names.css) />
        <link rel="modulepreload" href=names.path(&names.js) crossorigin="" />
        <link
            rel="preload"
            href=names.path(&names.wasm)
            r#as="fetch"
            r#type="application/wasm"
            crossorigin=""
        />
        <script type="module" nonce=nonce>
            {loader}
        </script>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASHES: &str = "js: AbC-1_x\nwasm: DeF2\ncss: GhI3\n";

    #[test]
    fn hashed_names_are_used_when_every_file_was_built() {
        let names = AssetNames::from_hashes("app", "pkg", HASHES, |_| true);
        assert!(names.hashed);
        assert_eq!(names.js, "app.AbC-1_x.js");
        assert_eq!(names.wasm, "app.DeF2.wasm");
        assert_eq!(names.css, "app.GhI3.css");
        assert!(names.is_hashed_path("/pkg/app.DeF2.wasm"));
        assert!(!names.is_hashed_path("/pkg/app.wasm"));
        assert!(!names.is_hashed_path("/other/app.DeF2.wasm"));
    }

    #[test]
    fn plain_names_when_hashes_are_missing_stale_or_odd() {
        let plain = AssetNames::plain("app", "pkg");
        assert_eq!(
            AssetNames::from_hashes("app", "pkg", HASHES, |n| !n.ends_with(".css")),
            plain,
            "a file of the hash list was not built"
        );
        assert_eq!(
            AssetNames::from_hashes("app", "pkg", "js: a\nwasm: b\n", |_| true),
            plain
        );
        assert_eq!(
            AssetNames::from_hashes("app", "pkg", "js: ../x\nwasm: b\ncss: c\n", |_| true),
            plain,
            "a hash is never a path"
        );
        assert!(
            !plain.is_hashed_path("/pkg/app.js"),
            "plain names revalidate"
        );
    }
}
