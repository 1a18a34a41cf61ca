//! The filter syntax tree (RFC 7644 section 3.4.2.2) and its canonical printing.

use std::fmt;

/// A reference to an attribute: `[urn ":"] name ["." sub]`.
///
/// After [`crate::filter::resolve`] the names carry their canonical spelling from the
/// schema, `urn` is `None` for attributes of the resource's core schema and the extension
/// schema's canonical id (e.g. [`crate::schema::ENTERPRISE_USER_SCHEMA`]) otherwise.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AttrPath {
    /// The schema URN that qualifies the attribute, if any.
    pub urn: Option<String>,
    /// The attribute name.
    pub name: String,
    /// The sub-attribute name, for complex attributes.
    pub sub: Option<String>,
}

impl AttrPath {
    /// A path to a top-level core attribute.
    pub fn new(name: impl Into<String>) -> Self {
        AttrPath {
            urn: None,
            name: name.into(),
            sub: None,
        }
    }

    /// A path to a sub-attribute of a core complex attribute.
    pub fn sub(name: impl Into<String>, sub: impl Into<String>) -> Self {
        AttrPath {
            urn: None,
            name: name.into(),
            sub: Some(sub.into()),
        }
    }

    /// True when this path names `name` (and, if given, `sub`) ignoring case and URN.
    pub fn is(&self, name: &str, sub: Option<&str>) -> bool {
        self.name.eq_ignore_ascii_case(name)
            && match (&self.sub, sub) {
                (None, None) => true,
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            }
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `eq`: equal.
    Eq,
    /// `ne`: not equal.
    Ne,
    /// `co`: contains (strings).
    Co,
    /// `sw`: starts with (strings).
    Sw,
    /// `ew`: ends with (strings).
    Ew,
    /// `gt`: greater than.
    Gt,
    /// `ge`: greater than or equal.
    Ge,
    /// `lt`: less than.
    Lt,
    /// `le`: less than or equal.
    Le,
}

impl CompareOp {
    /// The operator's keyword, lower case.
    pub fn keyword(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// Parses a keyword, case-insensitively.
    pub fn from_keyword(word: &str) -> Option<CompareOp> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "co" => CompareOp::Co,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            _ => return None,
        })
    }

    /// True for the ordering operators `gt ge lt le`.
    pub fn is_ordering(self) -> bool {
        matches!(
            self,
            CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
        )
    }

    /// True for the substring operators `co sw ew`.
    pub fn is_substring(self) -> bool {
        matches!(self, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
    }
}

/// A literal on the right of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum CompValue {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A JSON number.
    Number(serde_json::Number),
    /// A JSON string (also used for dateTime, reference and binary values).
    String(String),
}

/// A parsed filter expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    /// `path op value`.
    Compare {
        /// The attribute compared.
        path: AttrPath,
        /// The operator.
        op: CompareOp,
        /// The literal.
        value: CompValue,
    },
    /// `path pr`: the attribute has a non-empty value.
    Present(AttrPath),
    /// `a and b`.
    And(Box<Filter>, Box<Filter>),
    /// `a or b`.
    Or(Box<Filter>, Box<Filter>),
    /// `not (a)`.
    Not(Box<Filter>),
    /// `attr[filter]`: some element of the multi-valued (or complex) `attr` matches `filter`,
    /// whose paths name sub-attributes of `attr` (their `urn` and `sub` are `None`).
    ///
    /// Entra's non-standard `emails[type eq "work"].value eq "x"` parses to
    /// `emails[type eq "work" and value eq "x"]`.
    ValuePath {
        /// The multi-valued attribute.
        attr: AttrPath,
        /// The filter each element is tested against.
        filter: Box<Filter>,
    },
}

impl Filter {
    /// `a and b`.
    pub fn and(a: Filter, b: Filter) -> Filter {
        Filter::And(Box::new(a), Box::new(b))
    }

    /// `a or b`.
    pub fn or(a: Filter, b: Filter) -> Filter {
        Filter::Or(Box::new(a), Box::new(b))
    }

    /// Nesting depth of the tree (a leaf has depth 1).
    pub fn depth(&self) -> usize {
        match self {
            Filter::Compare { .. } | Filter::Present(_) => 1,
            Filter::And(a, b) | Filter::Or(a, b) => 1 + a.depth().max(b.depth()),
            Filter::Not(f) | Filter::ValuePath { filter: f, .. } => 1 + f.depth(),
        }
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Null => f.write_str("null"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Number(n) => write!(f, "{n}"),
            CompValue::String(s) => {
                // serde_json writes a correctly escaped JSON string literal.
                let quoted = serde_json::Value::String(s.clone()).to_string();
                f.write_str(&quoted)
            }
        }
    }
}

/// Prints the filter in RFC 7644 syntax with every `and`/`or`/`not` operand parenthesised,
/// so that parsing the output yields the same tree.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Compare { path, op, value } => write!(f, "{path} {} {value}", op.keyword()),
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::And(a, b) => write!(f, "({a}) and ({b})"),
            Filter::Or(a, b) => write!(f, "({a}) or ({b})"),
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::ValuePath { attr, filter } => write!(f, "{attr}[{filter}]"),
        }
    }
}
