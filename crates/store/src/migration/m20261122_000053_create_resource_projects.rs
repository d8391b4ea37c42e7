use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "resource_projects";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // The projects a resource belongs to, as its registering service said.
        m.create_table(
            Table::create()
                .table(T)
                .col(uuid("resource_id"))
                .col(uuid("project_id"))
                .primary_key(Index::create().name("pk_resource_projects").col("resource_id").col("project_id"))
                .foreign_key(
                    &mut ForeignKey::create()
                        .name("fk_resource_projects_resource")
                        .from(T, "resource_id")
                        .to("resources", "id")
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                )
                .foreign_key(
                    &mut ForeignKey::create()
                        .name("fk_resource_projects_project")
                        .from(T, "project_id")
                        .to("projects", "id")
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_resource_projects_project")
                .table(T)
                .col("project_id")
                .col("resource_id")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(T).to_owned()).await
    }
}
