//! `role_assignments.role` refers to `roles.name`: an assignment of a role
//! that does not exist cannot be written, and a role with holders cannot be
//! deleted before its assignments are. PostgreSQL adds the constraint; SQLite
//! cannot add one to an existing table, so the table is rebuilt with it.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::prelude::*;

use super::m20261122_000008_create_roles::BUILTIN_SINCE;
use crate::sql::time_value;

#[derive(DeriveMigrationName)]
pub struct Migration;

const T: &str = "role_assignments";
const FK: &str = "fk_role_assignments_role";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let c = m.get_connection();
        let b = m.get_database_backend();
        // Names assigned before roles had a table keep their holders: they
        // become custom roles that grant nothing until an admin edits them.
        c.execute_raw(Statement::from_sql_and_values(
            b,
            "INSERT INTO roles (name, description, permissions, builtin, created_at, updated_at, version) \
             SELECT DISTINCT role, '', '', $1, $2, $2, 1 FROM role_assignments \
             WHERE role NOT IN (SELECT name FROM roles)",
            vec![false.into(), time_value(b, BUILTIN_SINCE)],
        ))
        .await?;
        match b {
            DbBackend::Sqlite => {
                for sql in [
                    "CREATE TABLE role_assignments_new ( \
                       user_id uuid_text NOT NULL, \
                       role text NOT NULL, \
                       CONSTRAINT pk_role_assignments PRIMARY KEY (user_id, role), \
                       CONSTRAINT fk_role_assignments_user FOREIGN KEY (user_id) REFERENCES users (id) \
                         ON DELETE CASCADE, \
                       CONSTRAINT fk_role_assignments_role FOREIGN KEY (role) REFERENCES roles (name))",
                    "INSERT INTO role_assignments_new (user_id, role) SELECT user_id, role FROM role_assignments",
                    "DROP TABLE role_assignments",
                    "ALTER TABLE role_assignments_new RENAME TO role_assignments",
                    "CREATE INDEX ix_role_assignments_role ON role_assignments (role)",
                ] {
                    c.execute_unprepared(sql).await?;
                }
                Ok(())
            }
            _ => {
                m.create_foreign_key(ForeignKey::create().name(FK).from(T, "role").to("roles", "name").to_owned()).await
            }
        }
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        match m.get_database_backend() {
            // The rebuilt table with its constraint is as good as the old one.
            DbBackend::Sqlite => Ok(()),
            _ => m.drop_foreign_key(ForeignKey::drop().name(FK).table(T).to_owned()).await,
        }
    }

    /// The rebuild is all or nothing, on SQLite too.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
