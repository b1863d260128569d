//! The bundle's file names, and the `<head>` tags that load them.
//!
//! A release build made with `LEPTOS_HASH_FILES=true` names the JS, WASM and
//! CSS after their content (`leptos-sessions.<hash>.wasm`) and lists the
//! hashes in `hash.txt` beside the server binary. Such names never change
//! meaning, so the server lets browsers cache them for a year
//! (`immutable`), and a new release is fetched at once because its names
//! are new. Without hashes (development, tests) the plain names are used.
//!
//! The build is split (`cargo leptos build --split`): each lazy island (the
//! passkey buttons) and lazy function is a WebAssembly chunk of its own,
//! loaded by the `__wasm_split` module that the JS glue imports when it is
//! first needed. The split manifest maps each lazy function to the chunks
//! it needs; the server reads it to know every chunk's name, so that
//! hashed chunks are cached like the rest.
//!
//! The server reads the names once at start-up ([`AssetNames::load`]);
//! Leptos' own `HydrationScripts` would read `hash.txt` on every render.

use std::collections::{HashMap, HashSet};

mod preload;

#[cfg(feature = "ssr")]
use preload::Preloaded;
pub use preload::{preload_island, Preloads};

/// The split loader's name before hashing (cargo-leptos' placeholder).
#[cfg(feature = "ssr")]
const SPLIT_LOADER: &str = "__wasm_split.______________________.js";
/// The split manifest's name before hashing.
#[cfg(feature = "ssr")]
const SPLIT_MANIFEST: &str = "__wasm_split_manifest.json";

/// Where the bundle's files are served, under `/{pkg}/`.
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
    /// The split build's lazy chunks (empty for an unsplit build).
    pub split: Split,
    /// What `<head>` links, made on the first render and shared by every
    /// one after it.
    head: std::sync::OnceLock<HeadLinks>,
    /// Each lazy island's chunks, gathered on the first render that
    /// preloads one.
    islands: std::sync::OnceLock<IslandChunks>,
}

/// The lazy islands' chunks: every chunk's path and its preload tag, and
/// the chunks each island needs (indices into both).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct IslandChunks {
    paths: Vec<String>,
    tags: Vec<String>,
    islands: HashMap<String, Vec<usize>>,
}

/// The paths and the loader script every page's `<head>` carries.
#[derive(Clone, Debug, PartialEq, Eq)]
struct HeadLinks {
    css: std::sync::Arc<str>,
    wasm: std::sync::Arc<str>,
    loader: std::sync::Arc<str>,
}

/// A split build's chunks: the loader module the JS glue imports, and the
/// chunk files each lazy function needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Split {
    /// Lazy function id → its chunk files (`split_….wasm`, `chunk_….wasm`).
    pub chunks: HashMap<String, Vec<String>>,
    /// The loader (`__wasm_split.<hash>.js`) and every chunk, once each:
    /// what every request for a bundle file is looked up in.
    files: HashSet<String>,
}

