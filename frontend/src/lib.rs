//! Browser entry point. Only hydrates: all UI lives in the `app` crate.

// Asynchronous hydration's future nests one level per view in the app's
// type; its layout needs more than the default depth.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Readable panics in the console while developing; the release bundle
    // (panic = "abort", no debug assertions) leaves the hook and its
    // formatting out.
    if cfg!(debug_assertions) {
        console_error_panic_hook::set_once();
    }
    // Hydration is asynchronous: a lazy page (`app::routes::LAZY`) hydrates
    // once its chunk has loaded. The document is marked after all of it.
    wasm_bindgen_futures::spawn_local(async {
        if let Some(body) = leptos::prelude::document().body() {
            leptos::mount::hydrate_from_async(body, app::App)
                .await
                .forget();
            app::mark_hydrated();
        }
    });
}
