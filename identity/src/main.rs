//! `tessera`: run the provider, migrate its database, or check its health.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tessera_identity::config::Config;

#[derive(Parser)]
#[command(name = "tessera", version, about = "Tessera identity provider")]
struct Cli {
    /// TOML configuration file (TESSERA_* environment variables override it).
    #[arg(long, global = true, env = "TESSERA_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the provider.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Exit 0 when the provider at URL answers /healthz (for container health checks).
    Health { url: Option<String> },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tessera: {e}");
            return ExitCode::from(2);
        }
    };
    tessera_identity::telemetry::init(&config.log, &config.log_format);
    match cli.command {
        Command::Serve => {
            let result = tessera_identity::http::run(config);
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("tessera: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Migrate => {
            let outcome = config
                .database_kind()
                .map_err(|e| e.to_string())
                .and_then(|kind| {
                    tessera_identity::store::Db::open(kind, 1).map_err(|e| e.to_string())
                })
                .and_then(|db| db.migrate().map_err(|e| e.to_string()));
            match outcome {
                Ok(n) => {
                    println!("tessera: {n} migration(s) applied");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("tessera: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Health { url } => {
            let url = url.unwrap_or_else(|| format!("http://{}", config.bind));
            match health(&url) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("tessera: unhealthy: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// A minimal HTTP/1.1 GET of URL/healthz over a plain TCP connection, so
/// the container image needs no curl.
fn health(url: &str) -> Result<(), String> {
    use std::io::{Read, Write};
    let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
    let host = parsed.host_str().ok_or("no host in URL")?;
    let port = parsed.port_or_known_default().ok_or("no port in URL")?;
    let mut stream = std::net::TcpStream::connect((host, port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).map_err(|e| e.to_string())?;
    if head.starts_with(b"HTTP/1.1 200") {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&head).into_owned())
    }
}
