use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "import_keys";

/// The usernames and emails a validation-only import has seen, so duplicates
/// inside its file are found without holding the file in memory (a real
/// import finds them in `users` itself). Emptied when the job ends.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(T)
                .col(uuid("job_id"))
                // `u:<canonical username>` or `e:<canonical email>`
                .col(text("key"))
                .col(big_integer("line"))
                .primary_key(Index::create().col("job_id").col("key"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(T).to_owned()).await
    }
}
