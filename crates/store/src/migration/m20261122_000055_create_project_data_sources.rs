use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "project_data_sources";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Data sources (datasets, views) linked to a project: every member sees them.
        m.create_table(
            Table::create()
                .table(T)
                .col(uuid("project_id"))
                .col(uuid("resource_id"))
                .primary_key(Index::create().name("pk_project_data_sources").col("project_id").col("resource_id"))
                .foreign_key(
                    &mut ForeignKey::create()
                        .name("fk_project_data_sources_project")
                        .from(T, "project_id")
                        .to("projects", "id")
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                )
                .foreign_key(
                    &mut ForeignKey::create()
                        .name("fk_project_data_sources_resource")
                        .from(T, "resource_id")
                        .to("resources", "id")
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_project_data_sources_resource")
                .table(T)
                .col("resource_id")
                .col("project_id")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(T).to_owned()).await
    }
}
