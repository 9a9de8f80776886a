//! The payment service's OpenAPI 3.1 document, generated from the annotations on its route
//! handlers and served at `GET /api/payment/openapi.json` (committed as
//! `docs/openapi/payment.json`). The request and response types below document JSON that
//! `crate::input` reads by hand and `crate::view` builds; they are never (de)serialized.

use std::sync::LazyLock;

use axum::response::Response;
use platform::openapi::CookieAuth;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::domain::{OrderStatus, PaymentMethod};
use crate::view::PaymentView;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Payment service",
        version = env!("CARGO_PKG_VERSION"),
        description = "Payments for pending orders through a simulated gateway; results are \
                       published on the `PAYMENTS` stream. Every error answers with the shared \
                       `ErrorBody` shape."
    ),
    paths(
        crate::routes::process,
        crate::routes::status,
        crate::routes::for_order,
        serve,
        platform::openapi::health,
        platform::openapi::ready,
    ),
    components(schemas(platform::openapi::ErrorBody)),
    modifiers(&CookieAuth),
    tags(
        (name = "payments", description = "Taking payments and reading them back."),
        (name = "operations", description = "Health checks and this document."),
    )
)]
struct ApiDoc;

/// The service's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| serde_json::to_string(&openapi()).expect("the document serializes"));

/// This OpenAPI document
#[utoipa::path(
    get,
    path = "/api/payment/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The service's OpenAPI 3.1 document.", body = Object))
)]
pub(crate) async fn serve() -> Response {
    platform::openapi::serve_json(&DOCUMENT)
}

/// Why an order ended without a sale.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    PaymentFailed,
    Expired,
    UserCancelled,
    EventCancelled,
}

/// The body of `POST /api/payment/process`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProcessRequest {
    /// The pending order to pay (from `POST /api/tickets/book`).
    pub order_id: Uuid,
    pub payment_method: PaymentMethod,
    /// A card for `credit_card` and `debit_card`, a PayPal account for `paypal`.
    pub payment_details: PaymentDetailsInput,
}

#[derive(ToSchema)]
#[serde(untagged)]
pub enum PaymentDetailsInput {
    Card(CardInput),
    Paypal(PaypalInput),
}

/// A card. The number and the CVC are checked and dropped: never stored, logged, published or
/// echoed.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CardInput {
    /// 12 to 19 digits passing the Luhn check; spaces and dashes allowed. Also read as `number`.
    #[schema(example = "4242 4242 4242 4242")]
    pub card_number: String,
    /// 1 to 12, a number or a numeric string. Also read as `expMonth`.
    #[schema(minimum = 1, maximum = 12, example = 12)]
    pub expiry_month: i64,
    /// Four digits, this year or later (a card is valid through the end of its month), a number
    /// or a numeric string. Also read as `expYear`.
    #[schema(example = 2030)]
    pub expiry_year: i64,
    /// 3 or 4 digits. Also read as `cvv`.
    #[schema(example = "123")]
    pub cvc: String,
    /// 1 to 100 characters. Also read as `cardHolderName` or `nameOnCard`.
    #[schema(min_length = 1, max_length = 100, example = "Ada Lovelace")]
    pub cardholder_name: String,
}

/// A PayPal account.
#[derive(ToSchema)]
pub struct PaypalInput {
    /// Also read as `paypalEmail`.
    #[schema(format = "email", max_length = 254, example = "ada@approve.test")]
    pub email: String,
}

/// The answer of `POST /api/payment/process`.
#[derive(ToSchema)]
pub struct ProcessResponse {
    #[schema(example = "Payment completed. Your tickets are being issued.")]
    pub message: String,
    pub payment: PaymentView<'static>,
    pub order: ProcessOrder,
}

/// The order as the payment service knows it: still `pending` right after a payment, since the
/// ticket service confirms it asynchronously.
#[derive(ToSchema)]
pub struct ProcessOrder {
    pub id: Uuid,
    #[schema(required = true)]
    pub status: Option<OrderStatus>,
}

/// The answer of `GET /api/payment/status/{id}`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusResponse {
    pub payment: PaymentView<'static>,
    /// The order's current status, `null` if the order is unknown here.
    #[schema(required = true)]
    pub order_status: Option<OrderStatus>,
}

/// The answer of `GET /api/payment/orders/{order_id}`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderPayments {
    pub order_id: Uuid,
    pub order_status: OrderStatus,
    /// Oldest first.
    pub payments: Vec<PaymentView<'static>>,
}
