//! The SCIM filter language: syntax tree, parser, schema resolution and evaluation.

mod ast;

pub use ast::{AttrPath, CompValue, CompareOp, Filter};
