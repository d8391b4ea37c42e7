use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "users";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(T)
                .col(pk_uuid("id"))
                .col(text("kind"))
                .col(text("username"))
                // Uniqueness is decided on the canonical (lower-case) forms,
                // computed by the domain and stored beside the original.
                .col(text("username_lower"))
                .col(text("email"))
                .col(text("email_lower"))
                .col(text("full_name"))
                .col(text("full_name_lower"))
                .col(text("position"))
                .col(text("about"))
                .col(text("location"))
                .col(text("organization"))
                .col(text("phone_number"))
                .col(text_null("databricks_username"))
                .col(text_null("redshift_username"))
                .col(text_null("snowflake_username"))
                .col(text_null("synapse_username"))
                .col(boolean("email_notifications"))
                .col(text("status"))
                .col(text("default_role"))
                .col(boolean("mfa_enabled"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer("version"))
                .col(text_null("create_request_id"))
                .to_owned(),
        )
        .await?;
        // The names carry the column: error mapping finds the key by it.
        for (name, col) in [
            ("ux_users_username_lower", "username_lower"),
            ("ux_users_email_lower", "email_lower"),
            ("ux_users_create_request_id", "create_request_id"),
        ] {
            m.create_index(Index::create().name(name).table(T).col(col).unique().to_owned()).await?;
        }
        m.create_index(Index::create().name("ix_users_status").table(T).col("status").col("id").to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(T).to_owned()).await
    }
}
