use sea_orm_migration::{prelude::*, schema::*};

use super::user_fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "project_members";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(T)
                .col(uuid("project_id"))
                .col(uuid("user_id"))
                .primary_key(Index::create().name("pk_project_members").col("project_id").col("user_id"))
                .foreign_key(
                    &mut ForeignKey::create()
                        .name("fk_project_members_project")
                        .from(T, "project_id")
                        .to("projects", "id")
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                )
                .foreign_key(&mut user_fk(T, "fk_project_members_user"))
                .to_owned(),
        )
        .await?;
        // "Which projects is this user in" (visibility, transfer on delete).
        m.create_index(
            Index::create().name("ix_project_members_user").table(T).col("user_id").col("project_id").to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(T).to_owned()).await
    }
}
