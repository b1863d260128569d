//! A browser's DPoP key, signing proofs as the WASM client does.

/// A P-256 key.
pub struct DpopKey(p256::ecdsa::SigningKey);

impl Default for DpopKey {
    fn default() -> Self {
        Self::new()
    }
}

impl DpopKey {
    pub fn new() -> Self {
        Self(p256::ecdsa::SigningKey::from_slice(&rand::random::<[u8; 32]>()).unwrap())
    }

    /// A proof for `POST htu`, issued `skew` seconds from now.
    pub fn proof_at(&self, htu: &str, skew: i64) -> String {
        let iat = time::OffsetDateTime::now_utc().unix_timestamp() + skew;
        self.proof_claims("POST", htu, iat, None)
    }

    /// A proof for `htm htu` with exactly this `iat`, and `ath` (the hash of
    /// the access token it goes with) if given.
    pub fn proof_claims(&self, htm: &str, htu: &str, iat: i64, ath: Option<&str>) -> String {
        use jsonwebtoken::{jwk::Jwk, Algorithm, EncodingKey, Header};
        use p256::pkcs8::EncodePrivateKey as _;
        let key = EncodingKey::from_ec_der(self.0.to_pkcs8_der().unwrap().as_bytes());
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        let jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).unwrap();
        header.jwk = Some(Jwk {
            common: Default::default(),
            algorithm: jwk.algorithm,
        });
        let mut claims = serde_json::json!({
            "jti": uuid::Uuid::now_v7().to_string(),
            "htm": htm,
            "htu": htu,
            "iat": iat,
        });
        if let Some(ath) = ath {
            claims["ath"] = ath.into();
        }
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }

    /// A proof for `GET htu` sent with `access_token`, issued now.
    pub fn proof_for_token(&self, htu: &str, access_token: &str) -> String {
        use base64::Engine as _;
        use sha2::Digest as _;
        let iat = time::OffsetDateTime::now_utc().unix_timestamp();
        let digest = sha2::Sha256::digest(access_token.as_bytes());
        let ath = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
        self.proof_claims("GET", htu, iat, Some(&ath))
    }

    /// A proof for `POST htu`, issued now.
    pub fn proof(&self, htu: &str) -> String {
        self.proof_at(htu, 0)
    }
}
