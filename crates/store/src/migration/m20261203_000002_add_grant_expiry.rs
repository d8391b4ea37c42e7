use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Grants from approved access requests may end: a read-only holder or a
/// member whose `expires_at` has passed no longer counts (every read checks
/// it). NULL: without end, as every grant made before.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["dataset_readers", "project_members"] {
            m.alter_table(
                Table::alter().table(table).add_column(timestamp_with_time_zone_null("expires_at")).to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["dataset_readers", "project_members"] {
            m.alter_table(Table::alter().table(table).drop_column("expires_at").to_owned()).await?;
        }
        Ok(())
    }
}
