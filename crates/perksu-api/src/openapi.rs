//! The OpenAPI document: its header, the bearer scheme, and the error responses every
//! operation can give whatever its handler does.
//!
//! A handler's `#[utoipa::path]` lists the answers its own logic gives (its 403s, 404s and
//! 409s). The answers of the extractors and the middleware around every handler (a missing
//! token, a malformed body, an oversized one, a request cut short) are added here, once, so
//! that the document declares every status a client can actually receive.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::error::ErrorBody;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Perksu Points",
        description = "The points economy of a multi-tenant employee-recognition platform. \
                       Amounts are decimal strings with at most two decimals; requests accept \
                       a JSON number or a string. Every error answer is an `ErrorBody`."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(ErrorBody))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The operations that take no bearer token: the probe, sign-in, an invitation's
/// set-password (its token is the proof), and the providers' callbacks (signed instead).
const PUBLIC_PATHS: [&str; 4] = [
    "/healthz",
    "/api/auth/login",
    "/api/auth/set-password",
    "/api/redemptions/callbacks/{provider}",
];

const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// One answer that the layers around the handlers can give.
struct CommonResponse {
    status: &'static str,
    /// The name under `components.responses`.
    name: &'static str,
    description: &'static str,
    applies_to: AppliesTo,
}

#[derive(PartialEq)]
enum AppliesTo {
    Every,
    /// Operations that require a bearer token.
    Authenticated,
    /// Operations that read a request body.
    WithBody,
    /// Operations that take an `Idempotency-Key`.
    Idempotent,
}

const COMMON_RESPONSES: [CommonResponse; 6] = [
    CommonResponse {
        status: "400",
        name: "BadRequest",
        description: "The request is malformed: a NUL in the URL (`invalid_uri`), a bad query \
                      string (`invalid_query`), a body that is not the expected JSON \
                      (`invalid_json`, `invalid_field`), or a refused field",
        applies_to: AppliesTo::Every,
    },
    CommonResponse {
        status: "401",
        name: "Unauthenticated",
        description: "No valid bearer token (`unauthenticated`)",
        applies_to: AppliesTo::Authenticated,
    },
    CommonResponse {
        status: "408",
        name: "BodyTimeout",
        description: "The request body did not arrive in time (`body_timeout`)",
        applies_to: AppliesTo::WithBody,
    },
    CommonResponse {
        status: "409",
        name: "IdempotencyKeyReused",
        description: "The `Idempotency-Key` was already used for a different request \
                      (`idempotency_key_reused`), or the operation's own conflict",
        applies_to: AppliesTo::Idempotent,
    },
    CommonResponse {
        status: "413",
        name: "PayloadTooLarge",
        description: "The request body is over its limit, 64 KiB (1 MiB for a bulk \
                      allocation, 4 MiB for a user import) (`payload_too_large`)",
        applies_to: AppliesTo::WithBody,
    },
    CommonResponse {
        status: "503",
        name: "Unavailable",
        description: "The server cannot answer now (`database_unavailable`, `server_busy`, \
                      `request_timeout`); retry after `Retry-After` seconds",
        applies_to: AppliesTo::Every,
    },
];

/// Adds the common error responses to every operation that does not declare its own for the
/// same status, and marks the public operations as taking no token.
pub fn add_common_responses(openapi: &mut utoipa::openapi::OpenApi) {
    let components = openapi.components.get_or_insert_with(Default::default);
    for common in &COMMON_RESPONSES {
        components
            .responses
            .insert(common.name.to_owned(), RefOr::T(common_response(common)));
    }
    for (path, item) in openapi.paths.paths.iter_mut() {
        let public = PUBLIC_PATHS.contains(&path.as_str());
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            if public {
                operation.security = Some(Vec::new());
            }
            add_to_operation(operation, public);
        }
    }
}

