use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "access_requests";

/// Requests for a data source (`resource_id`) or a project (`project_id`),
/// exactly one of the two set. A request goes with its target.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(T)
                .col(uuid("id").primary_key())
                .col(uuid("requester_id"))
                .col(uuid_null("resource_id"))
                .col(uuid_null("project_id"))
                .col(text("justification"))
                .col(big_integer_null("requested_seconds"))
                .col(string_len("state", 16))
                .col(uuid_null("decided_by"))
                .col(text("decision_reason"))
                .col(timestamp_with_time_zone_null("granted_until"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer("version"))
                .check(Expr::cust("(resource_id IS NULL) <> (project_id IS NULL)"))
                .foreign_key(
                    &mut ForeignKey::create()
                        .name("fk_access_requests_requester")
                        .from(T, "requester_id")
                        .to("users", "id")
                        .to_owned(),
                )
                .foreign_key(
                    &mut ForeignKey::create()
                        .name("fk_access_requests_resource")
                        .from(T, "resource_id")
                        .to("resources", "id")
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                )
                .foreign_key(
                    &mut ForeignKey::create()
                        .name("fk_access_requests_project")
                        .from(T, "project_id")
                        .to("projects", "id")
                        .on_delete(ForeignKeyAction::Cascade)
                        .to_owned(),
                )
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        // One pending request per requester and target: partial unique
        // indexes (both databases have them; the builder does not).
        for (name, col) in [
            ("ux_access_requests_pending_resource", "resource_id"),
            ("ux_access_requests_pending_project", "project_id"),
        ] {
            db.execute_unprepared(&format!(
                "CREATE UNIQUE INDEX {name} ON {T} (requester_id, {col}) WHERE state = 'pending'"
            ))
            .await?;
        }
        for (name, cols) in [
            ("ix_access_requests_requester", vec!["requester_id", "id"]),
            ("ix_access_requests_resource", vec!["resource_id", "state"]),
            ("ix_access_requests_project", vec!["project_id", "state"]),
            ("ix_access_requests_state", vec!["state", "id"]),
        ] {
            let mut ix = Index::create().name(name).table(T).to_owned();
            for c in cols {
                ix.col(c);
            }
            m.create_index(ix).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(T).to_owned()).await
    }
}
