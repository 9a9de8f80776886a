//! One module per page (the seed's `pages/`).

pub mod checkin;
pub mod checkin_staff;
pub mod create_event;
pub mod event_dashboard;
pub mod event_detail;
pub mod events;
pub mod login;
pub mod my_events;
pub mod my_orders;
pub mod order;
pub mod waiting_room;
pub mod waitlist;
