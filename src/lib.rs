//! Backend-proxy middleware for SK Telecom NUGU **Private Plays**.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod transport;

#[cfg(feature = "server")]
pub mod server;

#[cfg(feature = "biz")]
pub mod biz;
