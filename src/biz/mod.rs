//! NUGU Biz API client (work in progress).
