//! Robustness over real HTTPS on 127.0.0.1: hostile input, load and overload, faults. Every
//! case asserts the exact status and JSON error it gets, then that the same server still
//! serves a good request. Every loop is bounded in count and time.

#![cfg(feature = "server")]

#[path = "../common/mod.rs"]
mod common;
mod faults;
mod fd_limit;
mod hostile;
mod load;
mod support;
