//! Calling any RPC by its path with an empty request: for tests that walk
//! every method of the compiled descriptor.

use std::str::FromStr;

use prost::Message;
use tonic::transport::Channel;

/// Every `/package.Service/Method` Steward serves, from the compiled descriptor.
pub fn all_rpcs() -> Vec<String> {
    let fds = prost_types::FileDescriptorSet::decode(steward_grpc::pb::FILE_DESCRIPTOR_SET).unwrap();
    let mut out = Vec::new();
    for f in &fds.file {
        for s in &f.service {
            for m in &s.method {
                out.push(format!("/{}.{}/{}", f.package(), s.name(), m.name()));
            }
        }
    }
    out
}

/// Calls `path` with an empty request (every field at its default) and
/// discards the response body.
pub async fn call_empty(channel: &Channel, path: &str, token: Option<&str>) -> Result<(), tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut req = tonic::Request::new(());
    if let Some(t) = token {
        req.metadata_mut().insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    let path = http::uri::PathAndQuery::from_str(path).unwrap();
    grpc.unary::<(), (), _>(req, path, tonic_prost::ProstCodec::default()).await.map(|_| ())
}