impl Split {
    /// The chunks of a manifest as cargo-leptos writes it
    /// (`{"<lazy fn id>": ["<file stem>", …]}`); `None` if it is not one.
    /// A stem is a plain file name, never a path.
    #[must_use]
    pub fn from_manifest(loader: String, manifest: &str) -> Option<Self> {
        let stems: HashMap<String, Vec<String>> = serde_json::from_str(manifest).ok()?;
        if !stems.values().flatten().all(|stem| is_plain(stem, &['.'])) {
            return None;
        }
        let chunks: HashMap<String, Vec<String>> = stems
            .into_iter()
            .map(|(id, stems)| (id, stems.into_iter().map(|s| s + ".wasm").collect()))
            .collect();
        let files = chunks
            .values()
            .flatten()
            .cloned()
            .chain(std::iter::once(loader))
            .collect();
        Some(Self { chunks, files })
    }
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
            split: Split::default(),
            head: std::sync::OnceLock::new(),
            islands: std::sync::OnceLock::new(),
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
        match (
            hashed_name(hashes, "js", output_name, "js"),
            hashed_name(hashes, "wasm", output_name, "wasm"),
            hashed_name(hashes, "css", output_name, "css"),
        ) {
            (Some(js), Some(wasm), Some(css)) if exists(&js) && exists(&wasm) && exists(&css) => {
                Self {
                    pkg: pkg.to_owned(),
                    js,
                    wasm,
                    css,
                    hashed: true,
                    split: Split::default(),
                    head: std::sync::OnceLock::new(),
                    islands: std::sync::OnceLock::new(),
                }
            }
            _ => Self::plain(output_name, pkg),
        }
    }

    /// The head's links, formatted once.
    fn head(&self) -> &HeadLinks {
        self.head.get_or_init(|| HeadLinks {
            css: self.path(&self.css).into(),
            wasm: self.path(&self.wasm).into(),
            loader: format!(
                "{LOADER}({:?}, {:?});",
                self.path(&self.js),
                self.path(&self.wasm)
            )
            .into(),
        })
    }

    /// The paths of the chunks the lazy island `island` needs (its name in
    /// snake case, as the split manifest's `<island>_loader_<hash>` key has
    /// it), sorted, each once; `None` for an island the build does not
    /// know.
    #[must_use]
    pub fn island_chunks(&self, island: &str) -> Option<Vec<&str>> {
        let chunks = self.island_chunk_list();
        let indices = chunks.islands.get(island)?;
        Some(indices.iter().map(|&i| chunks.paths[i].as_str()).collect())
    }

    /// Every lazy island's chunks, gathered once.
    fn island_chunk_list(&self) -> &IslandChunks {
        self.islands.get_or_init(|| {
            let mut by_island: HashMap<&str, Vec<String>> = HashMap::new();
            for (id, files) in &self.split.chunks {
                if let Some((island, _)) = id.rsplit_once("_loader_") {
                    let paths = by_island.entry(island).or_default();
                    paths.extend(files.iter().map(|file| self.path(file)));
                }
            }
            let mut paths: Vec<String> = by_island.values().flatten().cloned().collect();
            paths.sort_unstable();
            paths.dedup();
            let islands = by_island
                .iter()
                .map(|(island, chunks)| {
                    let mut chunks: Vec<usize> = chunks
                        .iter()
                        .filter_map(|path| paths.binary_search(path).ok())
                        .collect();
                    chunks.sort_unstable();
                    chunks.dedup();
                    ((*island).to_owned(), chunks)
                })
                .collect();
            // The attributes the split loader's `fetch` matches: a CORS
            // request with the page's credentials, for WebAssembly.
            let tags = paths
                .iter()
                .map(|path| {
                    format!(
                        r#"<link rel="preload" href="{path}" as="fetch" type="application/wasm" crossorigin="anonymous">"#
                    )
                })
                .collect();
            IslandChunks {
                paths,
                tags,
                islands,
            }
        })
    }

    /// The URL path of `name` (one of the bundle's files).
    #[must_use]
    pub fn path(&self, name: &str) -> String {
        format!("/{}/{name}", self.pkg)
    }

    /// Whether `path` is one of the hashed files (or its precompressed
    /// variant, served under the same path): the three, the split loader
    /// and every chunk.
    #[must_use]
    pub fn is_hashed_path(&self, path: &str) -> bool {
        self.hashed
            && path
                .strip_prefix('/')
                .and_then(|p| p.strip_prefix(self.pkg.as_str()))
                .and_then(|p| p.strip_prefix('/'))
                .is_some_and(|name| {
                    [&self.js, &self.wasm, &self.css].iter().any(|n| *n == name)
                        || self.split.files.contains(name)
                })
    }
}

/// `{stem}.{hash}.{ext}` for the `kind: <hash>` line of `hashes`, if it
/// has one that is a plain hash (never a path).
fn hashed_name(hashes: &str, kind: &str, stem: &str, ext: &str) -> Option<String> {
    let hash = hashes.lines().find_map(|line| {
        let (k, hash) = line.split_once(':')?;
        (k.trim() == kind).then(|| hash.trim())
    })?;
    is_plain(hash, &[]).then(|| format!("{stem}.{hash}.{ext}"))
}

/// Whether `name` is a plain file name part: letters, digits, `-`, `_` and
/// the characters in `also`, not empty and not starting with `.`: what
/// build files may be named, never a path.
fn is_plain(name: &str, also: &[char]) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_') || also.contains(&c))
}

/// Reading the names from disk: server-only (the browser never needs them).
#[cfg(feature = "ssr")]
impl AssetNames {
    /// The names for the site at `site_root`, given the `hash.txt` at
    /// `hash_file` if there is one, with the split manifest if the build
    /// was split.
    #[must_use]
    pub fn load(
        output_name: &str,
        site_root: &std::path::Path,
        pkg: &str,
        hash_file: &std::path::Path,
    ) -> Self {
        let dir = site_root.join(pkg);
        let hashes = std::fs::read_to_string(hash_file).ok();
        let mut names = match &hashes {
            Some(hashes) => {
                Self::from_hashes(output_name, pkg, hashes, |name| dir.join(name).is_file())
            }
            None => Self::plain(output_name, pkg),
        };
        let (loader, manifest) = match hashes.as_deref().filter(|_| names.hashed) {
            Some(hashes) => (
                hashed_name(hashes, "split", "__wasm_split", "js"),
                hashed_name(hashes, "manifest", "__wasm_split_manifest", "json"),
            ),
            None => (
                Some(SPLIT_LOADER.to_owned()),
                Some(SPLIT_MANIFEST.to_owned()),
            ),
        };
        let (Some(loader), Some(manifest)) = (loader, manifest) else {
            return names;
        };
        if !dir.join(&loader).is_file() {
            return names;
        }
        match std::fs::read_to_string(dir.join(&manifest))
            .ok()
            .and_then(|text| Split::from_manifest(loader, &text))
        {
            Some(split) => names.split = split,
            None => {
                tracing::warn!(%manifest, "the split manifest is missing or unreadable: lazy islands load without preloads")
            }
        }
        names
    }
}

