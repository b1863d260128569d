//! The browser's DPoP key (RFC 9449): a P-256 key pair made by WebCrypto
//! with a **non-extractable** private key, kept in IndexedDB (which stores
//! the key object itself, so it survives reloads and no script can read it
//! out), signing one proof per refresh. The server binds the session to
//! the key on its first proven refresh; copied cookies then mint nothing.
//!
//! Where WebCrypto or IndexedDB is missing, no proof is sent and the
//! session simply stays unbound.

use std::{cell::RefCell, rc::Rc};

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::{closure::Closure, JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    CryptoKey, CryptoKeyPair, IdbDatabase, IdbOpenDbRequest, IdbRequest, IdbTransactionMode,
};

use crate::record::Record;

const DATABASE: &str = "leptos-sessions";
const STORE: &str = "keys";
const ENTRY: &str = "dpop";

/// The loaded key: the private half for signing, the public half as the
/// proof header's `jwk`.
struct Key {
    private: CryptoKey,
    jwk: String,
}

thread_local! {
    static KEY: RefCell<Option<Rc<Key>>> = const { RefCell::new(None) };
}

/// A proof for `method` to `path` on this origin (sent with
/// `access_token`, to a resource: the proof then names its hash, `ath`), or
/// `None` without WebCrypto or IndexedDB.
pub async fn proof(method: &str, path: &str, access_token: Option<&str>) -> Option<String> {
    let key = key().await?;
    let window = web_sys::window()?;
    let crypto = window.crypto().ok()?;
    let htu = format!("{}{path}", window.location().origin().ok()?);
    let header = format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{}}}"#, key.jwk);
    let mut claims = Record::new()
        .with("jti", crypto.random_uuid())
        .with("htm", method)
        .with("htu", htu)
        .with("iat", (js_sys::Date::now() / 1000.0).floor());
    if let Some(token) = access_token {
        let hashing = crypto
            .subtle()
            .digest_with_str_and_u8_array("SHA-256", token.as_bytes())
            .ok()?;
        let digest = Uint8Array::new(&JsFuture::from(hashing).await.ok()?).to_vec();
        claims = claims.with("ath", base64url(&digest)?);
    }
    let input = format!(
        "{}.{}",
        base64url(header.as_bytes())?,
        base64url(claims.to_json()?.as_bytes())?
    );
    let algorithm = Record::new().with("name", "ECDSA").with("hash", "SHA-256");
    let signing = crypto
        .subtle()
        .sign_with_object_and_u8_array(algorithm.as_ref(), &key.private, input.as_bytes())
        .ok()?;
    // WebCrypto's ECDSA signature is r ‖ s, as JWS wants it.
    let signature = Uint8Array::new(&JsFuture::from(signing).await.ok()?).to_vec();
    Some(format!("{input}.{}", base64url(&signature)?))
}

/// This browser's key: loaded once per page, made on first use.
async fn key() -> Option<Rc<Key>> {
    if let Some(key) = KEY.with_borrow(Clone::clone) {
        return Some(key);
    }
    let db = open().await?;
    let pair = match read(&db).await {
        Some(pair) => pair,
        None => {
            let made = generate().await?;
            // `add`, not `put`: if another tab stored one meanwhile, use
            // that one, so every tab signs with the key the server bound.
            match request(
                store(&db, IdbTransactionMode::Readwrite)?.add_with_key(&made, &ENTRY.into()),
            )
            .await
            {
                Some(_) => made,
                None => read(&db).await?,
            }
        }
    };
    let pair: CryptoKeyPair = pair.unchecked_into();
    let key = Rc::new(Key {
        jwk: public_jwk(&pair.get_public_key()).await?,
        private: pair.get_private_key(),
    });
    KEY.with_borrow_mut(|k| *k = Some(key.clone()));
    Some(key)
}

/// A new ECDSA P-256 pair whose private key cannot be exported.
async fn generate() -> Option<JsValue> {
    let crypto = web_sys::window()?.crypto().ok()?;
    let algorithm = Record::new()
        .with("name", "ECDSA")
        .with("namedCurve", "P-256");
    let usages = Array::of1(&"sign".into());
    let making = crypto
        .subtle()
        .generate_key_with_object(algorithm.as_ref(), false, &usages)
        .ok()?;
    JsFuture::from(making).await.ok()
}

/// The public key as the proof's `jwk`: only the members RFC 7638 hashes.
async fn public_jwk(public: &CryptoKey) -> Option<String> {
    let crypto = web_sys::window()?.crypto().ok()?;
    let exporting = crypto.subtle().export_key("jwk", public).ok()?;
    let jwk = JsFuture::from(exporting).await.ok()?;
    let member = |name: &str| Reflect::get(&jwk, &name.into()).ok()?.as_string();
    Record::new()
        .with("crv", member("crv")?)
        .with("kty", member("kty")?)
        .with("x", member("x")?)
        .with("y", member("y")?)
        .to_json()
}

async fn open() -> Option<IdbDatabase> {
    let factory = web_sys::window()?.indexed_db().ok()??;
    let opening: IdbOpenDbRequest = factory.open_with_u32(DATABASE, 1).ok()?;
    let upgrade = Closure::once_into_js({
        let opening = opening.clone();
        move || {
            if let Ok(db) = opening.result() {
                let _ = db
                    .unchecked_into::<IdbDatabase>()
                    .create_object_store(STORE);
            }
        }
    });
    opening.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
    Some(request(Ok(opening.into())).await?.unchecked_into())
}

async fn read(db: &IdbDatabase) -> Option<JsValue> {
    let found = request(store(db, IdbTransactionMode::Readonly)?.get(&ENTRY.into())).await?;
    (!found.is_undefined()).then_some(found)
}

fn store(db: &IdbDatabase, mode: IdbTransactionMode) -> Option<web_sys::IdbObjectStore> {
    db.transaction_with_str_and_mode(STORE, mode)
        .ok()?
        .object_store(STORE)
        .ok()
}

/// An IndexedDB request's result, once it succeeds.
async fn request(req: Result<IdbRequest, JsValue>) -> Option<JsValue> {
    let req = req.ok()?;
    let settled = js_sys::Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
    });
    JsFuture::from(settled).await.ok()?;
    req.result().ok()
}

/// base64url without padding, through the browser's `btoa`.
fn base64url(bytes: &[u8]) -> Option<String> {
    let binary: String = bytes.iter().map(|&b| char::from(b)).collect();
    let standard = web_sys::window()?.btoa(&binary).ok()?;
    Some(
        standard
            .trim_end_matches('=')
            .replace('+', "-")
            .replace('/', "_"),
    )
}
