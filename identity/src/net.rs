//! Client addresses behind reverse proxies. `X-Forwarded-For` and
//! `Forwarded` (RFC 7239) are written by whoever sends the request, so they
//! are believed only from peers listed in `trusted_proxies`; the client is
//! the first address, walking the chain from the nearest hop backwards,
//! that is not a trusted proxy. With no trusted proxies the TCP peer is the
//! client, whatever the headers say.

use std::net::IpAddr;

/// One CIDR block (`10.0.0.0/8`, `2001:db8::/32`, or a bare address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(text: &str) -> Result<IpNet, String> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{text}` is not an IP address or CIDR block"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{text}`: the prefix length must be 0 to {max}"))?,
        };
        Ok(IpNet { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) are their IPv4 selves.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The `trusted_proxies` setting.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
}

impl TrustedProxies {
    /// A comma-separated list of CIDR blocks; empty trusts nobody.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let nets = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(IpNet::parse)
            .collect::<Result<_, _>>()?;
        Ok(TrustedProxies { nets })
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(ip))
    }

    /// The client's address: `peer` unless it is a trusted proxy, then the
    /// forwarded chain (`forwarded`, client first, as the headers list it)
    /// walked from the end past every trusted proxy. An unparsable entry
    /// ends the walk at the last address known good.
    pub fn client_ip(&self, peer: IpAddr, forwarded: &[&str]) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        for hop in forwarded.iter().rev() {
            match parse_node(hop) {
                Some(ip) => {
                    client = canonical(ip);
                    if !self.trusts(client) {
                        return client;
                    }
                }
                None => return client,
            }
        }
        client
    }
}

/// The addresses of an `X-Forwarded-For` value, client first.
pub fn x_forwarded_for(value: &str) -> Vec<&str> {
    value.split(',').map(str::trim).collect()
}

/// The `for=` nodes of a `Forwarded` value (RFC 7239 section 4), client
/// first. Elements without `for=` count as unknown hops.
pub fn forwarded(value: &str) -> Vec<&str> {
    value
        .split(',')
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                .map_or("unknown", |(_, v)| v.trim().trim_matches('"'))
        })
        .collect()
}

/// An address as `X-Forwarded-For` or `Forwarded` write it: `1.2.3.4`,
/// `1.2.3.4:80`, `[2001:db8::1]`, `[2001:db8::1]:80` or `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim();
    if let Ok(ip) = node.parse() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let (host, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_blocks_match_their_addresses_only() {
        let net = IpNet::parse("10.1.0.0/16").unwrap();
        assert!(net.contains(ip("10.1.200.3")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(net.contains(ip("::ffff:10.1.0.9")));
        let v6 = IpNet::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:1::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(IpNet::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(IpNet::parse("127.0.0.1").unwrap().contains(ip("127.0.0.1")));
        assert!(IpNet::parse("10.0.0.0/33").is_err());
        assert!(IpNet::parse("proxy.example").is_err());
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_ip(ip("203.0.113.9"), &["1.2.3.4"]),
            ip("203.0.113.9")
        );
        let lb = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(
            lb.client_ip(ip("203.0.113.9"), &["1.2.3.4"]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_client_is_the_first_untrusted_hop_from_the_end() {
        let lb = TrustedProxies::parse("10.0.0.0/8, 192.168.1.1").unwrap();
        // A forged first entry is not believed: the LB appended the real client.
        let chain = x_forwarded_for("6.6.6.6, 198.51.100.7, 192.168.1.1");
        assert_eq!(lb.client_ip(ip("10.0.0.2"), &chain), ip("198.51.100.7"));
        let chain = forwarded(r#"for=6.6.6.6, for="[2001:db8::7]:4711";proto=https"#);
        assert_eq!(lb.client_ip(ip("10.0.0.2"), &chain), ip("2001:db8::7"));
        // Only trusted hops: the farthest one is the best we know.
        assert_eq!(lb.client_ip(ip("10.0.0.2"), &["10.0.0.3"]), ip("10.0.0.3"));
        // Garbage stops the walk at the last good address.
        assert_eq!(
            lb.client_ip(ip("10.0.0.2"), &["x", "unknown"]),
            ip("10.0.0.2")
        );
    }
}
