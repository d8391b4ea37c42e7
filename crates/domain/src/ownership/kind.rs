//! The closed set of resource kinds the registry knows.

use crate::error::FieldViolation;

/// What a registered resource is. Transferable kinds belong to a user and
/// move to a new owner when theirs is deleted; application-level kinds belong
/// to the platform itself and have no owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    Group,
    Connection,
    ConnectionApp,
    Stream,
    Dataset,
    View,
    DeepSearchIndex,
    DataQualityCheck,
    Domain,
    Dashboard,
    Insight,
    Workflow,
    MlModel,
    EntityRecognizer,
    Notebook,
    ForecastJob,
    EtlJob,
    GlueEndpoint,
    SharedLibrary,
    Schedule,
    App,
    Role,
    Parameter,
    DataClassification,
    MailServer,
    UserAgreement,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 26] = [
        Self::Group,
        Self::Connection,
        Self::ConnectionApp,
        Self::Stream,
        Self::Dataset,
        Self::View,
        Self::DeepSearchIndex,
        Self::DataQualityCheck,
        Self::Domain,
        Self::Dashboard,
        Self::Insight,
        Self::Workflow,
        Self::MlModel,
        Self::EntityRecognizer,
        Self::Notebook,
        Self::ForecastJob,
        Self::EtlJob,
        Self::GlueEndpoint,
        Self::SharedLibrary,
        Self::Schedule,
        Self::App,
        Self::Role,
        Self::Parameter,
        Self::DataClassification,
        Self::MailServer,
        Self::UserAgreement,
    ];

    /// The stored (and audited) name: lower snake case, stable.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Group => "group",
            Self::Connection => "connection",
            Self::ConnectionApp => "connection_app",
            Self::Stream => "stream",
            Self::Dataset => "dataset",
            Self::View => "view",
            Self::DeepSearchIndex => "deep_search_index",
            Self::DataQualityCheck => "data_quality_check",
            Self::Domain => "domain",
            Self::Dashboard => "dashboard",
            Self::Insight => "insight",
            Self::Workflow => "workflow",
            Self::MlModel => "ml_model",
            Self::EntityRecognizer => "entity_recognizer",
            Self::Notebook => "notebook",
            Self::ForecastJob => "forecast_job",
            Self::EtlJob => "etl_job",
            Self::GlueEndpoint => "glue_endpoint",
            Self::SharedLibrary => "shared_library",
            Self::Schedule => "schedule",
            Self::App => "app",
            Self::Role => "role",
            Self::Parameter => "parameter",
            Self::DataClassification => "data_classification",
            Self::MailServer => "mail_server",
            Self::UserAgreement => "user_agreement",
        }
    }

    pub fn from_str_opt(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The proto enum value's name, e.g. `RESOURCE_KIND_DATASET`.
    pub fn wire_name(self) -> String {
        format!("RESOURCE_KIND_{}", self.as_str().to_ascii_uppercase())
    }

    /// Owned by a user, and moved to a new owner when that user is deleted.
    pub fn is_transferable(self) -> bool {
        !self.is_application_level()
    }

    /// Owned by the platform (no user): data classifications, mail servers,
    /// user agreements.
    pub fn is_application_level(self) -> bool {
        matches!(self, Self::DataClassification | Self::MailServer | Self::UserAgreement)
    }

    /// The platform's data sources: what projects link and keys may be scoped to.
    pub fn is_data_source(self) -> bool {
        matches!(self, Self::Dataset | Self::View)
    }

    /// The kinds that read-only holders may be given (besides the owner):
    /// the data sources, so that an approved access request can grant one.
    pub fn has_readers(self) -> bool {
        self.is_data_source()
    }

    /// The kinds a group can be given access to (resource-group entries), and
    /// the kinds whose access the query engine mirrors as per-resource roles.
    pub fn is_group_linkable(self) -> bool {
        matches!(self, Self::Dataset | Self::View | Self::Domain)
    }

    /// Schedules carry an enabled flag, and are disabled before they move.
    pub fn is_schedule(self) -> bool {
        self == Self::Schedule
    }

    /// Parses a stored name or a wire name (`dataset`, `RESOURCE_KIND_DATASET`).
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldViolation> {
        let s = raw.trim();
        let s = s.strip_prefix("RESOURCE_KIND_").map(str::to_ascii_lowercase).unwrap_or_else(|| s.to_string());
        Self::from_str_opt(&s).ok_or_else(|| {
            FieldViolation::new(field, "UNKNOWN_RESOURCE_KIND", format!("{raw:?} is not a resource kind"))
        })
    }
}

impl std::fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_classes_partition() {
        for k in ResourceKind::ALL {
            assert_eq!(ResourceKind::from_str_opt(k.as_str()), Some(k));
            assert_eq!(ResourceKind::parse(&k.wire_name(), "kind").unwrap(), k);
            assert_ne!(k.is_transferable(), k.is_application_level());
            assert!(!k.is_data_source() || k.is_transferable());
        }
        assert_eq!(ResourceKind::Dataset.wire_name(), "RESOURCE_KIND_DATASET");
        assert_eq!(ResourceKind::MlModel.wire_name(), "RESOURCE_KIND_ML_MODEL");
        let transferable = ResourceKind::ALL.iter().filter(|k| k.is_transferable()).count();
        assert_eq!(transferable, 23);
        let sources: Vec<_> = ResourceKind::ALL.into_iter().filter(|k| k.is_data_source()).collect();
        assert_eq!(sources, vec![ResourceKind::Dataset, ResourceKind::View]);
        assert_eq!(ResourceKind::parse("spaceship", "kind").unwrap_err().reason, "UNKNOWN_RESOURCE_KIND");
    }
}
