//! Signing keys for access tokens: loaded once at start-up.
//!
//! Keys are PKCS#8 PEM files in `JWT_KEYS_DIR`, named `<created>-<kid>.pem`
//! so that sorting by name sorts by age. The newest signs; all verify.
//!
//! - Dev: if the folder has no key, one is generated (folder 0700, file 0600).
//! - Prod: a missing or unreadable key stops start-up.
//! - Rotation: `server generate-key` adds a new key; restart (every
//!   instance) and it signs while the old ones still verify. Delete an old
//!   file once `JWT_ACCESS_TTL` has passed since the rotation.

use std::{
    fs,
    path::{Path, PathBuf},
};

use engine::jwt::KeyPair;

use crate::{
    config::AppEnv,
    error::{KeyProblem, StartupError},
};

/// Loads every key in `dir`, oldest first; generates one in dev if none.
///
/// # Errors
/// Unreadable files, malformed keys, or (in prod) no key at all.
pub fn load(dir: &Path, env: AppEnv) -> Result<Vec<KeyPair>, StartupError> {
    let mut keys = read_dir(dir)?;
    if keys.is_empty() {
        match env {
            AppEnv::Prod => return Err(StartupError::NoSigningKey(dir.to_path_buf())),
            AppEnv::Dev => {
                let path = generate(dir)?;
                tracing::info!(path = %path.display(), "generated a development signing key");
                keys = read_dir(dir)?;
            }
        }
    }
    Ok(keys)
}

/// Writes a new key into `dir` (created 0700 if needed) with mode 0600.
///
/// # Errors
/// The folder or file cannot be written.
pub fn generate(dir: &Path) -> Result<PathBuf, StartupError> {
    let io = key_problem(dir);
    fs::create_dir_all(dir).map_err(io)?;
    set_mode(dir, 0o700).map_err(io)?;
    let key = KeyPair::generate();
    let pem = key.to_pem().map_err(key_problem(dir))?;
    let created = time::OffsetDateTime::now_utc().unix_timestamp();
    let path = dir.join(format!("{created:012}-{}.pem", key.kid()));
    write_private(&path, pem.as_bytes()).map_err(io)?;
    Ok(path)
}

/// The CSRF signing key: the configured one (`CSRF_SECRET`), or in dev the
/// one kept in `dir/csrf.secret` (created 0600 on first start).
///
/// # Errors
/// The file cannot be read or written, or holds something else.
pub fn csrf_key(
    dir: &Path,
    configured: Option<&engine::csrf::CsrfKey>,
) -> Result<engine::csrf::CsrfKey, StartupError> {
    if let Some(key) = configured {
        return Ok(key.clone());
    }
    let path = dir.join(CSRF_SECRET_FILE);
    let io = key_problem(&path);
    match fs::read(&path) {
        Ok(bytes) => <[u8; 32]>::try_from(bytes.as_slice())
            .map(engine::csrf::CsrfKey::from_bytes)
            .map_err(|_| key_problem(&path)(KeyProblem::NotACsrfSecret)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(io)?;
            set_mode(dir, 0o700).map_err(io)?;
            let key = engine::csrf::CsrfKey::generate();
            write_private(&path, key.as_bytes()).map_err(io)?;
            tracing::info!(path = %path.display(), "generated a development CSRF secret");
            Ok(key)
        }
        Err(err) => Err(io(err)),
    }
}

/// File name of the development CSRF secret inside `JWT_KEYS_DIR`.
pub const CSRF_SECRET_FILE: &str = "csrf.secret";

fn read_dir(dir: &Path) -> Result<Vec<KeyPair>, StartupError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(key_problem(dir)(err)),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pem"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let pem = fs::read_to_string(path).map_err(key_problem(path))?;
            KeyPair::from_pem(&pem).map_err(key_problem(path))
        })
        .collect()
}

/// A [`StartupError::Keys`] for `path`, from whatever went wrong with it.
fn key_problem<E: Into<KeyProblem>>(path: &Path) -> impl Fn(E) -> StartupError + Copy + '_ {
    move |err| StartupError::Keys {
        path: path.to_path_buf(),
        source: err.into(),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::{io::Write as _, os::unix::fs::OpenOptionsExt as _};
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        file.write_all(bytes)
    }
    #[cfg(not(unix))]
    {
        fs::write(path, bytes)
    }
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_generates_a_private_key_once_and_reloads_it() {
        let dir = tempfile::tempdir().unwrap();
        let keys_dir = dir.path().join("keys");
        let first = load(&keys_dir, AppEnv::Dev).unwrap();
        let again = load(&keys_dir, AppEnv::Dev).unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].kid(), again[0].kid(), "persisted, not regenerated");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let file = fs::read_dir(&keys_dir)
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .path();
            assert_eq!(
                fs::metadata(&file).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(
                fs::metadata(&keys_dir).unwrap().permissions().mode() & 0o777,
                0o700
            );
        }
    }

    #[test]
    fn prod_refuses_to_start_without_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let err = load(&dir.path().join("none"), AppEnv::Prod)
            .unwrap_err()
            .to_string();
        assert!(err.contains("generate-key"), "{err}");
    }

    #[test]
    fn newest_key_comes_last() {
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let newest = generate(dir.path()).unwrap();
        let keys = load(dir.path(), AppEnv::Prod).unwrap();
        assert_eq!(keys.len(), 2);
        assert!(newest.to_string_lossy().contains(keys[1].kid()));
    }

    #[test]
    fn the_dev_csrf_secret_is_generated_once_privately() {
        let dir = tempfile::tempdir().unwrap();
        let first = csrf_key(dir.path(), None).unwrap();
        let again = csrf_key(dir.path(), None).unwrap();
        assert_eq!(first.as_bytes(), again.as_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(dir.path().join(CSRF_SECRET_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        fs::write(dir.path().join(CSRF_SECRET_FILE), "short").unwrap();
        assert!(csrf_key(dir.path(), None).is_err());
    }

    #[test]
    fn a_corrupt_key_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("000-bad.pem"), "garbage").unwrap();
        assert!(load(dir.path(), AppEnv::Dev).is_err());
    }
}
