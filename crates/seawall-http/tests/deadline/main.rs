//! Deadline headers: reading them on the server side, writing them on the
//! client side.

#[path = "../support/capture.rs"]
mod capture;
mod extract;
mod propagate;
