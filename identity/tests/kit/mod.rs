//! The in-process test kit: a whole [`App`] (the same one the server runs) on a fresh SQLite
//! file and the in-process store, with cheap argon2 settings, so a domain rule can be tested
//! at fixed times without starting a server or sleeping. Every domain function takes `now`, so
//! a test moves the clock by passing another number.

#![allow(dead_code)]

use std::path::PathBuf;
use tessera_identity::accounts::NewUser;
use tessera_identity::config::Config;
use tessera_identity::oauth::clients::NewClient;
use tessera_identity::App;

/// A fixed starting time (2026-12-02T00:00:00Z); tests add seconds to it.
pub const T0: i64 = 1_796_169_600;

/// An app and the directory holding its database (removed on drop).
pub struct Kit {
    pub app: App,
    dir: PathBuf,
}

impl Drop for Kit {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Kit {
    /// A fresh app; `tune` adjusts the configuration first.
    pub async fn new(tune: impl FnOnce(&mut Config)) -> Kit {
        let dir = std::env::temp_dir().join(format!("tessera-kit-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("kit dir");
        let mut config = Config {
            database_url: format!("sqlite://{}", dir.join("t.db").display()),
            key_encryption_key_file: Some(dir.join("kek")),
            argon2_memory_kib: 8 * 1024,
            argon2_iterations: 1,
            ..Config::default()
        };
        std::fs::write(
            dir.join("kek"),
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )
        .expect("kek file");
        tune(&mut config);
        config.validate().expect("kit config");
        let app = App::start(config, "https://id.example.test".into(), T0)
            .await
            .expect("app starts");
        Kit { app, dir }
    }

    /// A user with a password; returns the id.
    pub async fn user(&self, username: &str, password: &str) -> String {
        self.app
            .users
            .create(
                NewUser {
                    username: username.into(),
                    email: None,
                    email_verified: false,
                    name: None,
                    password: Some(password.into()),
                },
                T0,
            )
            .await
            .expect("user")
            .id
    }

    /// A confidential first-party client; returns the client id.
    pub async fn client(&self, name: &str) -> String {
        let (client, _secret) = self
            .app
            .clients
            .create(
                NewClient {
                    client_id: None,
                    name: name.into(),
                    public: false,
                    redirect_uris: vec!["https://rp.example.test/cb".into()],
                    post_logout_redirect_uris: Vec::new(),
                    grant_types: Vec::new(),
                    scopes: Vec::new(),
                    first_party: true,
                    id_token_signed_response_alg: None,
                },
                T0,
            )
            .await
            .expect("client");
        client.client_id
    }
}
