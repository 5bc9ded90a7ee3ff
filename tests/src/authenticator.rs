//! A software WebAuthn authenticator for the black-box tests, playing the browser (client) and
//! the authenticator at once: it answers the `options` of Tessera's passkey API with the JSON a
//! browser's `PublicKeyCredential.toJSON()` produces (base64url without padding).
//!
//! Credentials are ES256 (P-256, ASN.1 DER signatures, aws-lc-rs), discoverable (each keeps the
//! user handle it was created for), with a sign counter the test can set. Flags (UP, UV, BE, BS)
//! are per authenticator. Attestation is `none`.
//!
//! It does not protect the relying party from itself: `excludeCredentials` is ignored (the
//! server must refuse duplicates) and [`Forge`] bends single ceremonies (RP id hash, signature,
//! credential id, challenge, client data type); a wrong origin is just another `origin` argument,
//! a counter going backwards is [`Authenticator::set_counter`], a cloned key is
//! [`Authenticator::export`] + [`Authenticator::import`].

use aws_lc_rs::digest::{digest, SHA256};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;
use serde_json::{json, Value};

/// authenticatorData flag bits (WebAuthn 6.1).
pub const FLAG_UP: u8 = 0x01;
pub const FLAG_UV: u8 = 0x04;
pub const FLAG_BE: u8 = 0x08;
pub const FLAG_BS: u8 = 0x10;
pub const FLAG_AT: u8 = 0x40;

/// COSE algorithm ES256.
pub const COSE_ES256: i64 = -7;

/// The flags an authenticator sets in its answers (AT is added to registrations).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flags {
    /// User present.
    pub up: bool,
    /// User verified.
    pub uv: bool,
    /// Backup eligible (a synced passkey).
    pub be: bool,
    /// Backed up.
    pub bs: bool,
}

impl Flags {
    /// A device-bound platform key with user verification: UP | UV.
    pub fn device_bound() -> Flags {
        Flags {
            up: true,
            uv: true,
            be: false,
            bs: false,
        }
    }

    /// A synced passkey: UP | UV | BE | BS.
    pub fn synced() -> Flags {
        Flags {
            be: true,
            bs: true,
            ..Flags::device_bound()
        }
    }

    pub fn bits(self) -> u8 {
        let mut b = 0;
        if self.up {
            b |= FLAG_UP;
        }
        if self.uv {
            b |= FLAG_UV;
        }
        if self.be {
            b |= FLAG_BE;
        }
        if self.bs {
            b |= FLAG_BS;
        }
        b
    }
}

impl Default for Flags {
    fn default() -> Self {
        Flags::device_bound()
    }
}

/// One resident credential: key pair, id, RP, user handle, counter.
#[derive(Clone)]
pub struct Credential {
    pub id: Vec<u8>,
    pub rp_id: String,
    pub user_handle: Vec<u8>,
    /// The last counter value used; the next assertion sends `counter + 1`.
    pub counter: u32,
    pkcs8: Vec<u8>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("id", &self.id_b64())
            .field("rp_id", &self.rp_id)
            .field("user_handle", &b64(&self.user_handle))
            .field("counter", &self.counter)
            .finish_non_exhaustive()
    }
}

