#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The wire format of every type: a golden JSON file per type (what deployed agents
//! parse), and round trips.

use proto::{
    AccessDocument, AccessGroup, AccessUser, CertificateResponse, ErrorBody, ErrorCode,
    HostCertificatesRequest, HostCertificatesResponse, HostReport, JoinRequest, JoinResponse,
    PosixAccount, UserCertificateRequest,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// `value` serialises to exactly the golden file, and the file parses back to `value`.
fn golden<T>(file: &str, value: &T)
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let path = format!("{}/tests/golden/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let pretty = serde_json::to_string_pretty(value).unwrap();
    assert_eq!(pretty.trim_end(), text.trim_end(), "{file} changed");
    let parsed: T = serde_json::from_str(&text).unwrap();
    assert_eq!(&parsed, value, "{file} parses back");
    // The compact form (what the server sends) parses back too.
    let compact = serde_json::to_vec(value).unwrap();
    assert_eq!(&serde_json::from_slice::<T>(&compact).unwrap(), value);
}

fn document() -> AccessDocument {
    AccessDocument {
        revision: 42,
        hostname: "web-1.prod".into(),
        users: vec![AccessUser {
            account: PosixAccount {
                username: "alice".into(),
                uid: 200_000,
                gid: 200_000,
                gecos: "Alice Example".into(),
                home: "/home/alice".into(),
                shell: "/bin/bash".into(),
            },
            sudo: true,
            groups: vec!["docker".into(), "ssh_users".into()],
        }],
        groups: vec![AccessGroup {
            name: "ssh_users".into(),
            gid: 200_001,
            members: vec!["alice".into()],
        }],
    }
}

#[test]
fn access_document() {
    let doc = document();
    golden("access_document.json", &doc);
    assert_eq!(doc.user("alice").unwrap().account.uid, 200_000);
    assert!(doc.user("bob").is_none());
}

#[test]
fn join_request() {
    let request = JoinRequest {
        token: Some("sjt_example".into()),
        hostname: "web-1".into(),
        tags: vec!["env=prod".into()],
        host_keys: vec!["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyExample root@web-1".into()],
    };
    golden("join_request.json", &request);
    // The token may come as a bearer token instead, and tags may be left out.
    let minimal: JoinRequest = serde_json::from_str(r#"{"hostname":"h"}"#).unwrap();
    assert_eq!(minimal.token, None);
    assert!(minimal.tags.is_empty());
    assert_eq!(
        serde_json::to_string(&minimal).unwrap(),
        r#"{"hostname":"h"}"#
    );
    // A misspelt field is an error, not silently ignored.
    assert!(serde_json::from_str::<JoinRequest>(r#"{"hostname":"h","tag":["a=b"]}"#).is_err());
    assert!(serde_json::from_str::<JoinRequest>(r#"{"token":"t"}"#).is_err());
}

#[test]
fn join_response() {
    golden(
        "join_response.json",
        &JoinResponse {
            host_id: 7,
            hostname: "web-1".into(),
            tags: vec!["env=prod".into(), "role=web".into()],
            credential: "shc_example".into(),
            certificates: host_certificates(),
        },
    );
}

fn certificate(principal: &str, serial: i64) -> CertificateResponse {
    CertificateResponse {
        certificate: "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQ example".into(),
        serial,
        key_id: format!("sshward:acme:{principal}:{serial}"),
        principals: vec![principal.into()],
        valid_after: 1_800_000_000,
        valid_before: 1_800_057_900,
    }
}

fn host_certificates() -> HostCertificatesResponse {
    HostCertificatesResponse {
        certificates: vec![certificate("web-1", 12)],
        user_ca_keys: vec![
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIUserCa sshward-user-ca-team-1".into(),
        ],
        host_ca_keys: vec![
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostCa sshward-host-ca-team-1".into(),
        ],
    }
}

#[test]
fn certificates() {
    let request = UserCertificateRequest {
        public_key:
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFYm2nRDmoB7AGdzjgkn6xbXuaI3XXvPEvE4OUe2ybBz alice"
                .into(),
    };
    golden("user_certificate_request.json", &request);
    assert!(serde_json::from_str::<UserCertificateRequest>(r#"{"publicKey":"x"}"#).is_err());
    golden("certificate_response.json", &certificate("alice", 41));
    let renew = HostCertificatesRequest {
        host_keys: vec!["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyExample root@web-1".into()],
    };
    golden("host_certificates_request.json", &renew);
    golden("host_certificates_response.json", &host_certificates());
}

#[test]
fn error_body() {
    let mut body = ErrorBody::new(
        ErrorCode::AccessDenied,
        "alice@example.com may not sign in: the domain example.com is not allowed",
    );
    body.reason = Some("domain_not_allowed".into());
    golden("error_body.json", &body);
    let plain = ErrorBody::new(ErrorCode::NotFound, "no such host");
    assert_eq!(
        serde_json::to_string(&plain).unwrap(),
        r#"{"error":"not_found","message":"no such host"}"#
    );
}

#[test]
fn every_error_code_spells_as_its_json() {
    let codes = [
        ErrorCode::BadRequest,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Conflict,
        ErrorCode::PayloadTooLarge,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
        ErrorCode::AuthorizationPending,
        ErrorCode::SlowDown,
        ErrorCode::InvalidGrant,
        ErrorCode::AccessDenied,
        ErrorCode::UnsupportedGrantType,
        ErrorCode::NotConfigured,
        ErrorCode::ProviderError,
    ];
    for code in codes {
        let json = serde_json::to_value(&code).unwrap();
        assert_eq!(json, code.as_str(), "{code:?}");
        assert_eq!(serde_json::from_value::<ErrorCode>(json).unwrap(), code);
    }
    // A newer server's code reaches an older agent as Other, not as a parse failure.
    let body: ErrorBody =
        serde_json::from_str(r#"{"error":"quota_exceeded","message":"m"}"#).unwrap();
    assert_eq!(body.error, ErrorCode::Other);
}

#[test]
fn host_report() {
    golden(
        "host_report.json",
        &HostReport {
            agent_version: "0.1.0".into(),
            applied_revision: Some(42),
            last_error: Some("useradd: group 'docker' does not exist".into()),
        },
    );
    let fresh: HostReport = serde_json::from_str(r#"{"agent_version":"0.1.0"}"#).unwrap();
    assert_eq!(fresh.applied_revision, None);
    assert!(serde_json::from_str::<HostReport>(r#"{"agent_version":"1","error":"x"}"#).is_err());
}

#[test]
fn the_document_head_is_the_start_of_its_json() {
    let doc = document();
    let json = serde_json::to_string(&doc).unwrap();
    assert!(
        json.starts_with(&proto::json_head(doc.revision, &doc.hostname)),
        "{json}"
    );
    let statement = proto::signed_statement("web-1", 42, "ab");
    assert_eq!(
        statement,
        "sshward access document v1\nhost web-1\nrevision 42\nsha256 ab\n"
    );
}
