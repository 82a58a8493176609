//! Integration tests of the timeout layer, one module per concern.

mod config;
mod contract;
mod deadline;
mod model;
mod observe;
mod ready;
mod response;
mod support;
