//! The preloads of the lazy islands' chunks, written in the page.
//!
//! A lazy island's chunks are fetched when the island hydrates; preload
//! links in the HTML start those fetches while the main module loads.

#[cfg(feature = "ssr")]
use std::sync::{Arc, Mutex};

use leptos::tachys::{
    html::attribute::{any_attribute::AnyAttribute, Attribute},
    hydration::Cursor,
    view::{add_attr::AddAnyAttr, Position, PositionState, Render, RenderHtml},
};

#[cfg(feature = "ssr")]
use super::AssetNames;

/// The preload links of the chunks the lazy island `island` needs (its
/// name in snake case, as the split manifest's `<island>_loader_<hash>`
/// key has it), each chunk once per page, so that hydrating the island
/// costs no second round trip. The island puts them last in its view: the
/// server writes the tags, made once per process, as they are; in the
/// browser the value is empty and hydrates nothing. (A `leptos_meta` tag
/// in `<head>` per island cost a sign-in page about a tenth of its CPU
/// time, `BENCHMARKS.md`.)
#[cfg(feature = "ssr")]
pub fn preload_island(island: &'static str) -> Preloads {
    Preloads(
        leptos::prelude::with_context::<Preloaded, _>(|preloaded| preloaded.links(island))
            .flatten(),
    )
}

/// [`preload_island`] in the browser: nothing to preload.
#[cfg(not(feature = "ssr"))]
pub fn preload_island(_: &'static str) -> Preloads {
    Preloads(None)
}

/// The bundle's names, and the chunks a render has preloaded already.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug)]
pub(super) struct Preloaded {
    names: Arc<AssetNames>,
    done: Arc<Mutex<Vec<bool>>>,
}

#[cfg(feature = "ssr")]
impl Preloaded {
    /// Nothing preloaded yet, for one render.
    pub(super) fn new(names: Arc<AssetNames>) -> Self {
        Self {
            names,
            done: Arc::default(),
        }
    }

    /// The tags of `island`'s chunks that this render has not written yet.
    fn links(&self, island: &str) -> Option<String> {
        let chunks = self.names.island_chunk_list();
        let indices = chunks.islands.get(island)?;
        let mut done = self.done.lock().ok()?;
        done.resize(chunks.tags.len(), false);
        let new: Vec<&str> = indices
            .iter()
            .filter(|&&i| !std::mem::replace(&mut done[i], true))
            .map(|&i| chunks.tags[i].as_str())
            .collect();
        let links = new.concat();
        (!links.is_empty()).then_some(links)
    }
}

/// A lazy island's preload tags, as [`preload_island`] made them: written
/// into the page as they are (they are the server's own, made from the
/// bundle's plain file names), and nothing in the browser, where hydrating
/// them walks no node (so they must come last in the island's view).
#[derive(Debug, Default)]
pub struct Preloads(Option<String>);

impl Render for Preloads {
    type State = ();

    fn build(self) -> Self::State {}

    fn rebuild(self, _state: &mut Self::State) {}
}

impl AddAnyAttr for Preloads {
    type Output<SomeNewAttr: Attribute> = Self;

    fn add_any_attr<NewAttr: Attribute>(self, _attr: NewAttr) -> Self::Output<NewAttr>
    where
        Self::Output<NewAttr>: RenderHtml,
    {
        self
    }
}

impl RenderHtml for Preloads {
    type AsyncOutput = Self;
    type Owned = Self;

    const MIN_LENGTH: usize = 0;

    fn dry_resolve(&mut self) {}

    async fn resolve(self) -> Self::AsyncOutput {
        self
    }

    fn html_len(&self) -> usize {
        self.0.as_ref().map_or(0, String::len)
    }

    fn to_html_with_buf(
        self,
        buf: &mut String,
        position: &mut Position,
        _escape: bool,
        _mark_branches: bool,
        _extra_attrs: Vec<AnyAttribute>,
    ) {
        if let Some(tags) = self.0 {
            buf.push_str(&tags);
            *position = Position::NextChild;
        }
    }

    fn hydrate<const FROM_SERVER: bool>(
        self,
        _cursor: &Cursor,
        _position: &PositionState,
    ) -> Self::State {
    }

    fn into_owned(self) -> Self::Owned {
        self
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::assets::Split;

    fn names() -> Arc<AssetNames> {
        let mut names = AssetNames::plain("app", "pkg");
        names.split = Split::from_manifest(
            "__wasm_split.js".into(),
            r#"{"sign_in_loader_1": ["split_a", "chunk_1"],
                "confirm_loader_2": ["chunk_1", "split_b"]}"#,
        )
        .expect("a manifest");
        Arc::new(names)
    }

    #[test]
    fn a_page_preloads_each_chunk_once_however_many_islands_need_it() {
        let render = Preloaded::new(names());
        let link = |file: &str| {
            format!(
                r#"<link rel="preload" href="/pkg/{file}" as="fetch" type="application/wasm" crossorigin="anonymous">"#
            )
        };
        assert_eq!(
            render.links("sign_in"),
            Some(link("chunk_1.wasm") + &link("split_a.wasm"))
        );
        assert_eq!(
            render.links("confirm"),
            Some(link("split_b.wasm")),
            "chunk_1 is written already"
        );
        assert_eq!(
            render.links("sign_in"),
            None,
            "the island again: nothing new"
        );
        assert_eq!(render.links("unknown"), None);
        // The next render starts afresh.
        assert!(Preloaded::new(names())
            .links("confirm")
            .is_some_and(|l| l.contains("chunk_1")));
    }

    #[test]
    fn the_tags_are_written_as_they_are_and_hydrate_nothing() {
        let html = Preloads(Some("<link>".into())).to_html();
        assert_eq!(html, "<link>");
        assert_eq!(Preloads(None).to_html(), "");
    }
}
