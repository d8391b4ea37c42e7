use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "users";

/// Why and until when a user is suspended (both empty unless suspended), and
/// when a user became a tombstone.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            text_null("suspended_reason"),
            timestamp_with_time_zone_null("suspended_until"),
            timestamp_with_time_zone_null("deleted_at"),
        ] {
            m.alter_table(Table::alter().table(T).add_column(column).to_owned()).await?;
        }
        // The sweeper's question: whose suspension has ended?
        m.create_index(
            Index::create().name("ix_users_suspended_until").table(T).col("status").col("suspended_until").to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("ix_users_suspended_until").table(T).to_owned()).await?;
        for column in ["deleted_at", "suspended_until", "suspended_reason"] {
            m.alter_table(Table::alter().table(T).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
