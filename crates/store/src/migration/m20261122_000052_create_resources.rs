use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "resources";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(T)
                .col(pk_uuid("id"))
                // `ResourceKind::as_str`, e.g. `dataset`.
                .col(text("kind"))
                .col(text("display_name"))
                // NULL exactly for application-level kinds. Transfer on
                // delete is one `UPDATE resources SET owner_id = $new WHERE
                // owner_id = $old`; the key refuses to orphan a resource.
                .col(uuid_null("owner_id"))
                // Schedules only.
                .col(boolean_null("schedule_enabled"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer("version"))
                .col(text_null("create_request_id"))
                .foreign_key(
                    &mut ForeignKey::create()
                        .name("fk_resources_owner")
                        .from(T, "owner_id")
                        .to("users", "id")
                        .to_owned(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_resources_create_request_id")
                .table(T)
                .col("create_request_id")
                .unique()
                .to_owned(),
        )
        .await?;
        // Owner (+ kind) filters and counts, in id order for keyset pages.
        m.create_index(
            Index::create().name("ix_resources_owner_kind").table(T).col("owner_id").col("kind").col("id").to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_resources_kind").table(T).col("kind").col("id").to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(T).to_owned()).await
    }
}
