//! Health, reflection, the auth door, request ids, error details.

use steward_grpc::pb;
use tonic::Code;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

use crate::harness::{TestServer, assert_status};
use crate::on_both_backends;

on_both_backends!(health_and_reflection_need_no_token, |backend| async move {
    let srv = TestServer::start(backend).await;
    let anon = srv.client(None).await;
    let mut health = HealthClient::new(anon.channel.clone());
    for service in ["", "steward.v1.UserService", "steward.v1.AuthService", "steward.v1.AuditService"] {
        let r = health.check(HealthCheckRequest { service: service.into() }).await.unwrap().into_inner();
        assert_eq!(r.status, ServingStatus::Serving as i32, "{service}");
    }

    use futures::StreamExt;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let mut refl = ServerReflectionClient::new(anon.channel.clone());
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = refl.server_reflection_info(tokio_stream::iter(vec![req])).await.unwrap().into_inner();
    let Some(Ok(resp)) = stream.next().await else { panic!("no reflection answer") };
    let Some(MessageResponse::ListServicesResponse(list)) = resp.message_response else { panic!("wrong answer") };
    let names: Vec<_> = list.service.iter().map(|s| s.name.as_str()).collect();
    for want in ["steward.v1.UserService", "steward.v1.AuthService", "steward.v1.AuditService", "grpc.health.v1.Health"]
    {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }

    use tonic_reflection::pb::v1alpha::ServerReflectionRequest as AlphaReq;
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient as AlphaClient;
    use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest as AlphaRequest;
    let mut alpha = AlphaClient::new(anon.channel.clone());
    let req = AlphaReq {
        host: String::new(),
        message_request: Some(AlphaRequest::FileContainingSymbol("steward.v1.UserService".into())),
    };
    let mut stream = alpha.server_reflection_info(tokio_stream::iter(vec![req])).await.unwrap().into_inner();
    assert!(stream.next().await.unwrap().is_ok(), "v1alpha reflection answers");

    // The error details are described too, so grpcurl prints them as JSON.
    use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse as AlphaResponse;
    let req = AlphaReq {
        host: String::new(),
        message_request: Some(AlphaRequest::FileContainingSymbol("google.rpc.ErrorInfo".into())),
    };
    let mut stream = alpha.server_reflection_info(tokio_stream::iter(vec![req])).await.unwrap().into_inner();
    let answer = stream.next().await.unwrap().unwrap().message_response;
    assert!(matches!(answer, Some(AlphaResponse::FileDescriptorResponse(_))), "{answer:?}");
});

on_both_backends!(the_door_refuses_missing_malformed_and_forged_tokens, |backend| async move {
    let srv = TestServer::start(backend).await;
    let anon = srv.client(None).await;
    let r = anon.auth().who_am_i(pb::WhoAmIRequest {}).await;
    assert_status(r, Code::Unauthenticated, "UNAUTHENTICATED");
    // Well-formed shape, wrong checksum; and a real key with one character changed.
    let mut forged = srv.admin_key.clone().into_bytes();
    let i = forged.len() - 10;
    forged[i] = if forged[i] == b'a' { b'b' } else { b'a' };
    let forged = String::from_utf8(forged).unwrap();
    for bad in ["nonsense", "stw_key_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_aaaaaaa", forged.as_str()] {
        let r = anon.with_token(bad).auth().who_am_i(pb::WhoAmIRequest {}).await;
        assert_status(r, Code::Unauthenticated, "UNAUTHENTICATED");
    }
    let me = srv.admin().await.auth().who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner();
    assert_eq!(me.active_role, "admin");
    assert_eq!(me.credential_kind, pb::CredentialKind::ApiKey as i32);
    assert!(me.permissions.contains(&"users.create".to_string()));
});

on_both_backends!(request_ids_travel_and_errors_carry_details, |backend| async move {
    let srv = TestServer::start(backend).await;
    let admin = srv.admin().await;
    let mut req = tonic::Request::new(pb::GetUserRequest {
        selector: Some(pb::get_user_request::Selector::UserId("not-a-uuid".into())),
    });
    req.metadata_mut().insert("x-request-id", "trace-42".parse().unwrap());
    let err = admin.users().get_user(req).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(err.metadata().get("x-request-id").unwrap(), "trace-42");
    use tonic_types::StatusExt;
    let d = err.get_error_details();
    assert_eq!(d.error_info().unwrap().metadata.get("request_id").map(String::as_str), Some("trace-42"));
    assert_eq!(d.bad_request().unwrap().field_violations[0].field, "user_id");
});
