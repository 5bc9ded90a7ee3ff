//! The audit log: security events written to the durable store, read with
//! `tessera-admin audit`. Events carry ids, never secrets or tokens.

use crate::store::{audit as rows, Db, DbConnection, StoreError};
use serde::Serialize;
use tessera_schema::rows::AuditEventRow;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    LoginSucceeded,
    LoginFailed,
    LoginThrottled,
    CodeReplayed,
    RefreshTokenReused,
    SessionEnded,
    UserCreated,
    UserDisabled,
    UserEnabled,
    PasswordChanged,
    ClientCreated,
    ClientRemoved,
    ConsentGranted,
    ConsentWithdrawn,
    KeysRotated,
    PasskeyAdded,
    PasskeyRemoved,
    PasskeyPossiblyCloned,
    CredentialChangeRefused,
    ResourceServerAdded,
    ResourceServerRemoved,
}

impl EventKind {
    pub fn name(self) -> &'static str {
        match self {
            EventKind::LoginSucceeded => "login.succeeded",
            EventKind::LoginFailed => "login.failed",
            EventKind::LoginThrottled => "login.throttled",
            EventKind::CodeReplayed => "code.replayed",
            EventKind::RefreshTokenReused => "refresh_token.reused",
            EventKind::SessionEnded => "session.ended",
            EventKind::UserCreated => "user.created",
            EventKind::UserDisabled => "user.disabled",
            EventKind::UserEnabled => "user.enabled",
            EventKind::PasswordChanged => "user.password_changed",
            EventKind::ClientCreated => "client.created",
            EventKind::ClientRemoved => "client.removed",
            EventKind::ConsentGranted => "consent.granted",
            EventKind::ConsentWithdrawn => "consent.withdrawn",
            EventKind::KeysRotated => "keys.rotated",
            EventKind::PasskeyAdded => "passkey.added",
            EventKind::PasskeyRemoved => "passkey.removed",
            EventKind::PasskeyPossiblyCloned => "passkey.possibly_cloned",
            EventKind::CredentialChangeRefused => "credential.change_refused",
            EventKind::ResourceServerAdded => "resource_server.added",
            EventKind::ResourceServerRemoved => "resource_server.removed",
        }
    }
}

/// One event to record.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub detail: serde_json::Value,
}

impl Event {
    pub fn new(kind: EventKind) -> Event {
        Event {
            kind,
            user_id: None,
            client_id: None,
            detail: serde_json::json!({}),
        }
    }

    pub fn user(mut self, id: &str) -> Event {
        self.user_id = Some(id.to_string());
        self
    }

    pub fn client(mut self, id: &str) -> Event {
        self.client_id = Some(id.to_string());
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Event {
        self.detail = detail;
        self
    }

    fn row(self, now: i64) -> AuditEventRow {
        AuditEventRow {
            id: crate::crypto::new_id(),
            at: now,
            kind: self.kind.name().to_string(),
            user_id: self.user_id,
            client_id: self.client_id,
            detail: self.detail.to_string(),
        }
    }
}

/// Records inside a caller's transaction (committed with what it describes).
pub fn record_in(conn: &mut DbConnection, event: Event, now: i64) -> Result<(), StoreError> {
    rows::append(conn, &event.row(now))
}

/// Records an event; a failure to write is logged, not returned, so an
/// audit outage does not turn a good login into an error.
pub async fn record(db: &Db, event: Event, now: i64) {
    let kind = event.kind.name();
    let row = event.row(now);
    if let Err(e) = db.run(move |c| rows::append(c, &row)).await {
        tracing::error!(error = %e, kind, "audit event not written");
    }
}

#[derive(Debug, Serialize)]
pub struct AuditEntry {
    pub at: i64,
    pub kind: String,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub detail: serde_json::Value,
}

/// The newest `limit` events, newest first.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
    Ok(db
        .run(move |c| rows::recent(c, limit))
        .await?
        .into_iter()
        .map(|r| AuditEntry {
            at: r.at,
            kind: r.kind,
            user_id: r.user_id,
            client_id: r.client_id,
            detail: serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null),
        })
        .collect())
}
