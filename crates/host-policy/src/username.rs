//! POSIX names: deriving a user name from a SCIM `userName` (a UPN or email address) and a
//! group name from a display name, and resolving collisions deterministically.
//!
//! A name is valid when it matches `[a-z_][a-z0-9_-]*`, is at most [`MAX_NAME_LEN`]
//! characters and is not [reserved](is_reserved). Derivation:
//!
//! 1. take the part the [`UsernameStyle`] selects (by default the local part of the UPN);
//! 2. transliterate to ASCII (`Jürgen` → `jurgen`, `张伟` → `zhang_wei`) and lower-case;
//! 3. replace every other character by `_`, collapse runs of `_`, trim `_` and `-` at both
//!    ends; prefix `u` when the result starts with a digit; `user` when nothing is left;
//! 4. cut to 32 characters.
//!
//! [`choose_name`] then turns that base into a free name: the base itself, or `base2`,
//! `base3`, … (cut so that the suffix fits), skipping reserved and taken names. Callers
//! allocate in creation order, so the earlier-created user keeps the plain name.

use std::fmt;
use std::str::FromStr;

use crate::PolicyError;

/// Longest POSIX name (user or group), as `useradd` accepts by default.
pub const MAX_NAME_LEN: usize = 32;

/// Names that are never given to a directory user or group: the system accounts and
/// groups of common Linux distributions, and the default users of cloud and device images
/// (`azureuser`, `ec2-user`, `opc`, `ubuntu`, `pi`, `vagrant`, ...), which often have
/// passwordless sudo on those images: `azureuser@corp.example` becomes `azureuser2`.
pub const RESERVED_NAMES: &[&str] = &[
    "_apt",
    "adm",
    "admin",
    "almalinux",
    "alpine",
    "apache",
    "arch",
    "audio",
    "avahi",
    "azureuser",
    "backup",
    "bin",
    "bitnami",
    "cdrom",
    "centos",
    "chrony",
    "cloud-user",
    "colord",
    "core",
    "crontab",
    "daemon",
    "dbus",
    "debian",
    "dialout",
    "dip",
    "disk",
    "dnsmasq",
    "docker",
    "ec2-user",
    "fax",
    "fedora",
    "floppy",
    "freebsd",
    "ftp",
    "games",
    "gdm",
    "git",
    "gnats",
    "halt",
    "httpd",
    "input",
    "irc",
    "kali",
    "kmem",
    "kvm",
    "landscape",
    "lightdm",
    "list",
    "lp",
    "lxd",
    "mail",
    "man",
    "messagebus",
    "mysql",
    "netdev",
    "news",
    "nfsnobody",
    "nginx",
    "nobody",
    "nogroup",
    "ntp",
    "opc",
    "operator",
    "pi",
    "plugdev",
    "polkitd",
    "pollinate",
    "postfix",
    "postgres",
    "proxy",
    "pulse",
    "render",
    "rocky",
    "root",
    "rpc",
    "rpcuser",
    "rtkit",
    "sasl",
    "sgx",
    "shadow",
    "shutdown",
    "src",
    "ssh",
    "sshd",
    "sshward",
    "sshward-agent",
    "ssm-user",
    "staff",
    "sudo",
    "sync",
    "sys",
    "syslog",
    "tape",
    "tcpdump",
    "tss",
    "tty",
    "ubuntu",
    "usbmux",
    "users",
    "utmp",
    "uucp",
    "uuidd",
    "vagrant",
    "video",
    "voice",
    "wheel",
    "www-data",
];

/// Prefixes of reserved names (`systemd-network`, `systemd-journal`, ...).
pub const RESERVED_PREFIXES: &[&str] = &["systemd-"];

/// How a user name is derived from the SCIM `userName`; chosen per team.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum UsernameStyle {
    /// The local part of the UPN: `Jane.Doe@corp.example` → `jane_doe` (the default).
    #[default]
    LocalPart,
    /// The local part without dots: `Jane.Doe@corp.example` → `janedoe`.
    LocalPartWithoutDots,
    /// The whole address: `Jane.Doe@corp.example` → `jane_doe_corp_example`.
    Address,
}

impl UsernameStyle {
    /// `local-part`, `local-part-without-dots` or `address`.
    pub fn as_str(self) -> &'static str {
        match self {
            UsernameStyle::LocalPart => "local-part",
            UsernameStyle::LocalPartWithoutDots => "local-part-without-dots",
            UsernameStyle::Address => "address",
        }
    }
}

