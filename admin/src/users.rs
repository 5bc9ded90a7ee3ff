//! `tessera-admin user ...`

use crate::output::{time, Output};
use crate::{now, open_db, Failure};
use clap::Subcommand;
use std::io::Read;
use tessera_identity::accounts::{NewUser, User, Users};
use tessera_identity::config::Config;
use tessera_identity::oauth::consent;
use tessera_identity::passkeys::Passkeys;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Add {
        username: String,
        #[arg(long)]
        email: Option<String>,
        /// Mark the email address as verified.
        #[arg(long)]
        email_verified: bool,
        #[arg(long)]
        name: Option<String>,
        /// Read the password from standard input (first line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Show one user (by id, username or email).
    Show { user: String },
    /// Disable a user: no more logins or token refreshes.
    Disable { user: String },
    /// Enable a disabled user.
    Enable { user: String },
    /// List the clients a user has consented to.
    Consents { user: String },
    /// Withdraw a user's remembered consent to a client: the next sign-in
    /// asks again.
    RevokeConsent { user: String, client_id: String },
    /// Require (on) or stop requiring (off) a passkey after the password.
    SecondFactor {
        user: String,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Make an account passwordless (refused unless it has a passkey).
    RemovePassword { user: String },
    /// List a user's passkeys.
    Passkeys { user: String },
    /// Remove one of a user's passkeys (refused if it is their last way to sign in).
    PasskeyRemove {
        user: String,
        /// Credential ids are authenticator-chosen base64url and may start with '-'.
        #[arg(allow_hyphen_values = true)]
        passkey_id: String,
    },
    /// Set a new password, read from standard input.
    SetPassword {
        user: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

fn read_password() -> Result<String, Failure> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    let password = text.lines().next().unwrap_or("").to_string();
    if password.is_empty() {
        return Err(Failure("no password on standard input".into()));
    }
    Ok(password)
}

fn describe(u: &User) -> String {
    format!(
        "{}  {}  email={}  name={}  password={}  {}  created {}",
        u.id,
        u.username,
        u.email.as_deref().unwrap_or("-"),
        u.name.as_deref().unwrap_or("-"),
        if u.has_password { "set" } else { "none" },
        if u.disabled { "DISABLED" } else { "enabled" },
        time(u.created_at)
    )
}

pub async fn run(config: &Config, command: UserCommand, out: &Output) -> Result<(), Failure> {
    let db = open_db(config).await?;
    let users = Users::new(db.clone(), tessera_identity::app::password_hasher(config)?);
    match command {
        UserCommand::Add {
            username,
            email,
            email_verified,
            name,
            password_stdin,
        } => {
            let password = password_stdin.then(read_password).transpose()?;
            let user = users
                .create(
                    NewUser {
                        username,
                        email,
                        email_verified,
                        name,
                        password,
                    },
                    now(),
                )
                .await?;
            out.print(&user, || format!("created user {}", describe(&user)));
        }
        UserCommand::List => {
            let all = users.list().await?;
            out.print(&all, || {
                if all.is_empty() {
                    "no users".into()
                } else {
                    all.iter().map(describe).collect::<Vec<_>>().join("\n")
                }
            });
        }
        UserCommand::Show { user } => {
            let found = users.find(&user).await?;
            out.print(&found, || describe(&found));
        }
        UserCommand::Disable { user } => set_disabled(&users, &user, true, out).await?,
        UserCommand::Enable { user } => set_disabled(&users, &user, false, out).await?,
        UserCommand::Consents { user } => {
            let found = users.find(&user).await?;
            let all = consent::list(&db, &found.id).await?;
            let rows: Vec<_> = all
                .iter()
                .map(|(client, scopes, at)| serde_json::json!({ "client_id": client, "scopes": scopes, "granted_at": at }))
                .collect();
            out.print(&rows, || {
                if all.is_empty() {
                    format!("{} has no remembered consent", found.username)
                } else {
                    all.iter()
                        .map(|(c, s, at)| format!("{c}  {}  granted {}", s.join(" "), time(*at)))
                        .collect::<Vec<_>>()
                        .join("\n")
                }
            });
        }
        UserCommand::RevokeConsent { user, client_id } => {
            let found = users.find(&user).await?;
            if !consent::withdraw(&db, &found.id, &client_id, now()).await? {
                return Err(Failure(format!(
                    "{} has no consent for `{client_id}`",
                    found.username
                )));
            }
            out.print(
                &serde_json::json!({ "user": found.id, "client_id": client_id, "withdrawn": true }),
                || format!("consent of {} to {client_id} withdrawn", found.username),
            );
        }
        UserCommand::SecondFactor { user, state } => {
            let found = users.find(&user).await?;
            users
                .set_second_factor(&found.id, state == "on", now())
                .await?;
            let found = users.find(&found.id).await?;
            out.print(&found, || {
                format!("passkey second factor for {}: {state}", found.username)
            });
        }
        UserCommand::RemovePassword { user } => {
            let found = users.find(&user).await?;
            users.remove_password(&found.id, now()).await?;
            let found = users.find(&found.id).await?;
            out.print(&found, || format!("{} is now passwordless", found.username));
        }
        UserCommand::Passkeys { user } => {
            let found = users.find(&user).await?;
            let all = Passkeys::new(db.clone()).list(&found.id).await?;
            out.print(&all, || {
                if all.is_empty() {
                    format!("{} has no passkeys", found.username)
                } else {
                    all.iter()
                        .map(|k| {
                            format!(
                                "{}  \"{}\"  {}{}  created {}  last used {}",
                                k.id,
                                k.name,
                                k.kind,
                                if k.possibly_cloned {
                                    "  POSSIBLY CLONED (blocked)"
                                } else {
                                    ""
                                },
                                time(k.created_at),
                                k.last_used_at.map(time).unwrap_or_else(|| "never".into())
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                }
            });
        }
        UserCommand::PasskeyRemove { user, passkey_id } => {
            let found = users.find(&user).await?;
            Passkeys::new(db.clone())
                .remove(&found.id, &passkey_id, now())
                .await?;
            out.print(
                &serde_json::json!({ "user": found.id, "removed": passkey_id }),
                || format!("removed passkey {passkey_id} of {}", found.username),
            );
        }
        UserCommand::SetPassword { user, .. } => {
            let found = users.find(&user).await?;
            users
                .set_password(&found.id, read_password()?, now())
                .await?;
            let found = users.find(&found.id).await?;
            out.print(&found, || format!("password set for {}", found.username));
        }
    }
    Ok(())
}

async fn set_disabled(
    users: &Users,
    user: &str,
    disabled: bool,
    out: &Output,
) -> Result<(), Failure> {
    let found = users.find(user).await?;
    users.set_disabled(&found.id, disabled, now()).await?;
    let found = users.find(&found.id).await?;
    out.print(&found, || describe(&found));
    Ok(())
}
