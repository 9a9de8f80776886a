//! Who is on the other end of a request: the address the gateway saw, not the gateway's.
//!
//! The gateway appends the peer it accepted to `X-Forwarded-For`; a service believes the last
//! entry of that header only when its own peer is a loopback or private address (the gateway, in
//! every deployment of the stack). A client that reaches a service directly from a public address
//! cannot choose the address it is counted under.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

pub static X_FORWARDED_FOR: axum::http::HeaderName =
    axum::http::HeaderName::from_static("x-forwarded-for");

/// The client's IP address (see the module docs); `None` when the server was not told its peer
/// (a router driven without a socket).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

impl ClientAddress {
    /// The address as a throttling key; requests without one share the key `unknown`.
    pub fn key(&self) -> String {
        self.0
            .map(|ip| ip.to_string())
            .unwrap_or_else(|| "unknown".into())
    }
}

/// Loopback, RFC 1918, link-local and unique-local addresses: a proxy of our own.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_internal(IpAddr::V4(v4)),
            None => {
                v6.is_loopback()
                    || (v6.segments()[0] & 0xfe00) == 0xfc00
                    || (v6.segments()[0] & 0xffc0) == 0xfe80
            }
        },
    }
}

/// The client address given the socket peer and the request headers.
pub fn resolve(peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
    let forwarded = || {
        headers
            .get_all(&X_FORWARDED_FOR)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .last()
            .and_then(|last| last.trim().parse::<IpAddr>().ok())
    };
    match peer {
        Some(ip) if is_internal(ip) => forwarded().or(Some(ip)),
        Some(ip) => Some(ip),
        None => forwarded(),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        Ok(ClientAddress(resolve(peer, &parts.headers)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(&X_FORWARDED_FOR, xff.parse().unwrap());
        h
    }

    #[test]
    fn behind_an_internal_proxy_the_last_forwarded_address_is_the_client() {
        let gateway = Some("10.0.0.5".parse().unwrap());
        let got = resolve(gateway, &headers("1.1.1.1, 203.0.113.9"));
        assert_eq!(got, Some("203.0.113.9".parse().unwrap()));
    }

    #[test]
    fn a_public_peer_cannot_choose_its_address() {
        let peer = Some("198.51.100.7".parse().unwrap());
        assert_eq!(resolve(peer, &headers("203.0.113.9")), peer);
    }

    #[test]
    fn without_a_forwarded_header_the_peer_is_the_client() {
        let peer = Some("127.0.0.1".parse().unwrap());
        assert_eq!(resolve(peer, &HeaderMap::new()), peer);
        assert_eq!(resolve(peer, &headers("not an address")), peer);
    }
}
