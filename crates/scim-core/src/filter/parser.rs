//! A recursive-descent parser for RFC 7644 section 3.4.2.2 filters and PATCH paths.
//!
//! Precedence, loosest first: `or`, `and`, `not` / parentheses / attribute expressions.
//! Keywords and operators are case-insensitive. Two leniencies serve Microsoft Entra ID:
//! an unquoted value (`externalId eq jyoung`) is read as a string, and
//! `emails[type eq "work"].value eq "x"` is read as `emails[type eq "work" and value eq "x"]`.

use super::ast::{AttrPath, CompValue, CompareOp, Filter};
use crate::Error;

/// Longest filter accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 8 * 1024;
/// Deepest filter tree accepted (each `and`, `or`, `not`, `[...]` adds a level).
pub const MAX_FILTER_DEPTH: usize = 64;

/// A PATCH path (RFC 7644 section 3.5.2): `attrPath` or `valuePath ["." subAttr]`.
#[derive(Clone, Debug, PartialEq)]
pub struct PatchPath {
    /// The attribute (with its sub-attribute when the path is `name.sub`).
    pub attr: AttrPath,
    /// The value filter of `attr[filter]`, if any.
    pub filter: Option<Filter>,
}

/// Parses a filter expression.
///
/// ```
/// use scim_core::filter::{parse, Filter};
/// let f = parse(r#"userName eq "alice@example.com" and active eq true"#).unwrap();
/// assert!(matches!(f, Filter::And(..)));
/// ```
pub fn parse(input: &str) -> Result<Filter, Error> {
    let mut p = Parser::new(input)?;
    let filter = p.parse_or(false)?;
    p.skip_ws();
    if !p.at_end() {
        return Err(p.error("unexpected text after the end of the filter"));
    }
    if filter.depth() > MAX_FILTER_DEPTH {
        return Err(Error::filter_at(
            0,
            format!("more than {MAX_FILTER_DEPTH} levels of and/or/not"),
        ));
    }
    Ok(filter)
}

/// Parses a PATCH `path` value.
pub fn parse_path(input: &str) -> Result<PatchPath, Error> {
    let mut p = Parser::new(input)?;
    p.skip_ws();
    let mut attr = p.attr_path(false)?;
    let mut filter = None;
    if p.eat("[") {
        if attr.sub.is_some() {
            return Err(p.error("a value filter must follow an attribute, not a sub-attribute"));
        }
        filter = Some(p.parse_or(true)?);
        p.skip_ws();
        if !p.eat("]") {
            return Err(p.error("expected ']'"));
        }
        if p.eat(".") {
            attr.sub = Some(p.name()?);
        }
    }
    p.skip_ws();
    if !p.at_end() {
        return Err(p.error("unexpected text after the end of the path"));
    }
    Ok(PatchPath { attr, filter })
}

