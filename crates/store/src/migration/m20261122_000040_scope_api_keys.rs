//! API keys get a description and an optional project scope.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "api_keys";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(T).add_column(text("description").default("")).to_owned()).await?;
        m.alter_table(Table::alter().table(T).add_column(uuid_null("project_id")).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(T).drop_column("project_id").to_owned()).await?;
        m.alter_table(Table::alter().table(T).drop_column("description").to_owned()).await
    }
}