impl Credential {
    fn generate(id: Vec<u8>, rp_id: &str, user_handle: Vec<u8>) -> Credential {
        let key =
            EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).expect("generate a P-256 key");
        let pkcs8 = key.to_pkcs8v1().expect("export PKCS#8").as_ref().to_vec();
        Credential {
            id,
            rp_id: rp_id.to_string(),
            user_handle,
            counter: 0,
            pkcs8,
        }
    }

    /// The credential id, base64url (what the server uses as passkey id).
    pub fn id_b64(&self) -> String {
        b64(&self.id)
    }

    fn key_pair(&self) -> EcdsaKeyPair {
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &self.pkcs8)
            .expect("stored PKCS#8 key")
    }

    /// The uncompressed public point `04 || x || y`.
    pub fn public_key(&self) -> Vec<u8> {
        self.key_pair().public_key().as_ref().to_vec()
    }

    /// The COSE_Key (EC2, P-256, ES256) of the public key, CTAP2 canonical order.
    pub fn cose_key(&self) -> Vec<u8> {
        let point = self.public_key();
        assert_eq!(point.len(), 65, "uncompressed P-256 point");
        Cbor::Map(vec![
            (Cbor::Int(1), Cbor::Int(2)),                         // kty: EC2
            (Cbor::Int(3), Cbor::Int(COSE_ES256)),                // alg: ES256
            (Cbor::Int(-1), Cbor::Int(1)),                        // crv: P-256
            (Cbor::Int(-2), Cbor::Bytes(point[1..33].to_vec())),  // x
            (Cbor::Int(-3), Cbor::Bytes(point[33..65].to_vec())), // y
        ])
        .encode()
    }

    /// ASN.1 DER ECDSA signature over `message` (SHA-256 inside).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.key_pair()
            .sign(&SystemRandom::new(), message)
            .expect("ECDSA signing")
            .as_ref()
            .to_vec()
    }
}

/// Deviations from an honest answer, for one ceremony.
#[derive(Clone, Debug, Default)]
pub struct Forge {
    /// Hash this RP id into authenticatorData instead of the one in the options.
    pub rp_id_hash_of: Option<String>,
    /// Flip a bit of the signature (assertions).
    pub tamper_signature: bool,
    /// Registration: create the credential under this id. Assertion: answer with this
    /// credential (which must be held) whatever `allowCredentials` says.
    pub credential_id: Option<Vec<u8>>,
    /// Put this challenge (base64url) into clientDataJSON instead of the one in the options.
    pub challenge: Option<String>,
    /// Put this `type` into clientDataJSON (e.g. `webauthn.create` in an assertion).
    pub client_data_type: Option<String>,
    /// Send this `userHandle` (base64url; `Some("")` omits it) instead of the credential's.
    pub user_handle: Option<String>,
}

impl Forge {
    pub fn rp_id(rp_id: &str) -> Forge {
        Forge {
            rp_id_hash_of: Some(rp_id.to_string()),
            ..Forge::default()
        }
    }

    pub fn bad_signature() -> Forge {
        Forge {
            tamper_signature: true,
            ..Forge::default()
        }
    }

    pub fn credential_id(id: &[u8]) -> Forge {
        Forge {
            credential_id: Some(id.to_vec()),
            ..Forge::default()
        }
    }
}

/// The software authenticator: a set of resident credentials and the flags it reports.
#[derive(Clone, Debug, Default)]
pub struct Authenticator {
    credentials: Vec<Credential>,
    pub flags: Flags,
}

#[derive(Serialize)]
struct ClientData<'a> {
    #[serde(rename = "type")]
    type_: &'a str,
    challenge: &'a str,
    origin: &'a str,
    #[serde(rename = "crossOrigin")]
    cross_origin: bool,
}

/// base64url without padding.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url (padding tolerated).
pub fn b64_decode(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .unwrap_or_else(|e| panic!("not base64url ({e}): {text:?}"))
}

pub fn sha256(bytes: &[u8]) -> Vec<u8> {
    digest(&SHA256, bytes).as_ref().to_vec()
}

/// The `publicKey` member of WebAuthn options; accepts the whole start response
/// (`{"ceremony_id", "options": {"publicKey": ...}}`), the options, or `publicKey` itself.
pub fn public_key_options(options: &Value) -> &Value {
    let options = options.get("options").unwrap_or(options);
    options.get("publicKey").unwrap_or(options)
}

fn str_member<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for key in path {
        cur = cur
            .get(key)
            .unwrap_or_else(|| panic!("options lack `{}`: {v}", path.join(".")));
    }
    cur.as_str()
        .unwrap_or_else(|| panic!("options `{}` is not a string: {v}", path.join(".")))
}

