//! What the database needs before the engine opens it: a private folder
//! for a SQLite file (the engine's `store::open` connects and migrates).

use std::path::Path;

use crate::error::StartupError;

/// Creates the folder of `url`'s SQLite database file, readable by this
/// user only.
///
/// # Errors
/// The folder cannot be created.
pub fn prepare(url: &str) -> Result<(), StartupError> {
    if let Some(file) = sqlite_file(url) {
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
    }
    Ok(())
}

/// The file behind a `sqlite://` URL (not for in-memory databases).
fn sqlite_file(url: &str) -> Option<&Path> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && !path.starts_with(':')).then(|| Path::new(path))
}

/// Creates the data directory, readable by this user only: it holds the
/// database and, in development, keys.
fn create_private_dir(dir: &Path) -> Result<(), StartupError> {
    let err = |source| StartupError::DataDir {
        path: dir.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sqlite_files_need_a_directory() {
        assert_eq!(
            sqlite_file("sqlite://data/app.db"),
            Some(Path::new("data/app.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:data/app.db?mode=rwc"),
            Some(Path::new("data/app.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://h/db"), None);
    }
}
