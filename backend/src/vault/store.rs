use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use tandem_shared::ids::TenantId;

use super::VaultError;
use super::cipher::{self, Binding};
use super::keyring::Keyring;
use crate::repo::vault_secrets::{self, SealedRow};
use crate::repo::{Db, now_ms};

/// Stores and reads secrets by (tenant, owner, purpose): an owner is what the secret belongs to
/// (a connection id), the purpose what it is (`oauth_tokens`, `api_key`). Values go in and come
/// out only as `SecretString`.
#[derive(Clone, Debug)]
pub struct Vault {
    db: Db,
    keyring: Arc<Keyring>,
}

impl Vault {
    pub fn new(db: Db, keyring: Arc<Keyring>) -> Vault {
        Vault { db, keyring }
    }

    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    pub(super) fn db(&self) -> &Db {
        &self.db
    }

    #[tracing::instrument(skip(self, secret), fields(%tenant_id))]
    pub async fn put(
        &self,
        tenant_id: TenantId,
        owner_id: &str,
        purpose: &str,
        secret: &SecretString,
    ) -> Result<(), VaultError> {
        let key = self.keyring.active()?;
        let binding = Binding {
            tenant_id,
            owner_id,
            purpose,
        };
        let sealed = cipher::seal(&key, &binding, secret.expose_secret().as_bytes())?;
        vault_secrets::upsert(self.db.pool(), tenant_id, owner_id, purpose, &key.id, sealed, now_ms()).await?;
        Ok(())
    }

    #[tracing::instrument(skip(self), fields(%tenant_id))]
    pub async fn get(
        &self,
        tenant_id: TenantId,
        owner_id: &str,
        purpose: &str,
    ) -> Result<Option<SecretString>, VaultError> {
        let Some(row) = vault_secrets::get(self.db.pool(), tenant_id, owner_id, purpose).await? else {
            return Ok(None);
        };
        self.open_row(&row).map(Some)
    }

    pub async fn delete_owner(&self, tenant_id: TenantId, owner_id: &str) -> Result<u64, VaultError> {
        Ok(vault_secrets::delete_owner(self.db.pool(), tenant_id, owner_id).await?)
    }

    /// Opens a stored row with the key its `key_id` names.
    pub(super) fn open_row(&self, row: &SealedRow) -> Result<SecretString, VaultError> {
        let key = self.keyring.get(&row.key_id)?;
        let binding = Binding {
            tenant_id: row.tenant()?,
            owner_id: &row.owner_id,
            purpose: &row.purpose,
        };
        let plaintext = cipher::open(&key, &binding, &row.sealed)?;
        let text = std::str::from_utf8(plaintext.expose_secret()).map_err(|_| VaultError::Malformed("not UTF-8"))?;
        Ok(SecretString::from(text.to_string()))
    }

    /// Seals a row's plaintext again with the active key, for rotation.
    pub(super) fn reseal_row(&self, row: &SealedRow) -> Result<(String, Vec<u8>), VaultError> {
        let plaintext = self.open_row(row)?;
        let key = self.keyring.active()?;
        let binding = Binding {
            tenant_id: row.tenant()?,
            owner_id: &row.owner_id,
            purpose: &row.purpose,
        };
        let sealed = cipher::seal(&key, &binding, plaintext.expose_secret().as_bytes())?;
        Ok((key.id.clone(), sealed))
    }
}
