//! Stage module `diff` (see DESIGN.md): comparing Kubernetes objects as `serde_json::Value`s.
//! It never fetches anything.
//!
//! - [`normalize`] drops what the server maintains (status, managedFields, resourceVersion…,
//!   bookkeeping annotations) so only intent is compared.
//! - [`field_changes`] is the structured diff: one [`FieldChange`] per path, e.g.
//!   `spec.template.spec.containers[name=nginx].image: nginx:1.18.0 → nginx:latest`. Lists of
//!   objects are matched by merge key, numbers numerically, resource quantities exactly
//!   ([`quantity`]).
//! - [`is_subset`] answers "does live already have everything git sets?" with the same rules.
//! - [`unified_yaml_diff`] renders a text diff with `similar`; [`mask_secret`] hides Secret
//!   values first.
//! - [`fields`] reads server-side-apply ownership (`managedFields`): what ferry owned but no
//!   longer sets, and what other managers (an HPA via `scale`) took over.

pub mod fields;
mod keys;
mod mask;
mod normalize;
pub mod path;
pub mod quantity;
mod render;
mod structured;
mod subset;

pub use mask::{is_secret, mask_secret};
pub use normalize::{normalize, IGNORED_ANNOTATIONS, IGNORED_METADATA};
pub use path::{FieldPath, Segment};
pub use quantity::Quantity;
pub use render::{to_yaml, unified_yaml_diff};
pub use structured::{field_changes, ChangeKind, FieldChange};
pub use subset::is_subset;
