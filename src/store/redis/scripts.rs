//! The Lua scripts, one file each under `scripts/` (what each does is at
//! its top), loaded once: a script is hashed when it is made, so a script
//! made per call paid for its SHA-1 on every command.

use std::sync::LazyLock;

use redis::Script;

pub(super) static FIND: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/find.lua")));
pub(super) static TOUCH: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/touch.lua")));
pub(super) static AUTHENTICATED: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/authenticated.lua")));
pub(super) static REVOKE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/revoke.lua")));
pub(super) static REVOKE_USER: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/revoke_user.lua")));
pub(super) static INSERT_REFRESH: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/insert_refresh.lua")));
pub(super) static BIND_KEY: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/bind_key.lua")));
pub(super) static ROTATE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/rotate.lua")));
pub(super) static PURGE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/purge.lua")));
pub(super) static PURGE_ROTATED: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/purge_rotated.lua")));
pub(super) static COUNT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/count.lua")));
