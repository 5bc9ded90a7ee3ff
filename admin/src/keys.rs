//! `tessera-admin keys ...`

use crate::output::{time, Output};
use crate::{now, open_db, Failure};
use clap::Subcommand;
use std::sync::Arc;
use tessera_identity::config::Config;
use tessera_identity::keys::{self, Alg, KeyEncryptionKey};

#[derive(Subcommand)]
pub enum KeysCommand {
    /// List signing keys and whether /jwks publishes them.
    List,
    /// Rotate: next becomes active, active is retired (still published until
    /// its tokens expire), a new next key is created.
    Rotate {
        /// Only this algorithm (ES256, RS256 or EdDSA); default all.
        #[arg(long)]
        alg: Option<String>,
    },
}

pub async fn run(config: &Config, command: KeysCommand, out: &Output) -> Result<(), Failure> {
    let db = open_db(config).await?;
    let (kek, _) = KeyEncryptionKey::load(config)?;
    let kek = Arc::new(kek);
    let ttl = config.max_signed_token_ttl();
    match command {
        KeysCommand::List => {
            keys::ensure_keys(&db, &kek, now()).await?;
            let all = keys::summaries(&db, ttl, now()).await?;
            out.print(&all, || {
                all.iter()
                    .map(|k| {
                        format!(
                            "{}  {}  {}{}  created {}",
                            k.kid,
                            k.alg,
                            k.state,
                            if k.published { "  published" } else { "" },
                            time(k.created_at)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        KeysCommand::Rotate { alg } => {
            let algs = match alg {
                Some(name) => vec![Alg::parse(&name).ok_or_else(|| {
                    Failure(format!(
                        "unknown algorithm `{name}`: use ES256, RS256 or EdDSA"
                    ))
                })?],
                None => Alg::ALL.to_vec(),
            };
            let mut rotated = Vec::new();
            for alg in algs {
                let kid = keys::rotate(&db, &kek, alg, ttl, now()).await?;
                rotated.push(serde_json::json!({ "alg": alg.name(), "active": kid }));
            }
            out.print(&rotated, || {
                rotated
                    .iter()
                    .map(|r| {
                        format!(
                            "{} now signs with {}",
                            r["alg"].as_str().unwrap_or(""),
                            r["active"].as_str().unwrap_or("")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
                    + "\nservers pick the new keys up within key_reload_secs"
            });
        }
    }
    Ok(())
}
