//! Master keys: where they come from, which one is active, and picking up a rotation while the
//! server runs.
//!
//! Keys come either from `TANDEM_VAULT__KEYS` (`id:base64,id:base64`, fixed for the life of the
//! process) or from a key file (`id base64` per line). In both, the last key is the active one:
//! it seals new values, and the others only open values sealed before a rotation. A running
//! server notices a key file changed by `tandem keys rotate` (its modification time) before it
//! seals, and when it meets a key id it does not know.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use secrecy::{ExposeSecret, SecretBox};

use super::VaultError;

pub struct MasterKey {
    pub id: String,
    pub material: SecretBox<[u8; 32]>,
}

impl MasterKey {
    pub fn new(id: String, material: [u8; 32]) -> MasterKey {
        MasterKey {
            id,
            material: SecretBox::new(Box::new(material)),
        }
    }

    fn generate(id: String) -> Result<MasterKey, VaultError> {
        let mut material = [0u8; 32];
        getrandom::fill(&mut material).map_err(|e| VaultError::KeyConfig(format!("no randomness: {e}")))?;
        Ok(MasterKey::new(id, material))
    }

    fn encoded(&self) -> String {
        BASE64.encode(self.material.expose_secret())
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// From configuration (`TANDEM_VAULT__KEYS`); cannot be changed by Tandem.
    Inline,
    File(PathBuf),
}

/// What loading the keys did that an operator should know about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyringNotice {
    GeneratedDevelopmentKey(PathBuf),
    LoosePermissions(PathBuf),
}

/// A key file's modification time and length: enough to notice a rotation.
type FileStamp = (SystemTime, u64);

#[derive(Default)]
struct Loaded {
    keys: Vec<Arc<MasterKey>>,
    file_stamp: Option<FileStamp>,
}

