//! The open-file limit, in a real process: this test binary runs one of its `child_` tests
//! again under `ulimit`, which the server must raise, refuse clearly, or live with (out of
//! descriptors, its accept loop backs off and logs a periodic summary, not a line per try).
//! Linux only: the children read their limits from `/proc/self/limits`.
#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use nugu_proxy::server::{Server, StartupError};
use tokio::net::TcpStream;

use crate::support::*;

/// Set for this test binary when it runs one of the `child_` tests under a lowered limit.
const CHILD: &str = "NUGU_PROXY_TEST_FD_LIMIT_CHILD";

/// Runs the test `fd_limit::{child}` of this binary in a shell that first runs `ulimit`, and
/// asserts that it ran and passed.
fn run_child_under(ulimit: &str, child: &str) {
    let exe = std::env::current_exe().unwrap();
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "{ulimit} && exec \"$0\" --exact fd_limit::{child} --nocapture --test-threads=1"
        ))
        .arg(exe)
        .env(CHILD, "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{child} under `{ulimit}`:\n{text}");
    assert!(text.contains("1 passed"), "{child} did not run:\n{text}");
}

/// Whether this process is a child run by `run_child_under` (a `child_` test does nothing
/// otherwise).
fn is_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// This process's soft and hard limits of open files.
fn open_file_limits() -> (u64, u64) {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .unwrap();
    let numbers: Vec<u64> = line
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

#[test]
fn a_soft_open_file_limit_below_max_connections_is_raised_at_startup() {
    run_child_under("ulimit -Sn 256", "child_binds_under_a_low_soft_limit");
}

#[tokio::test]
async fn child_binds_under_a_low_soft_limit() {
    if !is_child() {
        return;
    }
    assert_eq!(open_file_limits().0, 256, "run under `ulimit -Sn 256`");
    let cert = cert();
    // The default of 1024 connections needs more than 256 open files.
    let server = builder(&cert)
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let (soft, hard) = open_file_limits();
    assert!(
        soft > 1024 && soft <= hard,
        "the soft limit of open files is {soft} (hard {hard}), too low for 1024 connections"
    );
    drop(server);
}

#[test]
fn max_connections_above_the_hard_open_file_limit_is_refused_at_startup() {
    run_child_under(
        "ulimit -Sn 256 && ulimit -Hn 512",
        "child_refuses_more_connections_than_the_hard_limit_allows",
    );
}

#[tokio::test]
async fn child_refuses_more_connections_than_the_hard_limit_allows() {
    if !is_child() {
        return;
    }
    assert_eq!(open_file_limits().1, 512, "run under `ulimit -Hn 512`");
    let cert = cert();
    let refused = Server::builder()
        .tls(cert.tls())
        .max_connections(1024)
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .expect_err("1024 connections cannot fit in 512 open files");
    let message = refused.to_string();
    let StartupError::OpenFileLimit { needed, limit } = refused else {
        panic!("not an OpenFileLimit refusal: {message}");
    };
    assert_eq!(limit, 512);
    assert!(needed > 1024, "{needed}");
    assert!(
        message.contains("max_connections") && message.contains("512"),
        "{message}"
    );
    // Fewer connections fit: the same process starts.
    let server = builder(&cert)
        .max_connections(256)
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    drop(server);
    // The default (1024) is lowered to fit, with a warning, rather than refused.
    let (logs, _guard) = capture_logs(tracing::Level::WARN);
    let server = builder(&cert)
        .bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    assert!(
        logs.text().contains("serving at most 448"),
        "{}",
        logs.text()
    );
    drop(server);
}

#[test]
fn out_of_file_descriptors_the_accept_loop_logs_summaries_and_recovers() {
    run_child_under("ulimit -Sn 512", "child_runs_out_of_file_descriptors");
}

#[tokio::test]
async fn child_runs_out_of_file_descriptors() {
    if !is_child() {
        return;
    }
    let interval = Duration::from_millis(300);
    let (logs, _guard) = capture_logs(tracing::Level::INFO);
    let cert = cert();
    let builder = builder(&cert)
        .max_connections(8)
        .refusal_log_interval(interval);
    let server = start(builder, play(&Calls::default())).await;

    // Every descriptor taken but one, which the client's socket takes: the kernel completes
    // its connection, and the server's accept fails (EMFILE) until descriptors come back.
    let mut hogs = Vec::new();
    while let Ok(file) = std::fs::File::open("/dev/null") {
        hogs.push(file);
    }
    hogs.pop();
    let began = Instant::now();
    let waiting = TcpStream::connect(server.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    drop(hogs);
    drop(waiting);
    assert_served_within(server.addr, &cert.der, PATIENCE).await;
    server.shut_down().await;
    let elapsed = began.elapsed();

    let logs = logs.text();
    // At most one line per interval (plus the last summary, at shutdown), where one line per
    // failed accept would be one every 50 ms; each counts the failures since the last.
    let most = usize::try_from(elapsed.as_millis() / interval.as_millis()).unwrap() + 1;
    let (lines, failures) = summaries(&logs, "accept_failed");
    assert!(
        (1..=most).contains(&lines),
        "{lines} summaries in {elapsed:?}:\n{logs}"
    );
    assert!(
        failures > lines as u64,
        "{failures} failures in {lines} lines:\n{logs}"
    );
    let warnings = logs.lines().filter(|l| l.contains("WARN")).count();
    assert!(warnings <= most, "{warnings} warnings:\n{logs}");
}
