//! The one way a service runs a multi-document transaction on MongoDB, following the driver's
//! documented semantics: snapshot reads and majority writes, the whole transaction run again (after
//! aborting it) when an error carries the `TransientTransactionError` label, the commit retried
//! when its result is unknown (`UnknownTransactionCommitResult`), both bounded by [`TxAttempts`].
//! Transactions need MongoDB running as a replica set (one node is enough).

use std::convert::Infallible;

use futures::future::BoxFuture;
use mongodb::error::{
    Error as MongoError, TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT,
};
use mongodb::options::{ReadConcern, TransactionOptions, WriteConcern};
use mongodb::{Client, ClientSession, Database};

use super::TxAttempts;
use crate::store::StoreError;

/// How a transaction body ends without committing. `E` is what the body may decide to stop with
/// (a rule refused the change, a line sold out after others were held); bodies that never stop on
/// their own keep the default, which cannot be built.
#[derive(Debug)]
pub enum TxError<E = Infallible> {
    /// The driver's error: the transaction runs again when it is labelled
    /// `TransientTransactionError` (a write conflict with a concurrent transaction, a failover).
    Driver(MongoError),
    /// Ours, e.g. a stored document that cannot be decoded: aborts, never retried.
    Store(StoreError),
    /// The body decided to stop: its writes are rolled back and the runner hands `E` back.
    Stop(E),
}

/// What a transaction body returns.
pub type TxResult<T, E = Infallible> = Result<T, TxError<E>>;

impl<E> From<MongoError> for TxError<E> {
    fn from(e: MongoError) -> Self {
        TxError::Driver(e)
    }
}

impl<E> From<StoreError> for TxError<E> {
    fn from(e: StoreError) -> Self {
        TxError::Store(e)
    }
}

/// Runs transactions on a database's client, all with the same options. Cheap to clone.
#[derive(Clone)]
pub struct Transactions {
    client: Client,
    options: TransactionOptions,
}

impl Transactions {
    /// Snapshot reads (a transaction sees one consistent state) and majority writes (a committed
    /// transaction survives a failover).
    pub fn new(db: &Database) -> Self {
        Self {
            client: db.client().clone(),
            options: TransactionOptions::builder()
                .read_concern(ReadConcern::snapshot())
                .write_concern(WriteConcern::majority())
                .build(),
        }
    }

    /// Runs `body` in one transaction and commits it. `ctx` (usually the store) is handed to the
    /// body with the session, so that the body's future may borrow both.
    pub async fn run<C, T, F>(&self, ctx: &C, body: F) -> Result<T, StoreError>
    where
        C: Sync + ?Sized,
        T: Send,
        F: for<'s> Fn(&'s C, &'s mut ClientSession) -> BoxFuture<'s, TxResult<T>> + Send + Sync,
    {
        match self.run_or_stop(ctx, body).await? {
            Ok(value) => Ok(value),
            Err(never) => match never {},
        }
    }

    /// Like [`run`](Self::run), lending `input` to the body on every attempt: a body that only
    /// hands its input on need not clone it into each attempt's future.
    pub async fn run_with<C, I, T, F>(&self, ctx: &C, input: &I, body: F) -> Result<T, StoreError>
    where
        C: Sync + ?Sized,
        I: Sync + ?Sized,
        T: Send,
        F: for<'s> Fn(&'s C, &'s mut ClientSession, &'s I) -> BoxFuture<'s, TxResult<T>>
            + Send
            + Sync,
    {
        self.run(&(ctx, input), |&(ctx, input), session| {
            body(ctx, session, input)
        })
        .await
    }

    /// Like [`run_or_stop`](Self::run_or_stop), lending `input` as [`run_with`](Self::run_with)
    /// does.
    pub async fn run_or_stop_with<C, I, T, E, F>(
        &self,
        ctx: &C,
        input: &I,
        body: F,
    ) -> Result<Result<T, E>, StoreError>
    where
        C: Sync + ?Sized,
        I: Sync + ?Sized,
        T: Send,
        E: Send,
        F: for<'s> Fn(&'s C, &'s mut ClientSession, &'s I) -> BoxFuture<'s, TxResult<T, E>>
            + Send
            + Sync,
    {
        self.run_or_stop(&(ctx, input), |&(ctx, input), session| {
            body(ctx, session, input)
        })
        .await
    }

    /// Like [`run`](Self::run) for a body that may decide to stop: `Ok(Err(e))` when it returned
    /// [`TxError::Stop`]`(e)`, in which case nothing it wrote is kept.
    pub async fn run_or_stop<C, T, E, F>(
        &self,
        ctx: &C,
        body: F,
    ) -> Result<Result<T, E>, StoreError>
    where
        C: Sync + ?Sized,
        T: Send,
        E: Send,
        F: for<'s> Fn(&'s C, &'s mut ClientSession) -> BoxFuture<'s, TxResult<T, E>> + Send + Sync,
    {
        let mut session = self.client.start_session().await?;
        let mut attempts = TxAttempts::new();
        'transaction: loop {
            attempts.begin().await;
            session
                .start_transaction()
                .with_options(self.options.clone())
                .await?;
            let value = match body(ctx, &mut session).await {
                Ok(value) => value,
                Err(e) => {
                    // A failed or stopped body leaves the transaction open on the session: abort
                    // it before returning or trying again. An error here only means the server
                    // dropped the transaction already (a duplicate key does that).
                    let _ = session.abort_transaction().await;
                    match e {
                        TxError::Stop(stopped) => return Ok(Err(stopped)),
                        TxError::Store(e) => return Err(e),
                        TxError::Driver(e) => match after_body_error(&e, &attempts) {
                            Next::RetryTransaction => continue 'transaction,
                            Next::RetryCommit | Next::Fail => return Err(e.into()),
                        },
                    }
                }
            };
            let mut commit_retries = 0;
            loop {
                let Err(e) = session.commit_transaction().await else {
                    return Ok(Ok(value));
                };
                match after_commit_error(&e, commit_retries, &attempts) {
                    Next::RetryCommit => commit_retries += 1,
                    Next::RetryTransaction => continue 'transaction,
                    Next::Fail => return Err(e.into()),
                }
            }
        }
    }
}

