//! The server secret: from the flag, from a file, or generated on first start
//! into VAR_DIR/secret.key with mode 0600. Every replica must share it.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use ring::rand::{SecureRandom, SystemRandom};

use crate::config::Config;

pub fn load(config: &Config) -> anyhow_like::Result<Vec<u8>> {
    if let Some(hex) = &config.secret_key {
        return decode(hex.trim(), "--secret-key");
    }
    if let Some(path) = &config.secret_key_file {
        let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        return decode(text.trim(), &path.display().to_string());
    }
    let path = config.var_dir.join("secret.key");
    if path.exists() {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        return decode(text.trim(), &path.display().to_string());
    }
    let mut key = [0u8; 32];
    SystemRandom::new().fill(&mut key).map_err(|_| "no randomness for the server key".to_string())?;
    write_private(&path, &hex(&key))?;
    tracing::info!(path = %path.display(), "generated a new server secret");
    Ok(key.to_vec())
}

/// Writes `contents` to a new file readable only by its owner.
pub fn write_private(path: &Path, contents: &str) -> anyhow_like::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    f.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(|e| e.to_string())?;
    f.write_all(contents.as_bytes()).map_err(|e| e.to_string())?;
    f.write_all(b"\n").map_err(|e| e.to_string())?;
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode(hex: &str, source: &str) -> anyhow_like::Result<Vec<u8>> {
    let bytes: Option<Vec<u8>> =
        (0..hex.len()).step_by(2).map(|i| hex.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect();
    match bytes {
        Some(b) if b.len() >= 32 && hex.len().is_multiple_of(2) => Ok(b),
        _ => Err(format!("{source}: the server secret must be at least 32 bytes, hex-encoded")),
    }
}

/// Startup errors are reported as a sentence and exit code 1.
pub mod anyhow_like {
    pub type Result<T> = std::result::Result<T, String>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_refuses_short_keys() {
        assert_eq!(decode(&"ab".repeat(32), "t").unwrap().len(), 32);
        assert!(decode("abcd", "t").is_err());
        assert!(decode(&"zz".repeat(32), "t").is_err());
    }
}
