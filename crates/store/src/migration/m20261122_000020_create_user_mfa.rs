use sea_orm_migration::{prelude::*, schema::*};

use super::user_fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "user_mfa";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(T)
                .col(pk_uuid("user_id"))
                // The base32 TOTP secret, AEAD-sealed with the server key
                // (bound to the user id); never stored in the clear.
                .col(blob("sealed_secret"))
                // false while pending confirmation.
                .col(boolean("enabled"))
                // The last TOTP step accepted: a code is good once.
                .col(big_integer("last_used_step"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("enabled_at"))
                .foreign_key(&mut user_fk(T, "fk_user_mfa_user"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(T).to_owned()).await
    }
}
