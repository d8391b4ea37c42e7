use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "dataset_readers";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Read-only holders of datasets, besides the owner. Transfer on
        // delete moves these too (set-based, by user_id).
        m.create_table(
            Table::create()
                .table(T)
                .col(uuid("resource_id"))
                .col(uuid("user_id"))
                .primary_key(Index::create().name("pk_dataset_readers").col("resource_id").col("user_id"))
                .foreign_key(
                    &mut ForeignKey::create()
                        .name("fk_dataset_readers_resource")
                        .from(T, "resource_id")
                        .to("resources", "id")
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                )
                .foreign_key(
                    &mut ForeignKey::create()
                        .name("fk_dataset_readers_user")
                        .from(T, "user_id")
                        .to("users", "id")
                        .to_owned(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_dataset_readers_user").table(T).col("user_id").col("resource_id").to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(T).to_owned()).await
    }
}
