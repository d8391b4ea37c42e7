use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "import_jobs";

/// Bulk-import jobs: their state, upload, options, checkpoint and counters,
/// and the worker holding a running one.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(T)
                .col(pk_uuid("id"))
                .col(uuid("initiator_id"))
                // created | uploaded | queued | running | succeeded | failed | cancelled
                .col(text("state"))
                .col(big_integer("max_bytes"))
                // The presigned URL's one-time value; NULL once spent.
                .col(text_null("upload_nonce"))
                .col(timestamp_with_time_zone("upload_expires_at"))
                .col(text_null("blob_key"))
                .col(big_integer_null("file_bytes"))
                .col(boolean("validate_only"))
                .col(big_integer_null("failure_threshold"))
                .col(text_null("columns"))
                .col(big_integer("checkpoint_offset"))
                .col(big_integer("checkpoint_line"))
                .col(big_integer("rows_read"))
                .col(big_integer("rows_created"))
                .col(big_integer("rows_failed"))
                .col(text_null("failure_reason"))
                .col(text_null("worker_id"))
                .col(timestamp_with_time_zone_null("heartbeat_at"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(timestamp_with_time_zone_null("started_at"))
                .col(timestamp_with_time_zone_null("finished_at"))
                .to_owned(),
        )
        .await?;
        // The workers' question: what is queued, or running without a heartbeat?
        m.create_index(
            Index::create().name("ix_import_jobs_claim").table(T).col("state").col("heartbeat_at").to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(T).to_owned()).await
    }
}
