//! Check-in at the door, beside the scanner page: the offline rules (`offline`, pure, tested
//! natively), what the browser keeps (`storage`), the camera (`camera`) and the wasm QR decoder
//! it falls back on (`qr`).

pub mod camera;
pub mod offline;
pub mod qr;
pub mod storage;
