//! The typed values an administrator sets, checked once when they are parsed ("parse,
//! don't validate"): POSIX names, the uid/gid range, the home base and login shell, and a
//! team's [`PosixSettings`]. The store keeps only these types, so nothing it holds can be
//! refused later by the policy.

use std::fmt;
use std::str::FromStr;

use crate::PolicyError;
use crate::username::{self, UsernameStyle};

/// A valid POSIX user or group name: `[a-z_][a-z0-9_-]*`, 1 to 32 characters (what
/// `useradd` and `groupadd` accept by default). Used for a grant's extra local groups.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PosixName(String);

impl PosixName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for PosixName {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<PosixName, PolicyError> {
        let name = s.trim();
        if username::is_valid_name(name) {
            Ok(PosixName(name.to_owned()))
        } else {
            Err(PolicyError::InvalidName(format!(
                "{s:?} is not a POSIX name: use [a-z_][a-z0-9_-]*, at most {} characters",
                username::MAX_NAME_LEN
            )))
        }
    }
}

impl fmt::Display for PosixName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for PosixName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Longest home base or shell path.
pub const MAX_PATH_LEN: usize = 255;

/// Checks a path for an `/etc/passwd` field: absolute, at most [`MAX_PATH_LEN`] bytes,
/// no whitespace, `:`, `,` or control characters (each would break the passwd line or
/// the account tools), no `.` or `..` component.
fn passwd_path(what: &str, text: &str) -> Result<String, PolicyError> {
    let path = text;
    let clean_chars = !path
        .chars()
        .any(|c| c == ':' || c == ',' || c.is_control() || c.is_whitespace());
    let clean_parts = !path.split('/').any(|part| part == "." || part == "..");
    if path.starts_with('/') && path.len() <= MAX_PATH_LEN && clean_chars && clean_parts {
        Ok(path.to_owned())
    } else {
        Err(PolicyError::InvalidPath(format!(
            "invalid {what} {text:?}: use an absolute path without spaces, ':', ',', '.' or '..' \
             parts, at most {MAX_PATH_LEN} bytes"
        )))
    }
}

/// The parent directory of home directories (`/home`): a user's home is
/// `HOME_BASE/USERNAME`. Stored without a trailing `/`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HomeBase(String);

impl HomeBase {
    /// The directory, without a trailing `/` (empty for the root directory).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The home directory of `username`.
    pub fn home_of(&self, username: &str) -> String {
        format!("{}/{username}", self.0)
    }
}

impl Default for HomeBase {
    /// `/home`.
    fn default() -> Self {
        HomeBase("/home".into())
    }
}

impl FromStr for HomeBase {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<HomeBase, PolicyError> {
        let path = passwd_path("home base", s)?;
        Ok(HomeBase(path.trim_end_matches('/').to_owned()))
    }
}

impl fmt::Display for HomeBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "/" } else { &self.0 })
    }
}

/// A login shell (`/bin/bash`): an absolute path that is not a directory name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LoginShell(String);

impl LoginShell {
    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for LoginShell {
    /// `/bin/bash`.
    fn default() -> Self {
        LoginShell("/bin/bash".into())
    }
}

impl FromStr for LoginShell {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<LoginShell, PolicyError> {
        let path = passwd_path("shell", s)?;
        if path.ends_with('/') {
            return Err(PolicyError::InvalidPath(format!(
                "invalid shell {s:?}: name a program, not a directory"
            )));
        }
        Ok(LoginShell(path))
    }
}

impl fmt::Display for LoginShell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lowest uid/gid a team's range may start at: below are the system accounts.
pub const ID_FLOOR: u32 = 1000;
/// Highest uid/gid a range may end at: `4294967295` is `(uid_t) -1`, "no user".
pub const ID_CEILING: u32 = u32::MAX - 1;

/// First uid/gid of a team's range unless configured: above the system and container
/// sub-uid ranges.
pub const DEFAULT_ID_MIN: u32 = 200_000;
/// Last uid/gid of a team's range unless configured.
pub const DEFAULT_ID_MAX: u32 = 1_999_999_999;

/// The uids and gids a team hands out, `MIN-MAX` (inclusive), within
/// [`ID_FLOOR`]`..=`[`ID_CEILING`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IdRange {
    min: u32,
    max: u32,
}

impl IdRange {
    /// The range `min..=max`, checked.
    pub fn new(min: u32, max: u32) -> Result<IdRange, PolicyError> {
        if min < ID_FLOOR || min > max || max > ID_CEILING {
            return Err(PolicyError::InvalidRange(format!(
                "{min}-{max}: a range must lie within {ID_FLOOR}-{ID_CEILING}, lowest first"
            )));
        }
        Ok(IdRange { min, max })
    }