/// Makes the bundle's names available to the render (for the preloads).
#[cfg(feature = "ssr")]
pub fn provide(names: std::sync::Arc<AssetNames>) {
    leptos::prelude::provide_context(Preloaded::new(names));
}

/// The shell only renders on the server: nothing to provide in the browser.
#[cfg(not(feature = "ssr"))]
pub fn provide(_names: std::sync::Arc<AssetNames>) {}

/// The bundle loader, a classic inline script so that it runs as soon as
/// the parser reaches it. It adds the JS glue as a module `<script>`: a
/// script that a trusted script inserts is trusted under `'strict-dynamic'`
/// (and so are the split loader and the chunks the glue loads), with no
/// nonce needed, which a prerendered page cannot have. (An `import()` from
/// this script would be refused there: it is parser-inserted and allowed by
/// its hash, and such a script passes no trust on.) Once the module has
/// run, `import()` finds it in the page's module map, without a second
/// fetch, and the loader instantiates the WebAssembly once the document is
/// parsed.
///
/// It hydrates the page's islands, in document order: each
/// `<leptos-island data-component="…">` is handed to the function the
/// WebAssembly exports under that name (after Leptos' own `island_script`,
/// which `HydrationScripts` would inline without our CSP's trust). A lazy
/// island's function loads its chunk first; the document is marked
/// `data-hydrated` once every island, lazy ones included, has hydrated.
const LOADER: &str = r#"(function (js, wasm) {
	var parsed = new Promise(function (done) {
		if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", done, { once: true });
		else done();
	});
	function walk(node, mod, children, pending) {
		var tag = node.tagName.toLowerCase();
		if (tag === "leptos-island") {
			var island = mod[node.dataset.component];
			if (island) {
				var enter = children[children.length - 1];
				if (enter) enter();
				pending.push(island(node));
			} else {
				console.warn("no WebAssembly function for the island " + node.dataset.component);
			}
		}
		if (tag === "leptos-children") children.push(node.$$on_hydrate);
		for (var child of Array.from(node.children)) walk(child, mod, children, pending);
		if (tag === "leptos-children") children.pop();
	}
	var glue = document.createElement("script");
	glue.type = "module";
	glue.src = js;
	glue.onload = function () {
		import(js).then(function (mod) {
			return mod.default({ module_or_path: wasm }).then(function () { return parsed; }).then(function () {
				mod.hydrate();
				var pending = [];
				walk(document.body, mod, [], pending);
				return Promise.all(pending);
			}).then(function () {
				document.documentElement.setAttribute("data-hydrated", "true");
			});
		});
	};
	document.head.appendChild(glue);
})"#;

