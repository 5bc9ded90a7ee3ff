//! `tessera-admin`: manage users, clients and signing keys against the same
//! configuration (file + TESSERA_* environment) as the server.

mod clients;
mod keys;
mod output;
mod resources;
mod users;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tessera_identity::config::Config;

#[derive(Parser)]
#[command(
    name = "tessera-admin",
    version,
    about = "Manage Tessera users, clients, resource servers and keys"
)]
struct Cli {
    /// TOML configuration file (TESSERA_* environment variables override it).
    #[arg(long, global = true, env = "TESSERA_CONFIG")]
    config: Option<PathBuf>,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Users: add, list, show, disable, enable, set-password.
    #[command(subcommand)]
    User(users::UserCommand),
    /// OAuth clients: add, list, show, remove.
    #[command(subcommand)]
    Client(clients::ClientCommand),
    /// Resource servers (token audiences): add, list, remove.
    #[command(subcommand)]
    Resource(resources::ResourceCommand),
    /// Signing keys: list, rotate.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Show the newest audit events.
    Audit {
        /// How many events (newest first).
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

/// An error the operator can act on; printed, exit code 1.
#[derive(Debug)]
pub struct Failure(pub String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tessera-admin: {e}");
            return ExitCode::from(2);
        }
    };
    tessera_identity::telemetry::init("warn", "text");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tessera-admin: {e}");
            return ExitCode::FAILURE;
        }
    };
    let out = output::Output { json: cli.json };
    let result = runtime.block_on(async {
        match cli.command {
            Command::User(cmd) => users::run(&config, cmd, &out).await,
            Command::Client(cmd) => clients::run(&config, cmd, &out).await,
            Command::Keys(cmd) => keys::run(&config, cmd, &out).await,
            Command::Resource(cmd) => resources::run(&config, cmd, &out).await,
            Command::Audit { limit } => audit(&config, limit, &out).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            if cli.json {
                println!("{}", serde_json::json!({ "error": message }));
            }
            eprintln!("tessera-admin: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Opens (and migrates) the durable store of this configuration.
pub async fn open_db(config: &Config) -> Result<tessera_identity::store::Db, Failure> {
    let config = config.clone();
    Ok(tokio::task::spawn_blocking(move || tessera_identity::app::open_db(&config)).await??)
}

pub fn now() -> i64 {
    tessera_identity::clock::now()
}

async fn audit(config: &Config, limit: i64, out: &output::Output) -> Result<(), Failure> {
    if !(1..=10_000).contains(&limit) {
        return Err(Failure("--limit must be between 1 and 10000".into()));
    }
    let db = open_db(config).await?;
    let events = tessera_identity::audit::recent(&db, limit).await?;
    out.print(&events, || {
        events
            .iter()
            .map(|e| {
                format!(
                    "{}  {}  user={}  client={}  {}",
                    output::time(e.at),
                    e.kind,
                    e.user_id.as_deref().unwrap_or("-"),
                    e.client_id.as_deref().unwrap_or("-"),
                    e.detail
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}
