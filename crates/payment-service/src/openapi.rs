//! The payment service's OpenAPI 3.1 document, generated from the annotations on its route
//! handlers and the types of `api_types::payments` (the answers, and the request body that
//! `crate::input` reads by hand), served at [`PATH`] (committed as `docs/openapi/payment.json`).

use platform::openapi::About;
use utoipa::OpenApi;

/// Where the service serves its document.
pub const PATH: &str = "/api/payment/openapi.json";

const ABOUT: About = About {
    title: "Payment service",
    version: env!("CARGO_PKG_VERSION"),
    description: "Payments for pending orders through a simulated gateway; results are \
                  published on the `PAYMENTS` stream. Every error answers with the shared \
                  `ErrorBody` shape.",
    path: PATH,
};

/// The service's own operations; the schemas are collected from their bodies.
#[derive(OpenApi)]
#[openapi(
    paths(crate::routes::process, crate::routes::status, crate::routes::for_order),
    tags((name = "payments", description = "Taking payments and reading them back."))
)]
struct Operations;

/// The service's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = platform::openapi::document(&ABOUT, Operations::openapi());
    platform::openapi::describe(
        &mut doc,
        "OrderStatus",
        "An order's status as the payment service knows it from `orders.*`.",
    );
    doc
}
