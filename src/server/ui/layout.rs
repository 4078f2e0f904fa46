//! The page shell every UI page shares (head, header, the embedded stylesheet and script),
//! and small pieces the pages reuse: state pills, commit cells, ages.

use maud::{html, Markup, DOCTYPE};

use super::view::Tone;

/// The stylesheet, embedded in the binary (served at [`CSS_PATH`]).
pub const CSS: &str = include_str!("assets/ui.css");
/// The live-update script, embedded in the binary (served at [`JS_PATH`]).
pub const JS: &str = include_str!("assets/ui.js");
/// Where the stylesheet is served; the version makes a new binary's CSS load fresh.
pub const CSS_PATH: &str = concat!("/ui/assets/ui.css?v=", env!("CARGO_PKG_VERSION"));
/// Where the script is served.
pub const JS_PATH: &str = concat!("/ui/assets/ui.js?v=", env!("CARGO_PKG_VERSION"));

/// What a page puts into the shell.
pub struct Page<'a> {
    /// The `<title>`, after "ferry · ".
    pub title: &'a str,
    /// The app the page is about (the script then follows only its events).
    pub app: Option<&'a str>,
    /// True when the page updates live (loads the script).
    pub live: bool,
    /// Whether writes are possible (no API token: the UI says it is read-only).
    pub writable: bool,
}

/// A whole page around `content`.
pub fn page(meta: &Page<'_>, content: &Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { "ferry · " (meta.title) }
                link rel="stylesheet" href=(CSS_PATH);
            }
            body data-app=[meta.app] {
                header {
                    a.brand href="/" { "ferry" }
                    nav aria-label="main" {
                        a href="/" { "Apps" }
                        @if let Some(app) = meta.app {
                            a href={ "/apps/" (app) } { (app) }
                            a href={ "/apps/" (app) "/history" } { "History" }
                        }
                    }
                    @if meta.live {
                        span.muted { span #live .live-dot title="not connected" {} " live" }
                    }
                    @if !meta.writable {
                        span.muted #read-only {
                            "Read-only: ferry serve has no API token (set FERRY_API_TOKEN or --api-token-file to enable Sync and Roll back)."
                        }
                    }
                }
                main { (content) }
                @if meta.live {
                    script src=(JS_PATH) defer {}
                }
            }
        }
    }
}

/// A state pill.
pub fn pill(word: &str, tone: Tone) -> Markup {
    html! { span class={ "pill " (tone.class()) } { (word) } }
}

/// A short sha linked to the forge when `url` is known.
pub fn sha_link(short: &str, url: Option<&str>) -> Markup {
    html! {
        @match url {
            Some(url) => a.mono href=(url) rel="noreferrer" { (short) },
            None => code { (short) },
        }
    }
}

/// An inline script-free message block.
pub fn note(text: &str, tone: Option<Tone>) -> Markup {
    html! {
        p class={ "note " (tone.map_or("", Tone::class)) } role="status" { (text) }
    }
}
