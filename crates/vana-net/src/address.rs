//! What kind of address an IP is, as far as outbound connections care: a pure function.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The class of an address that outbound connections refuse by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressClass {
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918: `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`.
    Private,
    /// Carrier-grade NAT, `100.64.0.0/10` (RFC 6598).
    SharedNat,
    /// `169.254.0.0/16`, `fe80::/10`.
    LinkLocal,
    /// Unique-local IPv6 `fc00::/7` and the deprecated site-local `fec0::/10`.
    UniqueLocal,
    /// Cloud instance metadata: `169.254.169.254`, `169.254.170.2`, `fd00:ec2::254`,
    /// `100.100.100.200`. Reaching it can hand out the machine's credentials.
    Metadata,
    /// Special-purpose ranges that are not on the public internet: `192.0.0.0/24`,
    /// documentation (`192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`, `2001:db8::/32`),
    /// benchmarking `198.18.0.0/15`, Teredo/ORCHID/discard-only v6 ranges.
    Special,
    /// `0.0.0.0/8`, `::` (on Linux `0.0.0.0` reaches this machine).
    Unspecified,
    /// Multicast (`224.0.0.0/4`, `ff00::/8`).
    Multicast,
    /// Reserved `240.0.0.0/4` and the broadcast address `255.255.255.255`.
    Reserved,
}

impl AddressClass {
    /// Whether `[web] allow_private_networks = true` permits this class. Metadata endpoints and
    /// addresses that are never a real destination (unspecified, multicast, reserved) are not
    /// permitted by it: metadata needs its own `allowed_hosts` entry, the others are always refused.
    pub fn private_network(self) -> bool {
        matches!(
            self,
            AddressClass::Loopback
                | AddressClass::Private
                | AddressClass::SharedNat
                | AddressClass::LinkLocal
                | AddressClass::UniqueLocal
                | AddressClass::Special
        )
    }

    /// Whether an `allowed_hosts` entry may permit this class (everything but addresses that are
    /// never a destination).
    pub fn allowable(self) -> bool {
        !matches!(self, AddressClass::Unspecified | AddressClass::Multicast | AddressClass::Reserved)
    }
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressClass::Loopback => "loopback",
            AddressClass::Private => "private (RFC 1918)",
            AddressClass::SharedNat => "carrier-grade NAT (100.64.0.0/10)",
            AddressClass::LinkLocal => "link-local",
            AddressClass::UniqueLocal => "unique-local IPv6",
            AddressClass::Metadata => "cloud metadata",
            AddressClass::Special => "special-purpose (not on the public internet)",
            AddressClass::Unspecified => "unspecified",
            AddressClass::Multicast => "multicast",
            AddressClass::Reserved => "reserved or broadcast",
        })
    }
}

/// The class of `ip` when outbound connections refuse it by default, `None` for a public
/// address. IPv6 forms that carry an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`,
/// IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by that
/// IPv4 address.
pub fn classify(ip: IpAddr) -> Option<AddressClass> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<AddressClass> {
    let [a, b, c, d] = ip.octets();
    let class = match (a, b, c, d) {
        (169, 254, 169, 254) | (169, 254, 170, 2) | (100, 100, 100, 200) => AddressClass::Metadata,
        (0, ..) => AddressClass::Unspecified,
        (127, ..) => AddressClass::Loopback,
        (10, ..) => AddressClass::Private,
        (172, 16..=31, ..) => AddressClass::Private,
        (192, 168, ..) => AddressClass::Private,
        (100, 64..=127, ..) => AddressClass::SharedNat,
        (169, 254, ..) => AddressClass::LinkLocal,
        (192, 0, 0, _) | (192, 0, 2, _) | (198, 51, 100, _) | (203, 0, 113, _) => AddressClass::Special,
        (198, 18..=19, ..) => AddressClass::Special,
        (192, 88, 99, _) => AddressClass::Special,
        (224..=239, ..) => AddressClass::Multicast,
        (240..=255, ..) => AddressClass::Reserved,
        _ => return None,
    };
    Some(class)
}

fn classify_v6(ip: Ipv6Addr) -> Option<AddressClass> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some(AddressClass::Unspecified);
    }
    if ip.is_loopback() {
        return Some(AddressClass::Loopback);
    }
    // IPv4-mapped ::ffff:a.b.c.d and IPv4-compatible ::a.b.c.d.
    if s[..5] == [0; 5] && (s[5] == 0xffff || s[5] == 0) {
        return classify_v4(embedded_v4(s[6], s[7])).or(Some(AddressClass::Special).filter(|_| s[5] == 0));
    }
    // IPv4-translated ::ffff:0:a.b.c.d (SIIT).
    if s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0 {
        return classify_v4(embedded_v4(s[6], s[7])).or(Some(AddressClass::Special));
    }
    // NAT64 64:ff9b::/96 and the local-use 64:ff9b:1::/48.
    if s[0] == 0x64 && s[1] == 0xff9b {
        if s[2..6] == [0; 4] {
            return classify_v4(embedded_v4(s[6], s[7]));
        }
        if s[2] == 1 {
            return Some(AddressClass::Special);
        }
    }
    // 6to4 2002:a.b.c.d::/16.
    if s[0] == 0x2002 {
        return classify_v4(embedded_v4(s[1], s[2]));
    }
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        return Some(AddressClass::Metadata);
    }
    let class = match s[0] {
        0xff00..=0xffff => AddressClass::Multicast,
        0xfe80..=0xfebf => AddressClass::LinkLocal,
        0xfec0..=0xfeff => AddressClass::UniqueLocal,
        0xfc00..=0xfdff => AddressClass::UniqueLocal,
        // Teredo 2001::/32, benchmarking 2001:2::/48, ORCHID 2001:10::/28 and 2001:20::/28,
        // documentation 2001:db8::/32, discard-only 100::/64.
        0x2001 if s[1] == 0 || (s[1] == 2 && s[2] == 0) || (0x10..=0x2f).contains(&s[1]) || s[1] == 0xdb8 => {
            AddressClass::Special
        }
        0x3fff if s[1] < 0x1000 => AddressClass::Special,
        0x0100 if s[1..4] == [0; 3] => AddressClass::Special,
        // Anything outside global unicast 2000::/3 is not a real destination.
        x if !(0x2000..=0x3fff).contains(&x) => AddressClass::Reserved,
        _ => return None,
    };
    Some(class)
}

fn embedded_v4(hi: u16, lo: u16) -> Ipv4Addr {
    Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)
}
