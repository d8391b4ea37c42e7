//! Bulk creation of users from a CSV file: a job that is uploaded (through a
//! presigned URL or a client stream), started, read as a stream, validated row
//! by row and committed in batches, each batch advancing the job's checkpoint
//! in the same transaction, so a crash resumes exactly where it stopped.

mod batcher;
#[doc(hidden)]
pub mod checks;
mod columns;
mod export;
mod model;
mod ports;
mod records;
mod row;
mod runner;
mod service;
mod signed_url;

pub use columns::{Columns, TEMPLATE_EXAMPLE, TEMPLATE_HEADER};
pub use export::{ERROR_CSV_HEADER, ErrorCsv, safe_cell};
pub use model::{
    Checkpoint, ImportJob, ImportJobId, ImportOptions, JobCounters, JobState, NewImportJob, RowError, RowErrorId,
};
pub use ports::{BatchOutcome, BlobReader, BlobStore, BlobWriter, ImportBatch, ImportStore, ImportedUser, JobEnd};
pub use records::{Record, RecordReader};
pub use row::{ImportRow, parse_row};
pub use runner::{ImportRunner, RunnerConfig};
pub use service::{CreatedImportJob, ImportService, ImportServiceConfig, MAX_URL_TTL, Upload, UploadOutcome};
pub use signed_url::{UPLOAD_PATH_PREFIX, UploadGrant, UploadUrlError};
