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

/// Sends already-encoded request bytes and ignores the response body: lets
/// one table drive calls of every RPC, whatever its message types.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawCodec;

pub struct RawEncoder;
pub struct RawDecoder;

impl tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = ();
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

impl tonic::codec::Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut tonic::codec::EncodeBuf<'_>) -> Result<(), tonic::Status> {
        use bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawDecoder {
    type Item = ();
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<()>, tonic::Status> {
        use bytes::Buf;
        src.advance(src.remaining());
        Ok(Some(()))
    }
}

/// Calls `path` with encoded request bytes.
pub async fn call_bytes(
    channel: &Channel,
    path: &str,
    body: Vec<u8>,
    token: Option<&str>,
) -> Result<(), tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut req = tonic::Request::new(body);
    if let Some(t) = token {
        req.metadata_mut().insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    let path = http::uri::PathAndQuery::from_str(path).unwrap();
    grpc.unary(req, path, RawCodec).await.map(|_| ())
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
