//! Deadline headers: reading them on the server side, writing them on the
//! client side.

mod extract;
mod propagate;
