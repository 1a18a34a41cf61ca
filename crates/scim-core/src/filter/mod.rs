//! The SCIM filter language (RFC 7644 section 3.4.2.2): syntax tree, parser, resolution
//! against the schemas, and in-memory evaluation.

mod ast;
mod eval;
mod parser;
mod resolve;

pub use ast::{AttrPath, CompValue, CompareOp, Filter};
pub(crate) use eval::element_matches;
pub use eval::matches;
pub use parser::{MAX_FILTER_DEPTH, MAX_FILTER_LEN, PatchPath, parse, parse_attr_path, parse_path};
pub use resolve::resolve;

#[cfg(test)]
mod tests;
