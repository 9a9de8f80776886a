//! Errors shared by the storage adapters of every service.

/// What a store operation can fail with, independent of the backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint rejected the write; the payload names the constraint or key.
    #[error("duplicate key: {0}")]
    Duplicate(String),
    /// The backend failed (I/O, connection, corrupt data).
    #[error("store backend failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn backend(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Backend(Box::new(e))
    }

    /// For data that the store holds but cannot be decoded.
    pub fn corrupt(message: impl Into<String>) -> Self {
        StoreError::Backend(message.into().into())
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(code, msg) = &e
            && code.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
        {
            return StoreError::Duplicate(msg.clone().unwrap_or_default());
        }
        StoreError::backend(e)
    }
}

impl From<mongodb::error::Error> for StoreError {
    fn from(e: mongodb::error::Error) -> Self {
        if is_duplicate_key(&e) {
            return StoreError::Duplicate(e.to_string());
        }
        StoreError::backend(e)
    }
}

/// MongoDB reports unique index violations as write error code 11000.
pub fn is_duplicate_key(e: &mongodb::error::Error) -> bool {
    use mongodb::error::{ErrorKind, WriteFailure};
    match e.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(w)) => w.code == 11000,
        ErrorKind::InsertMany(im) => im
            .write_errors
            .as_ref()
            .is_some_and(|errs| errs.iter().any(|w| w.code == 11000)),
        ErrorKind::Command(c) => c.code == 11000,
        _ => false,
    }
}
