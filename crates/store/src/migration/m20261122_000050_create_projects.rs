use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "projects";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(T)
                .col(pk_uuid("id"))
                .col(text("name"))
                // Unique ignoring case: the lower-case form, computed by the domain.
                .col(text("name_lower"))
                .col(text("description"))
                // Moves with a set-based UPDATE when its owner is deleted; a
                // user who owns projects cannot vanish underneath them.
                .col(uuid("owner_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer("version"))
                .col(text_null("create_request_id"))
                .foreign_key(
                    &mut ForeignKey::create()
                        .name("fk_projects_owner")
                        .from(T, "owner_id")
                        .to("users", "id")
                        .to_owned(),
                )
                .to_owned(),
        )
        .await?;
        // The names carry the column: error mapping finds the key by it.
        for (name, col) in
            [("ux_projects_name_lower", "name_lower"), ("ux_projects_create_request_id", "create_request_id")]
        {
            m.create_index(Index::create().name(name).table(T).col(col).unique().to_owned()).await?;
        }
        m.create_index(Index::create().name("ix_projects_owner").table(T).col("owner_id").to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(T).to_owned()).await
    }
}
