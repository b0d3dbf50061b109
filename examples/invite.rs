//! Invites the people of a CSV file (`email,name,phone,alias`) through the NUGU Biz API: the
//! scripted form of the console's spreadsheet upload.
//!
//! Every row is checked first, with the rules and error codes of the API; if any row is wrong,
//! the wrong rows are listed (line, field, code, reason) and nothing is sent.
//!
//! ```sh
//! # Against the real API (token from "Biz Kit 기본 정보"):
//! NUGU_PUBLISHER_TOKEN=... cargo run --example invite --features biz -- \
//!     invitees.csv --group G000001 --reason "주문 앱 사용 초대"
//! # Or to plays, unassigned; --dry-run only checks the file:
//! cargo run --example invite --features biz -- invitees.csv --plays com.example.orders \
//!     --reason "주문 앱 사용 초대" --dry-run
//! # Against a local emulator, to see the whole loop:
//! cargo run --example invite --features biz-emulator -- examples/invitees.csv \
//!     --plays com.example.orders --reason "주문 앱 사용 초대" --emulator
//! ```
//!
//! The reason is required: the invitation email shows it, and NUGU refuses an insufficient one
//! (`USER006`).
//!
//! Phone numbers may be written with `-`, spaces or `+82`; they are sent as digits only.

use std::collections::HashMap;
use std::process::ExitCode;

use nugu_proxy::biz::{
    validate, BizClient, GroupId, InvitationReason, InvitationRequest, InvitationTarget, Invitee,
    PublisherToken,
};

#[derive(Default)]
struct Args {
    file: Option<String>,
    target: Option<InvitationTarget>,
    reason: Option<String>,
    dry_run: bool,
    emulator: bool,
}

const USAGE: &str = "usage: invite FILE.csv (--group ID | --plays ID[,ID...]) --reason TEXT [--dry-run] [--emulator]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--group" => {
                args.target = Some(InvitationTarget::Group(GroupId::new(value("--group")?)))
            }
            "--plays" => {
                let plays = value("--plays")?
                    .split(',')
                    .map(|p| p.trim().to_owned())
                    .collect();
                args.target = Some(InvitationTarget::Plays(plays));
            }
            "--reason" => args.reason = Some(value("--reason")?),
            "--dry-run" => args.dry_run = true,
            "--emulator" => args.emulator = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other if other.starts_with("--") => return Err(format!("unknown option {other}")),
            file => args.file = Some(file.to_owned()),
        }
    }
    Ok(args)
}

/// A wrong row: its line in the file and what is wrong with it.
struct Problem {
    line: u64,
    what: String,
}

/// Reads and checks every row; answers the invitees, or every problem found.
fn read_invitees(path: &str) -> Result<Vec<Invitee>, Vec<Problem>> {
    let mut reader = match csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_path(path)
    {
        Ok(reader) => reader,
        Err(err) => {
            return Err(vec![Problem {
                line: 0,
                what: format!("cannot read the file: {err}"),
            }])
        }
    };
    let mut invitees = Vec::new();
    let mut problems = Vec::new();
    let mut first_line_of: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let line = err.position().map_or(0, |p| p.line());
                problems.push(Problem {
                    line,
                    what: "not a CSV row of 3 or 4 fields".into(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if !(3..=4).contains(&record.len()) {
            problems.push(Problem {
                line,
                what: "not a CSV row of 3 or 4 fields".into(),
            });
            continue;
        }
        let field = |i: usize| record.get(i).unwrap_or_default();
        let mut invitee = Invitee::new(field(0), field(1), validate::normalize_phone(field(2)));
        if !field(3).is_empty() {
            invitee = invitee.alias(field(3));
        }
        let mut wrong: Vec<String> = validate::invitee(&invitee)
            .iter()
            .map(ToString::to_string)
            .collect();
        let email = field(0).to_lowercase();
        match first_line_of.get(&email) {
            Some(first) if !email.is_empty() => {
                wrong.push(format!("email: USER004 (the same email as line {first})"));
            }
            _ => {
                first_line_of.insert(email, line);
            }
        }
        if wrong.is_empty() {
            invitees.push(invitee);
        } else {
            problems.extend(wrong.into_iter().map(|what| Problem { line, what }));
        }
    }
    if invitees.is_empty() && problems.is_empty() {
        problems.push(Problem {
            line: 0,
            what: "the file has no rows".into(),
        });
    }
    if problems.is_empty() {
        Ok(invitees)
    } else {
        Err(problems)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (Some(file), Some(target), Some(reason)) = (
        args.file.as_deref(),
        args.target.clone(),
        args.reason.clone(),
    ) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    // The invitation email shows the reason; NUGU refuses an insufficient one (USER006).
    let reason = match InvitationReason::new(reason) {
        Ok(reason) => reason,
        Err(err) => {
            eprintln!("--reason: {err}");
            return ExitCode::from(2);
        }
    };
    let invitees = match read_invitees(file) {
        Ok(invitees) => invitees,
        Err(problems) => {
            eprintln!("{file}: {} problem(s), nothing sent:", problems.len());
            for Problem { line, what } in problems {
                eprintln!("  line {line}: {what}");
            }
            return ExitCode::FAILURE;
        }
    };
    let request = InvitationRequest::new(target, invitees, reason);
    if let Err(err) = validate::invitation(&request) {
        eprintln!("{file}: {err}; nothing sent");
        return ExitCode::FAILURE;
    }
    println!("{file}: {} invitee(s), all valid", request.users.len());
    if args.dry_run {
        return ExitCode::SUCCESS;
    }
    match send(&request, args.emulator).await {
        Ok(id) => {
            println!("invitation {id} sent to {} user(s)", request.users.len());
            ExitCode::SUCCESS
        }
        Err(err) => {
            // Each error says its own part; the reason is in its sources.
            let mut message = format!("invitation failed: {err}");
            let mut source = err.source();
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

async fn send(
    request: &InvitationRequest,
    emulator: bool,
) -> Result<nugu_proxy::biz::InvitationId, Box<dyn std::error::Error>> {
    if emulator {
        return send_to_emulator(request).await;
    }
    let token = std::env::var("NUGU_PUBLISHER_TOKEN").map_err(|_| "set NUGU_PUBLISHER_TOKEN")?;
    let mut builder = BizClient::builder(PublisherToken::new(token));
    if let Ok(url) = std::env::var("NUGU_BIZ_BASE_URL") {
        builder = builder.base_url(url);
    }
    Ok(builder.build()?.invite(request).await?)
}

#[cfg(feature = "biz-emulator")]
async fn send_to_emulator(
    request: &InvitationRequest,
) -> Result<nugu_proxy::biz::InvitationId, Box<dyn std::error::Error>> {
    use nugu_proxy::biz::emulator::Emulator;
    let emulator = Emulator::start().await?;
    if let InvitationTarget::Plays(plays) = &request.target {
        plays.iter().for_each(|p| emulator.add_play(p));
    }
    println!("(local Biz API emulator at {})", emulator.base_url());
    let id = emulator.client_builder().build()?.invite(request).await?;
    for user in &request.users {
        emulator.accept_invitation(user.email.expose())?;
    }
    let users = emulator
        .client_builder()
        .build()?
        .list_users(Default::default())
        .await?;
    println!(
        "(the emulator accepted them all: {} enrolled user(s))",
        users.total_elements
    );
    Ok(id)
}

#[cfg(not(feature = "biz-emulator"))]
async fn send_to_emulator(
    _: &InvitationRequest,
) -> Result<nugu_proxy::biz::InvitationId, Box<dyn std::error::Error>> {
    Err("--emulator needs the biz-emulator feature".into())
}