/// What the runner does after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// Abort and run the whole body again on a fresh snapshot.
    RetryTransaction,
    /// Send the commit again: the first one may or may not have been applied.
    RetryCommit,
    /// Give up and return the error.
    Fail,
}

/// The labels the server or the driver put on an error.
trait Labelled {
    fn has_label(&self, label: &str) -> bool;
}

impl Labelled for MongoError {
    fn has_label(&self, label: &str) -> bool {
        self.contains_label(label)
    }
}

fn after_body_error(e: &impl Labelled, attempts: &TxAttempts) -> Next {
    if e.has_label(TRANSIENT_TRANSACTION_ERROR) && attempts.may_retry() {
        Next::RetryTransaction
    } else {
        Next::Fail
    }
}

fn after_commit_error(e: &impl Labelled, commit_retries: u32, attempts: &TxAttempts) -> Next {
    if e.has_label(UNKNOWN_TRANSACTION_COMMIT_RESULT) && commit_retries < TxAttempts::COMMIT_RETRIES
    {
        Next::RetryCommit
    } else if e.has_label(TRANSIENT_TRANSACTION_ERROR) && attempts.may_retry() {
        Next::RetryTransaction
    } else {
        Next::Fail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error with the given labels (the driver's errors cannot be labelled from outside).
    struct Failure(&'static [&'static str]);

    impl Labelled for Failure {
        fn has_label(&self, label: &str) -> bool {
            self.0.contains(&label)
        }
    }

    const TRANSIENT: Failure = Failure(&[TRANSIENT_TRANSACTION_ERROR]);
    const UNKNOWN_COMMIT: Failure = Failure(&[UNKNOWN_TRANSACTION_COMMIT_RESULT]);
    const BOTH: Failure = Failure(&[
        UNKNOWN_TRANSACTION_COMMIT_RESULT,
        TRANSIENT_TRANSACTION_ERROR,
    ]);
    const UNLABELLED: Failure = Failure(&[]);

    /// After a failed body, with attempts left or not.
    fn body(e: &Failure, attempts_left: bool) -> Next {
        let attempts = if attempts_left {
            TxAttempts::new()
        } else {
            TxAttempts::spent()
        };
        after_body_error(e, &attempts)
    }

    /// After a failed commit that was retried `retries` times, with attempts left or not.
    fn commit(e: &Failure, retries: u32, attempts_left: bool) -> Next {
        let attempts = if attempts_left {
            TxAttempts::new()
        } else {
            TxAttempts::spent()
        };
        after_commit_error(e, retries, &attempts)
    }

    #[test]
    fn a_transient_error_runs_the_whole_transaction_again_while_attempts_are_left() {
        assert_eq!(body(&TRANSIENT, true), Next::RetryTransaction);
        assert_eq!(commit(&TRANSIENT, 0, true), Next::RetryTransaction);
        assert_eq!(body(&TRANSIENT, false), Next::Fail);
        assert_eq!(commit(&TRANSIENT, 0, false), Next::Fail);
    }

    #[test]
    fn an_unlabelled_error_is_returned_at_once() {
        assert_eq!(body(&UNLABELLED, true), Next::Fail);
        assert_eq!(commit(&UNLABELLED, 0, true), Next::Fail);
    }

    #[test]
    fn an_unknown_commit_result_sends_the_commit_again_up_to_its_bound() {
        for retries in 0..TxAttempts::COMMIT_RETRIES {
            assert_eq!(commit(&UNKNOWN_COMMIT, retries, true), Next::RetryCommit);
        }
        assert_eq!(
            commit(&UNKNOWN_COMMIT, TxAttempts::COMMIT_RETRIES, true),
            Next::Fail
        );
        // Only a commit can have an unknown result.
        assert_eq!(body(&UNKNOWN_COMMIT, true), Next::Fail);
    }

    #[test]
    fn with_both_labels_the_commit_is_retried_first_then_the_whole_transaction() {
        assert_eq!(commit(&BOTH, 0, true), Next::RetryCommit);
        assert_eq!(
            commit(&BOTH, TxAttempts::COMMIT_RETRIES, true),
            Next::RetryTransaction
        );
    }

    #[test]
    fn the_real_driver_error_is_read_by_its_labels() {
        let custom = MongoError::custom("not a server error");
        assert!(!custom.has_label(TRANSIENT_TRANSACTION_ERROR));
        assert_eq!(after_body_error(&custom, &TxAttempts::new()), Next::Fail);
    }

    #[test]
    fn store_and_driver_errors_convert_into_a_body_failure() {
        fn body() -> TxResult<(), &'static str> {
            Err(StoreError::corrupt("bad document"))?
        }
        assert!(matches!(body(), Err(TxError::Store(_))));
        let driver: TxError = MongoError::custom(1).into();
        assert!(matches!(driver, TxError::Driver(_)));
    }
}