pub struct Keyring {
    source: KeySource,
    loaded: RwLock<Loaded>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl Keyring {
    /// Keys from configuration text: `id:base64,id:base64`.
    pub fn from_inline(text: &str) -> Result<Keyring, VaultError> {
        let keys = text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                let (id, material) = part
                    .split_once(':')
                    .ok_or_else(|| VaultError::KeyConfig("vault.keys entries must look like id:base64key".into()))?;
                parse_key(id, material)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Keyring::with_keys(KeySource::Inline, keys, None)
    }

    /// Keys from a file, creating it with one development key when it does not exist.
    pub fn from_file(path: &Path) -> Result<(Keyring, Vec<KeyringNotice>), VaultError> {
        let mut notices = Vec::new();
        if !path.exists() {
            let key = MasterKey::generate("k1".into())?;
            write_key_file(path, &[Arc::new(key)])?;
            notices.push(KeyringNotice::GeneratedDevelopmentKey(path.to_path_buf()));
        } else if has_loose_permissions(path) {
            notices.push(KeyringNotice::LoosePermissions(path.to_path_buf()));
        }
        let (keys, stamp) = read_key_file(path)?;
        let keyring = Keyring::with_keys(KeySource::File(path.to_path_buf()), keys, stamp)?;
        Ok((keyring, notices))
    }

    fn with_keys(source: KeySource, keys: Vec<MasterKey>, stamp: Option<FileStamp>) -> Result<Keyring, VaultError> {
        check_keys(&keys)?;
        Ok(Keyring {
            source,
            loaded: RwLock::new(Loaded {
                keys: keys.into_iter().map(Arc::new).collect(),
                file_stamp: stamp,
            }),
        })
    }

    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// The key that seals new values, after picking up a changed key file.
    pub fn active(&self) -> Result<Arc<MasterKey>, VaultError> {
        self.reload_if_changed()?;
        let loaded = self.loaded.read().map_err(|_| poisoned())?;
        loaded
            .keys
            .last()
            .cloned()
            .ok_or_else(|| VaultError::KeyConfig("no master key".into()))
    }

    /// The key with this id, reloading the key file once if it is not known yet.
    pub fn get(&self, id: &str) -> Result<Arc<MasterKey>, VaultError> {
        if let Some(key) = self.find(id)? {
            return Ok(key);
        }
        self.reload_if_changed()?;
        self.find(id)?.ok_or_else(|| VaultError::UnknownKey(id.to_string()))
    }

    pub fn key_ids(&self) -> Result<Vec<String>, VaultError> {
        let loaded = self.loaded.read().map_err(|_| poisoned())?;
        Ok(loaded.keys.iter().map(|k| k.id.clone()).collect())
    }

    fn find(&self, id: &str) -> Result<Option<Arc<MasterKey>>, VaultError> {
        let loaded = self.loaded.read().map_err(|_| poisoned())?;
        Ok(loaded.keys.iter().find(|k| k.id == id).cloned())
    }

    fn reload_if_changed(&self) -> Result<(), VaultError> {
        let KeySource::File(path) = &self.source else {
            return Ok(());
        };
        let current = file_stamp(path);
        let known = self.loaded.read().map_err(|_| poisoned())?.file_stamp;
        if current.is_none() || current == known {
            return Ok(());
        }
        let (keys, stamp) = read_key_file(path)?;
        check_keys(&keys)?;
        let mut loaded = self.loaded.write().map_err(|_| poisoned())?;
        loaded.keys = keys.into_iter().map(Arc::new).collect();
        loaded.file_stamp = stamp;
        tracing::info!(key_file = %path.display(), "master keys reloaded");
        Ok(())
    }

    /// Generates a new key, appends it to the key file and makes it the active one.
    pub fn add_generated_key(&self) -> Result<String, VaultError> {
        let KeySource::File(path) = &self.source else {
            return Err(VaultError::KeyConfig(
                "the master keys come from TANDEM_VAULT__KEYS, which Tandem cannot change: \
                 run `tandem keys generate`, append its output to TANDEM_VAULT__KEYS, restart, \
                 then run `tandem keys rotate`"
                    .into(),
            ));
        };
        self.reload_if_changed()?;
        let mut loaded = self.loaded.write().map_err(|_| poisoned())?;
        let id = next_key_id(loaded.keys.iter().map(|k| k.id.as_str()));
        let mut keys = loaded.keys.clone();
        keys.push(Arc::new(MasterKey::generate(id.clone())?));
        write_key_file(path, &keys)?;
        loaded.keys = keys;
        loaded.file_stamp = file_stamp(path);
        Ok(id)
    }
}

/// A fresh key in the `id:base64` form `TANDEM_VAULT__KEYS` takes, with an id that sorts after
/// `existing`.
pub fn generate_key_line<'a>(existing: impl Iterator<Item = &'a str>) -> Result<String, VaultError> {
    let key = MasterKey::generate(next_key_id(existing))?;
    Ok(format!("{}:{}", key.id, key.encoded()))
}

fn next_key_id<'a>(existing: impl Iterator<Item = &'a str>) -> String {
    let highest = existing
        .filter_map(|id| id.strip_prefix('k').and_then(|n| n.parse::<u32>().ok()))
        .max()
        .unwrap_or(0);
    format!("k{}", highest + 1)
}

fn parse_key(id: &str, material: &str) -> Result<MasterKey, VaultError> {
    let id = id.trim();
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        return Err(VaultError::KeyConfig(format!(
            "key id {id:?} must be 1-64 letters, digits, '-', '_' or '.'"
        )));
    }
    let bytes = BASE64
        .decode(material.trim())
        .map_err(|_| VaultError::KeyConfig(format!("key {id:?} is not valid base64")))?;
    let material: [u8; 32] = bytes
        .try_into()
        .map_err(|_| VaultError::KeyConfig(format!("key {id:?} must be 32 bytes (base64 of 32 random bytes)")))?;
    Ok(MasterKey::new(id.to_string(), material))
}

fn check_keys(keys: &[MasterKey]) -> Result<(), VaultError> {
    if keys.is_empty() {
        return Err(VaultError::KeyConfig("no master key is configured".into()));
    }
    for (i, key) in keys.iter().enumerate() {
        if keys[..i].iter().any(|other| other.id == key.id) {
            return Err(VaultError::KeyConfig(format!("key id {:?} appears twice", key.id)));
        }
    }
    Ok(())
}

fn poisoned() -> VaultError {
    VaultError::KeyConfig("the keyring lock was poisoned by a panic".into())
}

