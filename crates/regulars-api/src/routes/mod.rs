//! The API's routes, one module per resource.

mod audiences;
mod facts;
mod members;
mod segments;
mod system;

pub(crate) use audiences::routes as audiences;
pub(crate) use facts::routes as facts;
pub(crate) use members::routes as members;
pub(crate) use segments::routes as segments;
pub(crate) use system::{metrics, routes as system};
