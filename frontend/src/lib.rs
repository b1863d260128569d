//! Browser entry point. The page's islands are hydrated one by one by the
//! bundle loader (`app::assets`), each through its own exported function;
//! this only sets up what they share.

// `app`'s islands export themselves; naming the crate links them in.
use app as _;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Readable panics in the console while developing; the release bundle
    // (panic = "abort", no debug assertions) leaves the hook and its
    // formatting out.
    if cfg!(debug_assertions) {
        console_error_panic_hook::set_once();
    }
    leptos::mount::hydrate_islands();
}