/// Parses one attribute path (as used in `attributes`, `excludedAttributes` and `sortBy`).
pub fn parse_attr_path(input: &str) -> Result<AttrPath, Error> {
    let mut p = Parser::new(input)?;
    p.skip_ws();
    let path = p.attr_path(false)?;
    p.skip_ws();
    if !p.at_end() {
        return Err(p.error("unexpected text after the attribute path"));
    }
    Ok(path)
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$'
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Result<Self, Error> {
        if src.len() > MAX_FILTER_LEN {
            return Err(Error::filter_at(
                MAX_FILTER_LEN,
                format!("longer than {MAX_FILTER_LEN} bytes"),
            ));
        }
        Ok(Parser {
            src,
            pos: 0,
            depth: 0,
        })
    }

    fn error(&self, reason: impl std::fmt::Display) -> Error {
        let chars = self.src[..self.pos].chars().count();
        Error::filter_at(chars, reason)
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_ws(&mut self) -> bool {
        let before = self.pos;
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
        self.pos > before
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    /// Consumes `word` (case-insensitive) when it stands alone: not followed by a name char.
    fn eat_keyword(&mut self, word: &str) -> bool {
        let rest = self.rest();
        let Some(head) = rest.get(..word.len()) else {
            return false;
        };
        let boundary = rest[word.len()..]
            .chars()
            .next()
            .is_none_or(|c| !is_name_char(c) && c != '.' && c != ':');
        if head.eq_ignore_ascii_case(word) && boundary {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    /// Entered once per parenthesis, `not` or value filter, so recursion stays bounded.
    fn parse_or(&mut self, in_value_path: bool) -> Result<Filter, Error> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return Err(self.error(format!("nested deeper than {MAX_FILTER_DEPTH} levels")));
        }
        let mut left = self.parse_and(in_value_path)?;
        loop {
            let save = self.pos;
            if self.skip_ws() && self.eat_keyword("or") {
                if !self.skip_ws() && self.peek() != Some('(') {
                    return Err(self.error("expected a space after 'or'"));
                }
                let right = self.parse_and(in_value_path)?;
                left = self.bounded(Filter::or(left, right))?;
            } else {
                self.pos = save;
                self.depth -= 1;
                return Ok(left);
            }
        }
    }

    fn parse_and(&mut self, in_value_path: bool) -> Result<Filter, Error> {
        let mut left = self.parse_unary(in_value_path)?;
        loop {
            let save = self.pos;
            if self.skip_ws() && self.eat_keyword("and") {
                if !self.skip_ws() && self.peek() != Some('(') {
                    return Err(self.error("expected a space after 'and'"));
                }
                let right = self.parse_unary(in_value_path)?;
                left = self.bounded(Filter::and(left, right))?;
            } else {
                self.pos = save;
                return Ok(left);
            }
        }
    }

    fn parse_unary(&mut self, in_value_path: bool) -> Result<Filter, Error> {
        self.skip_ws();
        if self.eat_keyword("not") {
            self.skip_ws();
            if !self.eat("(") {
                return Err(self.error("expected '(' after 'not'"));
            }
            let inner = self.parse_group_rest(in_value_path)?;
            return self.bounded(Filter::Not(Box::new(inner)));
        }
        if self.eat("(") {
            return self.parse_group_rest(in_value_path);
        }
        if self.at_end() {
            return Err(self.error("expected an attribute expression"));
        }
        self.attr_expr(in_value_path)
    }

    /// Refuses a tree deeper than [`MAX_FILTER_DEPTH`] where it grows too deep, so the error
    /// names that position (a long chain of `and` is as deep as its length).
    fn bounded(&self, tree: Filter) -> Result<Filter, Error> {
        if tree.depth() > MAX_FILTER_DEPTH {
            return Err(self.error(format!("more than {MAX_FILTER_DEPTH} levels of and/or/not")));
        }
        Ok(tree)
    }

    /// After an opening parenthesis: a filter and the closing one.
    fn parse_group_rest(&mut self, in_value_path: bool) -> Result<Filter, Error> {
        let inner = self.parse_or(in_value_path)?;
        self.skip_ws();
        if !self.eat(")") {
            return Err(self.error("expected ')'"));
        }
        Ok(inner)
    }

    fn attr_expr(&mut self, in_value_path: bool) -> Result<Filter, Error> {
        let path = self.attr_path(in_value_path)?;
        if self.eat("[") {
            if in_value_path {
                return Err(self.error("value filters cannot be nested"));
            }
            if path.sub.is_some() {
                return Err(
                    self.error("a value filter must follow an attribute, not a sub-attribute")
                );
            }
            let inner = self.parse_or(true)?;
            self.skip_ws();
            if !self.eat("]") {
                return Err(self.error("expected ']'"));
            }
            // Entra's form: `emails[type eq "work"].value eq "x"`.
            let filter = if self.eat(".") {
                let sub = AttrPath::new(self.name()?);
                let tail = self.operator_and_value(sub)?;
                Filter::and(inner, tail)
            } else {
                inner
            };
            return self.bounded(Filter::ValuePath {
                attr: path,
                filter: Box::new(filter),
            });
        }
        self.operator_and_value(path)
    }

    fn operator_and_value(&mut self, path: AttrPath) -> Result<Filter, Error> {
        if !self.skip_ws() {
            return Err(self.error("expected a space and an operator after the attribute"));
        }
        let start = self.pos;
        let word_len = self
            .rest()
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .count();
        let word = &self.src[start..start + word_len];
        if word.eq_ignore_ascii_case("pr") {
            self.pos += word_len;
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::from_keyword(word) else {
            return Err(if word.is_empty() {
                self.error("expected an operator")
            } else {
                self.error(format!("unknown operator '{word}'"))
            });
        };
        self.pos += word_len;
        if !self.skip_ws() {
            return Err(self.error(format!("expected a space and a value after '{word}'")));
        }
        let value = self.value()?;
        Ok(Filter::Compare { path, op, value })
    }

    fn value(&mut self) -> Result<CompValue, Error> {
        match self.peek() {
            Some('"') => self.string().map(CompValue::String),
            Some(_) => {
                let token: &str = {
                    let rest = self.rest();
                    let len = rest
                        .char_indices()
                        .find(|&(_, c)| {
                            c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"')
                        })
                        .map_or(rest.len(), |(i, _)| i);
                    &rest[..len]
                };
                if token.is_empty() {
                    return Err(self.error("expected a value"));
                }
                self.pos += token.len();
                let lower = token.to_ascii_lowercase();
                Ok(match lower.as_str() {
                    "true" => CompValue::Bool(true),
                    "false" => CompValue::Bool(false),
                    "null" => CompValue::Null,
                    _ => match number(token) {
                        Some(n) => CompValue::Number(n),
                        // Old Entra versions send unquoted strings, such as
                        // `externalId eq jyoung` or an objectId GUID.
                        None => CompValue::String(token.to_string()),
                    },
                })
            }
            None => Err(self.error("expected a value")),
        }
    }

    fn string(&mut self) -> Result<String, Error> {
        let start = self.pos;
        let bytes = self.src.as_bytes();
        let mut i = start + 1;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'"' => {
                    let literal = &self.src[start..=i];
                    return match serde_json::from_str::<String>(literal) {
                        Ok(s) => {
                            self.pos = i + 1;
                            Ok(s)
                        }
                        Err(e) => Err(self.error(format!("invalid string literal: {e}"))),
                    };
                }
                _ => i += 1,
            }
        }
        Err(self.error("unterminated string"))
    }

    fn name(&mut self) -> Result<String, Error> {
        let len = self.rest().chars().take_while(|&c| is_name_char(c)).count();
        let name = &self.rest()[..len];
        let valid_start = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '$' || c == '_');
        if !valid_start {
            return Err(self.error("expected an attribute name"));
        }
        self.pos += len;
        Ok(name.to_string())
    }

    /// `[URN ":"] name ["." sub]`. Inside a value filter, names are sub-attributes and no
    /// URN or further sub-attribute is allowed.
    fn attr_path(&mut self, in_value_path: bool) -> Result<AttrPath, Error> {
        let start = self.pos;
        let len = self
            .rest()
            .chars()
            .take_while(|&c| is_name_char(c) || c == ':' || c == '.')
            .count();
        let token = &self.rest()[..len];
        if token.is_empty() {
            return Err(self.error("expected an attribute name"));
        }
        let (urn, local) = match token.rfind(':') {
            Some(i) if token.len() >= 4 && token[..4].eq_ignore_ascii_case("urn:") => {
                (Some(token[..i].to_string()), &token[i + 1..])
            }
            Some(_) => return Err(self.error("a schema URN must start with 'urn:'")),
            None => (None, token),
        };
        let (name, sub) = match local.split_once('.') {
            Some((n, s)) => (n, Some(s)),
            None => (local, None),
        };
        let check = |part: &str| {
            part.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '$' || c == '_')
                && part.chars().all(is_name_char)
        };
        if !check(name) || !sub.is_none_or(check) {
            return Err(self.error(format!("'{token}' is not a valid attribute path")));
        }
        if in_value_path && (urn.is_some() || sub.is_some()) {
            return Err(self.error("inside a value filter only sub-attribute names are allowed"));
        }
        self.pos = start + len;
        Ok(AttrPath {
            urn,
            name: name.to_string(),
            sub: sub.map(str::to_string),
        })
    }
}

/// Reads `token` as a JSON number when it is one that keeps its text: an integer that fits
/// 64 bits, or a decimal. Anything else (`0a21f0f2-...`, `007`, a 30-digit id) is left to be
/// read as an unquoted string.
fn number(token: &str) -> Option<serde_json::Number> {
    // serde_json checks the JSON number grammar...
    let n: serde_json::Number = serde_json::from_str(token).ok()?;
    if !token.contains(['.', 'e', 'E']) {
        return (!n.is_f64()).then_some(n);
    }
    // ...and Rust's parser rounds decimals exactly (serde_json's default may be one unit in
    // the last place off), so a printed filter parses back to the same value.
    token
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
}
