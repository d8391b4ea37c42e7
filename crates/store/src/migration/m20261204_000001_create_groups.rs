use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A group is a registered resource of kind `group` (its name is the
/// resource's display name, its owner the resource's owner); `groups` adds
/// what only groups have. `personal_of` marks a user's personal group.
///
/// Memberships and resource-group entries carry no foreign keys on purpose:
/// other services (and older versions) delete rows behind Steward's back, and
/// the inconsistency report must be able to find what is left dangling.
/// Steward's own deletions remove them in the same transaction.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("groups")
                .col(uuid("id").primary_key())
                .col(boolean("active"))
                .col(uuid_null("personal_of"))
                .foreign_key(
                    &mut ForeignKey::create()
                        .name("fk_groups_resource")
                        .from("groups", "id")
                        .to("resources", "id")
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ux_groups_personal_of").table("groups").col("personal_of").unique().to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("group_members")
                .col(uuid("group_id"))
                .col(uuid("user_id"))
                .col(timestamp_with_time_zone("added_at"))
                .primary_key(Index::create().name("pk_group_members").col("group_id").col("user_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_group_members_user")
                .table("group_members")
                .col("user_id")
                .col("group_id")
                .to_owned(),
        )
        .await?;

        // access: 'read' (read-only) or 'owner'.
        m.create_table(
            Table::create()
                .table("group_resources")
                .col(uuid("group_id"))
                .col(uuid("resource_id"))
                .col(string_len("access", 8))
                .col(timestamp_with_time_zone("added_at"))
                .primary_key(Index::create().name("pk_group_resources").col("group_id").col("resource_id"))
                .check(Expr::cust("access IN ('read', 'owner')"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_group_resources_resource")
                .table("group_resources")
                .col("resource_id")
                .col("group_id")
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["group_resources", "group_members", "groups"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
