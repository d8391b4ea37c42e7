use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "audit_events";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // No foreign key on actor_id: the trail outlives what it talks about.
        m.create_table(
            Table::create()
                .table(T)
                .col(pk_uuid("id"))
                .col(timestamp_with_time_zone("at"))
                .col(uuid_null("actor_id"))
                .col(text("actor"))
                .col(text("action"))
                .col(text("target"))
                .col(text("request_id"))
                .col(text("detail"))
                .to_owned(),
        )
        .await?;
        // Each filter is an equality followed by the keyset on id.
        for (name, col) in [
            ("ix_audit_events_actor", "actor_id"),
            ("ix_audit_events_target", "target"),
            ("ix_audit_events_action", "action"),
        ] {
            m.create_index(Index::create().name(name).table(T).col(col).col("id").to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(T).to_owned()).await
    }
}
