//! HTTPS-only serving (work in progress).
