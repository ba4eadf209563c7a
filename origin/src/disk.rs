//! Free space on the data dir. Writes are refused with a clear answer (507
//! `insufficient_storage`) while less than `--min-free-disk-mb` is left, so the Raft log and the
//! state file never meet a full disk in normal operation; reads go on. An upload that fills the
//! disk anyway is cut off with the same answer and leaves nothing behind.

use std::path::{Path, PathBuf};

use crate::error::{ApiError, Code};

/// Checks free space on every write: one `statvfs`, a microsecond, against a Raft round trip.
pub struct DiskGuard {
    dir: PathBuf,
    min_free: u64,
}

impl DiskGuard {
    pub fn new(dir: &Path, min_free: u64) -> Self {
        Self {
            dir: dir.to_owned(),
            min_free,
        }
    }

    /// Bytes free for this process on the data dir's filesystem.
    pub fn free_bytes(&self) -> u64 {
        match nix::sys::statvfs::statvfs(&self.dir) {
            Ok(s) => s.blocks_available().saturating_mul(s.fragment_size()),
            // Unknown: do not block writes on a failed probe.
            Err(e) => {
                tracing::warn!(error = %e, dir = %self.dir.display(), "cannot read free disk space");
                u64::MAX
            }
        }
    }

    /// Ok when `incoming` more bytes leave at least the minimum free.
    pub fn check(&self, incoming: u64) -> Result<(), ApiError> {
        let free = self.free_bytes();
        if free < incoming.saturating_add(self.min_free) {
            metrics::counter!("marquee_origin_writes_refused_disk_full_total").increment(1);
            return Err(full(free, self.min_free));
        }
        Ok(())
    }
}

fn full(free: u64, min_free: u64) -> ApiError {
    ApiError::new(
        Code::InsufficientStorage,
        format!(
            "this origin node's disk is nearly full ({} MiB free, {} MiB kept in reserve); \
             nothing was changed — free space or add storage, then try again",
            free >> 20,
            min_free >> 20
        ),
    )
}

/// Whether an I/O failure somewhere in `e`'s chain is a full disk (ENOSPC, or a quota).
pub fn is_disk_full(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && (io.kind() == std::io::ErrorKind::StorageFull
                || io.kind() == std::io::ErrorKind::QuotaExceeded)
        {
            return true;
        }
        cur = err.source();
    }
    // Some layers flatten the cause into text.
    e.to_string().contains("No space left on device")
}

/// The answer for an upload cut off by a full disk.
pub fn upload_disk_full() -> ApiError {
    ApiError::new(
        Code::InsufficientStorage,
        "this origin node's disk filled up during the upload; nothing was kept — free space \
         or add storage, then upload again",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_refused_below_the_reserve() {
        let dir = tempfile::tempdir().unwrap();
        let guard = DiskGuard::new(dir.path(), 0);
        let free = guard.free_bytes();
        assert!(free > 0);
        assert!(guard.check(0).is_ok());
        let strict = DiskGuard::new(dir.path(), free.saturating_add(1 << 30));
        let err = strict.check(0).unwrap_err();
        assert_eq!(err.code, Code::InsufficientStorage);
        assert!(err.message.contains("nearly full"), "{}", err.message);
        assert!(
            guard.check(free.saturating_add(1)).is_err(),
            "an upload larger than what is free"
        );
    }

    #[test]
    fn a_full_disk_is_recognised_through_wrapping_errors() {
        let io = std::io::Error::from_raw_os_error(28);
        assert!(is_disk_full(&io));
        let wrapped = crate::blob::BlobError::Io(std::io::Error::from_raw_os_error(28));
        assert!(is_disk_full(&wrapped));
        assert!(!is_disk_full(&std::io::Error::from_raw_os_error(2)));
    }
}