    /// The first id.
    pub fn min(self) -> u32 {
        self.min
    }

    /// The last id.
    pub fn max(self) -> u32 {
        self.max
    }
}

impl Default for IdRange {
    /// [`DEFAULT_ID_MIN`]`-`[`DEFAULT_ID_MAX`].
    fn default() -> Self {
        IdRange {
            min: DEFAULT_ID_MIN,
            max: DEFAULT_ID_MAX,
        }
    }
}

impl FromStr for IdRange {
    type Err = PolicyError;

    /// `MIN-MAX`, e.g. `200000-299999`.
    fn from_str(s: &str) -> Result<IdRange, PolicyError> {
        let parsed = s
            .split_once('-')
            .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)));
        match parsed {
            Some((min, max)) => IdRange::new(min, max),
            None => Err(PolicyError::InvalidRange(format!(
                "{s:?}: use MIN-MAX, e.g. 200000-299999"
            ))),
        }
    }
}

impl fmt::Display for IdRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.min, self.max)
    }
}

/// A team's POSIX settings: how identities are allocated and what accounts look like.
/// Changes apply to identities allocated from then on (names and numbers are permanent);
/// home and shell apply to every account at once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PosixSettings {
    /// The uids and gids handed out.
    pub id_range: IdRange,
    /// How user names are derived from `userName`.
    pub username_style: UsernameStyle,
    /// Parent of the home directories.
    pub home_base: HomeBase,
    /// The login shell.
    pub shell: LoginShell,
    /// Names this team keeps off sshward's users and groups, beyond the built-in list
    /// ([`crate::username::RESERVED_NAMES`]): the admin accounts of its own images. A user
    /// whose name would be one gets the next free one (`deploy` → `deploy2`).
    pub reserved: Vec<PosixName>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn posix_names() {
        for good in [
            "docker",
            "_apt",
            "a",
            "ssh-users",
            "x1_2",
            &"a".repeat(32),
            " wheel ",
        ] {
            let name: PosixName = good.parse().unwrap();
            assert_eq!(name.as_str(), good.trim());
        }
        for bad in [
            "",
            "Docker",
            "1abc",
            "-a",
            "a b",
            "a:b",
            "a\nb",
            &"a".repeat(33),
            "ü",
        ] {
            assert!(bad.parse::<PosixName>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn home_bases() {
        assert_eq!(
            "/home".parse::<HomeBase>().unwrap().home_of("al"),
            "/home/al"
        );
        assert_eq!(
            "/srv/home/".parse::<HomeBase>().unwrap().as_str(),
            "/srv/home"
        );
        let root: HomeBase = "/".parse().unwrap();
        assert_eq!(root.home_of("al"), "/al");
        assert_eq!(root.to_string(), "/");
        for bad in [
            "",
            "home",
            "./home",
            "/home dir",
            "/ho:me",
            "/a,b",
            "/a\n",
            "/a/../etc",
            "/a/./b",
            &format!("/{}", "a".repeat(255)),
        ] {
            assert!(bad.parse::<HomeBase>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn shells() {
        assert_eq!(
            "/bin/zsh".parse::<LoginShell>().unwrap().as_str(),
            "/bin/zsh"
        );
        assert_eq!(LoginShell::default().as_str(), "/bin/bash");
        for bad in [
            "",
            "bash",
            "/bin/",
            "/bin/ba sh",
            "/bin/a:b",
            "/bin/\u{1b}x",
            "/../sh",
        ] {
            assert!(bad.parse::<LoginShell>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn id_ranges() {
        let r: IdRange = "200000-299999".parse().unwrap();
        assert_eq!((r.min(), r.max()), (200_000, 299_999));
        assert_eq!(r.to_string(), "200000-299999");
        assert_eq!(" 1000 - 1000 ".parse::<IdRange>().unwrap().max(), 1000);
        assert_eq!(
            "1000-4294967294".parse::<IdRange>().unwrap().max(),
            ID_CEILING
        );
        for bad in [
            "",
            "5",
            "999-2000",
            "3000-2000",
            "1000-4294967295",
            "a-b",
            "-1-5",
            "1000-",
        ] {
            assert!(bad.parse::<IdRange>().is_err(), "{bad:?}");
        }
        assert_eq!(IdRange::default().to_string(), "200000-1999999999");
    }
}
