//! `tessera-admin client ...`

use crate::output::{time, Output};
use crate::{now, open_db, Failure};
use clap::Subcommand;
use serde::Serialize;
use tessera_identity::config::Config;
use tessera_identity::oauth::clients::{Client, Clients, NewClient};

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Register a client. A confidential client's secret is printed once.
    Add {
        #[arg(long)]
        name: String,
        /// Choose the client id (default: random).
        #[arg(long)]
        client_id: Option<String>,
        /// Exact redirect URI (repeatable).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Exact post-logout redirect URI (repeatable).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// authorization_code, refresh_token or client_credentials (repeatable;
        /// default authorization_code + refresh_token).
        #[arg(long = "grant-type")]
        grant_types: Vec<String>,
        /// Allowed scope (repeatable; default openid profile email offline_access).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// A public client (native app, SPA): no secret, PKCE required.
        #[arg(long)]
        public: bool,
        /// A first-party client: no consent page.
        #[arg(long)]
        first_party: bool,
        /// ID token signing algorithm: RS256 (default), ES256 or EdDSA.
        #[arg(long)]
        id_token_alg: Option<String>,
    },
    /// List clients.
    List,
    /// Show one client.
    Show { client_id: String },
    /// Remove a client.
    Remove { client_id: String },
}

#[derive(Serialize)]
struct Created<'a> {
    #[serde(flatten)]
    client: &'a Client,
    client_secret: Option<String>,
}

fn describe(c: &Client) -> String {
    let grants: Vec<&str> = c.grant_types.iter().map(|g| g.name()).collect();
    format!(
        "{}  \"{}\"  {}{}  grants={}  scopes={}  redirect_uris={}  post_logout={}  id_token_alg={}  created {}",
        c.client_id,
        c.name,
        if c.public { "public" } else { "confidential" },
        if c.first_party { " first-party" } else { "" },
        grants.join(","),
        c.scopes.join(","),
        c.redirect_uris.join(","),
        c.post_logout_redirect_uris.join(","),
        c.id_token_signed_response_alg.name(),
        time(c.created_at)
    )
}

pub async fn run(config: &Config, command: ClientCommand, out: &Output) -> Result<(), Failure> {
    let clients = Clients::new(open_db(config).await?);
    match command {
        ClientCommand::Add {
            name,
            client_id,
            redirect_uris,
            post_logout_redirect_uris,
            grant_types,
            scopes,
            public,
            first_party,
            id_token_alg,
        } => {
            let (client, secret) = clients
                .create(
                    NewClient {
                        client_id,
                        name,
                        public,
                        redirect_uris,
                        post_logout_redirect_uris,
                        grant_types,
                        scopes,
                        first_party,
                        id_token_signed_response_alg: id_token_alg,
                    },
                    now(),
                )
                .await?;
            let created = Created {
                client: &client,
                client_secret: secret.clone(),
            };
            out.print(&created, || {
                let mut text = format!("created client {}", describe(&client));
                if let Some(secret) = &secret {
                    text.push_str(&format!(
                        "\nclient_secret: {secret}\n(shown once; only its hash is stored)"
                    ));
                }
                text
            });
        }
        ClientCommand::List => {
            let all = clients.list().await?;
            out.print(&all, || {
                if all.is_empty() {
                    "no clients".into()
                } else {
                    all.iter().map(describe).collect::<Vec<_>>().join("\n")
                }
            });
        }
        ClientCommand::Show { client_id } => {
            let client = clients
                .get(&client_id)
                .await?
                .ok_or_else(|| Failure(format!("no client `{client_id}`")))?;
            out.print(&client, || describe(&client));
        }
        ClientCommand::Remove { client_id } => {
            clients.remove(&client_id, now()).await?;
            out.print(&serde_json::json!({ "removed": client_id }), || {
                format!("removed client {client_id}")
            });
        }
    }
    Ok(())
}
