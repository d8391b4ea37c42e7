use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "outbox";

/// One optional attachment per email (an import's failed rows).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [text_null("attachment_name"), text_null("attachment_type"), blob_null("attachment")] {
            m.alter_table(Table::alter().table(T).add_column(column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in ["attachment", "attachment_type", "attachment_name"] {
            m.alter_table(Table::alter().table(T).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
