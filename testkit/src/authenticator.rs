//! A software passkey authenticator, for tests: what a browser and a
//! platform authenticator (ES256, user verification, a resident key)
//! return from `navigator.credentials.create` and `.get`, as the JSON the
//! browser's `toJSON()` makes.
//!
//! Written here (about 150 lines) rather than taken from a crate: the
//! software authenticators on crates.io bring an HTTP client, a mocking
//! library and a second copy of the elliptic-curve crates into every test
//! build, and switch on serde_json features that would split the build
//! cache between `cargo test` and the site build.

use p256::ecdsa::{signature::Signer as _, Signature, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

/// One passkey on one authenticator.
#[derive(Clone)]
pub struct Authenticator {
    key: SigningKey,
    credential_id: Vec<u8>,
    user_handle: Vec<u8>,
    rp_id: String,
    /// The signature counter; each use moves it forward by one.
    pub counter: u32,
}

impl Default for Authenticator {
    fn default() -> Self {
        Self::new()
    }
}

impl Authenticator {
    pub fn new() -> Self {
        Self {
            key: SigningKey::from_slice(&rand::random::<[u8; 32]>()).expect("key"),
            credential_id: rand::random::<[u8; 16]>().to_vec(),
            user_handle: Vec::new(),
            rp_id: String::new(),
            counter: 0,
        }
    }

    /// `navigator.credentials.create(options)` in a page of `origin`:
    /// `options` is the server's `{"publicKey": …}`.
    pub fn register(&mut self, options: &Value, origin: &str) -> Value {
        let options = &options["publicKey"];
        self.rp_id = options["rp"]["id"].as_str().expect("rp.id").to_owned();
        self.user_handle = b64_decode(options["user"]["id"].as_str().expect("user.id"));
        let client_data = client_data("webauthn.create", options, origin);
        let mut auth_data = self.auth_data(0x45); // UP, UV, attested data
        auth_data.extend_from_slice(&[0; 16]); // AAGUID: none
        let id_len = u16::try_from(self.credential_id.len()).expect("id length");
        auth_data.extend_from_slice(&id_len.to_be_bytes());
        auth_data.extend_from_slice(&self.credential_id);
        auth_data.extend_from_slice(&self.cose_key());
        let mut attestation = Vec::new();
        cbor_map(&mut attestation, 3);
        cbor_text(&mut attestation, "fmt");
        cbor_text(&mut attestation, "none");
        cbor_text(&mut attestation, "attStmt");
        cbor_map(&mut attestation, 0);
        cbor_text(&mut attestation, "authData");
        cbor_bytes(&mut attestation, &auth_data);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&attestation),
                "clientDataJSON": b64(&client_data),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        })
    }

    /// `navigator.credentials.get(options)` in a page of `origin`.
    pub fn assert(&mut self, options: &Value, origin: &str) -> Value {
        let options = &options["publicKey"];
        self.counter += 1;
        let client_data = client_data("webauthn.get", options, origin);
        let auth_data = self.auth_data(0x05); // UP, UV
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&signed);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(signature.to_der().as_bytes()),
                "userHandle": b64(&self.user_handle),
            },
            "clientExtensionResults": {},
        })
    }

    /// As [`Authenticator::assert`], with another user handle (an
    /// authenticator lying about whose passkey it is).
    pub fn assert_as(&mut self, options: &Value, origin: &str, handle: &[u8]) -> Value {
        let mut response = self.assert(options, origin);
        response["response"]["userHandle"] = json!(b64(handle));
        response
    }

    fn auth_data(&self, flags: u8) -> Vec<u8> {
        let mut data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend_from_slice(&self.counter.to_be_bytes());
        data
    }

    /// The public key as COSE (EC2, ES256, P-256).
    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_encoded_point(false);
        let mut key = Vec::new();
        cbor_map(&mut key, 5);
        cbor_int(&mut key, 1); // kty: EC2
        cbor_int(&mut key, 2);
        cbor_int(&mut key, 3); // alg: ES256
        cbor_int(&mut key, -7);
        cbor_int(&mut key, -1); // crv: P-256
        cbor_int(&mut key, 1);
        cbor_int(&mut key, -2); // x
        cbor_bytes(&mut key, point.x().expect("x"));
        cbor_int(&mut key, -3); // y
        cbor_bytes(&mut key, point.y().expect("y"));
        key
    }
}

fn client_data(kind: &str, options: &Value, origin: &str) -> Vec<u8> {
    let challenge = options["challenge"].as_str().expect("challenge");
    json!({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false})
        .to_string()
        .into_bytes()
}

pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn b64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .expect("base64url")
}

// The little CBOR (RFC 8949) an attestation object needs.
fn cbor_head(out: &mut Vec<u8>, major: u8, n: u64) {
    let major = major << 5;
    match n {
        0..=23 => out.push(major | n as u8),
        24..=0xff => out.extend_from_slice(&[major | 24, n as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        _ => {
            out.push(major | 26);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }
}

fn cbor_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        cbor_head(out, 0, n as u64);
    } else {
        cbor_head(out, 1, (-1 - n) as u64);
    }
}

fn cbor_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    cbor_head(out, 2, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn cbor_text(out: &mut Vec<u8>, text: &str) {
    cbor_head(out, 3, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

fn cbor_map(out: &mut Vec<u8>, entries: u64) {
    cbor_head(out, 5, entries);
}
