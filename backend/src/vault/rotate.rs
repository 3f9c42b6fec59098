use super::{Vault, VaultError};
use crate::repo::{now_ms, vault_secrets};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RotationReport {
    pub active_key_id: String,
    pub reencrypted: u64,
    pub batches: u64,
    /// Rows that changed while being rotated; they are picked up again in a later batch.
    pub skipped_concurrent_writes: u64,
}

/// Re-encrypts every secret not sealed with the active key, `batch_size` rows per transaction,
/// until none is left. Safe while servers run: a row written meanwhile is never overwritten.
pub async fn reencrypt_all(vault: &Vault, batch_size: i64) -> Result<RotationReport, VaultError> {
    let mut report = RotationReport::default();
    loop {
        let active = vault.keyring().active()?;
        report.active_key_id = active.id.clone();
        let rows = vault_secrets::sealed_with_other_keys(vault.db().pool(), &active.id, batch_size.max(1)).await?;
        if rows.is_empty() {
            return Ok(report);
        }
        let mut tx = vault.db().begin().await?;
        let now = now_ms();
        for row in &rows {
            let (key_id, sealed) = vault.reseal_row(row)?;
            if vault_secrets::reseal(&mut *tx, row, &key_id, sealed, now).await? {
                report.reencrypted += 1;
            } else {
                report.skipped_concurrent_writes += 1;
            }
        }
        tx.commit().await.map_err(crate::repo::RepoError::from)?;
        report.batches += 1;
        tracing::info!(batch = report.batches, rows = rows.len(), key_id = %active.id, "re-encrypted a batch of secrets");
    }
}