/// The stylesheet and the bundle loader, with the WebAssembly's preload,
/// for `<head>`. The names are shared (`Arc`): every SSR render links them.
/// The inline script carries this response's CSP nonce (prerendered pages
/// are allowed by the hash of its text instead).
#[leptos::component]
pub fn BundleTags(
    /// The bundle's file names, read once at start-up.
    names: std::sync::Arc<AssetNames>,
) -> impl leptos::IntoView {
    use leptos::prelude::*;
    // Islands: what the server renders outside them is never hydrated, so
    // it carries no hydration markers and serialises no resources (as
    // Leptos' `HydrationScripts` does in islands mode).
    if let Some(context) = Owner::current_shared_context() {
        context.set_is_hydrating(false);
    }
    let nonce = leptos::nonce::use_nonce();
    let HeadLinks { css, wasm, loader } = names.head().clone();
    // The script first: after a stylesheet, an inline script waits for it
    // to load.
    view! {
        <script nonce=nonce>{loader}</script>
        <link rel="stylesheet" id="leptos" href=css />
        <link
            rel="preload"
            href=wasm
            r#as="fetch"
            r#type="application/wasm"
            crossorigin="anonymous"
        />
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASHES: &str = "js: AbC-1_x\nwasm: DeF2\ncss: GhI3\nmanifest: Jk4\nsplit: Lm5\n";

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

    #[test]
    fn every_chunk_of_a_hashed_split_build_is_immutable() {
        let mut names = AssetNames::from_hashes("app", "pkg", HASHES, |_| true);
        names.split = Split::from_manifest(
            "__wasm_split.Lm5.js".into(),
            r#"{"dashboard_view_1": ["split_dashboard.Zz9", "chunk_3.Yy8"], "login_view_2": ["split_login.Xx7"]}"#,
        )
        .expect("a manifest");
        assert_eq!(
            names.split.chunks["dashboard_view_1"],
            ["split_dashboard.Zz9.wasm", "chunk_3.Yy8.wasm"]
        );
        for file in [
            "__wasm_split.Lm5.js",
            "split_login.Xx7.wasm",
            "chunk_3.Yy8.wasm",
        ] {
            assert!(names.is_hashed_path(&format!("/pkg/{file}")), "{file}");
        }
        assert!(!names.is_hashed_path("/pkg/chunk_4.Yy8.wasm"));
        assert!(!names.is_hashed_path("/pkg/__wasm_split_manifest.Jk4.json"));
    }

    #[test]
    fn an_island_preloads_the_chunks_of_all_its_loaders_once_each() {
        let mut names = AssetNames::plain("app", "pkg");
        names.split = Split::from_manifest(
            "__wasm_split.js".into(),
            r#"{"in_place_form_loader_1": ["split_a", "chunk_2", "chunk_1"],
                "in_place_form_loader_9": ["chunk_1", "split_b"],
                "place_form_loader_3": ["split_c"],
                "confirm_ceremony_4": ["split_d"]}"#,
        )
        .expect("a manifest");
        assert_eq!(
            names.island_chunks("in_place_form"),
            Some(vec![
                "/pkg/chunk_1.wasm",
                "/pkg/chunk_2.wasm",
                "/pkg/split_a.wasm",
                "/pkg/split_b.wasm"
            ])
        );
        assert_eq!(
            names.island_chunks("place_form"),
            Some(vec!["/pkg/split_c.wasm"])
        );
        // A lazy function is not an island; an unknown island has none.
        assert_eq!(names.island_chunks("confirm_ceremony"), None);
        assert_eq!(names.island_chunks("passkey_sign_in"), None);
    }

    #[test]
    fn a_manifest_names_files_not_paths() {
        assert_eq!(Split::from_manifest("l.js".into(), "not json"), None);
        assert_eq!(
            Split::from_manifest("l.js".into(), r#"{"a": ["../../etc/passwd"]}"#),
            None
        );
        assert_eq!(
            Split::from_manifest("l.js".into(), r#"{"a": [".."]}"#),
            None
        );
        assert!(Split::from_manifest("l.js".into(), "{}").is_some());
    }

    /// `load` at start-up: a hashed, split release site is read whole; a
    /// split manifest that is missing leaves the page working (no preloads)
    /// with the hashed names kept.
    #[cfg(feature = "ssr")]
    #[test]
    fn load_reads_the_hashes_and_the_split_manifest_from_the_site() {
        let site = tempfile::tempdir().expect("a temporary directory");
        let pkg = site.path().join("pkg");
        std::fs::create_dir(&pkg).expect("pkg");
        for file in [
            "app.AbC-1_x.js",
            "app.DeF2.wasm",
            "app.GhI3.css",
            "__wasm_split.Lm5.js",
            "split_login.Xx7.wasm",
        ] {
            std::fs::write(pkg.join(file), "").expect("a bundle file");
        }
        let hash_file = site.path().join("hash.txt");
        std::fs::write(&hash_file, HASHES).expect("hash.txt");

        let without_manifest = AssetNames::load("app", site.path(), "pkg", &hash_file);
        assert!(without_manifest.hashed);
        assert_eq!(without_manifest.split, Split::default());

        std::fs::write(
            pkg.join("__wasm_split_manifest.Jk4.json"),
            r#"{"login_view_2": ["split_login.Xx7"]}"#,
        )
        .expect("the manifest");
        let names = AssetNames::load("app", site.path(), "pkg", &hash_file);
        assert_eq!(names.split.chunks["login_view_2"], ["split_login.Xx7.wasm"]);
        assert!(names.is_hashed_path("/pkg/split_login.Xx7.wasm"));
        assert!(names.is_hashed_path("/pkg/__wasm_split.Lm5.js"));

        let unhashed = AssetNames::load("app", site.path(), "pkg", &site.path().join("none.txt"));
        assert!(!unhashed.hashed);
        assert_eq!(
            unhashed.split,
            Split::default(),
            "no unhashed loader in this site"
        );
    }
}
