//! A browser's DPoP key, signing proofs as the WASM client does (shared by
//! the HTTP and the two-instance tests).

/// A P-256 key.
pub struct DpopKey(p256::ecdsa::SigningKey);

impl DpopKey {
    pub fn new() -> Self {
        Self(p256::ecdsa::SigningKey::from_slice(&rand::random::<[u8; 32]>()).unwrap())
    }

    /// A proof for `POST htu`, issued `skew` seconds from now.
    pub fn proof_at(&self, htu: &str, skew: i64) -> String {
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
        let iat = time::OffsetDateTime::now_utc().unix_timestamp() + skew;
        let claims = serde_json::json!({
            "jti": uuid::Uuid::now_v7().to_string(),
            "htm": "POST",
            "htu": htu,
            "iat": iat,
        });
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }

    /// A proof for `POST htu`, issued now.
    pub fn proof(&self, htu: &str) -> String {
        self.proof_at(htu, 0)
    }
}
