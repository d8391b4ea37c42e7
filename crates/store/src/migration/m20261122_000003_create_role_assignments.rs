use sea_orm_migration::{prelude::*, schema::*};

use super::user_fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "role_assignments";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Roles held besides `default`, which everyone holds implicitly.
        m.create_table(
            Table::create()
                .table(T)
                .col(uuid("user_id"))
                .col(text("role"))
                .primary_key(Index::create().name("pk_role_assignments").col("user_id").col("role"))
                .foreign_key(&mut user_fk(T, "fk_role_assignments_user"))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_role_assignments_role").table(T).col("role").to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(T).to_owned()).await
    }
}