fn add_to_operation(operation: &mut Operation, public: bool) {
    let has_body = operation.request_body.is_some();
    let idempotent = operation.parameters.iter().flatten().any(|parameter| {
        parameter.parameter_in == ParameterIn::Header
            && parameter.name.eq_ignore_ascii_case(IDEMPOTENCY_KEY)
    });
    for common in &COMMON_RESPONSES {
        let applies = match common.applies_to {
            AppliesTo::Every => true,
            AppliesTo::Authenticated => !public,
            AppliesTo::WithBody => has_body,
            AppliesTo::Idempotent => idempotent,
        };
        if applies {
            operation
                .responses
                .responses
                .entry(common.status.to_owned())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name(common.name)));
        }
    }
}

fn common_response(common: &CommonResponse) -> Response {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorBody")))
        .build();
    let mut response = ResponseBuilder::new()
        .description(common.description)
        .content("application/json", content);
    if common.status == "503" {
        let seconds = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
            .build();
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(seconds)
                .description(Some("Seconds to wait before trying again"))
                .build(),
        );
    }
    response.build()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn document() -> Value {
        serde_json::to_value(crate::openapi()).expect("the document serialises")
    }

    fn operations(document: &Value) -> Vec<(String, String, &Value)> {
        let paths = document["paths"].as_object().expect("paths");
        paths
            .iter()
            .flat_map(|(path, item)| {
                let item = item.as_object().expect("path item");
                item.iter()
                    .map(move |(method, operation)| (method.clone(), path.clone(), operation))
            })
            .collect()
    }

    /// The committed document; a change to the API's contract shows as a diff of this file.
    const SNAPSHOT: &str = include_str!("../../../docs/openapi.json");
    const SNAPSHOT_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

    #[test]
    fn the_document_is_the_committed_snapshot() {
        let served = serde_json::to_string_pretty(&crate::openapi()).expect("serialises") + "\n";
        if std::env::var_os("PERKSU_UPDATE_OPENAPI").is_some() {
            std::fs::write(SNAPSHOT_PATH, &served).expect("write docs/openapi.json");
            return;
        }
        assert!(
            served == SNAPSHOT,
            "the OpenAPI document changed: review the change, then run \
             `PERKSU_UPDATE_OPENAPI=1 cargo test -p perksu-api snapshot` and commit \
             docs/openapi.json"
        );
    }

    #[test]
    fn every_operation_declares_the_answers_of_the_layers_around_its_handler() {
        let document = document();
        for (method, path, operation) in operations(&document) {
            let responses = &operation["responses"];
            let public = super::PUBLIC_PATHS.contains(&path.as_str());
            for status in ["400", "503"] {
                assert!(
                    responses.get(status).is_some(),
                    "{method} {path}: no {status}"
                );
            }
            if public {
                assert_eq!(
                    operation["security"],
                    serde_json::json!([]),
                    "{method} {path}"
                );
            } else {
                assert!(operation.get("security").is_none(), "{method} {path}");
                assert!(responses.get("401").is_some(), "{method} {path}: no 401");
            }
            if operation.get("requestBody").is_some() {
                for status in ["408", "413"] {
                    assert!(
                        responses.get(status).is_some(),
                        "{method} {path}: no {status}"
                    );
                }
            }
            let idempotent = operation["parameters"]
                .as_array()
                .is_some_and(|parameters| {
                    parameters
                        .iter()
                        .any(|p| p["name"] == super::IDEMPOTENCY_KEY)
                });
            if idempotent {
                assert!(responses.get("409").is_some(), "{method} {path}: no 409");
            }
        }
        let unavailable = &document["components"]["responses"]["Unavailable"];
        assert!(unavailable["headers"].get("Retry-After").is_some());
    }

    #[test]
    fn the_amount_pattern_accepts_exactly_what_points_parse_reads() {
        let pattern = regex::Regex::new(super::super::wire::AMOUNT_PATTERN).expect("a regex");
        let texts = [
            "0",
            "1000",
            "12.5",
            "12.50",
            "007",
            "9999999999999.99",
            "",
            "-1",
            "1.",
            ".5",
            "1.234",
            "1e3",
            " 1",
            "1 ",
            "+1",
            "10000000000000",
            "1,5",
        ];
        for text in texts {
            assert_eq!(
                pattern.is_match(text),
                perksu_domain::Points::parse(text).is_ok(),
                "{text:?}"
            );
        }
    }
}