fn client_data(type_: &str, challenge: &str, origin: &str) -> Vec<u8> {
    serde_json::to_vec(&ClientData {
        type_,
        challenge,
        origin,
        cross_origin: false,
    })
    .expect("serialize clientDataJSON")
}

/// rpIdHash || flags || signCount (big-endian), the fixed head of authenticatorData.
fn auth_data_head(rp_id: &str, flags: u8, counter: u32) -> Vec<u8> {
    let mut out = sha256(rp_id.as_bytes());
    out.push(flags);
    out.extend_from_slice(&counter.to_be_bytes());
    out
}

impl Authenticator {
    /// An empty device-bound authenticator (flags UP | UV).
    pub fn new() -> Authenticator {
        Authenticator::default()
    }

    /// An empty authenticator reporting `flags`.
    pub fn with_flags(flags: Flags) -> Authenticator {
        Authenticator {
            credentials: Vec::new(),
            flags,
        }
    }

    pub fn credentials(&self) -> &[Credential] {
        &self.credentials
    }

    fn find_mut(&mut self, id: &[u8]) -> &mut Credential {
        self.credentials
            .iter_mut()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("the authenticator holds no credential {}", b64(id)))
    }

    /// The credential with base64url id `id`.
    pub fn credential(&self, id: &str) -> &Credential {
        let raw = b64_decode(id);
        self.credentials
            .iter()
            .find(|c| c.id == raw)
            .unwrap_or_else(|| panic!("the authenticator holds no credential {id}"))
    }

    /// The only credential (panics unless there is exactly one).
    pub fn only(&self) -> &Credential {
        assert_eq!(
            self.credentials.len(),
            1,
            "expected exactly one credential: {:?}",
            self.credentials
        );
        &self.credentials[0]
    }

    /// Sets the last used counter of credential `id` (base64url): the next assertion sends
    /// `counter + 1`.
    pub fn set_counter(&mut self, id: &str, counter: u32) {
        self.find_mut(&b64_decode(id)).counter = counter;
    }

    pub fn counter(&self, id: &str) -> u32 {
        self.credential(id).counter
    }

    /// A copy of credential `id`, private key included (to clone it into another authenticator).
    pub fn export(&self, id: &str) -> Credential {
        self.credential(id).clone()
    }

    /// Adds a credential (for example one exported from another authenticator).
    pub fn import(&mut self, credential: Credential) {
        self.credentials.retain(|c| c.id != credential.id);
        self.credentials.push(credential);
    }

    /// Forgets credential `id`.
    pub fn remove(&mut self, id: &str) {
        let raw = b64_decode(id);
        self.credentials.retain(|c| c.id != raw);
    }

    /// `navigator.credentials.create()`: a new resident credential for the RP and user of
    /// `options`, answered as registration JSON.
    pub fn create(&mut self, options: &Value, origin: &str) -> Value {
        self.create_with(options, origin, &Forge::default())
    }

    /// [`Authenticator::create`] with deviations.
    pub fn create_with(&mut self, options: &Value, origin: &str, forge: &Forge) -> Value {
        let pk = public_key_options(options);
        let rp_id = str_member(pk, &["rp", "id"]).to_string();
        let challenge = str_member(pk, &["challenge"]);
        let user_handle = b64_decode(str_member(pk, &["user", "id"]));
        let offers_es256 = pk
            .get("pubKeyCredParams")
            .and_then(Value::as_array)
            .is_some_and(|ps| {
                ps.iter()
                    .any(|p| p.get("alg").and_then(Value::as_i64) == Some(COSE_ES256))
            });
        assert!(offers_es256, "the RP does not offer ES256: {pk}");

        let id = forge.credential_id.clone().unwrap_or_else(|| {
            let mut id = vec![0u8; 32];
            aws_lc_rs::rand::fill(&mut id).expect("random credential id");
            id
        });
        let credential = Credential::generate(id, &rp_id, user_handle);

        let client_data_json = client_data(
            forge
                .client_data_type
                .as_deref()
                .unwrap_or("webauthn.create"),
            forge.challenge.as_deref().unwrap_or(challenge),
            origin,
        );
        let hashed_rp = forge.rp_id_hash_of.as_deref().unwrap_or(&rp_id);
        let mut auth_data =
            auth_data_head(hashed_rp, self.flags.bits() | FLAG_AT, credential.counter);
        auth_data.extend_from_slice(&[0u8; 16]); // AAGUID
        let id_len = u16::try_from(credential.id.len()).expect("credential id length");
        auth_data.extend_from_slice(&id_len.to_be_bytes());
        auth_data.extend_from_slice(&credential.id);
        auth_data.extend_from_slice(&credential.cose_key());

        let attestation_object = Cbor::Map(vec![
            (Cbor::text("fmt"), Cbor::text("none")),
            (Cbor::text("attStmt"), Cbor::Map(Vec::new())),
            (Cbor::text("authData"), Cbor::Bytes(auth_data)),
        ])
        .encode();

        let id = credential.id_b64();
        self.import(credential);
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(&client_data_json),
                "attestationObject": b64(&attestation_object),
                "transports": ["internal"],
            },
            "extensions": {},
        })
    }

    /// `navigator.credentials.get()`: an assertion by an allowed credential (any held
    /// credential for the RP when `allowCredentials` is empty), counter incremented.
    pub fn get(&mut self, options: &Value, origin: &str) -> Value {
        self.get_with(options, origin, &Forge::default())
    }

    /// [`Authenticator::get`] with deviations.
    pub fn get_with(&mut self, options: &Value, origin: &str, forge: &Forge) -> Value {
        let pk = public_key_options(options);
        let rp_id = str_member(pk, &["rpId"]).to_string();
        let challenge = str_member(pk, &["challenge"]).to_string();
        let allowed: Vec<Vec<u8>> = pk
            .get("allowCredentials")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|c| c.get("id").and_then(Value::as_str))
                    .map(b64_decode)
                    .collect()
            })
            .unwrap_or_default();
        let chosen_id = match &forge.credential_id {
            Some(id) => id.clone(),
            None => self
                .credentials
                .iter()
                .find(|c| c.rp_id == rp_id && (allowed.is_empty() || allowed.contains(&c.id)))
                .map(|c| c.id.clone())
                .unwrap_or_else(|| {
                    panic!(
                        "no credential for RP {rp_id} among {:?} (allowed: {:?})",
                        self.credentials,
                        allowed.iter().map(|a| b64(a)).collect::<Vec<_>>()
                    )
                }),
        };
        let flags = self.flags.bits();
        let credential = self.find_mut(&chosen_id);
        credential.counter = credential.counter.wrapping_add(1);
        let credential = credential.clone();

        let client_data_json = client_data(
            forge.client_data_type.as_deref().unwrap_or("webauthn.get"),
            forge.challenge.as_deref().unwrap_or(&challenge),
            origin,
        );
        let hashed_rp = forge.rp_id_hash_of.as_deref().unwrap_or(&rp_id);
        let auth_data = auth_data_head(hashed_rp, flags, credential.counter);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&sha256(&client_data_json));
        let mut signature = credential.sign(&signed);
        if forge.tamper_signature {
            // The last byte belongs to the integer s: the DER stays well-formed, the
            // signature wrong.
            *signature.last_mut().expect("non-empty signature") ^= 0x01;
        }
        let user_handle = match forge.user_handle.as_deref() {
            Some("") => Value::Null,
            Some(h) => Value::String(h.to_string()),
            None => Value::String(b64(&credential.user_handle)),
        };
        let id = credential.id_b64();
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(&client_data_json),
                "authenticatorData": b64(&auth_data),
                "signature": b64(&signature),
                "userHandle": user_handle,
            },
            "extensions": {},
        })
    }
}

