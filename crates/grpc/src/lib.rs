//! Steward's gRPC transport: the tonic services, the conversions between the
//! wire and the domain, the authentication layer and the error mapping.

pub mod auth_layer;
mod convert;
pub mod error;
pub mod policy;
mod request_id;
pub mod router;
mod services;
mod upload_http;

pub use router::{Domain, Limits, serve};

/// The generated code of package `steward.v1`.
pub mod pb {
    #![allow(clippy::all, clippy::pedantic, missing_docs)]
    tonic::include_proto!("steward.v1");

    /// The compiled descriptor set of every Steward proto file.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("steward_descriptor");

    /// `google.rpc` error details, served by reflection so that clients like
    /// grpcurl can print the details of an error.
    pub const ERROR_DETAILS_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("error_details_descriptor");
}
