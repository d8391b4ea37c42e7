use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Global report and repair-all jobs with their findings; and indexes on the
/// platform usernames, which the report compares across users.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("maintenance_jobs")
                .col(uuid("id").primary_key())
                .col(string_len("kind", 16))
                .col(boolean("dry_run"))
                .col(string_len("state", 16))
                .col(uuid("initiator_id"))
                .col(big_integer("users_total"))
                .col(uuid_null("cursor_user_id"))
                .col(big_integer("users_done"))
                .col(boolean("orphans_done"))
                .col(big_integer("findings"))
                .col(big_integer("repaired"))
                .col(big_integer("not_repaired"))
                .col(text_null("error"))
                .col(text_null("worker_id"))
                .col(timestamp_with_time_zone_null("heartbeat_at"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("started_at"))
                .col(timestamp_with_time_zone_null("finished_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_maintenance_jobs_state")
                .table("maintenance_jobs")
                .col("state")
                .col("created_at")
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("maintenance_findings")
                .col(uuid("job_id"))
                .col(big_integer("seq"))
                .col(text("kind"))
                .col(uuid_null("user_id"))
                .col(text("target"))
                .col(text("expected"))
                .col(text("found"))
                .col(text("fix"))
                .col(text("outcome"))
                .col(text("outcome_detail"))
                .primary_key(Index::create().name("pk_maintenance_findings").col("job_id").col("seq"))
                .foreign_key(
                    &mut ForeignKey::create()
                        .name("fk_maintenance_findings_job")
                        .from("maintenance_findings", "job_id")
                        .to("maintenance_jobs", "id")
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                )
                .to_owned(),
        )
        .await?;
        for col in ["databricks_username", "redshift_username", "snowflake_username", "synapse_username"] {
            m.create_index(Index::create().name(format!("ix_users_{col}")).table("users").col(col).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in ["databricks_username", "redshift_username", "snowflake_username", "synapse_username"] {
            m.drop_index(Index::drop().name(format!("ix_users_{col}")).table("users").to_owned()).await?;
        }
        for t in ["maintenance_findings", "maintenance_jobs"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
