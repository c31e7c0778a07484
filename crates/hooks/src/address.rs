//! Where webhooks may go: the public internet only. A receiver's URL must not lead Lots to its
//! own loopback, the private network it runs in or a cloud's metadata service (server-side
//! request forgery). The rule is applied twice: when a subscription is created (IP literals and
//! `localhost` names, so the admin hears of it at once), and when each attempt connects (every
//! address the name resolves to then, so a name that points somewhere private later, or a row
//! stored before the rule, is refused too). `webhook_allow_private_networks` turns both off.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Why `ip` is not an address of the public internet, or `None` when it is one.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "an unspecified (this-network) address",
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => "a private address",
        (100, 64..=127, _) => "a shared (carrier-grade NAT) address",
        (127, _, _) => "a loopback address",
        (169, 254, _) => "a link-local address",
        (192, 0, 0) => "an IETF protocol address",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (198, 18..=19, _) => "a benchmarking address",
        (224..=239, _, _) => "a multicast address",
        (240..=255, _, _) => "a reserved or broadcast address",
        _ => return None,
    })
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    // Addresses that carry an IPv4 address reach that address: judge it.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return non_public_v4(v4);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return non_public_v4(embedded(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return non_public_v4(embedded(s[1], s[2]));
    }
    Some(match s {
        [0, 0, 0, 0, 0, 0, 0, 0] => "an unspecified address",
        [0, 0, 0, 0, 0, 0, 0, 1] => "a loopback address",
        [0, 0, 0, 0, 0, 0, _, _] => "an IPv4-compatible address",
        [0x64, 0xff9b, 1, ..] => "a local NAT64 address",
        [0x100, 0, 0, 0, ..] => "a discard-only address",
        [0x2001, 0xdb8, ..] => "a documentation address",
        [0x3fff, x, ..] if x < 0x1000 => "a documentation address",
        [x, ..] if x & 0xfe00 == 0xfc00 => "a unique local address",
        [x, ..] if x & 0xffc0 == 0xfe80 => "a link-local address",
        [x, ..] if x & 0xffc0 == 0xfec0 => "a site-local address",
        [x, ..] if x & 0xff00 == 0xff00 => "a multicast address",
        _ => return None,
    })
}

/// The host of `url` when it is an IP literal (in any of the forms the URL standard reads as
/// one: `127.1`, `2130706433`, `0x7f.0.0.1` are all 127.0.0.1).
fn literal(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Ipv4(ip) => Some(ip.into()),
        Host::Ipv6(ip) => Some(ip.into()),
        Host::Domain(_) => None,
    }
}

/// `localhost` and every name under it (RFC 6761), with or without the final dot.
fn is_localhost(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// Checks the URL of a new subscription: http or https, a host, no credentials, and unless
/// `allow_private` a host that is not a non-public IP literal nor a `localhost` name. The
/// error is the reason, for the field `url`.
pub fn check_url(url: &str, allow_private: bool) -> Result<(), String> {
    if url.len() > 2000 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("is not a valid URL".into());
    }
    let lower = url.to_ascii_lowercase();
    if !lower.starts_with("http://") && !lower.starts_with("https://") {
        return Err("must be an http:// or https:// URL".into());
    }
    let parsed = match Url::parse(url) {
        Ok(u) => u,
        Err(url::ParseError::EmptyHost) => return Err("has no host".into()),
        Err(e) => return Err(format!("is not a valid URL: {e}")),
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not carry credentials; the signature authenticates Lots".into());
    }
    let Some(host) = parsed.host_str().filter(|h| !h.is_empty()) else {
        return Err("has no host".into());
    };
    if allow_private {
        return Ok(());
    }
    if let Some(ip) = literal(&parsed)
        && let Some(why) = non_public(ip)
    {
        return Err(format!(
            "must lead to the public internet, and {ip} is {why}; webhooks are not sent to \
             the server's own or private networks"
        ));
    }
    if is_localhost(host) {
        return Err(format!(
            "must lead to the public internet, and {host} is this server itself; webhooks are \
             not sent to the server's own or private networks"
        ));
    }
    Ok(())
}

/// An attempt refused because its receiver is not on the public internet.
#[derive(Debug, Clone, thiserror::Error)]
#[error("refused: the host {how} a private or reserved address ({ip}, {why})")]
pub struct Refused {
    how: &'static str,
    ip: IpAddr,
    why: &'static str,
}

/// Refuses a URL whose host is a non-public IP literal. Names are left to [`PublicOnly`]: an
/// IP literal never reaches a resolver.
pub fn refuse_literal(url: &str) -> Option<Refused> {
    let ip = literal(&Url::parse(url).ok()?)?;
    non_public(ip).map(|why| Refused { how: "is", ip, why })
}

/// The first `Refused` in an error's chain of sources.
pub fn refused_in<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(r) = e.downcast_ref::<Refused>() {
            return Some(r);
        }
        next = e.source();
    }
    None
}

