//! Enums whose values have stable names: the names they are serialized, stored and queried by.

/// `ALL` (every value, in the order listed), `as_str` (a value's name) and `parse` (the value of
/// a name) of an enum, from one list of `Value => "name"`. `as_str` matches on the list, so a
/// value left out of it does not compile, and `ALL` is always complete.
#[macro_export]
macro_rules! named_values {
    ($ty:ident { $($value:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: [$ty; [$($name),+].len()] = [$($ty::$value),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$value => $name),+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.into_iter().find(|value| value.as_str() == s)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use std::fmt::Debug;

    use serde::Serialize;

    use crate::auth::Role;
    use crate::events::Status;
    use crate::notifications::NotificationKind;
    use crate::orders::{CancelReason, OrderStatus};
    use crate::payments::{PaymentMethod, PaymentStatus};
    use crate::waitlist::WaitlistStatus;

    /// Each value is serialized as its name and read back from it; anything else is no value.
    fn written_as_names<T: Serialize + Copy + PartialEq + Debug>(
        all: &[T],
        as_str: fn(T) -> &'static str,
        parse: fn(&str) -> Option<T>,
    ) {
        for &value in all {
            assert_eq!(serde_json::to_value(value).unwrap(), as_str(value));
            assert_eq!(parse(as_str(value)), Some(value));
        }
        assert_eq!(parse("no such name"), None);
    }

    #[test]
    fn every_named_enum_of_the_api_is_written_as_its_names() {
        written_as_names(&Role::ALL, Role::as_str, Role::parse);
        written_as_names(&Status::ALL, Status::as_str, Status::parse);
        written_as_names(&OrderStatus::ALL, OrderStatus::as_str, OrderStatus::parse);
        written_as_names(
            &CancelReason::ALL,
            CancelReason::as_str,
            CancelReason::parse,
        );
        written_as_names(
            &PaymentMethod::ALL,
            PaymentMethod::as_str,
            PaymentMethod::parse,
        );
        written_as_names(
            &PaymentStatus::ALL,
            PaymentStatus::as_str,
            PaymentStatus::parse,
        );
        written_as_names(
            &WaitlistStatus::ALL,
            WaitlistStatus::as_str,
            WaitlistStatus::parse,
        );
        written_as_names(
            &NotificationKind::ALL,
            NotificationKind::as_str,
            NotificationKind::parse,
        );
    }
}