fn file_stamp(path: &Path) -> Option<FileStamp> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

fn read_key_file(path: &Path) -> Result<(Vec<MasterKey>, Option<FileStamp>), VaultError> {
    let stamp = file_stamp(path);
    let text = std::fs::read_to_string(path)
        .map_err(|e| VaultError::KeyConfig(format!("cannot read key file {}: {e}", path.display())))?;
    let keys = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (id, material) = line.split_once(char::is_whitespace).ok_or_else(|| {
                VaultError::KeyConfig(format!("key file {}: lines must be `id base64key`", path.display()))
            })?;
            parse_key(id, material)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((keys, stamp))
}

/// Writes the whole key file through a temporary file and a rename, readable by the owner only.
fn write_key_file(path: &Path, keys: &[Arc<MasterKey>]) -> Result<(), VaultError> {
    let io = |e: std::io::Error| VaultError::KeyConfig(format!("cannot write key file {}: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(io)?;
    writeln!(
        file,
        "# Tandem master keys: `id base64key`, one per line. The last key seals new secrets; older\n\
         # keys open secrets sealed before `tandem keys rotate` re-encrypted them. Back this file up."
    )
    .map_err(io)?;
    for key in keys {
        writeln!(file, "{} {}", key.id, key.encoded()).map_err(io)?;
    }
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    Ok(())
}

#[cfg(unix)]
fn has_loose_permissions(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o077 != 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn has_loose_permissions(_path: &Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_keys_parse_and_the_last_is_active() {
        let a = generate_key_line(std::iter::empty()).expect("key");
        let b = generate_key_line(["k1"].into_iter()).expect("key");
        assert!(a.starts_with("k1:") && b.starts_with("k2:"));
        let ring = Keyring::from_inline(&format!("{a},{b}")).expect("keyring");
        assert_eq!(ring.active().expect("active").id, "k2");
        assert!(ring.get("k1").is_ok());
        assert!(matches!(ring.get("k9"), Err(VaultError::UnknownKey(id)) if id == "k9"));
    }

    #[test]
    fn bad_inline_keys_say_what_is_wrong() {
        let err = Keyring::from_inline("k1:not-base64!")
            .expect_err("bad base64")
            .to_string();
        assert!(err.contains("base64"), "{err}");
        let err = Keyring::from_inline("k1:AAAA").expect_err("short").to_string();
        assert!(err.contains("32 bytes"), "{err}");
        let err = Keyring::from_inline("justtext").expect_err("shape").to_string();
        assert!(err.contains("id:base64key"), "{err}");
        assert!(Keyring::from_inline("").is_err());
    }

    #[test]
    fn a_missing_key_file_is_created_private_and_a_rotation_is_seen_by_another_reader() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys/master.keys");
        let (server, notices) = Keyring::from_file(&path).expect("create");
        assert_eq!(notices, vec![KeyringNotice::GeneratedDevelopmentKey(path.clone())]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert_eq!(server.active().expect("active").id, "k1");

        // Another process (the CLI) rotates; the server's keyring follows without a restart.
        let (cli, notices) = Keyring::from_file(&path).expect("load");
        assert!(notices.is_empty());
        assert_eq!(cli.add_generated_key().expect("add"), "k2");
        assert_eq!(server.get("k2").expect("reloaded on unknown id").id, "k2");
        assert_eq!(server.active().expect("active").id, "k2");
        assert_eq!(server.key_ids().expect("ids"), vec!["k1", "k2"]);
    }

    #[test]
    fn inline_keys_cannot_be_rotated_by_tandem() {
        let ring = Keyring::from_inline(&generate_key_line(std::iter::empty()).expect("key")).expect("ring");
        let err = ring.add_generated_key().expect_err("inline").to_string();
        assert!(err.contains("tandem keys generate"), "{err}");
    }

    #[test]
    fn debug_output_never_shows_key_material() {
        let line = generate_key_line(std::iter::empty()).expect("key");
        let material = line.split_once(':').expect("pair").1.to_string();
        let ring = Keyring::from_inline(&line).expect("ring");
        let shown = format!("{ring:?} {:?}", ring.active().expect("active"));
        assert!(!shown.contains(&material));
    }
}