/// A resolver for the webhook client that answers only with public addresses: when any
/// address of a name is not public, the name is refused as a whole (a receiver that resolves
/// to both is no safer for it). The client connects to the addresses it answers, so what was
/// checked is what is connected to; no second lookup can rebind the name in between.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some(refused) = addrs.iter().find_map(|a| {
                non_public(a.ip()).map(|why| Refused {
                    how: "resolves to",
                    ip: a.ip(),
                    why,
                })
            }) {
                return Err(refused.into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn public_addresses_pass() {
        for a in [
            "93.184.216.34",
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.1.1",
            "169.253.1.1",
            "223.255.255.255",
            "2a00:1450:400f:80d::200e",
            "2001:4860:4860::8888",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(non_public(ip(a)), None, "{a}");
        }
    }

    #[test]
    fn loopback_private_link_local_and_reserved_are_refused() {
        for (a, why) in [
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("10.0.0.5", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.254", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("0.0.0.0", "unspecified"),
            ("0.1.2.3", "unspecified"),
            ("100.64.0.1", "shared"),
            ("100.127.255.255", "shared"),
            ("192.0.0.8", "IETF"),
            ("192.0.2.1", "documentation"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("198.18.0.1", "benchmarking"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.255", "broadcast"),
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("::127.0.0.1", "IPv4-compatible"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.5", "private"),
            ("::ffff:169.254.169.254", "link-local"),
            ("64:ff9b::a00:5", "private"),
            ("64:ff9b:1::1", "NAT64"),
            ("2002:7f00:1::", "loopback"),
            ("2002:c0a8:101::1", "private"),
            ("100::1", "discard"),
            ("2001:db8::1", "documentation"),
            ("3fff:abc::1", "documentation"),
            ("fc00::1", "unique local"),
            ("fd12:3456::1", "unique local"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("fec0::1", "site-local"),
            ("ff02::1", "multicast"),
        ] {
            let got = non_public(ip(a));
            assert!(got.is_some_and(|g| g.contains(why)), "{a}: {got:?}");
        }
    }

    #[test]
    fn urls_are_checked() {
        for ok in [
            "https://example.se/hooks",
            "http://enkat.example.se:8080/x?y=1",
            "https://93.184.216.34/hook",
            "https://[2001:4860:4860::8888]/hook",
            "https://localhost.example.se/",
        ] {
            assert_eq!(check_url(ok, false), Ok(()), "{ok}");
        }
        for (bad, reason) in [
            ("ftp://example.se", "http:// or https://"),
            ("file:///etc/passwd", "http:// or https://"),
            ("https://user:pw@example.se", "credentials"),
            ("https://user@example.se", "credentials"),
            ("https://", "no host"),
            ("https://a b", "not a valid URL"),
            ("http://127.0.0.1:9000/x", "127.0.0.1 is a loopback address"),
            ("http://127.1/", "127.0.0.1 is a loopback"),
            ("http://2130706433/", "127.0.0.1 is a loopback"),
            ("http://0x7f.0.0.1/", "127.0.0.1 is a loopback"),
            ("http://0/", "0.0.0.0 is an unspecified"),
            ("http://169.254.169.254/latest/meta-data", "link-local"),
            ("http://[::1]:8080/", "::1 is a loopback"),
            ("http://[::ffff:7f00:1]/", "loopback"),
            ("http://localhost/", "localhost is this server"),
            ("http://LocalHost.:80/", "localhost. is this server"),
            ("http://api.localhost/", "api.localhost is this server"),
        ] {
            let got = check_url(bad, false);
            assert!(
                got.as_ref().is_err_and(|e| e.contains(reason)),
                "{bad}: {got:?}"
            );
        }
        // Allowing private networks lifts the address rule only.
        assert_eq!(check_url("http://127.0.0.1:9000/x", true), Ok(()));
        assert_eq!(check_url("http://localhost:9000/x", true), Ok(()));
        assert!(check_url("https://user:pw@10.0.0.1", true).is_err());
        assert!(check_url("ftp://10.0.0.1", true).is_err());
    }

    #[test]
    fn literals_are_refused_at_delivery_and_names_are_left_to_the_resolver() {
        let r = refuse_literal("http://127.0.0.1:8080/hook").unwrap();
        assert_eq!(
            r.to_string(),
            "refused: the host is a private or reserved address (127.0.0.1, a loopback address)"
        );
        assert!(refuse_literal("http://[fd00::1]/").is_some());
        assert!(refuse_literal("https://93.184.216.34/").is_none());
        assert!(refuse_literal("http://localhost/").is_none());
    }

    #[tokio::test]
    async fn the_resolver_refuses_a_name_with_any_private_address() {
        let refused = PublicOnly
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .unwrap();
        let r = refused_in(refused.as_ref()).unwrap();
        assert!(
            r.to_string()
                .starts_with("refused: the host resolves to a private or reserved address"),
            "{r}"
        );
    }
}
