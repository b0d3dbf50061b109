//! `nugu-check`: plays the NUGU platform against a running backend proxy, written in any
//! language, and says what breaks (feature `check`).
//!
//! ```sh
//! nugu-check https://play.example.com/nugu --api-key "$KEY" --action check_in --param place=lobby
//! nugu-check https://127.0.0.1:8443 --cacert dev.pem --play play.toml --json report.json --junit report.xml
//! ```
//!
//! The rules are in `rules.rs`, the requests in `play.rs` (built with the testing kit's
//! `NuguRequest`), the sending in `send.rs`, the judging in `check.rs`, the outputs in
//! `report.rs`.
#![forbid(unsafe_code)]

mod args;
mod check;
mod mask;
mod play;
mod report;
mod rules;
mod send;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use args::Args;

/// Exit status when the command line, the play file or the CA file is wrong.
const USAGE_ERROR: u8 = 2;

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("nugu-check: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("nugu-check: {e}");
            ExitCode::from(USAGE_ERROR)
        }
    }
}

/// Whether every required rule passed; `Err` for a usage error.
async fn run(args: Args) -> Result<bool, String> {
    for id in &args.skip {
        if rules::by_id(id).is_none() {
            let ids: Vec<&str> = rules::RULES.iter().map(|r| r.id).collect();
            return Err(format!("--skip {id:?}: no such rule ({})", ids.join(", ")));
        }
    }
    if args.api_key.is_none() && !args.no_auth_expected {
        return Err(
            "give --api-key KEY (or NUGU_API_KEY), or --no-auth-expected for a proxy that does \
             not check keys"
                .to_owned(),
        );
    }
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 600.0) {
        return Err(format!(
            "--timeout {}: give seconds between 0 and 600",
            args.timeout
        ));
    }
    let timeout = Duration::from_secs_f64(args.timeout);
    let actions = play::actions(args.play.as_deref(), &args.actions, &args.params)?;
    let target = send::Target::parse(&args.url)?;
    let sender = send::Sender::new(target, args.cacert.as_deref(), timeout)?;
    let settings = check::Settings {
        api_key: args.api_key,
        auth_expected: !args.no_auth_expected,
        timeout,
        skip: args.skip,
    };

    let report = check::run(&sender, &actions, &settings).await;
    print!("{}", report.table());
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report.json()).map_err(|e| e.to_string())?;
        std::fs::write(path, json + "\n")
            .map_err(|e| format!("cannot write --json {}: {e}", path.display()))?;
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, report.junit())
            .map_err(|e| format!("cannot write --junit {}: {e}", path.display()))?;
    }
    Ok(report.passed())
}
