use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "import_errors";

/// One problem with one row of an import (ids are time-ordered: line order).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(T)
                .col(uuid("job_id"))
                .col(uuid("id"))
                .col(big_integer("line"))
                .col(text("column_name"))
                .col(text("reason"))
                .col(text("message"))
                .primary_key(Index::create().col("job_id").col("id"))
                .foreign_key(
                    ForeignKey::create().from(T, "job_id").to("import_jobs", "id").on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(T).to_owned()).await
    }
}
