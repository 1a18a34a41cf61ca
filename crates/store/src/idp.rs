//! The identity-provider settings of a team as checked values: the Entra tenant ID, the
//! allowed email domains, the issuer URL and the client secret reference. Each parses once
//! ("parse, don't validate"), and the store takes only these types, so it never holds a
//! value that sign-in would refuse later.

use std::fmt;
use std::str::FromStr;

use crate::error::StoreError;

/// A Microsoft Entra tenant ID: a GUID in its hyphenated form, kept lower-cased.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TenantId(String);

impl TenantId {
    /// The GUID, lower case.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for TenantId {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<TenantId, StoreError> {
        let t = s.trim().to_ascii_lowercase();
        let groups: Vec<&str> = t.split('-').collect();
        let ok = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
            && groups
                .iter()
                .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()));
        if ok {
            Ok(TenantId(t))
        } else {
            Err(StoreError::Invalid(format!(
                "invalid Entra tenant ID {s:?}: expected a GUID like \
                 72f988bf-86f1-41af-91ab-2d7cd011db47 (Entra admin center > Overview > Tenant ID)"
            )))
        }
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email domain whose people may sign in: lower-cased, without a leading `@`, a
/// dot-separated name of letters, digits and `-` (Unicode letters allowed, as in
/// internationalised domains), at most 253 characters.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EmailDomain(String);

impl EmailDomain {
    /// The domain.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for EmailDomain {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<EmailDomain, StoreError> {
        let d = s.trim().trim_start_matches('@').to_lowercase();
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if d.len() <= 253 && d.split('.').all(label_ok) {
            Ok(EmailDomain(d))
        } else {
            Err(StoreError::Invalid(format!(
                "invalid email domain {s:?}: use a domain such as acme.com"
            )))
        }
    }
}

impl fmt::Display for EmailDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An OpenID Connect issuer URL: `https://`, or `http://` to a loopback address (tests, a
/// local provider); no query or fragment; kept without a trailing `/`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Issuer(String);

impl Issuer {
    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The issuer of Microsoft Entra ID for `tenant`.
    pub fn entra(tenant: &TenantId) -> Issuer {
        Issuer(format!("https://login.microsoftonline.com/{tenant}/v2.0"))
    }
}

impl FromStr for Issuer {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Issuer, StoreError> {
        let text = s.trim().trim_end_matches('/');
        let bad = |why: &str| StoreError::Invalid(format!("invalid issuer {s:?}: {why}"));
        let url = url::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("it must not have a query or fragment"));
        }
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => false,
        };
        match url.scheme() {
            "https" if url.host().is_some() => Ok(Issuer(text.to_owned())),
            "http" if loopback => Ok(Issuer(text.to_owned())),
            _ => Err(bad(
                "use an https URL (plain http only to a loopback address)",
            )),
        }
    }
}

impl fmt::Display for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a secret is read from when it is needed (it is never stored): `file:` and an
/// absolute path, or `env:` and the name of an environment variable of the server.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SecretRef {
    /// A file, read each time.
    File(std::path::PathBuf),
    /// An environment variable of the server process.
    Env(String),
}

impl SecretRef {
    /// Reads the secret (trimmed); an error names the file or variable and the problem.
    pub fn read(&self) -> Result<String, String> {
        let value = match self {
            SecretRef::File(path) => {
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?
            }
            SecretRef::Env(name) => std::env::var(name)
                .map_err(|_| format!("the environment variable {name} is not set"))?,
        };
        let value = value.trim().to_owned();
        if value.is_empty() {
            return Err(format!("the secret in {self} is empty"));
        }
        Ok(value)
    }
}

impl FromStr for SecretRef {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<SecretRef, StoreError> {
        let s = s.trim();
        if let Some(path) = s.strip_prefix("file:")
            && path.starts_with('/')
            && !path.contains('\0')
        {
            return Ok(SecretRef::File(path.into()));
        }
        if let Some(name) = s.strip_prefix("env:")
            && !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            if name.starts_with("SSHWARD_") {
                return Err(StoreError::Invalid(format!(
                    "{s}: SSHWARD_* variables are configuration options; choose another \
                     name (e.g. ACME_ENTRA_CLIENT_SECRET)"
                )));
            }
            return Ok(SecretRef::Env(name.to_owned()));
        }
        Err(StoreError::Invalid(format!(
            "invalid secret reference {s:?}: use file:/ABSOLUTE/PATH or env:VARIABLE_NAME"
        )))
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::File(path) => write!(f, "file:{}", path.display()),
            SecretRef::Env(name) => write!(f, "env:{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tenant_ids() {
        let t: TenantId = " 72F988BF-86F1-41AF-91AB-2D7CD011DB47 ".parse().unwrap();
        assert_eq!(t.as_str(), "72f988bf-86f1-41af-91ab-2d7cd011db47");
        assert_eq!(
            Issuer::entra(&t).as_str(),
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"
        );
        for bad in [
            "",
            "contoso.onmicrosoft.com",
            "72f988bf86f141af91ab2d7cd011db47",
            "{72f988bf-86f1-41af-91ab-2d7cd011db47}",
            "72f988bg-86f1-41af-91ab-2d7cd011db47",
        ] {
            assert!(bad.parse::<TenantId>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn email_domains() {
        for (text, domain) in [
            ("Acme.COM", "acme.com"),
            ("@acme.com", "acme.com"),
            (" sub.acme-corp.io ", "sub.acme-corp.io"),
            ("bücher.example", "bücher.example"),
        ] {
            assert_eq!(text.parse::<EmailDomain>().unwrap().as_str(), domain);
        }
        for bad in [
            "",
            "@",
            ".acme.com",
            "acme.com.",
            "acme..com",
            "ac me.com",
            "a/b.com",
            "-a.com",
            "a@b.com",
            &format!("{}.com", "a".repeat(64)),
        ] {
            assert!(bad.parse::<EmailDomain>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn issuers() {
        for good in [
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
            "http://127.0.0.1:9400",
            "http://[::1]:9400/",
            "http://localhost:1",
        ] {
            assert!(good.parse::<Issuer>().is_ok(), "{good}");
        }
        assert_eq!(
            "https://idp.example/x/".parse::<Issuer>().unwrap().as_str(),
            "https://idp.example/x"
        );
        for bad in [
            "http://idp.example.com",
            "https://idp.example.com/?x=1",
            "https://idp.example.com/#f",
            "ftp://idp.example.com",
            "idp.example.com",
            "",
        ] {
            assert!(bad.parse::<Issuer>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn secret_refs() {
        let dir = std::env::temp_dir().join(format!("sshward-secret-{}", std::process::id()));
        std::fs::write(&dir, "s3cret\n").unwrap();
        let file: SecretRef = format!("file:{}", dir.display()).parse().unwrap();
        assert_eq!(file.read().unwrap(), "s3cret");
        assert_eq!(file.to_string(), format!("file:{}", dir.display()));
        std::fs::remove_file(&dir).unwrap();
        assert!(file.read().unwrap_err().contains("No such file"));
        let env: SecretRef = "env:ACME_SECRET_SURELY_UNSET".parse().unwrap();
        assert!(env.read().unwrap_err().contains("ACME_SECRET_SURELY_UNSET"));
        for bad in [
            "plain",
            "file:relative",
            "env:",
            "env:A-B",
            "env:SSHWARD_LOGIN__X",
            "",
        ] {
            assert!(bad.parse::<SecretRef>().is_err(), "{bad:?}");
        }
    }
}
