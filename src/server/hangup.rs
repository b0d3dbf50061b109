//! `SIGHUP`: the certificate reload that `kill -HUP` asks for, built into every server.
//!
//! The handler is installed when the server is bound: from then on the signal never falls back
//! to its default action (ending the process), whether or not anything is left to reload.

use super::builder::Mode;
use super::error::StartupError;

/// The server's `SIGHUP` stream, `None` where there is none to listen to.
pub(crate) struct Hangups {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangups {
    /// Installs the handler. Called within the runtime, at bind.
    pub(crate) fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let signal = signal(SignalKind::hangup())
                .inspect_err(|e| {
                    tracing::error!(error = %e, "cannot listen for SIGHUP; certificate reload on SIGHUP is off");
                })
                .ok();
            Self { signal }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// Completes at the next `SIGHUP`; never, where there is no signal to listen to.
    pub(crate) async fn next(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal {
            if signal.recv().await.is_some() {
                return;
            }
        }
        std::future::pending::<()>().await;
    }
}

/// Reloads the certificate files of a direct-TLS server; anything else has nothing to reload.
/// A refused reload keeps the current certificate.
pub(crate) fn on_hangup(mode: &Mode) {
    let Mode::Tls(tls) = mode else {
        tracing::info!("SIGHUP ignored: behind a TLS terminator there is no certificate to reload");
        return;
    };
    match tls.reload_handle().reload() {
        Ok(()) => {}
        Err(StartupError::NoFilesToReload) if tls.is_acme() => {
            tracing::info!("SIGHUP ignored: the certificate is obtained and renewed by ACME");
        }
        Err(StartupError::NoFilesToReload) => {
            tracing::info!("SIGHUP ignored: the certificate was given from memory, not from files");
        }
        Err(e) => {
            tracing::error!(error = %e, "certificate reload refused; still serving the previous certificate");
        }
    }
}
