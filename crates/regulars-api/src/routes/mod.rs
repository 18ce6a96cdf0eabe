//! The API's routes, one module per resource.

mod facts;
mod members;
mod system;

pub(crate) use facts::routes as facts;
pub(crate) use members::routes as members;
pub(crate) use system::{metrics, routes as system};