impl FromStr for UsernameStyle {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<UsernameStyle, PolicyError> {
        match s.trim() {
            "local-part" => Ok(UsernameStyle::LocalPart),
            "local-part-without-dots" => Ok(UsernameStyle::LocalPartWithoutDots),
            "address" => Ok(UsernameStyle::Address),
            other => Err(PolicyError::InvalidName(format!(
                "unknown username style {other:?} (local-part, local-part-without-dots, address)"
            ))),
        }
    }
}

impl fmt::Display for UsernameStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// True for a valid POSIX name: `[a-z_][a-z0-9_-]*`, 1 to 32 characters. Reserved names
/// are valid names; see [`is_reserved`].
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    first_ok
        && name.len() <= MAX_NAME_LEN
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// True for a name that belongs to the system (see [`RESERVED_NAMES`]).
pub fn is_reserved(name: &str) -> bool {
    RESERVED_NAMES.contains(&name) || RESERVED_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Turns any text into a valid POSIX name (steps 2 to 4 of the module docs).
pub fn sanitize(raw: &str) -> String {
    let ascii = deunicode::deunicode(raw).to_ascii_lowercase();
    let mut out = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' {
            c
        } else {
            '_'
        };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    let mut name = out.trim_matches(['_', '-']).to_owned();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'u');
    }
    if name.is_empty() {
        name.push_str("user");
    }
    cut(&name, MAX_NAME_LEN)
}

