//! Tandem's admin UI, client-side rendered. `index.html` loads the wasm-bindgen output, which
//! runs `main`.

mod api;
mod app;
mod components;
mod pages;

fn main() {
    console_error_panic_hook::set_once();
    // The "Loading Tandem…" placeholder from index.html makes way for the app.
    if let Some(placeholder) = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.get_element_by_id("boot"))
    {
        placeholder.remove();
    }
    leptos::mount::mount_to_body(app::App);
}
