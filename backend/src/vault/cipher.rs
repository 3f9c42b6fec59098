//! AES-256-GCM with a random 96-bit nonce per value, stored in front of the ciphertext.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit};
use secrecy::{ExposeSecret, SecretBox};
use tandem_shared::ids::TenantId;

use super::VaultError;
use super::keyring::MasterKey;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Where a secret belongs. It is authenticated with the ciphertext, so a value copied to another
/// tenant, owner or purpose (or relabelled with another key id) fails to open.
#[derive(Clone, Copy, Debug)]
pub struct Binding<'a> {
    pub tenant_id: TenantId,
    pub owner_id: &'a str,
    pub purpose: &'a str,
}

impl Binding<'_> {
    fn associated_data(&self, key_id: &str) -> Vec<u8> {
        // Length-prefixed parts so that no two different bindings produce the same bytes.
        let mut aad = b"tandem.vault.v1".to_vec();
        for part in [self.tenant_id.to_string().as_str(), self.owner_id, self.purpose, key_id] {
            aad.extend_from_slice(&(part.len() as u32).to_be_bytes());
            aad.extend_from_slice(part.as_bytes());
        }
        aad
    }
}

pub fn seal(key: &MasterKey, binding: &Binding<'_>, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
    let cipher = Aes256Gcm::new_from_slice(key.material.expose_secret())
        .map_err(|_| VaultError::KeyConfig("a master key is not 32 bytes".into()))?;
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| VaultError::KeyConfig(format!("no randomness: {e}")))?;
    let aad = binding.associated_data(&key.id);
    let ciphertext = cipher
        .encrypt(
            &nonce.into(),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .map_err(|_| VaultError::Malformed("value too large to seal"))?;
    let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&ciphertext);
    Ok(sealed)
}

pub fn open(key: &MasterKey, binding: &Binding<'_>, sealed: &[u8]) -> Result<SecretBox<Vec<u8>>, VaultError> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(VaultError::Malformed("shorter than nonce and tag"));
    }
    let cipher = Aes256Gcm::new_from_slice(key.material.expose_secret())
        .map_err(|_| VaultError::KeyConfig("a master key is not 32 bytes".into()))?;
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| VaultError::Malformed("nonce"))?;
    let aad = binding.associated_data(&key.id);
    let plaintext = cipher
        .decrypt(
            &nonce.into(),
            Payload {
                msg: ciphertext,
                aad: &aad,
            },
        )
        .map_err(|_| VaultError::Unseal)?;
    Ok(SecretBox::new(Box::new(plaintext)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn key(id: &str, byte: u8) -> MasterKey {
        MasterKey::new(id.into(), [byte; 32])
    }

    fn binding(tenant: Uuid) -> Binding<'static> {
        Binding {
            tenant_id: TenantId(tenant),
            owner_id: "connection-1",
            purpose: "oauth_tokens",
        }
    }

    #[test]
    fn round_trips_and_uses_a_fresh_nonce_each_time() {
        let k = key("k1", 7);
        let b = binding(Uuid::now_v7());
        let one = seal(&k, &b, b"refresh-token-123").expect("seal");
        let two = seal(&k, &b, b"refresh-token-123").expect("seal");
        assert_ne!(one, two, "same plaintext must not give the same ciphertext");
        assert!(!one.windows(17).any(|w| w == b"refresh-token-123"));
        let opened = open(&k, &b, &one).expect("open");
        assert_eq!(opened.expose_secret().as_slice(), b"refresh-token-123");
    }

    #[test]
    fn wrong_key_fails() {
        let b = binding(Uuid::now_v7());
        let sealed = seal(&key("k1", 1), &b, b"secret").expect("seal");
        assert!(matches!(open(&key("k1", 2), &b, &sealed), Err(VaultError::Unseal)));
    }

    #[test]
    fn moved_to_another_tenant_owner_purpose_or_key_id_fails() {
        let k = key("k1", 3);
        let tenant = Uuid::now_v7();
        let b = binding(tenant);
        let sealed = seal(&k, &b, b"secret").expect("seal");
        let other_tenant = binding(Uuid::now_v7());
        assert!(matches!(open(&k, &other_tenant, &sealed), Err(VaultError::Unseal)));
        let other_owner = Binding {
            owner_id: "connection-2",
            ..b
        };
        assert!(matches!(open(&k, &other_owner, &sealed), Err(VaultError::Unseal)));
        let other_purpose = Binding {
            purpose: "api_key",
            ..b
        };
        assert!(matches!(open(&k, &other_purpose, &sealed), Err(VaultError::Unseal)));
        let same_material_other_id = key("k2", 3);
        assert!(matches!(
            open(&same_material_other_id, &b, &sealed),
            Err(VaultError::Unseal)
        ));
    }

    #[test]
    fn tampering_with_any_byte_fails() {
        let k = key("k1", 4);
        let b = binding(Uuid::now_v7());
        let sealed = seal(&k, &b, b"secret").expect("seal");
        for i in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 0x01;
            assert!(matches!(open(&k, &b, &tampered), Err(VaultError::Unseal)), "byte {i}");
        }
        assert!(matches!(open(&k, &b, &sealed[..10]), Err(VaultError::Malformed(_))));
    }
}
