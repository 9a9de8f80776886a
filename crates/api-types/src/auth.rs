//! Accounts and sessions as the auth service shows them, and the bodies that create and open
//! them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
}

crate::named_values!(Role {
    User => "user",
    Admin => "admin",
});

/// An account as clients see it; the password hash lives only in the store layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub is_active: bool,
    /// `null` until the first sign-in (accounts created by `ADMIN_EMAIL`).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub last_login: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// "Ada Lovelace".
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// The user as `/api/auth/verify` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VerifiedUser {
    pub id: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
}

impl VerifiedUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// The subset of an account the other services need.
impl From<&User> for VerifiedUser {
    fn from(user: &User) -> Self {
        VerifiedUser {
            id: user.id,
            email: user.email.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            role: user.role,
        }
    }
}

/// `{"user": ...}`: the answer of register, login and `me`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserResponse {
    pub user: User,
}

/// `{"user": ...}`: the answer of `verify`, the subset the other services need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyResponse {
    pub user: VerifiedUser,
}

/// `{"message": "Signed out."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageResponse {
    #[cfg_attr(feature = "openapi", schema(example = "Signed out."))]
    pub message: String,
}

// The request bodies read every field with a default, so a missing field is reported by the
// service's own rule ("Email is required.") rather than by serde.

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RegisterBody {
    /// Trimmed and lower-cased; at most 254 characters.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, format = "email", example = "ada@example.com")
    )]
    pub email: String,
    /// 8 to 72 bytes (bcrypt's limit).
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, format = Password, min_length = 8)
    )]
    pub password: String,
    /// 1 to 100 characters once trimmed.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, min_length = 1, max_length = 100, example = "Ada")
    )]
    pub first_name: String,
    /// 1 to 100 characters once trimmed.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            required = true,
            min_length = 1,
            max_length = 100,
            example = "Lovelace"
        )
    )]
    pub last_name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginBody {
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, min_length = 1, example = "ada@example.com")
    )]
    pub email: String,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, format = Password, min_length = 1)
    )]
    pub password: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_written_in_camel_case_with_a_null_last_login() {
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let user = User {
            id: Uuid::nil(),
            email: "ada@example.com".into(),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            role: Role::Admin,
            is_active: true,
            last_login: None,
            created_at: at,
            updated_at: at,
        };
        assert_eq!(user.full_name(), "Ada Lovelace");
        let json = serde_json::to_value(UserResponse { user: user.clone() }).unwrap();
        assert_eq!(json["user"]["firstName"], "Ada");
        assert_eq!(json["user"]["role"], "admin");
        assert!(json["user"]["lastLogin"].is_null());
        let verified = VerifiedUser::from(&user);
        assert!(verified.is_admin());
        assert_eq!(verified.full_name(), "Ada Lovelace");
    }

    #[test]
    fn a_sign_in_body_with_missing_fields_reads_as_empty_strings() {
        let body: LoginBody = serde_json::from_str("{}").unwrap();
        assert_eq!(body, LoginBody::default());
        let body: RegisterBody = serde_json::from_str(r#"{"firstName":"Ada"}"#).unwrap();
        assert_eq!(body.first_name, "Ada");
        assert!(body.email.is_empty());
    }
}
