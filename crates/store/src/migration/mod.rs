//! The schema, one table per migration file; the file name is the migration's
//! name, so never rename one that has shipped. New tables go in new files.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261122_000001_create_users;
mod m20261122_000002_create_credentials;
mod m20261122_000003_create_role_assignments;
mod m20261122_000004_create_sessions;
mod m20261122_000005_create_api_keys;
mod m20261122_000006_create_audit_events;
mod m20261122_000007_create_outbox;
mod m20261122_000008_create_roles;
mod m20261122_000009_role_assignments_fk;
mod m20261122_000020_create_user_mfa;
mod m20261122_000040_scope_api_keys;
mod m20261122_000050_create_projects;
mod m20261122_000051_create_project_members;
mod m20261122_000052_create_resources;
mod m20261122_000053_create_resource_projects;
mod m20261122_000054_create_dataset_readers;
mod m20261122_000055_create_project_data_sources;
mod m20261122_000060_create_sql_credentials;
mod m20261201_000001_add_user_suspension;
mod m20261202_000001_create_import_jobs;
mod m20261202_000002_create_import_errors;
mod m20261202_000003_create_import_keys;
mod m20261202_000004_add_user_import_origin;
mod m20261202_000005_add_outbox_attachment;
mod m20261203_000001_create_access_requests;
mod m20261203_000002_add_grant_expiry;
mod m20261204_000001_create_groups;
mod m20261204_000002_create_maintenance_jobs;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_users::Migration),
            Box::new(m20261122_000002_create_credentials::Migration),
            Box::new(m20261122_000003_create_role_assignments::Migration),
            Box::new(m20261122_000004_create_sessions::Migration),
            Box::new(m20261122_000005_create_api_keys::Migration),
            Box::new(m20261122_000006_create_audit_events::Migration),
            Box::new(m20261122_000007_create_outbox::Migration),
            Box::new(m20261122_000008_create_roles::Migration),
            Box::new(m20261122_000009_role_assignments_fk::Migration),
            Box::new(m20261122_000020_create_user_mfa::Migration),
            Box::new(m20261122_000040_scope_api_keys::Migration),
            Box::new(m20261122_000050_create_projects::Migration),
            Box::new(m20261122_000051_create_project_members::Migration),
            Box::new(m20261122_000052_create_resources::Migration),
            Box::new(m20261122_000053_create_resource_projects::Migration),
            Box::new(m20261122_000054_create_dataset_readers::Migration),
            Box::new(m20261122_000055_create_project_data_sources::Migration),
            Box::new(m20261122_000060_create_sql_credentials::Migration),
            Box::new(m20261201_000001_add_user_suspension::Migration),
            Box::new(m20261202_000001_create_import_jobs::Migration),
            Box::new(m20261202_000002_create_import_errors::Migration),
            Box::new(m20261202_000003_create_import_keys::Migration),
            Box::new(m20261202_000004_add_user_import_origin::Migration),
            Box::new(m20261202_000005_add_outbox_attachment::Migration),
            Box::new(m20261203_000001_create_access_requests::Migration),
            Box::new(m20261203_000002_add_grant_expiry::Migration),
            Box::new(m20261204_000001_create_groups::Migration),
            Box::new(m20261204_000002_create_maintenance_jobs::Migration),
        ]
    }
}

/// A foreign key to `users.id`; the rows go with their user.
pub(crate) fn user_fk(
    table: &'static str,
    name: &'static str,
) -> sea_orm_migration::prelude::ForeignKeyCreateStatement {
    use sea_orm_migration::prelude::*;
    ForeignKey::create()
        .name(name)
        .from(table, "user_id")
        .to("users", "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}
