//! The command line.

use std::path::PathBuf;

use clap::Parser;

/// Plays the NUGU platform against a running backend proxy (in any language) and says what
/// breaks: each rule passes, fails with its evidence, or is skipped.
///
/// Exit status: 0 when every required rule passes, 1 when one fails, 2 when the command line,
/// the play file or the CA file is wrong.
#[derive(Debug, Parser)]
#[command(name = "nugu-check", version)]
pub struct Args {
    /// The Web URL registered in Play Builder (`https://host[:port][/prefix]`); actions are
    /// called at {URL}/{actionName}.
    pub url: String,

    /// The NUGU API key the proxy checks (`Authorization: token <key>`).
    #[arg(long, env = "NUGU_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,

    /// The proxy does not check API keys: skip the `auth` rule and send no key.
    #[arg(long)]
    pub no_auth_expected: bool,

    /// A PEM file of CA certificates to trust besides the system's roots and the built-in
    /// (Mozilla) ones: a self-signed development certificate, for instance.
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,

    /// An action to call (repeatable); its parameters come from --param.
    #[arg(long = "action", value_name = "NAME")]
    pub actions: Vec<String>,

    /// A parameter NAME=VALUE of every --action (repeatable); `NAME=` with no value sends it
    /// null, as NUGU sends a backend parameter.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,

    /// A play file (TOML) listing the actions, their parameters, utterance and backend
    /// parameters.
    #[arg(long, value_name = "FILE")]
    pub play: Option<PathBuf>,

    /// The time budget of one answer, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 3.0)]
    pub timeout: f64,

    /// Also write the report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Also write the report as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Do not run this rule (repeatable): it is reported as skipped.
    #[arg(long = "skip", value_name = "RULE")]
    pub skip: Vec<String>,
}
