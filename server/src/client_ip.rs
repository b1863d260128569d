//! The client's IP address, decided once per request.
//!
//! The socket's peer is the client unless it is a configured trusted proxy
//! (`TRUSTED_PROXIES`). Then `X-Forwarded-For` is read from the right: each
//! trusted hop is skipped, and the first address not in the list is the
//! client. Entries further left were written by the client itself and are
//! never believed, so a forged header cannot dodge the rate limits.

use std::net::{IpAddr, SocketAddr};

use app::session::ClientIp;
use axum::{
    extract::{ConnectInfo, Request, State},
    http::HeaderMap,
    middleware::Next,
    response::Response,
};
use ipnet::IpNet;

/// The peers whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(pub std::sync::Arc<[IpNet]>);

impl std::str::FromStr for TrustedProxies {
    type Err = &'static str;

    /// IPs or CIDR ranges, comma-separated: `10.0.0.0/8, 127.0.0.1`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let proxy = |s: &str| {
            let ip = || s.parse::<IpAddr>().map(IpNet::from);
            s.parse::<IpNet>()
                .or_else(|_| ip())
                .map_err(|_| "expected IP addresses or CIDR ranges, comma-separated")
        };
        let listed = text.split(',').map(str::trim).filter(|s| !s.is_empty());
        listed.map(proxy).collect::<Result<_, _>>().map(Self)
    }
}

impl std::ops::Deref for TrustedProxies {
    type Target = [IpNet];

    fn deref(&self) -> &[IpNet] {
        &self.0
    }
}

/// The middleware: puts [`ClientIp`] into the request's extensions.
pub async fn client_ip_layer(
    State(TrustedProxies(trusted)): State<TrustedProxies>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(peer) = peer {
        let ip = resolve(peer, req.headers(), &trusted);
        req.extensions_mut().insert(ClientIp(ip));
    }
    next.run(req).await
}

/// The client address for a request from `peer` carrying `headers`.
#[must_use]
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop_address(hop) {
            Some(ip) if is_trusted(&ip) => client = ip,
            Some(ip) => return ip,
            // Garbage from here on was not written by a proxy we trust.
            None => {
                if !UNPARSABLE_LOGGED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    tracing::warn!(
                        "X-Forwarded-For holds an entry that is no address; the last \
                         trusted hop counts as the client (logged once)"
                    );
                }
                return client;
            }
        }
    }
    client
}

/// Set once an unparsable `X-Forwarded-For` entry has been logged.
static UNPARSABLE_LOGGED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The address in one `X-Forwarded-For` entry, as proxies write it:
/// `192.0.2.7`, `192.0.2.7:51234`, `2001:db8::7`, `[2001:db8::7]` or
/// `[2001:db8::7]:443`. IPv4-mapped IPv6 addresses count as IPv4.
fn hop_address(hop: &str) -> Option<IpAddr> {
    let ip = hop
        .parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())?;
    Some(ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn xff(value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static(value));
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn proxies_parse_as_a_comma_separated_list() {
        let proxies: TrustedProxies = " 10.0.0.0/8, 127.0.0.1 ,".parse().unwrap();
        assert_eq!(proxies.len(), 2);
        assert!(proxies[1].contains(&ip("127.0.0.1")));
        assert!("".parse::<TrustedProxies>().unwrap().is_empty());
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
    }

    #[test]
    fn entries_with_ports_and_brackets_parse() {
        let trusted: Vec<IpNet> = vec!["127.0.0.1/32".parse().unwrap()];
        for (entry, client) in [
            ("198.51.100.7", "198.51.100.7"),
            ("198.51.100.7:51234", "198.51.100.7"),
            ("2001:db8::7", "2001:db8::7"),
            ("[2001:db8::7]", "2001:db8::7"),
            ("[2001:db8::7]:443", "2001:db8::7"),
            ("::ffff:198.51.100.7", "198.51.100.7"),
        ] {
            let mut h = HeaderMap::new();
            h.insert("x-forwarded-for", HeaderValue::from_str(entry).unwrap());
            assert_eq!(
                resolve(ip("127.0.0.1"), &h, &trusted),
                ip(client),
                "{entry}"
            );
        }
    }

    #[test]
    fn the_header_is_ignored_unless_the_peer_is_trusted() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            resolve(ip("203.0.113.9"), &xff("1.2.3.4"), &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            resolve(ip("10.0.0.2"), &xff("1.2.3.4"), &[]),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            resolve(
                ip("10.0.0.2"),
                &xff("6.6.6.6, 198.51.100.7, 10.0.0.5"),
                &trusted
            ),
            ip("198.51.100.7"),
            "the spoofed left entry is not believed"
        );
        assert_eq!(
            resolve(ip("10.0.0.2"), &HeaderMap::new(), &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(
            resolve(ip("10.0.0.2"), &xff("nonsense"), &trusted),
            ip("10.0.0.2")
        );
    }
}
