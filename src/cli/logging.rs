//! The `--log` filter: ferry's own events at the level asked for, library crates quieter.
//!
//! kube's HTTP trace layer logs every 5xx answer at ERROR (`kube_client::client::builder`:
//! "failed with status 500 Internal Server Error"), and hyper/tower/rustls have their own
//! chatter. ferry reports every failed request itself, with what it was doing and which
//! file:line it concerns, so at the default level those raw lines are noise that looks like a
//! second, unexplained failure.

/// Crates whose events are hidden unless the filter names them or asks for `debug`/`trace`.
const LIBRARIES: &[&str] = &[
    "kube",
    "kube_client",
    "kube_runtime",
    "kube_core",
    "hyper",
    "hyper_util",
    "h2",
    "tower",
    "tower_http",
    "rustls",
];

/// The filter to install for a `--log` value: `spec` itself when it names a library crate or
/// its default level is `debug` or `trace` (someone debugging sees everything), otherwise
/// `spec` with every library crate turned off.
pub fn log_filter(spec: &str) -> String {
    let directives: Vec<&str> = spec
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    let names_library = directives.iter().any(|d| {
        let target = d.split(['=', '[']).next().unwrap_or_default();
        LIBRARIES
            .iter()
            .any(|lib| target == *lib || target.starts_with(&format!("{lib}::")))
    });
    let verbose = directives.iter().any(|d| {
        !d.contains('=')
            && ["debug", "trace"]
                .iter()
                .any(|level| d.eq_ignore_ascii_case(level))
    });
    if names_library || verbose {
        return spec.to_string();
    }
    let mut out = directives.join(",");
    for lib in LIBRARIES {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(lib);
        out.push_str("=off");
    }
    out
}

#[cfg(test)]
#[path = "logging_tests.rs"]
mod tests;
