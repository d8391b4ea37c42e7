use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "users";

/// Which import created a user, and from which line: a later row of the same
/// file that collides is reported as a duplicate of that line.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [uuid_null("import_job_id"), big_integer_null("import_line")] {
            m.alter_table(Table::alter().table(T).add_column(column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in ["import_line", "import_job_id"] {
            m.alter_table(Table::alter().table(T).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