/// The little CBOR (RFC 8949) WebAuthn needs: definite lengths, no floats or tags. Maps keep
/// the order given (write them in CTAP2 canonical order).
#[derive(Clone, Debug, PartialEq)]
pub enum Cbor {
    Int(i64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Cbor>),
    Map(Vec<(Cbor, Cbor)>),
}

impl Cbor {
    pub fn text(s: &str) -> Cbor {
        Cbor::Text(s.to_string())
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Cbor::Int(n) if *n >= 0 => head(out, 0, n.unsigned_abs()),
            // -1 - n for major type 1.
            Cbor::Int(n) => head(out, 1, (-1 - *n) as u64),
            Cbor::Bytes(b) => {
                head(out, 2, b.len() as u64);
                out.extend_from_slice(b);
            }
            Cbor::Text(s) => {
                head(out, 3, s.len() as u64);
                out.extend_from_slice(s.as_bytes());
            }
            Cbor::Array(items) => {
                head(out, 4, items.len() as u64);
                for item in items {
                    item.write(out);
                }
            }
            Cbor::Map(entries) => {
                head(out, 5, entries.len() as u64);
                for (k, v) in entries {
                    k.write(out);
                    v.write(out);
                }
            }
        }
    }
}

fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    if n < 24 {
        out.push(m | n as u8);
    } else if n <= u64::from(u8::MAX) {
        out.push(m | 24);
        out.push(n as u8);
    } else if n <= u64::from(u16::MAX) {
        out.push(m | 25);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n <= u64::from(u32::MAX) {
        out.push(m | 26);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1};

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn cbor_matches_rfc8949_examples() {
        let cases: Vec<(Cbor, &str)> = vec![
            (Cbor::Int(0), "00"),
            (Cbor::Int(23), "17"),
            (Cbor::Int(24), "1818"),
            (Cbor::Int(100), "1864"),
            (Cbor::Int(1000), "1903e8"),
            (Cbor::Int(1_000_000), "1a000f4240"),
            (Cbor::Int(1_000_000_000_000), "1b000000e8d4a51000"),
            (Cbor::Int(-1), "20"),
            (Cbor::Int(-7), "26"),
            (Cbor::Int(-100), "3863"),
            (Cbor::Int(-1000), "3903e7"),
            (Cbor::Bytes(vec![1, 2, 3, 4]), "4401020304"),
            (Cbor::text(""), "60"),
            (Cbor::text("IETF"), "6449455446"),
            (
                Cbor::Array(vec![Cbor::Int(1), Cbor::Int(2), Cbor::Int(3)]),
                "83010203",
            ),
            (
                Cbor::Map(vec![
                    (Cbor::Int(1), Cbor::Int(2)),
                    (Cbor::Int(3), Cbor::Int(4)),
                ]),
                "a201020304",
            ),
            (Cbor::Map(Vec::new()), "a0"),
        ];
        for (value, expected) in cases {
            assert_eq!(hex(&value.encode()), expected, "{value:?}");
        }
        assert_eq!(hex(&Cbor::Bytes(vec![0; 300]).encode()[..3]), "59012c");
    }

    fn creation_options() -> Value {
        json!({"publicKey": {
            "rp": {"id": "example.test", "name": "Example"},
            "user": {"id": b64(&[7u8; 16]), "name": "alice", "displayName": "Alice"},
            "challenge": b64(b"registration challenge"),
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}],
        }})
    }

    fn request_options(allow: &[&str]) -> Value {
        let allow: Vec<Value> = allow
            .iter()
            .map(|id| json!({"type": "public-key", "id": id}))
            .collect();
        json!({"ceremony_id": "c", "options": {"publicKey": {
            "challenge": b64(b"assertion challenge"),
            "rpId": "example.test",
            "allowCredentials": allow,
            "userVerification": "required",
        }}})
    }

    fn field(v: &Value, name: &str) -> Vec<u8> {
        b64_decode(v["response"][name].as_str().unwrap())
    }

    #[test]
    fn registration_has_the_webauthn_layout() {
        let mut a = Authenticator::new();
        let cred = a.create(&creation_options(), "https://example.test");
        assert_eq!(cred["type"], "public-key");
        assert_eq!(cred["id"], cred["rawId"]);
        let client_data: Value = serde_json::from_slice(&field(&cred, "clientDataJSON")).unwrap();
        assert_eq!(
            client_data,
            json!({"type": "webauthn.create", "challenge": b64(b"registration challenge"),
                   "origin": "https://example.test", "crossOrigin": false})
        );

        let held = a.only().clone();
        assert_eq!(held.user_handle, vec![7u8; 16]);
        let mut auth_data = sha256(b"example.test");
        auth_data.push(FLAG_UP | FLAG_UV | FLAG_AT);
        auth_data.extend_from_slice(&[0, 0, 0, 0]);
        auth_data.extend_from_slice(&[0; 16]);
        auth_data.extend_from_slice(&[0, 32]);
        auth_data.extend_from_slice(&held.id);
        let cose = held.cose_key();
        assert_eq!(hex(&cose[..10]), "a5010203262001215820");
        auth_data.extend_from_slice(&cose);
        let expected = Cbor::Map(vec![
            (Cbor::text("fmt"), Cbor::text("none")),
            (Cbor::text("attStmt"), Cbor::Map(Vec::new())),
            (Cbor::text("authData"), Cbor::Bytes(auth_data)),
        ])
        .encode();
        assert_eq!(field(&cred, "attestationObject"), expected);
        assert_eq!(cred["response"]["transports"], json!(["internal"]));
    }

    #[test]
    fn assertions_verify_count_up_and_can_be_forged() {
        let mut a = Authenticator::with_flags(Flags::synced());
        a.create(&creation_options(), "https://example.test");
        let id = a.only().id_b64();
        let public = a.only().public_key();
        let origin = "https://example.test";

        let assertion = a.get(&request_options(&[]), origin);
        let auth_data = field(&assertion, "authenticatorData");
        assert_eq!(&auth_data[..32], sha256(b"example.test").as_slice());
        assert_eq!(auth_data[32], FLAG_UP | FLAG_UV | FLAG_BE | FLAG_BS);
        assert_eq!(&auth_data[33..37], &[0, 0, 0, 1]);
        assert_eq!(auth_data.len(), 37);
        assert_eq!(assertion["response"]["userHandle"], b64(&[7u8; 16]));
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&sha256(&field(&assertion, "clientDataJSON")));
        let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &public);
        key.verify(&signed, &field(&assertion, "signature"))
            .expect("assertion signature verifies");

        a.set_counter(&id, 41);
        let forged = a.get_with(&request_options(&[&id]), origin, &Forge::bad_signature());
        assert_eq!(a.counter(&id), 42);
        let auth_data = field(&forged, "authenticatorData");
        assert_eq!(&auth_data[33..37], &[0, 0, 0, 42]);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&sha256(&field(&forged, "clientDataJSON")));
        assert!(key.verify(&signed, &field(&forged, "signature")).is_err());

        let elsewhere = a.get_with(&request_options(&[]), origin, &Forge::rp_id("evil.test"));
        assert_eq!(
            &field(&elsewhere, "authenticatorData")[..32],
            sha256(b"evil.test").as_slice()
        );
    }

    #[test]
    #[should_panic(expected = "no credential for RP")]
    fn only_allowed_credentials_answer() {
        let mut a = Authenticator::new();
        a.create(&creation_options(), "https://example.test");
        a.get(
            &request_options(&[&b64(b"someone else")]),
            "https://example.test",
        );
    }

    #[test]
    fn a_clone_shares_the_key_but_not_the_counter() {
        let mut a = Authenticator::new();
        a.create(&creation_options(), "https://example.test");
        let id = a.only().id_b64();
        a.set_counter(&id, 10);
        let mut b = Authenticator::new();
        b.import(a.export(&id));
        b.set_counter(&id, 0);
        assert_eq!(a.only().public_key(), b.only().public_key());
        let from_b = b.get(&request_options(&[]), "https://example.test");
        assert_eq!(&field(&from_b, "authenticatorData")[33..37], &[0, 0, 0, 1]);
        assert_eq!(a.counter(&id), 10);
    }
}
