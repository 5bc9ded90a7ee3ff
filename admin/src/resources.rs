//! `tessera-admin resource ...`: resource servers (RFC 8707 audiences).

use crate::output::{time, Output};
use crate::{now, open_db, Failure};
use clap::Subcommand;
use tessera_identity::config::Config;
use tessera_identity::oauth::resources::{ResourceServer, Resources};

#[derive(Subcommand)]
pub enum ResourceCommand {
    /// Register a resource server: clients may then ask for tokens whose
    /// `aud` is its identifier (`resource` at /authorize and /token).
    Add {
        /// Its identifier: an absolute URI without a fragment, e.g. https://api.example.com.
        #[arg(long)]
        identifier: String,
        #[arg(long)]
        name: String,
        /// The confidential client it authenticates as at /introspect; introspection then
        /// shows it the tokens issued for it.
        #[arg(long)]
        introspection_client: Option<String>,
    },
    /// List resource servers.
    List,
    /// Remove a resource server (tokens already issued for it stay valid until they expire).
    Remove { identifier: String },
}

fn describe(r: &ResourceServer) -> String {
    format!(
        "{}  \"{}\"  introspects as {}  created {}",
        r.identifier,
        r.name,
        r.introspection_client_id.as_deref().unwrap_or("-"),
        time(r.created_at)
    )
}

pub async fn run(config: &Config, command: ResourceCommand, out: &Output) -> Result<(), Failure> {
    let resources = Resources::new(open_db(config).await?);
    match command {
        ResourceCommand::Add {
            identifier,
            name,
            introspection_client,
        } => {
            let added = resources
                .add(&identifier, &name, introspection_client.as_deref(), now())
                .await?;
            out.print(&added, || {
                format!("added resource server {}", describe(&added))
            });
        }
        ResourceCommand::List => {
            let all = resources.list().await?;
            out.print(&all, || {
                if all.is_empty() {
                    "no resource servers".into()
                } else {
                    all.iter().map(describe).collect::<Vec<_>>().join("\n")
                }
            });
        }
        ResourceCommand::Remove { identifier } => {
            resources.remove(&identifier, now()).await?;
            out.print(&serde_json::json!({ "removed": identifier }), || {
                format!("removed resource server {identifier}")
            });
        }
    }
    Ok(())
}