/// `name` cut to at most `len` characters, without a trailing `_` or `-`.
fn cut(name: &str, len: usize) -> String {
    let end = name.len().min(len);
    let cut = name.get(..end).unwrap_or(name);
    let trimmed = cut.trim_end_matches(['_', '-']);
    if trimmed.is_empty() {
        cut.to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// The base user name for a SCIM `userName` (before collision handling).
pub fn base_username(user_name: &str, style: UsernameStyle) -> String {
    let user_name = user_name.trim();
    let local = user_name
        .rsplit_once('@')
        .map_or(user_name, |(local, _)| local);
    match style {
        UsernameStyle::LocalPart => sanitize(local),
        UsernameStyle::LocalPartWithoutDots => sanitize(&local.replace('.', "")),
        UsernameStyle::Address => sanitize(user_name),
    }
}

/// The base POSIX group name for a group's display name (`SSH Users` → `ssh_users`,
/// `ssh-users` → `ssh-users`).
pub fn base_group_name(display_name: &str) -> String {
    sanitize(display_name)
}

/// The first free name for `base`: `base` itself, then `base2`, `base3`, … (the base cut
/// so that the whole stays within 32 characters), skipping reserved names and those for
/// which `taken` answers true.
pub fn choose_name(base: &str, mut taken: impl FnMut(&str) -> bool) -> String {
    let mut base = sanitize(base);
    if RESERVED_PREFIXES.iter().any(|p| base.starts_with(p)) {
        // No suffix can make such a name acceptable.
        base = cut(&format!("u{base}"), MAX_NAME_LEN);
    }
    if !is_reserved(&base) && !taken(&base) {
        return base;
    }
    let mut n: u64 = 2;
    loop {
        let suffix = n.to_string();
        let candidate = format!("{}{suffix}", cut(&base, MAX_NAME_LEN - suffix.len()));
        if !is_reserved(&candidate) && !taken(&candidate) {
            return candidate;
        }
        n += 1;
    }
}

/// The GECOS field for a display name: `:`, `,` and control characters become spaces
/// (they would break `/etc/passwd`), surrounding space is trimmed.
pub fn gecos(display_name: &str) -> String {
    display_name
        .chars()
        .map(|c| {
            if c == ':' || c == ',' || c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn derives_base_names() {
        use UsernameStyle::*;
        let cases: &[(&str, UsernameStyle, &str)] = &[
            ("alice@acme.example", LocalPart, "alice"),
            ("Alice.Smith@ACME.example", LocalPart, "alice_smith"),
            (
                "Alice.Smith@acme.example",
                LocalPartWithoutDots,
                "alicesmith",
            ),
            (
                "Alice.Smith@acme.example",
                Address,
                "alice_smith_acme_example",
            ),
            ("jürgen.müller@acme.example", LocalPart, "jurgen_muller"),
            ("Ødegaard@acme.example", LocalPart, "odegaard"),
            ("josé@acme.example", LocalPart, "jose"),
            ("张伟@acme.example", LocalPart, "zhang_wei"),
            ("ß@acme.example", LocalPart, "ss"),
            ("1password@acme.example", LocalPart, "u1password"),
            ("-dash-@acme.example", LocalPart, "dash"),
            ("a..b__c@acme.example", LocalPart, "a_b_c"),
            ("o'brien+ssh@acme.example", LocalPart, "o_brien_ssh"),
            ("@acme.example", LocalPart, "user"),
            ("🙂@acme.example", LocalPart, "slight_smile"),
            ("\u{200b}@acme.example", LocalPart, "user"),
            ("no-at-sign", LocalPart, "no-at-sign"),
            ("a@b@c.example", LocalPart, "a_b"),
            ("  bob@acme.example  ", LocalPart, "bob"),
        ];
        for (input, style, want) in cases {
            let got = base_username(input, *style);
            assert_eq!(&got, want, "{input} ({style})");
            assert!(is_valid_name(&got), "{got}");
        }
    }

    #[test]
    fn long_names_are_cut_to_32() {
        let long = format!("{}@acme.example", "a".repeat(40));
        assert_eq!(
            base_username(&long, UsernameStyle::LocalPart),
            "a".repeat(32)
        );
        // A cut that would end on a separator drops it.
        let long = format!("{}.b@acme.example", "a".repeat(31));
        assert_eq!(
            base_username(&long, UsernameStyle::LocalPart),
            "a".repeat(31)
        );
        // Collision suffixes still fit.
        let base = "x".repeat(32);
        let taken: HashSet<String> = [base.clone()].into();
        let got = choose_name(&base, |n| taken.contains(n));
        assert_eq!(got, format!("{}2", "x".repeat(31)));
        assert!(is_valid_name(&got));
        let taken: HashSet<String> = (2..=9)
            .map(|n| format!("{}{n}", "x".repeat(31)))
            .chain([base.clone()])
            .collect();
        let got = choose_name(&base, |n| taken.contains(n));
        assert_eq!(got, format!("{}10", "x".repeat(30)));
    }

    #[test]
    fn reserved_names_are_never_chosen() {
        assert!(
            RESERVED_NAMES.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
        assert_eq!(
            choose_name("systemd-network", |_| false),
            "usystemd-network"
        );
        let image_accounts = [
            "azureuser",
            "opc",
            "vagrant",
            "pi",
            "rocky",
            "alpine",
            "ec2-user",
            "ubuntu",
            "debian",
            "admin",
            "centos",
            "fedora",
            "ssm-user",
            "bitnami",
        ];
        for name in ["root", "daemon", "bin", "sys", "nobody", "sshd", "sudo"]
            .into_iter()
            .chain(image_accounts)
        {
            assert!(is_reserved(name), "{name}");
            let got = choose_name(name, |_| false);
            assert_ne!(got, name);
            assert!(!is_reserved(&got));
            assert_eq!(got, format!("{name}2"));
        }
        assert_eq!(
            base_username("root@acme.example", UsernameStyle::LocalPart),
            "root"
        );
        assert_eq!(choose_name("root", |_| false), "root2");
        assert!(!is_reserved("alice"));
        assert!(is_reserved("systemd-network"));
    }

    #[test]
    fn collisions_take_the_next_number_deterministically() {
        let mut taken: HashSet<String> = HashSet::new();
        let mut assign = |base: &str| {
            let name = choose_name(base, |n| taken.contains(n));
            taken.insert(name.clone());
            name
        };
        assert_eq!(assign("alice"), "alice");
        assert_eq!(assign("alice"), "alice2");
        assert_eq!(assign("alice"), "alice3");
        assert_eq!(assign("alice2"), "alice22");
        assert_eq!(assign("bob"), "bob");
    }

    #[test]
    fn validity() {
        for ok in ["a", "_a", "a-b", "a_b", "a1", &"a".repeat(32)] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in ["", "1a", "-a", "A", "a.b", "a b", "ä", &"a".repeat(33)] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn group_names_and_gecos() {
        assert_eq!(base_group_name("ssh-users"), "ssh-users");
        assert_eq!(base_group_name("SSH Users"), "ssh_users");
        assert_eq!(base_group_name("Ops: Prod, EU"), "ops_prod_eu");
        assert_eq!(gecos("Smith, John: Ops\n"), "Smith  John  Ops");
        assert_eq!(gecos("Zoë"), "Zoë");
    }

    #[test]
    fn styles_round_trip() {
        for style in [
            UsernameStyle::LocalPart,
            UsernameStyle::LocalPartWithoutDots,
            UsernameStyle::Address,
        ] {
            assert_eq!(style.as_str().parse::<UsernameStyle>().ok(), Some(style));
        }
        assert!("nope".parse::<UsernameStyle>().is_err());
    }
}
