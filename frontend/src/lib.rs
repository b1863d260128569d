//! Browser entry point. Only hydrates: all UI lives in the `app` crate.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Readable panics in the console while developing; the release bundle
    // (panic = "abort", no debug assertions) leaves the hook and its
    // formatting out.
    if cfg!(debug_assertions) {
        console_error_panic_hook::set_once();
    }
    leptos::mount::hydrate_body(app::App);
}
